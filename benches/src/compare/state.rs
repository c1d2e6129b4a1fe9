//! State-CRDT merges, converge next to the `crdts` crate (7.3): a PN-counter gathered from
//! many replicas, two large LWW maps, and two add-wins sets with removals.
//!
//! `crdts` has no LWW map type; its idiomatic equivalent, used here, is a `BTreeMap` of
//! `LWWReg`s merged key by key. Its `merge` consumes the other state, so its inputs are
//! cloned before the timed section (converge's `merge` borrows). Both sides are checked to
//! reach the same value, computed independently.

use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::{Duration, Instant};

use converge::{AwSet, Crdt, LwwMap, PNCounter, ReplicaId};
use converge_benches::state_inputs::{
    CrdtsLwwMap, crdts_lww_merge, lww_pair, set_pair, set_remove,
};
use crdts::{CmRDT, CvRDT};

use super::{Cap, Extra, Measured, RunFn, RunResult, Workload, held, verify};

/// Merges per timed run: single merges take microseconds, so a run times `REPEAT` of them
/// (each on fresh copies made beforehand) and reports the mean.
const REPEAT: usize = 10;

fn measured(total: Duration, doc_bytes: Option<usize>, mem: Option<usize>) -> Measured {
    Measured {
        time: total / REPEAT as u32,
        extra: Extra {
            doc_bytes,
            mem,
            ..Extra::default()
        },
    }
}

// ---------------------------------------------------------------------------- counter

struct Counters {
    ours: Vec<PNCounter>,
    theirs: Vec<crdts::PNCounter<u64>>,
    expected: i64,
}

fn counters(m: usize) -> Counters {
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let mut expected = 0i64;
    for r in 0..m as u64 {
        let mut c = PNCounter::default();
        c.inc(ReplicaId(r + 1), r + 2);
        c.dec(ReplicaId(r + 1), 1);
        ours.push(c);
        let mut t = crdts::PNCounter::new();
        t.apply(t.inc_many(r + 1, r + 2));
        t.apply(t.dec_many(r + 1, 1));
        theirs.push(t);
        expected += r as i64 + 1;
    }
    Counters {
        ours,
        theirs,
        expected,
    }
}

fn counter_converge(w: &Counters, cap: &Cap) -> RunResult {
    let mut outs: Vec<PNCounter> = vec![PNCounter::default(); REPEAT];
    let t = Instant::now();
    for out in &mut outs {
        out.merge_batch(&w.ours);
    }
    let time = cap.check(t.elapsed())?;
    verify(outs.iter().all(|c| c.value() == w.expected), || {
        format!("converge: counter {} != {}", outs[0].value(), w.expected)
    })?;
    let bytes = converge::encode(&outs[0]);
    let (_, _, mem) = held(|| converge::decode::<PNCounter>(&bytes).expect("decodes"));
    Ok(measured(time, Some(bytes.len()), Some(mem)))
}

fn counter_crdts(w: &Counters, cap: &Cap) -> RunResult {
    let inputs: Vec<Vec<crdts::PNCounter<u64>>> = (0..REPEAT).map(|_| w.theirs.clone()).collect();
    let mut outs: Vec<crdts::PNCounter<u64>> = vec![crdts::PNCounter::new(); REPEAT];
    let t = Instant::now();
    for (out, input) in outs.iter_mut().zip(inputs) {
        for c in input {
            out.merge(c);
        }
    }
    let time = cap.check(t.elapsed())?;
    let want = w.expected.to_string();
    verify(outs.iter().all(|c| c.read().to_string() == want), || {
        format!("crdts: counter {} != {want}", outs[0].read())
    })?;
    Ok(measured(time, None, None))
}

// ---------------------------------------------------------------------------- LWW map

struct Lww {
    a: LwwMap<u64, u64>,
    b: LwwMap<u64, u64>,
    ta: CrdtsLwwMap,
    tb: CrdtsLwwMap,
    expected: Vec<(u64, u64)>,
}

/// Two maps of `n` keys each, half of them shared; `b` writes later and wins the overlap.
fn lww(n: u64) -> Lww {
    let (a, ta) = lww_pair(1, 1, 0, n);
    let (b, tb) = lww_pair(2, 2, n / 2, n);
    let expected = (0..n / 2)
        .map(|k| (k, k * 10 + 1))
        .chain((n / 2..n / 2 + n).map(|k| (k, k * 10 + 2)))
        .collect();
    Lww {
        a,
        b,
        ta,
        tb,
        expected,
    }
}

