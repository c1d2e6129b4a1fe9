//! The `compare` command's pieces: library adapters ([`libs`]), the workloads
//! ([`workloads`], [`state`]), the runner (this module) and the writers ([`report`]).
//!
//! A workload is a list of runs, one per library. A run builds its inputs outside the timed
//! section, times only the operation the workload names, then checks the result against the
//! expected value computed independently of every library (a plain `String`/`Vec` model or
//! the trace's recorded final text). A run that produces a wrong result is reported as
//! `wrong` and makes the command fail; a run that goes past the time cap is reported as
//! `> cap`, never dropped.

pub mod libs;
pub mod report;
pub use converge_benches::rng;
pub mod state;
pub mod workloads;

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Figures one run reports besides its time. `None` where the library has no equivalent or
/// the workload does not measure it.
#[derive(Clone, Debug, Default)]
pub struct Extra {
    /// Average size of the update messages a replica sent (bytes).
    pub update_bytes: Option<usize>,
    /// Size of the whole document in the library's persistent encoding (bytes).
    pub doc_bytes: Option<usize>,
    /// Size of the library's history-only export, where it has one besides the persistent
    /// encoding (bytes).
    pub history_bytes: Option<usize>,
    /// Time to load the encoded document.
    pub parse: Option<Duration>,
    /// Time to load the encoded document and read its value once (the text, the list, the
    /// map entry), so that a library that defers work to the first read pays for it.
    pub load_read: Option<Duration>,
    /// Heap held by the loaded document (counting allocator).
    pub mem: Option<usize>,
}

/// One successful run: the timed section and the extra figures.
#[derive(Clone, Debug)]
pub struct Measured {
    /// Duration of the timed section.
    pub time: Duration,
    /// Sizes, load time, memory.
    pub extra: Extra,
}

/// Why a run has no time.
#[derive(Clone, Debug)]
pub enum Failure {
    /// It went past the per-run time cap.
    Capped,
    /// It held more heap than the per-run heap cap (bytes held when stopped).
    HeapCapped(usize),
    /// It finished but its result differs from the expected one.
    Wrong(String),
}

/// What a run returns.
pub type RunResult = Result<Measured, Failure>;

/// The per-run time cap, and a cap on the heap a run may hold (so that one library's
/// memory growth on the heaviest workloads cannot exhaust a shared machine). Long loops poll
/// [`Cap::stop`] every few hundred operations.
#[derive(Clone, Copy, Debug)]
pub struct Cap {
    deadline: Instant,
    limit: Duration,
    /// Heap allocated when the run started.
    heap_base: usize,
    heap_limit: usize,
}

impl Cap {
    /// A time cap of `limit` from now, no heap cap.
    #[allow(
        dead_code,
        reason = "used by the criterion suite and the tests, not by compare"
    )]
    pub fn new(limit: Duration) -> Self {
        Self::with_heap(limit, usize::MAX)
    }

    /// A time cap of `limit` from now and a cap of `heap` bytes held beyond what is
    /// allocated now.
    pub fn with_heap(limit: Duration, heap: usize) -> Self {
        Cap {
            deadline: Instant::now() + limit,
            limit,
            heap_base: converge_benches::allocated_bytes(),
            heap_limit: heap,
        }
    }

    fn heap_held(&self) -> usize {
        converge_benches::allocated_bytes().saturating_sub(self.heap_base)
    }

    /// Why the run must stop now, if it must: past the deadline or over the heap cap.
    pub fn hit(&self) -> Option<Failure> {
        let held = self.heap_held();
        if held > self.heap_limit {
            Some(Failure::HeapCapped(held))
        } else if Instant::now() > self.deadline {
            Some(Failure::Capped)
        } else {
            None
        }
    }

    /// `Err` with [`hit`](Cap::hit)'s reason if the run must stop now.
    pub fn stop(&self) -> Result<(), Failure> {
        self.hit().map_or(Ok(()), Err)
    }

    /// Turns a finished timed section into a result: over the limit is `Capped`.
    pub fn check(&self, time: Duration) -> Result<Duration, Failure> {
        if time > self.limit {
            Err(Failure::Capped)
        } else {
            Ok(time)
        }
    }
}

/// `Err(Failure::Wrong)` with `what` unless `ok`.
pub fn verify(ok: bool, what: impl FnOnce() -> String) -> Result<(), Failure> {
    if ok {
        Ok(())
    } else {
        Err(Failure::Wrong(what()))
    }
}

/// A boxed run.
pub type RunFn = Box<dyn Fn(&Cap) -> RunResult>;

