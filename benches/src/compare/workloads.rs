//! The community crdt-benchmarks suite (dmonad/crdt-benchmarks, by Kevin Jahns), ported:
//! the same workloads, sizes and measured quantities, driven through the adapters in
//! [`libs`](super::libs). Inputs are generated once per workload from a fixed seed, and
//! every expected result is computed here from a plain `Vec` model, never by a library.
//!
//! * B1.1–B1.7: one user edits text; B1.8–B1.11: one user edits a list of numbers. Time =
//!   the edits plus producing one update message per edit (as the suite's update callback
//!   does); a second replica then applies the updates and must agree.
//! * B2.1–B2.4: two users edit concurrently (one transaction each), then exchange updates.
//!   Time = both transactions plus the exchange. The merged text is checked character class
//!   by character class: user 1 types only lowercase letters, user 2 only uppercase, the
//!   shared start text is digits; each user's letters must appear in the order that user
//!   left them, and exactly the start characters neither user deleted must survive.
//! * B3.1, B3.3, B3.4: 20·⌊√N⌋ replicas make one edit each; time = a fresh replica applying
//!   all their updates. Concurrent map writes must resolve to the highest replica id (the
//!   rule of every library here); concurrent list inserts must keep every element (their
//!   order is each library's own tie-break, so only the multiset is compared).
//! * B4: replay of the automerge-paper trace (Martin Kleppmann's editing trace of the
//!   Automerge paper, from josephg/editing-traces); B4x100 replays it 100 times into one
//!   document. The final text must equal the recorded one.
//! * T.seph-blog1, T.json-crdt-patch: the other sequential traces of josephg/editing-traces,
//!   replayed as B4 (ours, not the suite's).
//!
//! converge runs every B and T workload twice: on the bare engine (`converge`: `list::Text`,
//! `list::List`, the state `LwwMap`) and on the document users edit through (`converge Doc`:
//! one root container, one call per edit in an implicit transaction, updates as bytes,
//! `save()` / `Doc::load`); see [`ConvergeDoc`].

use std::rc::Rc;
use std::time::Instant;

use super::libs::{
    Automerge, ConvergeDoc, ConvergeList, ConvergeMap, ConvergeText, Diamond, Doc, Edit, ListDoc,
    Loro, MapDoc, TextDoc, Val, Yrs,
};
use super::rng::{DIGITS, LOWER, Rng, UPPER};
use super::{Cap, Extra, Measured, RunFn, RunResult, Workload, held, verify};

/// Sizes of the generated inputs.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// The suite's N (6000 in its published tables).
    pub n: usize,
    /// Replay only this many patches of the B4 trace (smoke runs).
    pub b4_prefix: Option<usize>,
    /// How many times B4x100 replays the trace (100, fewer in smoke runs); 0 skips it.
    pub b4_times: usize,
}

// ------------------------------------------------------------------------------ helpers

/// Encodes `doc`, loads it back (timing the load and counting the heap it holds), reads the
/// loaded copy through `check` (timed with the load: load + first read) and checks it. A
/// history-only export, where the library has one, is loaded and checked too.
fn finish<D: Doc>(
    doc: &mut D,
    time: std::time::Duration,
    update_bytes: Option<usize>,
    check: impl Fn(&mut D) -> bool,
) -> RunResult {
    let bytes = doc.encode();
    let (mut loaded, parse, mem) = held(|| D::load(&bytes));
    let t = Instant::now();
    let ok = check(&mut loaded);
    let load_read = parse + t.elapsed();
    verify(ok, || format!("{}: loaded document differs", D::NAME))?;
    let history = doc.encode_history();
    if let Some(history) = &history {
        verify(check(&mut D::load(history)), || {
            format!("{}: document loaded from its history differs", D::NAME)
        })?;
    }
    Ok(Measured {
        time,
        extra: Extra {
            update_bytes,
            doc_bytes: Some(bytes.len()),
            history_bytes: history.as_ref().map(Vec::len),
            parse: Some(parse),
            load_read: Some(load_read),
            mem: Some(mem),
        },
    })
}

