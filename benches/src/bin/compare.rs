//! Every workload, every library, one process: the community crdt-benchmarks suite (B1–B4)
//! on converge (the bare engine, and the `Doc` users edit through), diamond-types, yrs, loro
//! and automerge, and state-CRDT merges on converge and
//! `crdts`. Runs are interleaved and repeated (median and min), capped per run, and every
//! result is verified. See perf/README.md for how to read the output.
//!
//! ```text
//! cargo run --release -p converge-benches --bin compare              # full run, writes perf/results/
//! cargo run --release -p converge-benches --bin compare -- --smoke   # tiny inputs, once, writes nothing
//! ```
//!
//! Options: `--smoke`, `--n N`, `--reps R`, `--cap SECONDS`, `--max-heap MIB` (heap a run may
//! hold before it is stopped, default 1024: the heaviest workloads on a document that keeps
//! every update would otherwise need several GiB), `--only ID[,ID…]` (workload
//! ids; a trailing `*` matches a prefix, e.g. `B1.*,S*`), `--no-b4x100`, `--out DIR` (write
//! results there, also in smoke runs), `--no-write`.

#[path = "../compare/mod.rs"]
mod compare;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use compare::report::{self, Meta};
use compare::workloads::Sizes;
use compare::{Settings, Status};
use converge_benches::CountingAlloc;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

struct Args {
    smoke: bool,
    n: Option<usize>,
    reps: Option<usize>,
    cap: Option<f64>,
    max_heap: usize,
    only: Vec<String>,
    b4x100: bool,
    out: Option<PathBuf>,
    write: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: compare [--smoke] [--n N] [--reps R] [--cap SECONDS] [--max-heap MIB] \
         [--only ID,ID] [--no-b4x100] [--out DIR] [--no-write]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        smoke: false,
        n: None,
        reps: None,
        cap: None,
        max_heap: 1024,
        only: Vec::new(),
        b4x100: true,
        out: None,
        write: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--smoke" => a.smoke = true,
            "--n" => a.n = Some(value().parse().unwrap_or_else(|_| usage())),
            "--reps" => a.reps = Some(value().parse().unwrap_or_else(|_| usage())),
            "--cap" => a.cap = Some(value().parse().unwrap_or_else(|_| usage())),
            "--max-heap" => a.max_heap = value().parse().unwrap_or_else(|_| usage()),
            "--only" => a.only = value().split(',').map(str::to_string).collect(),
            "--no-b4x100" => a.b4x100 = false,
            "--out" => a.out = Some(PathBuf::from(value())),
            "--no-write" => a.write = false,
            "--help" | "-h" => usage(),
            // `cargo bench` passes `--bench`; ignore it.
            "--bench" => {}
            _ => usage(),
        }
    }
    a
}

/// UTC `(YYYY-MM-DD, HH:MM)` from the system clock (days-to-civil conversion after Howard
/// Hinnant's `civil_from_days`).
fn utc_now() -> (String, String) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    utc_from_secs(secs)
}

/// `(YYYY-MM-DD, HH:MM)` of a Unix time.
fn utc_from_secs(secs: u64) -> (String, String) {
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}:{:02}", rem / 3600, rem % 3600 / 60),
    )
}

fn command_output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Versions of the peers as resolved in Cargo.lock.
fn peer_versions() -> String {
    let lock = std::fs::read_to_string(repo_root().join("Cargo.lock")).unwrap_or_default();
    let mut out = Vec::new();
    for name in ["diamond-types", "yrs", "loro", "automerge", "crdts"] {
        let needle = format!("name = \"{name}\"\nversion = \"");
        if let Some(i) = lock.find(&needle) {
            let rest = &lock[i + needle.len()..];
            let v = rest.split('"').next().unwrap_or("?");
            out.push(format!("{name} {v}"));
        }
    }
    out.join(", ")
}

