//! A small load run of the store server, loopback only, bounded in count and time: prints
//! uploads/s, reads/s and p50/p99 latency as a table (a measurement, not a test).
//!
//! `cargo xtask store-load` runs it in release; by hand:
//! `cargo run --release -p kachery --example store_load -- [--uploads N] [--reads N]
//! [--size BYTES] [--concurrency C] [--secs S]`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use kachery::server::Config;
use kachery::{Sha1Hash, Store};

const TOKEN: &str = "load-run-token";

struct Options {
    uploads: usize,
    reads: usize,
    size_bytes: usize,
    concurrency: usize,
    max_secs: f64,
}

fn options() -> Result<Options> {
    let mut o = Options {
        uploads: 2000,
        reads: 5000,
        size_bytes: 16 * 1024,
        concurrency: 16,
        max_secs: 20.0,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--uploads" => o.uploads = value.parse()?,
            "--reads" => o.reads = value.parse()?,
            "--size" => o.size_bytes = value.parse()?,
            "--concurrency" => o.concurrency = value.parse()?,
            "--secs" => o.max_secs = value.parse()?,
            other => bail!("unknown option {other}"),
        }
    }
    if o.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    Ok(o)
}

/// Distinct content for object `i`.
fn content(i: usize, size_bytes: usize) -> Vec<u8> {
    let mut x = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..size_bytes)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}

/// One phase's latencies (seconds) and wall time.
struct Phase {
    name: &'static str,
    latencies_secs: Vec<f64>,
    wall_secs: f64,
    errors: usize,
}

impl Phase {
    fn row(&mut self) -> String {
        self.latencies_secs.sort_by(f64::total_cmp);
        let pick = |q: f64| -> f64 {
            let n = self.latencies_secs.len();
            if n == 0 {
                return f64::NAN;
            }
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss,
                reason = "a rank within the sample count"
            )]
            let rank = ((n as f64 * q).ceil() as usize).clamp(1, n);
            self.latencies_secs[rank - 1] * 1000.0
        };
        #[expect(clippy::cast_precision_loss, reason = "a count of requests")]
        let rate = self.latencies_secs.len() as f64 / self.wall_secs;
        format!(
            "| {:<7} | {:>6} | {:>6} | {:>7.2} | {:>9.0} | {:>6.2} | {:>6.2} |",
            self.name,
            self.latencies_secs.len(),
            self.errors,
            self.wall_secs,
            rate,
            pick(0.50),
            pick(0.99)
        )
    }
}

/// Runs `count` requests, `concurrency` at a time, stopping early after `max_secs`.
async fn phase<F, Fut>(
    name: &'static str,
    count: usize,
    concurrency: usize,
    max_secs: f64,
    request: F,
) -> Phase
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send,
{
    let request = Arc::new(request);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(max_secs);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let request = Arc::clone(&request);
            let next = Arc::clone(&next);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= count || Instant::now() > deadline {
                        return (latencies, errors);
                    }
                    let t = Instant::now();
                    match request(i).await {
                        Ok(()) => latencies.push(t.elapsed().as_secs_f64()),
                        Err(e) => {
                            if errors == 0 {
                                eprintln!("{name} #{i}: {e:#}");
                            }
                            errors += 1;
                        }
                    }
                }
            })
        })
        .collect();
    let mut out = Phase {
        name,
        latencies_secs: Vec::new(),
        wall_secs: 0.0,
        errors: 0,
    };
    for worker in workers {
        if let Ok((latencies, errors)) = worker.await {
            out.latencies_secs.extend(latencies);
            out.errors += errors;
        }
    }
    out.wall_secs = started.elapsed().as_secs_f64();
    out
}

#[tokio::main]
async fn main() -> Result<()> {
    let o = options()?;
    let dir = tempfile::tempdir()?;
    let store = Store::local(dir.path())?;
    let router = kachery::server::router(&store, &Config::single_zone(Some(TOKEN.into())))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(kachery::server::serve(
        listener,
        router,
        std::future::pending(),
    ));
    // reqwest is built with rustls and no provider chosen (as kachery uses it): ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let size_bytes = o.size_bytes;

    let up = {
        let client = client.clone();
        let base = base.clone();
        phase("upload", o.uploads, o.concurrency, o.max_secs, move |i| {
            let client = client.clone();
            let body = content(i, size_bytes);
            let url = format!("{base}/sha1/{}", Sha1Hash::of(&body));
            async move {
                let response = client.put(url).bearer_auth(TOKEN).body(body).send().await?;
                if response.status().as_u16() != 201 {
                    bail!("PUT answered {}", response.status());
                }
                Ok(())
            }
        })
        .await
    };
    let stored = up.latencies_secs.len().max(1);
    let hashes: Arc<Vec<Sha1Hash>> = Arc::new(
        (0..stored)
            .map(|i| Sha1Hash::of(&content(i, size_bytes)))
            .collect(),
    );
    let down = {
        let client = client.clone();
        let base = base.clone();
        phase("read", o.reads, o.concurrency, o.max_secs, move |i| {
            let client = client.clone();
            let hash = hashes[i % hashes.len()];
            let url = format!("{base}/sha1/{hash}");
            async move {
                let response = client.get(url).send().await?;
                if response.status().as_u16() != 200 {
                    bail!("GET answered {}", response.status());
                }
                let body = response.bytes().await?;
                ns_store_uri::Verifier::check(hash, &body)?;
                Ok(())
            }
        })
        .await
    };
    println!(
        "store server load run: loopback, local directory store (fsync on), {} B objects, {} concurrent clients",
        o.size_bytes, o.concurrency
    );
    println!("| phase   |  count | errors | seconds | per second | p50 ms | p99 ms |");
    println!("|---------|-------:|-------:|--------:|----------:|-------:|-------:|");
    for mut p in [up, down] {
        println!("{}", p.row());
    }
    Ok(())
}
