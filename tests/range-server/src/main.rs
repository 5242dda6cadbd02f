//! `range-server --dir DIR [--port 0] [--latency-ms N] [--fault MODE] [--fault-every N]
//! [--fault-file NAME] [--static-dir DIR]`: prints `listening on http://127.0.0.1:PORT` once bound,
//! then serves until SIGTERM or SIGINT (exit 0).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use range_server::{Config, Fault};

/// HTTP Range test server on 127.0.0.1 with latency and fault injection.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Directory served under /files/.
    #[arg(long)]
    dir: PathBuf,
    /// Port on 127.0.0.1 (0 = ephemeral).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Delay added before answering each /files and /redirect request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// none, status500, status404, reset, ignore_range, wrong_content_range or truncate.
    #[arg(long, default_value_t = Fault::None)]
    fault: Fault,
    /// Apply the fault only to every Nth request (0 or 1 = every request).
    #[arg(long, default_value_t = 1)]
    fault_every: u64,
    /// Apply the fault only to requests for this file name.
    #[arg(long)]
    fault_file: Option<String>,
    /// Directory served under /static/ (no latency, faults or counting).
    #[arg(long)]
    static_dir: Option<PathBuf>,
    /// A built single-page app served at / (index.html for unknown paths).
    #[arg(long)]
    app_dir: Option<PathBuf>,
    /// JSON file of canned answers for a fake DANDI API under /api/.
    #[arg(long)]
    api_routes: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = Config {
        dir: args.dir,
        port: args.port,
        latency_ms: args.latency_ms,
        fault: args.fault,
        fault_every: args.fault_every,
        fault_file: args.fault_file,
        static_dir: args.static_dir,
        app_dir: args.app_dir,
        api_routes: args.api_routes,
    };
    let ready = |addr| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{addr}");
        let _ = out.flush();
    };
    match range_server::serve(config, ready, ns_serve::stop_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("range-server: {e}");
            ExitCode::FAILURE
        }
    }
}