fn machine() -> Vec<(String, String)> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get().to_string())
        .unwrap_or_else(|_| "?".into());
    let root = repo_root();
    let root = root.to_string_lossy();
    vec![
        ("CPU".into(), format!("{cpu}, {cores} cores available")),
        (
            "rustc".into(),
            command_output("rustc", &["-V"]).unwrap_or_else(|| "unknown".into()),
        ),
        (
            "commit".into(),
            command_output("git", &["-C", &root, "rev-parse", "--short", "HEAD"])
                .unwrap_or_else(|| "unknown".into()),
        ),
        ("peers".into(), peer_versions()),
        (
            "profile".into(),
            if cfg!(debug_assertions) {
                "debug (numbers meaningless: use --release)".into()
            } else {
                "release".into()
            },
        ),
    ]
}

fn main() -> ExitCode {
    let args = parse_args();
    let n = args.n.unwrap_or(if args.smoke { 50 } else { 6000 });
    let sizes = Sizes {
        n,
        b4_prefix: args.smoke.then_some(2_000),
        b4_times: match (args.b4x100, args.smoke) {
            (false, _) => 0,
            (true, true) => 3,
            (true, false) => 100,
        },
    };
    let settings = Settings {
        reps: args.reps.unwrap_or(if args.smoke { 1 } else { 5 }),
        cap: Duration::from_secs_f64(args.cap.unwrap_or(if args.smoke { 60.0 } else { 10.0 })),
        heap_cap: args.max_heap.saturating_mul(1 << 20),
    };
    eprintln!("building inputs (N = {n})…");
    let mut workloads = compare::workloads::suite(&sizes);
    workloads.extend(compare::state::workloads(n));
    if !args.only.is_empty() {
        workloads.retain(|w| {
            args.only.iter().any(|p| match p.strip_suffix('*') {
                Some(prefix) => w.id.starts_with(prefix),
                None => w.id == *p,
            })
        });
    }
    let rows = compare::run_all(&workloads, &settings);

    let (date, time) = utc_now();
    let meta = Meta {
        date,
        time,
        n,
        smoke: args.smoke,
        settings,
        machine: machine(),
    };
    let command = format!(
        "cargo run --release -p converge-benches --bin compare --{}",
        std::env::args()
            .skip(1)
            .map(|a| format!(" {a}"))
            .collect::<String>()
    );
    let command = command.trim_end_matches(" --").to_string();
    let md = report::markdown(&rows, &meta, &command);
    println!("{md}");

    let dir = match (&args.out, args.smoke, args.write) {
        (_, _, false) => None,
        (Some(d), _, true) => Some(d.clone()),
        (None, false, true) => Some(repo_root().join("perf/results")),
        (None, true, true) => None,
    };
    if let Some(dir) = dir {
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!("cannot create {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
        let files = [
            ("json", report::json(&rows, &meta)),
            ("md", md),
            ("svg", report::svg(&rows, &meta, report::ENGINE)),
            ("doc.svg", report::svg(&rows, &meta, report::DOC)),
        ];
        for (ext, text) in files {
            let path = dir.join(format!("{}.{ext}", meta.date));
            if let Err(e) = std::fs::write(&path, text) {
                eprintln!("cannot write {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
            eprintln!("wrote {}", path.display());
        }
    }

    let wrong: Vec<String> = rows
        .iter()
        .filter_map(|r| match &r.status {
            Status::Wrong(m) => Some(format!("{} {}: {m}", r.id, r.lib)),
            _ => None,
        })
        .collect();
    if wrong.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("{} wrong result(s):", wrong.len());
        for w in wrong {
            eprintln!("  {w}");
        }
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::utc_from_secs;

    #[test]
    fn unix_times_become_utc_dates() {
        let f = |s| {
            let (d, t) = utc_from_secs(s);
            format!("{d} {t}")
        };
        assert_eq!(f(0), "1970-01-01 00:00");
        assert_eq!(f(951_782_400), "2000-02-29 00:00");
        assert_eq!(f(1_700_000_000), "2023-11-14 22:13");
        assert_eq!(f(4_107_542_399), "2100-02-28 23:59");
    }
}