fn avg_len(updates: &[Vec<u8>]) -> Option<usize> {
    let total: usize = updates.iter().map(Vec::len).sum();
    Some(total / updates.len().max(1))
}

fn short(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// Applies one edit to a plain char vector (the model).
fn model_apply(model: &mut Vec<char>, e: &Edit) {
    match e {
        Edit::Ins(pos, s) => {
            let tail = model.split_off(*pos);
            model.extend(s.chars());
            model.extend(tail);
        }
        Edit::Del(pos, len) => {
            model.drain(*pos..*pos + *len);
        }
    }
}

// ----------------------------------------------------------------------------- B1 text

/// One user's text changes (each change one transaction and one update) and the result.
pub struct TextChanges {
    changes: Vec<Vec<Edit>>,
    expected: String,
}

impl TextChanges {
    fn from_changes(changes: Vec<Vec<Edit>>) -> Self {
        let mut model = Vec::new();
        for c in &changes {
            for e in c {
                model_apply(&mut model, e);
            }
        }
        TextChanges {
            changes,
            expected: model.into_iter().collect(),
        }
    }
}

fn b1_text<D: TextDoc>(w: &TextChanges, cap: &Cap) -> RunResult {
    let mut d1 = D::create(1);
    d1.record_updates();
    let mut updates = Vec::with_capacity(w.changes.len());
    let t = Instant::now();
    for (i, c) in w.changes.iter().enumerate() {
        if i % 256 == 255 {
            cap.stop()?;
        }
        d1.edit(c);
        updates.push(d1.take_update());
    }
    let time = cap.check(t.elapsed())?;
    let got = d1.text();
    verify(got == w.expected, || {
        format!(
            "{}: text {:?}, expected {:?}",
            D::NAME,
            short(&got),
            short(&w.expected)
        )
    })?;
    let mut d2 = D::create(2);
    d2.apply_updates(&updates);
    let remote = d2.text();
    verify(remote == w.expected, || {
        format!("{}: remote replica has {:?}", D::NAME, short(&remote))
    })?;
    finish(&mut d1, time, avg_len(&updates), |d| d.text() == w.expected)
}

fn b1_text_inputs(n: usize, rng: &mut Rng) -> Vec<(&'static str, &'static str, TextChanges)> {
    let mut out = Vec::new();
    let s = rng.word(LOWER, n, n);
    out.push((
        "B1.1",
        "append N characters",
        TextChanges::from_changes(
            s.chars()
                .enumerate()
                .map(|(i, c)| vec![Edit::Ins(i, c.to_string())])
                .collect(),
        ),
    ));
    let s = rng.word(LOWER, n, n);
    out.push((
        "B1.2",
        "insert string of length N",
        TextChanges::from_changes(vec![vec![Edit::Ins(0, s)]]),
    ));
    let s = rng.word(LOWER, n, n);
    out.push((
        "B1.3",
        "prepend N characters",
        TextChanges::from_changes(
            s.chars()
                .rev()
                .map(|c| vec![Edit::Ins(0, c.to_string())])
                .collect(),
        ),
    ));
    let mut changes = Vec::new();
    for len in 0..n {
        let pos = rng.range(0, len);
        changes.push(vec![Edit::Ins(pos, rng.word(LOWER, 1, 1))]);
    }
    out.push((
        "B1.4",
        "insert N characters at random positions",
        TextChanges::from_changes(changes),
    ));
    let mut len = 0;
    let mut changes = Vec::new();
    for _ in 0..n {
        let pos = rng.range(0, len);
        let w = rng.word(LOWER, 2, 10);
        len += w.len();
        changes.push(vec![Edit::Ins(pos, w)]);
    }
    out.push((
        "B1.5",
        "insert N words at random positions",
        TextChanges::from_changes(changes),
    ));
    let s = rng.word(LOWER, n, n);
    out.push((
        "B1.6",
        "insert string, then delete it",
        TextChanges::from_changes(vec![vec![Edit::Ins(0, s), Edit::Del(0, n)]]),
    ));
    let mut len = 0;
    let mut changes = Vec::new();
    for _ in 0..n {
        let pos = rng.range(0, len);
        if pos == len || rng.coin() {
            let w = rng.word(LOWER, 2, 10);
            len += w.len();
            changes.push(vec![Edit::Ins(pos, w)]);
        } else {
            let del = rng.range(1, 9.min(len - pos));
            len -= del;
            changes.push(vec![Edit::Del(pos, del)]);
        }
    }
    out.push((
        "B1.7",
        "insert/delete strings at random positions",
        TextChanges::from_changes(changes),
    ));
    out
}

// ----------------------------------------------------------------------------- B1 list

/// One user's list inserts (each one transaction and one update) and the result.
pub struct ListChanges {
    changes: Vec<(usize, Vec<Val>)>,
    expected: Vec<Val>,
}

impl ListChanges {
    fn from_changes(changes: Vec<(usize, Vec<Val>)>) -> Self {
        let mut model: Vec<Val> = Vec::new();
        for (pos, vals) in &changes {
            let tail = model.split_off(*pos);
            model.extend(vals.iter().cloned());
            model.extend(tail);
        }
        ListChanges {
            changes,
            expected: model,
        }
    }
}

fn b1_list<D: ListDoc>(w: &ListChanges, cap: &Cap) -> RunResult {
    let mut d1 = D::create(1);
    d1.record_updates();
    let mut updates = Vec::with_capacity(w.changes.len());
    let t = Instant::now();
    for (i, (pos, vals)) in w.changes.iter().enumerate() {
        if i % 256 == 255 {
            cap.stop()?;
        }
        d1.insert_vals(*pos, vals);
        updates.push(d1.take_update());
    }
    let time = cap.check(t.elapsed())?;
    let got = d1.vals();
    verify(got == w.expected, || {
        format!(
            "{}: list differs from the model ({} items)",
            D::NAME,
            got.len()
        )
    })?;
    let mut d2 = D::create(2);
    d2.apply_updates(&updates);
    verify(d2.vals() == w.expected, || {
        format!("{}: remote replica's list differs", D::NAME)
    })?;
    finish(&mut d1, time, avg_len(&updates), |d| d.vals() == w.expected)
}

fn b1_list_inputs(n: usize, rng: &mut Rng) -> Vec<(&'static str, &'static str, ListChanges)> {
    let nums = |rng: &mut Rng| -> Vec<Val> { (0..n).map(|_| Val::Num(rng.num())).collect() };
    let mut out = Vec::new();
    let v = nums(rng);
    out.push((
        "B1.8",
        "append N numbers",
        ListChanges::from_changes(
            v.into_iter()
                .enumerate()
                .map(|(i, x)| (i, vec![x]))
                .collect(),
        ),
    ));
    let v = nums(rng);
    out.push((
        "B1.9",
        "insert array of N numbers",
        ListChanges::from_changes(vec![(0, v)]),
    ));
    let v = nums(rng);
    out.push((
        "B1.10",
        "prepend N numbers",
        ListChanges::from_changes(v.into_iter().map(|x| (0, vec![x])).collect()),
    ));
    let mut changes = Vec::new();
    for len in 0..n {
        let pos = rng.range(0, len);
        changes.push((pos, vec![Val::Num(rng.num())]));
    }
    out.push((
        "B1.11",
        "insert N numbers at random positions",
        ListChanges::from_changes(changes),
    ));
    out
}

// ---------------------------------------------------------------------------------- B2

/// Two users' concurrent edits on a shared start text, and what the merge must contain.
pub struct Concurrent {
    init: String,
    a: Vec<Edit>,
    b: Vec<Edit>,
    /// User 1's lowercase letters, in order, as user 1 left them.
    lower: String,
    /// User 2's uppercase letters, in order.
    upper: String,
    /// The start text's characters that neither user deleted, in order.
    digits: String,
}

/// A model character: the char and, for start-text characters, their index.
type Tagged = (char, Option<usize>);

fn tagged_apply(model: &mut Vec<Tagged>, e: &Edit) {
    match e {
        Edit::Ins(pos, s) => {
            let tail = model.split_off(*pos);
            model.extend(s.chars().map(|c| (c, None)));
            model.extend(tail);
        }
        Edit::Del(pos, len) => {
            model.drain(*pos..*pos + *len);
        }
    }
}

impl Concurrent {
    fn new(init: String, a: Vec<Edit>, b: Vec<Edit>) -> Self {
        let start: Vec<Tagged> = init
            .chars()
            .enumerate()
            .map(|(i, c)| (c, Some(i)))
            .collect();
        let (mut ma, mut mb) = (start.clone(), start);
        a.iter().for_each(|e| tagged_apply(&mut ma, e));
        b.iter().for_each(|e| tagged_apply(&mut mb, e));
        let kept_b: std::collections::HashSet<usize> = mb.iter().filter_map(|t| t.1).collect();
        Concurrent {
            lower: ma.iter().filter(|t| t.1.is_none()).map(|t| t.0).collect(),
            upper: mb.iter().filter(|t| t.1.is_none()).map(|t| t.0).collect(),
            digits: ma
                .iter()
                .filter(|t| t.1.is_some_and(|i| kept_b.contains(&i)))
                .map(|t| t.0)
                .collect(),
            init,
            a,
            b,
        }
    }

    fn check(&self, merged: &str) -> bool {
        let pick = |f: fn(&char) -> bool| merged.chars().filter(f).collect::<String>();
        merged.len() == self.lower.len() + self.upper.len() + self.digits.len()
            && pick(char::is_ascii_lowercase) == self.lower
            && pick(char::is_ascii_uppercase) == self.upper
            && pick(char::is_ascii_digit) == self.digits
    }
}

fn b2<D: TextDoc>(w: &Concurrent, _cap: &Cap) -> RunResult {
    let mut d1 = D::create(1);
    let mut d2 = D::create(2);
    d1.record_updates();
    d2.record_updates();
    d1.edit(&[Edit::Ins(0, w.init.clone())]);
    let u = d1.take_update();
    d2.apply_updates(&[u]);
    let _ = d2.take_update();
    let t = Instant::now();
    d1.edit(&w.a);
    d2.edit(&w.b);
    let (u1, u2) = (d1.take_update(), d2.take_update());
    d1.apply_updates(std::slice::from_ref(&u2));
    d2.apply_updates(std::slice::from_ref(&u1));
    let time = _cap.check(t.elapsed())?;
    let (t1, t2) = (d1.text(), d2.text());
    verify(t1 == t2, || {
        format!("{}: replicas differ after sync", D::NAME)
    })?;
    verify(w.check(&t1), || {
        format!("{}: merged text {:?} breaks the model", D::NAME, short(&t1))
    })?;
    let avg = Some((u1.len() + u2.len()) / 2);
    finish(&mut d1, time, avg, |d| d.text() == t1)
}

fn b2_inputs(n: usize, rng: &mut Rng) -> Vec<(&'static str, &'static str, Concurrent)> {
    let init = rng.word(DIGITS, 100, 100);
    let mut out = Vec::new();
    let (a, b) = (rng.word(LOWER, n, n), rng.word(UPPER, n, n));
    out.push((
        "B2.1",
        "concurrently insert string of length N at index 0",
        Concurrent::new(init.clone(), vec![Edit::Ins(0, a)], vec![Edit::Ins(0, b)]),
    ));
    let inserts = |rng: &mut Rng, abc: &[u8], lo: usize, hi: usize| {
        let mut len = 100;
        (0..n)
            .map(|_| {
                let pos = rng.range(0, len);
                let w = rng.word(abc, lo, hi);
                len += w.len();
                Edit::Ins(pos, w)
            })
            .collect::<Vec<_>>()
    };
    let (a, b) = (inserts(rng, LOWER, 1, 1), inserts(rng, UPPER, 1, 1));
    out.push((
        "B2.2",
        "concurrently insert N characters at random positions",
        Concurrent::new(init.clone(), a, b),
    ));
    let (a, b) = (inserts(rng, LOWER, 3, 9), inserts(rng, UPPER, 3, 9));
    out.push((
        "B2.3",
        "concurrently insert N words at random positions",
        Concurrent::new(init.clone(), a, b),
    ));
    let mixed = |rng: &mut Rng, abc: &[u8]| {
        let mut len = 100;
        let mut edits = Vec::new();
        for _ in 0..n {
            let pos = rng.range(0, len);
            let w = rng.word(abc, 3, 9);
            len += w.len();
            edits.push(Edit::Ins(pos, w));
            if pos == len || rng.coin() {
                let w = rng.word(abc, 2, 10);
                len += w.len();
                edits.push(Edit::Ins(pos, w));
            } else {
                let del = rng.range(1, 9.min(len - pos));
                len -= del;
                edits.push(Edit::Del(pos, del));
            }
        }
        edits
    };
    let (a, b) = (mixed(rng, LOWER), mixed(rng, UPPER));
    out.push((
        "B2.4",
        "concurrently insert & delete",
        Concurrent::new(init, a, b),
    ));
    out
}

// ---------------------------------------------------------------------------------- B3

/// `m` replicas' single updates and the expected merged value.
pub struct Many<T> {
    updates_of: fn(usize, usize) -> T,
    m: usize,
    expected: T,
}

fn b3_updates<D: Doc>(m: usize, change: impl Fn(&mut D, usize)) -> Vec<Vec<u8>> {
    (0..m)
        .map(|i| {
            let mut d = D::create(i as u64 + 1);
            d.record_updates();
            change(&mut d, i);
            d.take_update()
        })
        .collect()
}

fn b3_map<D: MapDoc>(w: &Many<Val>, cap: &Cap) -> RunResult {
    let updates = b3_updates::<D>(w.m, |d, i| d.set("v", (w.updates_of)(i, w.m)));
    let mut reference = D::create(w.m as u64 + 1);
    reference.apply_updates(&updates);
    let mut fresh = D::create(w.m as u64 + 2);
    let t = Instant::now();
    fresh.apply_updates(&updates);
    let time = cap.check(t.elapsed())?;
    let got = fresh.get("v");
    verify(got == reference.get("v"), || {
        format!("{}: two merges disagree", D::NAME)
    })?;
    verify(got.as_ref() == Some(&w.expected), || {
        format!(
            "{}: v = {:?}, expected the highest id's write",
            D::NAME,
            got.map(|v| format!("{v:?}").chars().take(30).collect::<String>())
        )
    })?;
    finish(&mut fresh, time, avg_len(&updates), |d| {
        d.get("v").as_ref() == Some(&w.expected)
    })
}

fn b3_list<D: ListDoc>(w: &Many<Vec<Val>>, cap: &Cap) -> RunResult {
    let updates = b3_updates::<D>(w.m, |d, i| d.insert_vals(0, &(w.updates_of)(i, w.m)));
    let mut reference = D::create(w.m as u64 + 1);
    reference.apply_updates(&updates);
    let mut fresh = D::create(w.m as u64 + 2);
    let t = Instant::now();
    fresh.apply_updates(&updates);
    let time = cap.check(t.elapsed())?;
    let got = fresh.vals();
    verify(got == reference.vals(), || {
        format!("{}: two merges disagree", D::NAME)
    })?;
    let mut sorted = got.clone();
    sorted.sort();
    verify(sorted == w.expected, || {
        format!("{}: merged list lost or duplicated elements", D::NAME)
    })?;
    finish(&mut fresh, time, avg_len(&updates), |d| d.vals() == got)
}

// ---------------------------------------------------------------------------------- B4

/// A trace replay: patches (delete then insert), repeated `times`, and the expected text.
pub struct Replay {
    patches: Vec<Vec<Edit>>,
    times: usize,
    expected: String,
}

fn b4<D: TextDoc>(w: &Replay, cap: &Cap) -> RunResult {
    let mut d = D::create(1);
    let t = Instant::now();
    for _ in 0..w.times {
        for (i, p) in w.patches.iter().enumerate() {
            if i % 1024 == 1023 {
                cap.stop()?;
            }
            d.edit(p);
        }
    }
    let time = cap.check(t.elapsed())?;
    let got = d.text();
    verify(got == w.expected, || {
        format!(
            "{}: replay ends with {} chars, expected {}",
            D::NAME,
            got.chars().count(),
            w.expected.chars().count()
        )
    })?;
    finish(&mut d, time, None, |d| d.text() == w.expected)
}

fn b4_input(sizes: &Sizes, times: usize) -> Replay {
    trace_input("automerge-paper", sizes, times)
}

/// The replay of trace `name` (from `shared/traces`), `times` times, cut to the B4 prefix in
/// smoke runs.
fn trace_input(name: &str, sizes: &Sizes, times: usize) -> Replay {
    let trace = converge_benches::load_trace(name);
    let mut patches: Vec<Vec<Edit>> = trace
        .patches()
        .into_iter()
        .map(|converge_benches::Patch(pos, del, ins)| {
            let mut p = Vec::with_capacity(2);
            if del > 0 {
                p.push(Edit::Del(pos, del));
            }
            if !ins.is_empty() {
                p.push(Edit::Ins(pos, ins));
            }
            p
        })
        .collect();
    let expected = match sizes.b4_prefix {
        Some(k) => {
            patches.truncate(k);
            let mut model = Vec::new();
            for _ in 0..times {
                patches
                    .iter()
                    .flatten()
                    .for_each(|e| model_apply(&mut model, e));
            }
            model.into_iter().collect()
        }
        // Every pass edits only the prefix it is building (positions never reach the text
        // left by earlier passes), so `times` passes leave `times` copies of the final text.
        None => trace.end_content.repeat(times),
    };
    Replay {
        patches,
        times,
        expected,
    }
}

// ------------------------------------------------------------------------------ catalog

macro_rules! runs {
    ($input:expr, $f:ident; $($lib:ty),+) => {{
        let input = Rc::new($input);
        let mut runs: Vec<(&'static str, RunFn)> = Vec::new();
        $(
            let i = Rc::clone(&input);
            runs.push((<$lib as Doc>::NAME, Box::new(move |cap: &Cap| $f::<$lib>(&i, cap))));
        )+
        runs
    }};
}

fn workload(id: &str, name: &str, heavy: bool, runs: Vec<(&'static str, RunFn)>) -> Workload {
    Workload {
        id: id.to_string(),
        name: name.to_string(),
        heavy,
        runs,
    }
}

/// Every workload of the suite at the given sizes, in the suite's order.
pub fn suite(sizes: &Sizes) -> Vec<Workload> {
    let mut rng = Rng::new(0x5eed_c0de);
    let n = sizes.n;
    let mut out = Vec::new();
    for (id, name, input) in b1_text_inputs(n, &mut rng) {
        let runs = runs!(input, b1_text; ConvergeText, ConvergeDoc, Diamond, Yrs, Loro, Automerge);
        out.push(workload(id, name, false, runs));
    }
    for (id, name, input) in b1_list_inputs(n, &mut rng) {
        let runs = runs!(input, b1_list; ConvergeList, ConvergeDoc, Yrs, Loro, Automerge);
        out.push(workload(id, name, false, runs));
    }
    for (id, name, input) in b2_inputs(n, &mut rng) {
        let runs = runs!(input, b2; ConvergeText, ConvergeDoc, Diamond, Yrs, Loro, Automerge);
        out.push(workload(id, name, false, runs));
    }
    let m = 20 * (n as f64).sqrt().floor() as usize;
    let num = Many {
        updates_of: |i, _| Val::Num(i as u32),
        m,
        expected: Val::Num(m as u32 - 1),
    };
    let runs = runs!(num, b3_map; ConvergeMap, ConvergeDoc, Yrs, Loro, Automerge);
    out.push(workload(
        "B3.1",
        "20√N clients concurrently set number in map",
        false,
        runs,
    ));
    let string = Many {
        updates_of: |i, m| Val::Str(i.to_string().repeat(m)),
        m,
        expected: Val::Str((m - 1).to_string().repeat(m)),
    };
    let runs = runs!(string, b3_map; ConvergeMap, ConvergeDoc, Yrs, Loro, Automerge);
    out.push(workload(
        "B3.3",
        "20√N clients concurrently set string in map",
        false,
        runs,
    ));
    let mut all: Vec<Val> = (0..m).map(|i| Val::Str(i.to_string())).collect();
    all.sort();
    let list = Many {
        updates_of: |i, _| vec![Val::Str(i.to_string())],
        m,
        expected: all,
    };
    let runs = runs!(list, b3_list; ConvergeList, ConvergeDoc, Yrs, Loro, Automerge);
    out.push(workload(
        "B3.4",
        "20√N clients concurrently insert text in array",
        false,
        runs,
    ));
    let b4in = b4_input(sizes, 1);
    assert!(b4in.expected.is_ascii(), "yrs runs need an ASCII trace");
    let runs = runs!(b4in, b4; ConvergeText, ConvergeDoc, Diamond, Yrs, Loro, Automerge);
    out.push(workload(
        "B4",
        "replay the automerge-paper trace",
        false,
        runs,
    ));
    // The other sequential traces, replayed as B4 replays automerge-paper. yrs counts UTF-8
    // bytes, so it runs only on ASCII traces.
    // Smoke runs replay a tenth of B4's prefix of them (automerge takes seconds on a few
    // thousand of json-crdt-patch's edits in a debug build).
    let t_sizes = Sizes {
        b4_prefix: sizes.b4_prefix.map(|k| k / 10),
        ..*sizes
    };
    for name in &converge_benches::SEQUENTIAL[1..] {
        let input = trace_input(name, &t_sizes, 1);
        let ascii = input.patches.iter().flatten().all(|e| match e {
            Edit::Ins(_, s) => s.is_ascii(),
            Edit::Del(..) => true,
        });
        let runs = if ascii {
            runs!(input, b4; ConvergeText, ConvergeDoc, Diamond, Yrs, Loro, Automerge)
        } else {
            runs!(input, b4; ConvergeText, ConvergeDoc, Diamond, Loro, Automerge)
        };
        out.push(workload(
            &format!("T.{name}"),
            &format!("replay the {name} trace"),
            false,
            runs,
        ));
    }
    if sizes.b4_times > 0 {
        let input = b4_input(sizes, sizes.b4_times);
        let runs = runs!(input, b4; ConvergeText, ConvergeDoc, Diamond, Yrs, Loro, Automerge);
        out.push(workload(
            "B4x100",
            &format!("replay the automerge-paper trace {} times", sizes.b4_times),
            true,
            runs,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Start "0123"; user 1 types "ab" at 1 and deletes the '1'; user 2 types "XY" at the
    /// end and deletes the '0'. Only "2" and "3" survive both.
    fn case() -> Concurrent {
        Concurrent::new(
            "0123".into(),
            vec![Edit::Ins(1, "ab".into()), Edit::Del(3, 1)],
            vec![Edit::Ins(4, "XY".into()), Edit::Del(0, 1)],
        )
    }

    #[test]
    fn b2_model_accepts_a_correct_merge_and_rejects_wrong_ones() {
        let c = case();
        assert_eq!((c.lower.as_str(), c.upper.as_str()), ("ab", "XY"));
        assert_eq!(c.digits, "23");
        assert!(c.check("ab23XY"));
        assert!(!c.check("ba23XY"), "user 1's letters reordered");
        assert!(!c.check("0ab23XY"), "a deleted start character survived");
        assert!(!c.check("ab23X"), "a letter was lost");
        assert!(!c.check("ab3XY"), "a surviving start character was lost");
    }

    #[test]
    fn converge_merge_of_the_b2_case_passes_the_model() {
        let c = case();
        let run = b2::<ConvergeText>(&c, &Cap::new(std::time::Duration::from_secs(60)));
        assert!(run.is_ok(), "{:?}", run.err());
    }

    #[test]
    fn b1_models_match_direct_string_edits() {
        let mut rng = Rng::new(7);
        for (id, _, input) in b1_text_inputs(40, &mut rng) {
            let mut s = String::new();
            for e in input.changes.iter().flatten() {
                match e {
                    Edit::Ins(pos, w) => s.insert_str(*pos, w),
                    Edit::Del(pos, len) => s.replace_range(*pos..*pos + *len, ""),
                }
            }
            assert_eq!(s, input.expected, "{id}");
        }
    }
}