fn lww_converge(w: &Lww, cap: &Cap) -> RunResult {
    let mut outs: Vec<LwwMap<u64, u64>> = (0..REPEAT).map(|_| w.a.clone()).collect();
    let t = Instant::now();
    for out in &mut outs {
        out.merge(&w.b);
    }
    let time = cap.check(t.elapsed())?;
    let mut got: Vec<(u64, u64)> = outs[0].iter().map(|(k, v)| (*k, *v)).collect();
    got.sort_unstable();
    verify(got == w.expected, || "converge: merged map differs".into())?;
    let bytes = converge::encode(&outs[0]);
    let (_, _, mem) = held(|| converge::decode::<LwwMap<u64, u64>>(&bytes).expect("decodes"));
    Ok(measured(time, Some(bytes.len()), Some(mem)))
}

fn lww_crdts(w: &Lww, cap: &Cap) -> RunResult {
    let mut outs: Vec<(CrdtsLwwMap, CrdtsLwwMap)> =
        (0..REPEAT).map(|_| (w.ta.clone(), w.tb.clone())).collect();
    let t = Instant::now();
    for (a, b) in &mut outs {
        crdts_lww_merge(a, std::mem::take(b));
    }
    let time = cap.check(t.elapsed())?;
    let got: Vec<(u64, u64)> = outs[0].0.iter().map(|(k, r)| (*k, r.val)).collect();
    verify(got == w.expected, || "crdts: merged map differs".into())?;
    Ok(measured(time, None, None))
}

// ----------------------------------------------------------------------------- OR-set

struct Sets {
    a: AwSet<u64>,
    b: AwSet<u64>,
    ta: crdts::Orswot<u64, u64>,
    tb: crdts::Orswot<u64, u64>,
    expected: BTreeSet<u64>,
}

/// Two sets of `n` values, half shared; `b` then removes a fifth of its own values. The
/// shared values `b` removed survive through `a`'s unseen adds (add wins).
fn sets(n: u64) -> Sets {
    let (a, ta) = set_pair(1, 0, n);
    let (mut b, mut tb) = set_pair(2, n / 2, n);
    let gone: Vec<u64> = (n / 2..n / 2 + n / 5).collect();
    set_remove(&mut b, &mut tb, &gone);
    Sets {
        a,
        b,
        ta,
        tb,
        expected: (0..n / 2 + n).collect(),
    }
}

fn set_converge(w: &Sets, cap: &Cap) -> RunResult {
    let mut outs: Vec<AwSet<u64>> = (0..REPEAT).map(|_| w.a.clone()).collect();
    let t = Instant::now();
    for out in &mut outs {
        out.merge(&w.b);
    }
    let time = cap.check(t.elapsed())?;
    let got: BTreeSet<u64> = outs[0].iter().copied().collect();
    verify(got == w.expected, || "converge: merged set differs".into())?;
    let bytes = converge::encode(&outs[0]);
    let (_, _, mem) = held(|| converge::decode::<AwSet<u64>>(&bytes).expect("decodes"));
    Ok(measured(time, Some(bytes.len()), Some(mem)))
}

fn set_crdts(w: &Sets, cap: &Cap) -> RunResult {
    let mut outs: Vec<(crdts::Orswot<u64, u64>, crdts::Orswot<u64, u64>)> =
        (0..REPEAT).map(|_| (w.ta.clone(), w.tb.clone())).collect();
    let t = Instant::now();
    for (a, b) in &mut outs {
        a.merge(std::mem::take(b));
    }
    let time = cap.check(t.elapsed())?;
    let got: BTreeSet<u64> = outs[0].0.read().val.into_iter().collect();
    verify(got == w.expected, || "crdts: merged set differs".into())?;
    Ok(measured(time, None, None))
}

// ------------------------------------------------------------------------------ catalog

fn pair<T: 'static>(
    input: T,
    ours: fn(&T, &Cap) -> RunResult,
    theirs: fn(&T, &Cap) -> RunResult,
) -> Vec<(&'static str, RunFn)> {
    let input = Rc::new(input);
    let i = Rc::clone(&input);
    vec![
        (
            "converge",
            Box::new(move |cap: &Cap| ours(&i, cap)) as RunFn,
        ),
        ("crdts", Box::new(move |cap: &Cap| theirs(&input, cap))),
    ]
}

/// The state-CRDT workloads, sized from the suite's N.
pub fn workloads(n: usize) -> Vec<Workload> {
    let m = 20 * (n as f64).sqrt().floor() as usize;
    let keys = 10 * n as u64;
    vec![
        Workload {
            id: "S1".into(),
            name: format!("PN-counter: merge {m} replicas' states into a fresh one"),
            heavy: false,
            runs: pair(counters(m), counter_converge, counter_crdts),
        },
        Workload {
            id: "S2".into(),
            name: format!("LWW map: merge two maps of {keys} keys, half shared"),
            heavy: false,
            runs: pair(lww(keys), lww_converge, lww_crdts),
        },
        Workload {
            id: "S3".into(),
            name: format!("OR-set: merge two sets of {keys} values, half shared, with removals"),
            heavy: false,
            runs: pair(sets(keys), set_converge, set_crdts),
        },
    ]
}
