//! `/dandiset/<id>?dandisetVersion=<v>&prefix=<folder/>`: title,
//! description and the asset tree (folders, sizes); each NWB asset opens in
//! the viewer with the link DANDI's own button makes.

use leptos::prelude::*;

use crate::components::human_bytes;
use crate::net;

#[derive(Clone, Debug)]
struct Entry {
    path: String,
    size_bytes: u64,
    files: u64,
    asset_id: Option<String>,
}

async fn load(
    id: String,
    version: String,
    prefix: String,
) -> Result<(String, String, Vec<Entry>), String> {
    let api = net::dandi_api();
    let info = net::get_json(&ns_links::api::version_info(&api, &id, &version)).await?;
    let title = info["name"]
        .as_str()
        .or_else(|| info["metadata"]["name"].as_str())
        .unwrap_or_default()
        .to_string();
    let description = info["metadata"]["description"]
        .as_str()
        .or_else(|| info["description"].as_str())
        .unwrap_or_default()
        .to_string();
    let mut entries = Vec::new();
    let mut page = 1;
    loop {
        let json = net::get_json(&ns_links::api::asset_paths(
            &api, &id, &version, &prefix, page,
        ))
        .await?;
        for r in json["results"].as_array().into_iter().flatten() {
            entries.push(Entry {
                path: r["path"].as_str().unwrap_or_default().to_string(),
                size_bytes: r["aggregate_size"]
                    .as_u64()
                    .or_else(|| r["asset"]["size"].as_u64())
                    .unwrap_or(0),
                files: r["aggregate_files"].as_u64().unwrap_or(1),
                asset_id: r["asset"]["asset_id"].as_str().map(str::to_string),
            });
        }
        if json["next"].is_null() || page >= 50 {
            break;
        }
        page += 1;
    }
    Ok((title, description, entries))
}

#[component]
pub fn DandisetPage() -> impl IntoView {
    let path = crate::router::use_path();
    let query = crate::router::use_query();
    let id = move || crate::router::dandiset_id(&path.read()).unwrap_or_default();
    let version = move || {
        query
            .get()
            .get("dandisetVersion")
            .unwrap_or_else(|| "draft".into())
    };
    let prefix = move || query.get().get("prefix").unwrap_or_default();
    let data = crate::reactive::resource(move || {
        let (i, v, p) = (id(), version(), prefix());
        async move { load(i, v, p).await }
    });
    view! {
        <section class="dandiset" data-testid="dandiset">
            <Suspense fallback=|| view! { <p class="loading">"Loading the dandiset…"</p> }>
                {move || data.get().map(|r| match r {
                    Err(e) => view! { <div class="error-panel" role="alert" data-testid="error"><strong>"DANDI request failed"</strong><p>{e}</p></div> }.into_any(),
                    Ok((title, description, entries)) => {
                        let (id, version, prefix) = (id(), version(), prefix());
                        let api = net::dandi_api();
                        let up = prefix.trim_end_matches('/').rsplit_once('/').map(|(p, _)| format!("{p}/")).unwrap_or_default();
                        view! {
                            <h1>{format!("DANDI:{id}")}<span class="version">{format!(" {version}")}</span></h1>
                            <h2 class="title">{title}</h2>
                            <p class="description">{description}</p>
                            <h3>{if prefix.is_empty() { "Files".to_string() } else { prefix.clone() }}</h3>
                            <table class="assets">
                                {(!prefix.is_empty()).then(|| view! {
                                    <tr><td><a href=format!("/dandiset/{id}?dandisetVersion={version}&prefix={}", ns_links::encode_component(&up))>".."</a></td><td></td></tr>
                                })}
                                {entries.into_iter().map(|e| {
                                    let name = e.path.rsplit('/').next().unwrap_or(&e.path).to_string();
                                    let href = match &e.asset_id {
                                        Some(asset) if e.path.ends_with(".nwb") || e.path.ends_with(".lindi.json") || e.path.ends_with(".lindi.tar") => {
                                            ns_links::nwb_link(&ns_links::dandi_download_url(&api, asset), Some(&id), Some(&version))
                                        }
                                        Some(asset) => ns_links::dandi_download_url(&api, asset),
                                        None => format!("/dandiset/{id}?dandisetVersion={version}&prefix={}", ns_links::encode_component(&format!("{}/", e.path))),
                                    };
                                    let label = if e.asset_id.is_none() { format!("{name}/") } else { name };
                                    let files = if e.asset_id.is_none() { format!(" ({} files)", e.files) } else { String::new() };
                                    view! { <tr><td><a href=href>{label}</a>{files}</td><td class="size">{human_bytes(e.size_bytes)}</td></tr> }
                                }).collect_view()}
                            </table>
                        }.into_any()
                    }
                })}
            </Suspense>
        </section>
    }
}
