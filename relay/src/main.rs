//! `converge-relay [--addr HOST:PORT] [--db FILE] [--serve DIR] [--max-frame BYTES]
//! [--max-rooms N] [--max-connections N] [--compact-every N]`

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use converge_relay::{Config, Relay};

const USAGE: &str =
    "usage: converge-relay [--addr HOST:PORT (127.0.0.1:8787)] [--db FILE (converge-relay.sqlite3)]
                      [--serve DIR] [--max-frame BYTES] [--max-rooms N]
                      [--max-connections N (per IP)] [--compact-every N (updates)]";

fn parse(args: Vec<String>) -> Result<(SocketAddr, Config), String> {
    let mut addr: SocketAddr = "127.0.0.1:8787".parse().expect("a valid address");
    let mut config = Config::default();
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let num = |v: &str| v.parse::<usize>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--addr" => addr = value.parse().map_err(|e| format!("--addr {value}: {e}"))?,
            "--db" => config.db = PathBuf::from(value),
            "--serve" => config.serve_dir = Some(PathBuf::from(value)),
            "--max-frame" => config.max_frame = num(&value)?,
            "--max-rooms" => config.max_rooms = num(&value)?,
            "--max-connections" => config.max_connections_per_ip = num(&value)?,
            "--compact-every" => config.compact_every = num(&value)?.max(1),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok((addr, config))
}

#[tokio::main]
async fn main() -> ExitCode {
    let (addr, config) = match parse(std::env::args().skip(1).collect()) {
        Ok(parsed) => parsed,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("converge-relay: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let relay = match Relay::open(config.clone()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("converge-relay: opening {}: {e}", config.db.display());
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("converge-relay: binding {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let shown = listener.local_addr().unwrap_or(addr);
    println!(
        "converge-relay: http://{shown}  (WebSocket: ws://{shown}/sync/<room>, db: {})",
        config.db.display()
    );
    if let Some(dir) = &config.serve_dir {
        println!(
            "converge-relay: serving {} at http://{shown}/",
            dir.display()
        );
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match relay.serve(listener, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("converge-relay: {e}");
            ExitCode::FAILURE
        }
    }
}
