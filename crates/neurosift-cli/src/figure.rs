//! `neurosift figure make` (a frozen figure of a file's view, built natively
//! through the service layer exactly as the app's Share button builds it)
//! and `neurosift figure publish` (validate, store, print the figure URL).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use ns_figures::{Figure, FrozenView, Provenance, Recorded, ViewState};
use ns_protocol::{GetUnits, Query, UnitsInfo};
use ns_service::{Limits, Service};

use crate::store::StoreArgs;

/// `figure make`'s options (the file comes from the shared source options).
#[derive(clap::Args, Debug)]
pub struct MakeArgs {
    /// The tab, as in the viewer's `tab=` links: `view:Raster|/units`,
    /// `view:PSTH|/intervals/trials^/units`.
    #[arg(long)]
    pub tab: String,
    /// The view's hash state, as the viewer's URL has it after `#` (PSTH:
    /// `units=1,2&alignTo=start_time&numBins=30`).
    #[arg(long, default_value = "")]
    pub state: String,
    /// The time window `START,END[,CURRENT]` in seconds (the viewer's `tab-time`).
    #[arg(long, value_name = "START,END")]
    pub time: Option<String>,
    /// Other view parameters of the viewer's URL, `NAME=VALUE` (`units=location=CA1`,
    /// `units-sort=-depth`), repeatable.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// The plot's width in CSS pixels (the raster's bins follow it).
    #[arg(long, default_value_t = 1200)]
    pub width: u32,
    /// Output file (default: standard output).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// `figure publish`'s options.
#[derive(clap::Args, Debug)]
pub struct PublishArgs {
    /// The figure JSON (from `figure make`, the app's download, or a script).
    pub figure: PathBuf,
    /// The label in the figure URL.
    #[arg(long)]
    pub label: Option<String>,
    /// Where the viewer is served (the printed URL starts with it); default: the store
    /// server's own address when --store is one, else http://127.0.0.1:8080 (`neurosift serve`).
    #[arg(long, value_name = "URL")]
    pub app_url: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// RFC 3339 UTC time of now (seconds).
fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn ask(service: &Service, asked: &mut Vec<Recorded>, query: Query) -> Result<ns_protocol::Answer> {
    let answer = service
        .handle(query.clone())
        .map_err(|e| anyhow::anyhow!("{}: {}", query.kind(), e.message))?;
    asked.push(Recorded {
        query,
        answer: answer.clone(),
    });
    Ok(answer)
}

fn units(service: &Service, asked: &mut Vec<Recorded>, path: &str) -> Result<UnitsInfo> {
    match ask(service, asked, Query::Units(GetUnits { path: path.into() }))? {
        ns_protocol::Answer::Units(u) => Ok(u),
        other => bail!("{path}: a {} answer to GetUnits", other.kind()),
    }
}

/// The rows of the raster's page, as the app's raster picks them.
fn raster_rows(info: &UnitsInfo, params: &BTreeMap<String, String>) -> Result<Vec<usize>> {
    let filter = params.get("units").map_or("", String::as_str);
    let rows = ns_figures::filtered_rows(info, filter)
        .map_err(|e| anyhow::anyhow!("--param units={filter}: {e}"))?;
    let sort = params.get("units-sort").map_or("id", String::as_str);
    let rows = ns_figures::sorted_rows(
        info,
        &rows,
        sort.trim_start_matches('-'),
        sort.starts_with('-'),
    );
    let n = info.ids.len();
    let first = params
        .get("units-first")
        .and_then(|f| f.parse::<usize>().ok())
        .filter(|f| *f < n)
        .unwrap_or(0);
    let per_page = params
        .get("units-per-page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| (1..=1000).contains(p))
        .unwrap_or(50)
        .min(n);
    Ok(rows.into_iter().skip(first).take(per_page).collect())
}

/// Builds the frozen figure of `args.tab` in the open file.
pub fn make(service: &Service, source_url: &str, args: &MakeArgs) -> Result<Figure> {
    let tab = ns_links::parse_tab(&args.tab)
        .with_context(|| format!("--tab {:?} is not a tab (view:Raster|/units)", args.tab))?;
    let mut params = BTreeMap::new();
    for p in &args.params {
        let (k, v) = p
            .split_once('=')
            .with_context(|| format!("--param {p:?} is not NAME=VALUE"))?;
        params.insert(k.to_string(), v.to_string());
    }
    let mut asked = Vec::new();
    let mut paths = Vec::new();
    let width = f64::from(args.width);
    let mut hash = None;
    for item in tab.items() {
        paths.push(item.path.clone());
        paths.extend(item.secondary.iter().cloned());
        let view = item.view.as_deref().unwrap_or("");
        match view {
            "Raster" | "RasterPlot" | "DirectRasterPlot" => {
                let info = units(service, &mut asked, &item.path)?;
                let (a, b) = match &args.time {
                    Some(t) => {
                        let (a, b, c) = ns_links::parse_tab_time(t)
                            .with_context(|| format!("--time {t:?} is not START,END"))?;
                        params.insert("tab-time".into(), ns_links::format_tab_time(a, b, c));
                        (a, b)
                    }
                    // The app's first window: the first 10 s of spikes.
                    None => {
                        let w = (info.start_secs, info.end_secs.min(info.start_secs + 10.0));
                        let w = if w.1 > w.0 { w } else { (w.0, w.0 + 1.0) };
                        params.insert("tab-time".into(), ns_links::format_tab_time(w.0, w.1, None));
                        w
                    }
                };
                let rows = raster_rows(&info, &params)?;
                if rows.is_empty() {
                    bail!("{}: no units to show", item.path);
                }
                let request = ns_figures::raster_request(
                    &info.path,
                    &rows,
                    (a, b),
                    width,
                    ns_figures::PLOT_LEFT_PX,
                );
                ask(service, &mut asked, Query::Raster(request))?;
            }
            "PSTH" => {
                let units_path = item
                    .secondary
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "/units".into());
                let info = units(service, &mut asked, &units_path)?;
                let state = ns_figures::psth_initial_state(&info, &args.state);
                let selection = params.get("units").map_or("", String::as_str);
                let rows = ns_figures::psth_rows(&info, &state, selection);
                for request in ns_figures::psth_requests(&info.path, &item.path, &rows, &state)
                    .map_err(|e| anyhow::anyhow!("--state trials: {e}"))?
                {
                    ask(service, &mut asked, Query::Psth(request))?;
                }
                hash = Some(state.to_hash()).filter(|h| !h.is_empty());
            }
            other => bail!(
                "figure make builds Raster and PSTH figures (view:Raster|/units, view:PSTH|/intervals/trials^/units); {:?} is shared from the app's Share button",
                if other.is_empty() {
                    item.path.as_str()
                } else {
                    other
                }
            ),
        }
    }
    let overview = service.overview();
    let objects: Vec<_> = overview
        .objects
        .iter()
        .filter(|o| paths.contains(&o.path))
        .cloned()
        .collect();
    let type_chains = overview
        .type_chains
        .iter()
        .filter(|c| {
            c.first()
                .is_some_and(|t| objects.iter().any(|o| o.neurodata_type.as_ref() == Some(t)))
        })
        .cloned()
        .collect();
    Ok(Figure::Frozen(FrozenView {
        title: paths.join(", "),
        provenance: Provenance {
            source_url: source_url.to_string(),
            dandiset_id: None,
            dandiset_version: None,
            asset_id: ns_links::dandi_asset_id(source_url),
            file_size_bytes: Some(overview.size_bytes),
            etag: None,
            object_paths: paths,
            made_by: format!("neurosift {} (CLI)", env!("CARGO_PKG_VERSION")),
            created: now_rfc3339(),
        },
        state: ViewState {
            tab: args.tab.clone(),
            params,
            hash,
            width_px: None,
        },
        objects,
        type_chains,
        answers: asked,
    }))
}

/// `figure make`: the figure's canonical JSON to the output.
pub fn write(figure: &Figure, output: Option<&PathBuf>) -> Result<()> {
    let json = figure.to_canonical_json()?;
    match output {
        Some(path) => {
            std::fs::write(path, &json).with_context(|| format!("writing {}", path.display()))?
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&json)?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// Opens the service on an opened file.
pub fn service(store: Box<dyn ns_model::ObjectStore>) -> Result<Service> {
    Service::new(store, Limits::default()).map_err(|e| anyhow::anyhow!("{}", e.message))
}

/// `figure publish`: validates, stores, prints the figure URL.
pub fn publish(args: &PublishArgs) -> Result<()> {
    let bytes = std::fs::read(&args.figure)
        .with_context(|| format!("reading {}", args.figure.display()))?;
    let figure = Figure::from_json(&bytes).with_context(|| format!("{}", args.figure.display()))?;
    let json = figure.to_canonical_json()?;
    let stored = crate::store::put_bytes(&args.store, json)?;
    let data = format!("sha1://{}", stored.hash.to_hex());
    let label = args.label.clone().or_else(|| match &figure {
        Figure::Frozen(f) => Some(f.title.clone()).filter(|t| !t.is_empty()),
        _ => None,
    });
    let link = ns_links::FigureLink {
        view: figure.view_name(),
        data: data.clone(),
        label,
        state: None,
        embedded: false,
    };
    let base = match (&args.app_url, args.store.server_url()) {
        (Some(u), _) => u.trim_end_matches('/').to_string(),
        (None, Some(server)) => server,
        (None, None) => "http://127.0.0.1:8080".to_string(),
    };
    eprintln!(
        "{}: {} ({} bytes) in the store; the figure opens where a viewer serves this store",
        args.figure.display(),
        if stored.already_stored {
            "already stored"
        } else {
            "stored"
        },
        stored.size_bytes
    );
    println!("{base}{}", link.to_path());
    Ok(())
}