/// A workload: an id from the community suite (or ours), a description, and one run per
/// library that supports it.
pub struct Workload {
    /// Short id, e.g. `B1.1`.
    pub id: String,
    /// What it does.
    pub name: String,
    /// Heavy workloads run once per library regardless of `--reps`, with
    /// [`HEAVY_CAP_FACTOR`] times the cap.
    pub heavy: bool,
    /// `(library, run)`.
    pub runs: Vec<(&'static str, RunFn)>,
}

/// How many times the normal cap a heavy workload (B4x100) gets.
pub const HEAVY_CAP_FACTOR: u32 = 6;

/// The outcome of all repetitions of one library on one workload.
#[derive(Clone, Debug)]
pub struct Row {
    /// Workload id.
    pub id: String,
    /// Workload description.
    pub name: String,
    /// Library name.
    pub lib: &'static str,
    /// `ok`, `capped` or `wrong`.
    pub status: Status,
    /// The time cap each run had.
    pub cap: Duration,
    /// Times of the completed repetitions.
    pub times: Vec<Duration>,
    /// Extra figures of the first successful run.
    pub extra: Extra,
}

/// How a row ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Every repetition finished and verified.
    Ok,
    /// A repetition hit the cap (later repetitions skipped).
    Capped,
    /// A repetition held more heap than the heap cap (bytes held when stopped).
    HeapCapped(usize),
    /// A repetition produced a wrong result (message).
    Wrong(String),
}

impl Row {
    /// Median of the repetitions.
    pub fn median(&self) -> Option<Duration> {
        let mut t = self.times.clone();
        t.sort();
        t.get(t.len() / 2).copied()
    }

    /// Fastest repetition.
    pub fn min(&self) -> Option<Duration> {
        self.times.iter().min().copied()
    }
}

/// Runner settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Repetitions per library and workload.
    pub reps: usize,
    /// Per-run time cap.
    pub cap: Duration,
    /// Per-run heap cap (bytes held beyond what was allocated when the run started).
    pub heap_cap: usize,
}

/// A progress line on stderr: rewritten in place on a terminal, one line per workload
/// otherwise (CI logs).
struct Progress {
    tty: bool,
    total: usize,
    started: Instant,
}

impl Progress {
    fn show(&self, done: usize, what: &str) {
        let elapsed = self.started.elapsed().as_secs_f64();
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(
                err,
                "\r\x1b[2K[{done}/{total}] {elapsed:6.1}s  {what}",
                total = self.total
            );
        } else {
            let _ = writeln!(err, "[{done}/{}] {elapsed:6.1}s  {what}", self.total);
        }
        let _ = err.flush();
    }

    fn finish(&self) {
        if self.tty {
            eprintln!();
        }
    }
}

/// Runs every workload: for each workload, `reps` rounds in which every library runs once,
/// the order of libraries rotating each round (interleaved, so slow drifts in machine load
/// hit every library alike). A library that hits the cap or fails verification is not run
/// again on that workload.
pub fn run_all(workloads: &[Workload], settings: &Settings) -> Vec<Row> {
    let progress = Progress {
        tty: std::io::stderr().is_terminal(),
        total: workloads.len(),
        started: Instant::now(),
    };
    let mut rows = Vec::new();
    for (wi, w) in workloads.iter().enumerate() {
        let (reps, limit) = if w.heavy {
            (1, settings.cap * HEAVY_CAP_FACTOR)
        } else {
            (settings.reps.max(1), settings.cap)
        };
        let mut these: Vec<Row> = w
            .runs
            .iter()
            .map(|(lib, _)| Row {
                id: w.id.clone(),
                name: w.name.clone(),
                lib,
                status: Status::Ok,
                cap: limit,
                times: Vec::new(),
                extra: Extra::default(),
            })
            .collect();
        let n = w.runs.len();
        for rep in 0..reps {
            for k in 0..n {
                let li = (k + rep) % n;
                if these[li].status != Status::Ok {
                    continue;
                }
                if progress.tty || (rep == 0 && k == 0) {
                    progress.show(
                        wi,
                        &format!("{} {} (rep {}/{reps})", w.id, w.runs[li].0, rep + 1),
                    );
                }
                let cap = Cap::with_heap(limit, settings.heap_cap);
                match (w.runs[li].1)(&cap) {
                    Ok(m) => {
                        if these[li].times.is_empty() {
                            these[li].extra = m.extra;
                        }
                        these[li].times.push(m.time);
                    }
                    Err(Failure::Capped) => these[li].status = Status::Capped,
                    Err(Failure::HeapCapped(held)) => {
                        these[li].status = Status::HeapCapped(held);
                    }
                    Err(Failure::Wrong(msg)) => these[li].status = Status::Wrong(msg),
                }
            }
        }
        rows.extend(these);
    }
    progress.show(workloads.len(), "done");
    progress.finish();
    rows
}

/// Heap bytes held by the value `f` builds, and the time `f` took.
pub fn held<T>(f: impl FnOnce() -> T) -> (T, Duration, usize) {
    let before = converge_benches::allocated_bytes();
    let t = Instant::now();
    let v = f();
    let time = t.elapsed();
    let after = converge_benches::allocated_bytes();
    (v, time, after.saturating_sub(before))
}
