//! Property tests for the sequence CRDT: local edits match a `Vec`/`String` model, replicas
//! converge under any sync order with duplication, concurrent runs never interleave, and
//! decoding arbitrary bytes never panics. `check_invariants` runs after every step.

use converge::list::{List, SequenceOps, Text};
use converge::{Error, ReplicaId};
use proptest::prelude::*;

/// A local edit with positions reduced modulo the current length, so every action is valid.
#[derive(Clone, Debug)]
enum Edit {
    Insert { pos: usize, text: String },
    Delete { pos: usize, len: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), "[a-c\u{e9}\u{1F600}]{1,6}")
            .prop_map(|(pos, text)| Edit::Insert { pos, text }),
        2 => (any::<usize>(), 1usize..5).prop_map(|(pos, len)| Edit::Delete { pos, len }),
    ]
}

fn apply_edit(t: &mut Text, model: &mut Vec<char>, e: &Edit) {
    match e {
        Edit::Insert { pos, text } => {
            let pos = pos % (model.len() + 1);
            t.insert(pos, text).unwrap();
            model.splice(pos..pos, text.chars());
        }
        Edit::Delete { pos, len } => {
            if model.is_empty() {
                return;
            }
            let pos = pos % model.len();
            let end = (pos + len).min(model.len());
            t.delete(pos..end).unwrap();
            model.drain(pos..end);
        }
    }
}

fn check_utf16(t: &Text, model: &[char]) {
    let s: String = model.iter().collect();
    assert_eq!(t.len_utf16(), s.encode_utf16().count());
    let mut u = 0;
    for (i, ch) in model.iter().enumerate() {
        assert_eq!(t.char_to_utf16(i).unwrap(), u);
        assert_eq!(t.utf16_to_char(u).unwrap(), i);
        if ch.len_utf16() == 2 {
            assert_eq!(t.utf16_to_char(u + 1), Err(Error::InvalidOperation));
        }
        u += ch.len_utf16();
    }
    assert_eq!(t.utf16_to_char(u).unwrap(), model.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn text_matches_string_model(edits in proptest::collection::vec(edit(), 1..120)) {
        let mut t = Text::new(ReplicaId(1));
        let mut model = Vec::new();
        for e in &edits {
            apply_edit(&mut t, &mut model, e);
            t.check_invariants();
            let s: String = model.iter().collect();
            prop_assert_eq!(t.to_string(), s);
        }
        check_utf16(&t, &model);
        let n = model.len();
        if n > 2 {
            let s: String = model[1..n - 1].iter().collect();
            prop_assert_eq!(t.slice(1..n - 1).unwrap(), s);
        }
        let back = Text::decode(&t.encode()).unwrap();
        back.check_invariants();
        prop_assert_eq!(back.to_string(), t.to_string());
    }

    #[test]
    fn list_matches_vec_model(
        ops in proptest::collection::vec((any::<bool>(), any::<usize>(), proptest::collection::vec(any::<u16>(), 1..5)), 1..120)
    ) {
        let mut l = List::new(ReplicaId(3));
        let mut model: Vec<u16> = Vec::new();
        for (ins, pos, vals) in &ops {
            if *ins || model.is_empty() {
                let pos = pos % (model.len() + 1);
                if vals.len() == 1 {
                    l.insert(pos, vals[0]).unwrap();
                } else {
                    l.insert_batch(pos, vals).unwrap();
                }
                model.splice(pos..pos, vals.iter().copied());
            } else {
                let pos = pos % model.len();
                let end = (pos + vals.len()).min(model.len());
                l.delete(pos..end).unwrap();
                model.drain(pos..end);
            }
            l.check_invariants();
            prop_assert_eq!(l.len(), model.len());
            prop_assert_eq!(l.to_vec(), model.clone());
        }
        for (i, v) in model.iter().enumerate() {
            prop_assert_eq!(l.get(i), Some(v));
        }
        prop_assert_eq!(l.get(model.len()), None);
        let back: List<u16> = List::decode(&l.encode()).unwrap();
        prop_assert_eq!(back.to_vec(), model);
    }
}

/// A small deterministic generator so long sessions need no proptest shrinking.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

/// Enough random edits to split leaves and internal nodes several levels deep, with the
/// invariants checked after every step.
#[test]
fn long_random_session_matches_model() {
    let mut rng = Lcg(42);
    let mut t = Text::new(ReplicaId(9));
    let mut model: Vec<char> = Vec::new();
    let mut cursor = 0usize;
    for step in 0..6000 {
        // Mostly typing near the previous edit, sometimes a jump elsewhere.
        if rng.next(10) == 0 {
            cursor = rng.next(model.len() + 1);
        }
        let e = if rng.next(8) == 0 && !model.is_empty() {
            Edit::Delete {
                pos: cursor.saturating_sub(1),
                len: 1,
            }
        } else if rng.next(4) < 3 {
            Edit::Insert {
                pos: cursor.min(model.len()),
                text: ['x', 'y', '\u{e9}', '\u{1F600}'][rng.next(4)].to_string(),
            }
        } else if rng.next(5) < 3 || model.is_empty() {
            let text: String = (0..1 + rng.next(3))
                .map(|_| ['x', 'y', '\u{e9}', '\u{1F600}'][rng.next(4)])
                .collect();
            Edit::Insert {
                pos: rng.next(usize::MAX),
                text,
            }
        } else {
            Edit::Delete {
                pos: rng.next(usize::MAX),
                len: 1 + rng.next(3),
            }
        };
        apply_edit(&mut t, &mut model, &e);
        cursor = match &e {
            Edit::Insert { pos, text } => {
                pos % (model.len() - text.chars().count() + 1) + text.chars().count()
            }
            Edit::Delete { pos, .. } => (pos % (model.len() + 1)).min(model.len()),
        };
        t.check_invariants();
        if step % 500 == 0 {
            let s: String = model.iter().collect();
            assert_eq!(t.to_string(), s, "step {step}");
        }
    }
    let s: String = model.iter().collect();
    assert_eq!(t.to_string(), s);
    check_utf16(&t, &model);
}

/// One step of a random multi-replica session.
#[derive(Clone, Debug)]
enum Step {
    /// A local edit on replica `r % n`.
    Edit(usize, Edit),
    /// Replica `from` packs everything `to` lacks into a message on the network.
    Send(usize, usize),
    /// Deliver network message `k` (it stays on the network, so it can arrive again), with its
    /// operations rotated by `rot` and only the first `keep` percent of them included.
    Deliver(usize, usize, u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (any::<usize>(), edit()).prop_map(|(r, e)| Step::Edit(r, e)),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Step::Send(a, b)),
        3 => (any::<usize>(), any::<usize>(), 0u8..=100).prop_map(|(k, rot, keep)| Step::Deliver(k, rot, keep)),
    ]
}

fn full_sync(reps: &mut [Text]) {
    let n = reps.len();
    for _ in 0..2 {
        for a in 0..n {
            for b in 0..n {
                if a != b {
                    let ops = reps[a].ops_since(&reps[b].version());
                    let report = reps[b].apply(&ops).unwrap();
                    assert!(report.is_complete(), "{report:?}");
                    reps[b].check_invariants();
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// 2–5 replicas edit concurrently; messages are delivered late, out of order, partially and
    /// more than once. After a final exchange all replicas hold the same text and version.
    #[test]
    fn replicas_converge(n in 2usize..=5, steps in proptest::collection::vec(step(), 1..80)) {
        let mut reps: Vec<Text> = (0..n).map(|i| Text::new(ReplicaId(100 + i as u64))).collect();
        let mut models: Vec<Vec<char>> = vec![Vec::new(); n];
        let mut net: Vec<(usize, SequenceOps)> = Vec::new();
        for s in &steps {
            match s {
                Step::Edit(r, e) => {
                    let r = r % n;
                    // Local edits on a replica are checked against its own model, which is
                    // reset from the replica whenever it receives remote operations.
                    apply_edit(&mut reps[r], &mut models[r], e);
                    reps[r].check_invariants();
                    prop_assert_eq!(reps[r].to_string(), models[r].iter().collect::<String>());
                }
                Step::Send(a, b) => {
                    let (a, b) = (a % n, b % n);
                    if a != b {
                        net.push((b, reps[a].ops_since(&reps[b].version())));
                    }
                }
                Step::Deliver(k, rot, keep) => {
                    if net.is_empty() {
                        continue;
                    }
                    let (to, msg) = &net[k % net.len()];
                    let mut ops = msg.ops.clone();
                    if !ops.is_empty() {
                        let len = ops.len();
                        ops.rotate_left(rot % len);
                        ops.truncate((len * usize::from(*keep)).div_ceil(100));
                    }
                    let before = reps[*to].version();
                    let report = reps[*to].apply(&SequenceOps { ops }).unwrap();
                    prop_assert_eq!(report.invalid, 0);
                    reps[*to].check_invariants();
                    prop_assert!(reps[*to].version() >= before);
                    models[*to] = reps[*to].to_string().chars().collect();
                }
            }
        }
        full_sync(&mut reps);
        for r in &reps[1..] {
            prop_assert_eq!(r.to_string(), reps[0].to_string());
            prop_assert_eq!(r.version(), reps[0].version());
        }
        // Applying everything again changes nothing.
        let all = reps[0].ops_since(&converge::VersionVector::new());
        let mut again = reps[1].clone();
        let report = again.apply(&all).unwrap();
        prop_assert_eq!(report.applied, 0);
        prop_assert_eq!(again.to_string(), reps[0].to_string());
        // A fresh replica fed everything in reverse order still converges.
        let mut fresh = Text::new(ReplicaId(1));
        let mut rev = all.clone();
        rev.ops.reverse();
        let report = fresh.apply(&rev).unwrap();
        prop_assert!(report.is_complete(), "{:?}", report);
        fresh.check_invariants();
        prop_assert_eq!(fresh.to_string(), reps[0].to_string());
        // And so does a decoded copy.
        let back = Text::decode(&reps[0].encode()).unwrap();
        back.check_invariants();
        prop_assert_eq!(back.to_string(), reps[0].to_string());
    }

    /// The same concurrent session run twice, once with replicas replaced by decoded copies
    /// of their own encoding along the way: a loaded replica keeps merging exactly like the
    /// original, so both runs end with the same texts and versions. A corrupted byte in a
    /// multi-replica encoding is an error or a valid text, never a panic.
    #[test]
    fn decoded_replicas_keep_merging(
        n in 2usize..=4,
        steps in proptest::collection::vec(step(), 1..60),
        reload_every in 1usize..8,
        at in any::<usize>(),
        val in any::<u8>(),
    ) {
        let run = |reload: bool| {
            let mut reps: Vec<Text> =
                (0..n).map(|i| Text::new(ReplicaId(300 + i as u64))).collect();
            let mut models: Vec<Vec<char>> = vec![Vec::new(); n];
            for (k, s) in steps.iter().enumerate() {
                match s {
                    Step::Edit(r, e) => {
                        let r = r % n;
                        apply_edit(&mut reps[r], &mut models[r], e);
                    }
                    Step::Send(a, b) | Step::Deliver(a, b, _) => {
                        let (a, b) = (a % n, b % n);
                        if a != b {
                            let ops = reps[a].ops_since(&reps[b].version());
                            let report = reps[b].apply(&ops).unwrap();
                            assert!(report.is_complete(), "{report:?}");
                            models[b] = reps[b].to_string().chars().collect();
                        }
                    }
                }
                if reload && k % reload_every == 0 {
                    let r = k % n;
                    let back = Text::decode(&reps[r].encode()).unwrap();
                    back.check_invariants();
                    assert_eq!(back.version(), reps[r].version());
                    assert_eq!(back.to_string(), reps[r].to_string());
                    assert_eq!(back.replica(), reps[r].replica());
                    reps[r] = back;
                }
            }
            full_sync(&mut reps);
            reps
        };
        let plain = run(false);
        let reloaded = run(true);
        for (a, b) in plain.iter().zip(&reloaded) {
            prop_assert_eq!(a.to_string(), b.to_string());
            prop_assert_eq!(a.version(), b.version());
        }
        let mut bytes = reloaded[0].encode();
        let i = 5 + at % (bytes.len() - 5);
        bytes[i] = val;
        if let Ok(back) = Text::decode(&bytes) {
            back.check_invariants();
        }
    }

    /// Replicas that type runs char by char at the same position concurrently (forwards, or
    /// backwards by inserting each char at the same index) end with every run contiguous (no
    /// interleaving), in some order.
    #[test]
    fn concurrent_runs_never_interleave(
        n in 2usize..=4,
        base in "[xyz]{0,6}",
        at in any::<usize>(),
        lens in proptest::collection::vec(1usize..8, 4),
        backspace in any::<bool>(),
        backward in any::<bool>(),
    ) {
        let mut reps: Vec<Text> = (0..n).map(|i| Text::new(ReplicaId(7 - i as u64))).collect();
        reps[0].insert(0, &base).unwrap();
        full_sync(&mut reps);
        let base: Vec<char> = base.chars().collect();
        let at = at % (base.len() + 1);
        let mut runs = Vec::new();
        for (i, rep) in reps.iter_mut().enumerate() {
            // Distinct chars per run so order inside a run is checked too.
            let run: String = (0..lens[i])
                .map(|k| char::from(b'a' + (i * 8 + k) as u8))
                .collect();
            for (k, ch) in run.chars().enumerate() {
                // Forward typing appends; backward typing keeps inserting at the same place.
                let pos = if backward { at } else { at + k };
                rep.insert(pos, &ch.to_string()).unwrap();
                rep.check_invariants();
            }
            let run: String = if backward { run.chars().rev().collect() } else { run };
            if backspace {
                // Type one char too many and erase it: tombstones must not break the run.
                rep.insert(at + lens[i], "!").unwrap();
                rep.delete(at + lens[i]..at + lens[i] + 1).unwrap();
            }
            runs.push(run);
        }
        full_sync(&mut reps);
        let text = reps[0].to_string();
        for r in &reps[1..] {
            prop_assert_eq!(r.to_string(), text.clone());
        }
        let prefix: String = base[..at].iter().collect();
        let suffix: String = base[at..].iter().collect();
        prop_assert!(text.starts_with(&prefix) && text.ends_with(&suffix));
        let middle = &text[prefix.len()..text.len() - suffix.len()];
        // Every run appears exactly once as a contiguous block.
        for run in &runs {
            prop_assert!(middle.contains(run.as_str()), "{} in {}", run, middle);
        }
        prop_assert_eq!(middle.len(), runs.iter().map(String::len).sum::<usize>());
    }

    /// Decoding arbitrary bytes returns an error or a valid text, never panics.
    #[test]
    fn decode_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(t) = Text::decode(&bytes) {
            t.check_invariants();
        }
        // The same payload behind a valid envelope header reaches the history decoder.
        let mut framed = b"CVG\x01\x20".to_vec();
        framed.push(bytes.len().min(127) as u8);
        framed.extend_from_slice(&bytes[..bytes.len().min(127)]);
        if let Ok(t) = Text::decode(&framed) {
            t.check_invariants();
        }
        let _ = List::<u32>::decode(&framed);
    }

    /// Corrupting a real encoding (one byte changed) returns an error or a valid text.
    #[test]
    fn decode_corrupted_encoding_never_panics(
        edits in proptest::collection::vec(edit(), 1..30),
        at in any::<usize>(),
        val in any::<u8>(),
    ) {
        let mut t = Text::new(ReplicaId(5));
        let mut model = Vec::new();
        for e in &edits {
            apply_edit(&mut t, &mut model, e);
        }
        let mut bytes = t.encode();
        let i = 5 + at % (bytes.len() - 5);
        bytes[i] = val;
        if let Ok(back) = Text::decode(&bytes) {
            back.check_invariants();
        }
        let cut = at % bytes.len();
        prop_assert!(Text::decode(&bytes[..cut]).is_err());
    }
}

#[test]
fn out_of_range_edits_are_errors() {
    let mut t = Text::new(ReplicaId(1));
    t.insert(0, "abc").unwrap();
    assert_eq!(
        t.insert(4, "x"),
        Err(Error::OutOfBounds { index: 4, len: 3 })
    );
    assert!(t.delete(2..5).is_err());
    #[allow(clippy::reversed_empty_ranges)]
    let backwards = 2..1;
    assert!(t.delete(backwards).is_err());
    assert!(t.slice(0..4).is_err());
    assert!(t.splice(3, usize::MAX, "x").is_err());
    assert!(t.utf16_to_char(4).is_err());
    assert!(t.char_to_utf16(4).is_err());
    assert_eq!(t.to_string(), "abc");
    let mut l: List<u8> = List::new(ReplicaId(2));
    assert!(l.insert(1, 0).is_err());
    assert!(l.delete(0..1).is_err());
    assert_eq!(l.get(0), None);
}

#[test]
fn missing_dependencies_are_reported_then_applied() {
    let mut a = Text::new(ReplicaId(1));
    a.insert(0, "hello").unwrap();
    let first = a.ops_since(&converge::VersionVector::new());
    let v1 = a.version();
    a.insert(5, " world").unwrap();
    a.delete(0..1).unwrap();
    let second = a.ops_since(&v1);
    let mut b = Text::new(ReplicaId(2));
    let report = b.apply(&second).unwrap();
    assert_eq!(report.applied, 0);
    assert_eq!(report.missing.len(), second.ops.len());
    assert_eq!(b.to_string(), "");
    let report = b.apply(&first).unwrap();
    assert!(report.is_complete());
    let report = b.apply(&second).unwrap();
    assert!(report.is_complete());
    assert_eq!(b.to_string(), "ello world");
    b.check_invariants();
}

/// A seeded simulation: `replicas` replicas make `steps` random edits (typing bursts, jumps,
/// deletes) and sync pairwise at random, sometimes only up to a random earlier version with
/// `apply_until`, checked against `ops_between` on a copy. Panics with the seed on divergence.
fn simulate(seed: u64, replicas: usize, steps: usize) {
    let mut rng = Lcg(seed);
    let mut reps: Vec<Text> = (0..replicas)
        .map(|i| Text::new(ReplicaId(seed.wrapping_mul(31).wrapping_add(i as u64))))
        .collect();
    let mut history: Vec<converge::VersionVector> = Vec::new();
    for step in 0..steps {
        let r = rng.next(replicas);
        let len = reps[r].len();
        match rng.next(10) {
            0..=5 => {
                let pos = rng.next(len + 1);
                let burst: String = (0..1 + rng.next(6))
                    .map(|_| ['a', 'b', ' ', '\u{e9}', '\u{1F600}'][rng.next(5)])
                    .collect();
                for (k, ch) in burst.chars().enumerate() {
                    reps[r].insert(pos + k, &ch.to_string()).unwrap();
                }
            }
            6..=7 if len > 0 => {
                let pos = rng.next(len);
                let n = 1 + rng.next(4.min(len - pos));
                reps[r].delete(pos..pos + n).unwrap();
            }
            _ => {
                let from = rng.next(replicas);
                let ops = reps[from].ops_since(&reps[r].version());
                let report = if !history.is_empty() && rng.next(3) == 0 {
                    let target = history[rng.next(history.len())].clone();
                    // `ops_between` brings a copy to the same state as `apply_until`.
                    let mut copy = reps[r].clone();
                    let between = reps[from].ops_between(&copy.version(), &target);
                    let copied = copy.apply(&between).unwrap();
                    assert!(copied.is_complete(), "seed {seed} step {step}: {copied:?}");
                    let report = reps[r].apply_until(&ops, &target).unwrap();
                    assert_eq!(copied.applied, report.applied, "seed {seed} step {step}");
                    assert_eq!(copy.version(), reps[r].version(), "seed {seed} step {step}");
                    assert!(
                        copy.to_string() == reps[r].to_string(),
                        "seed {seed} step {step}: ops_between differs from apply_until"
                    );
                    report
                } else {
                    reps[r].apply(&ops).unwrap()
                };
                assert!(
                    report.missing.is_empty() && report.invalid == 0,
                    "seed {seed} step {step}: {report:?}"
                );
            }
        }
        history.push(reps[r].version());
        if step % 50 == 0 {
            reps[r].check_invariants();
        }
    }
    full_sync(&mut reps);
    for (i, t) in reps.iter().enumerate() {
        assert_eq!(
            t.to_string(),
            reps[0].to_string(),
            "seed {seed}: replica {i} differs"
        );
    }
    let back = Text::decode(&reps[0].encode()).unwrap();
    back.check_invariants();
    assert_eq!(
        back.to_string(),
        reps[0].to_string(),
        "seed {seed}: decode differs"
    );
}

#[test]
fn simulation_fixed_seed() {
    simulate(7, 4, 3000);
}

/// Long soak run: `cargo test --release -p converge --test integration simulation_soak -- --ignored`.
#[test]
#[ignore]
fn simulation_soak() {
    for seed in 0..200 {
        simulate(seed, 2 + (seed as usize % 4), 5000);
    }
}

/// More replicas than the engine tracks by linear scan.
#[test]
fn simulation_many_replicas() {
    simulate(11, 12, 2500);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// `List<T>` replicas editing concurrently converge, through `SequenceOps<Vec<T>>` and
    /// through the encoded history.
    #[test]
    fn lists_converge(
        edits in proptest::collection::vec((0usize..3, any::<bool>(), any::<usize>(), proptest::collection::vec(any::<u8>(), 1..4)), 1..60),
    ) {
        let mut reps: Vec<List<u8>> = (0..3).map(|i| List::new(ReplicaId(40 + i))).collect();
        for (step, (r, ins, pos, vals)) in edits.iter().enumerate() {
            let l = &mut reps[*r];
            if *ins || l.is_empty() {
                let pos = pos % (l.len() + 1);
                l.insert_batch(pos, vals).unwrap();
            } else {
                let pos = pos % l.len();
                let end = (pos + vals.len()).min(l.len());
                l.delete(pos..end).unwrap();
            }
            l.check_invariants();
            if step % 7 == 0 {
                // Partial sync: the next replica pulls from this one.
                let to = (r + 1) % 3;
                let ops = reps[*r].ops_since(&reps[to].version());
                let report = reps[to].apply(&ops).unwrap();
                prop_assert!(report.is_complete(), "{:?}", report);
            }
        }
        for a in 0..3 {
            for b in 0..3 {
                if a != b {
                    let ops = reps[a].ops_since(&reps[b].version());
                    reps[b].apply(&ops).unwrap();
                }
            }
        }
        for a in 0..3 {
            for b in 0..3 {
                if a != b {
                    let ops = reps[a].ops_since(&reps[b].version());
                    reps[b].apply(&ops).unwrap();
                }
            }
        }
        let v = reps[0].to_vec();
        for r in &reps {
            r.check_invariants();
            prop_assert_eq!(r.to_vec(), v.clone());
        }
        let back: List<u8> = List::decode(&reps[1].encode()).unwrap();
        back.check_invariants();
        prop_assert_eq!(back.to_vec(), v);
    }
}

/// Replica `i`'s run in [`many_replicas_at_once`]: distinct chars per replica (`i`-th block of
/// the private use area), so a misplaced char is caught.
fn run_of(i: usize, len: usize) -> String {
    (0..len)
        .map(|k| char::from_u32(0xE000 + (i * 16 + k) as u32).unwrap())
        .collect()
}

/// Splits a shuffled copy of `ops` into batches: `cuts` picks the batch boundaries.
fn shuffled_batches<C: Clone>(
    ops: &[converge::list::SequenceOp<C>],
    seed: u64,
    cuts: usize,
) -> Vec<SequenceOps<C>> {
    let mut rng = Lcg(seed);
    let mut ops = ops.to_vec();
    for i in (1..ops.len()).rev() {
        ops.swap(i, rng.next(i + 1));
    }
    let mut out = Vec::new();
    while !ops.is_empty() {
        let k = 1 + rng.next(ops.len().min(cuts.max(1)));
        out.push(SequenceOps {
            ops: ops.drain(..k).collect(),
        });
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Many replicas (up to 40, ids in random order) each type a run char by char into a
    /// shared text — all at one position, or each at a random one; forwards, or backwards by
    /// inserting every char at the same index. A fresh replica that applies the updates one
    /// at a time in replica order, one fed them shuffled in random batches, and one fed all
    /// of them as one batch (the batch path reorders runs of same-origin inserts) end with the
    /// same text; every run is contiguous and the shared text keeps its order.
    #[test]
    fn many_replicas_at_once(
        ids in proptest::collection::hash_set(1u64..1000, 2..40),
        base in "[xyz]{0,8}",
        same in any::<bool>(),
        at in any::<usize>(),
        backward in any::<bool>(),
        lens in proptest::collection::vec(1usize..5, 40),
        seed in any::<u64>(),
        cuts in 1usize..12,
    ) {
        let mut origin = Text::new(ReplicaId(0));
        origin.insert(0, &base).unwrap();
        let start = origin.ops_since(&converge::VersionVector::new());
        let mut rng = Lcg(seed);
        let mut updates = Vec::new();
        let mut runs = Vec::new();
        let mut ids: Vec<u64> = ids.into_iter().collect();
        ids.sort_unstable();
        for (i, &id) in ids.iter().enumerate() {
            let mut t = Text::new(ReplicaId(id));
            t.apply(&start).unwrap();
            let v = t.version();
            let pos = if same { at % (base.chars().count() + 1) } else { rng.next(t.len() + 1) };
            let run = run_of(i, lens[i]);
            for (k, ch) in run.chars().enumerate() {
                t.insert(if backward { pos } else { pos + k }, &ch.to_string()).unwrap();
            }
            runs.push(if backward { run.chars().rev().collect() } else { run });
            updates.push(t.ops_since(&v));
        }
        let fresh = || {
            let mut t = Text::new(ReplicaId(5000));
            t.apply(&start).unwrap();
            t
        };
        // One update at a time, in replica order.
        let mut one = fresh();
        for u in &updates {
            prop_assert!(one.apply(u).unwrap().is_complete());
            one.check_invariants();
        }
        let text = one.to_string();
        // Everything as one batch, update after update.
        let all: Vec<_> = updates.iter().flat_map(|u| u.ops.iter().cloned()).collect();
        let mut batch = fresh();
        let report = batch.apply(&SequenceOps { ops: all.clone() }).unwrap();
        prop_assert!(report.is_complete());
        batch.check_invariants();
        prop_assert_eq!(batch.to_string(), text.clone());
        // Shuffled, in random batches (ops may arrive before their dependencies).
        let mut shuffled = fresh();
        for b in shuffled_batches(&all, seed ^ 0x5eed, cuts) {
            let report = shuffled.apply(&b).unwrap();
            prop_assert_eq!(report.invalid, 0);
            shuffled.check_invariants();
        }
        // Blocked ops are re-sent once everything else is there.
        let report = shuffled.apply(&SequenceOps { ops: all }).unwrap();
        prop_assert!(report.is_complete());
        prop_assert_eq!(shuffled.to_string(), text.clone());
        // Every run is contiguous; removing the runs leaves the shared text.
        let mut rest = text.clone();
        for run in &runs {
            prop_assert!(text.contains(run.as_str()), "run {:?} interleaved in {:?}", run, text);
            rest = rest.replacen(run.as_str(), "", 1);
        }
        prop_assert_eq!(rest, base);
    }

    /// B3.4's pattern: many replicas each insert one element at the start of an empty list.
    /// Every order of application, in one batch or many, gives the FugueMax order for
    /// siblings with equal origins: ascending replica id.
    #[test]
    fn many_replicas_insert_at_list_start(
        ids in proptest::collection::hash_set(1u64..100_000, 1..80),
        seed in any::<u64>(),
        cuts in 1usize..20,
    ) {
        let ops: Vec<_> = ids
            .iter()
            .flat_map(|&id| {
                let mut l = List::new(ReplicaId(id));
                l.insert(0, id).unwrap();
                l.ops_since(&converge::VersionVector::new()).ops
            })
            .collect();
        let mut expected: Vec<u64> = ids.iter().copied().collect();
        expected.sort_unstable();
        let mut batch = List::new(ReplicaId(0));
        let report = batch.apply(&SequenceOps { ops: ops.clone() }).unwrap();
        prop_assert!(report.is_complete());
        batch.check_invariants();
        prop_assert_eq!(batch.to_vec(), expected.clone());
        // One apply per replica, ascending ids: every insert passes all earlier siblings.
        let mut by_id = ops.clone();
        by_id.sort_by_key(|o| o.id().replica);
        let mut one = List::new(ReplicaId(0));
        for op in by_id {
            let report = one.apply(&SequenceOps { ops: vec![op] }).unwrap();
            prop_assert!(report.is_complete());
        }
        one.check_invariants();
        prop_assert_eq!(one.to_vec(), expected.clone());
        let mut pieces = List::new(ReplicaId(0));
        for b in shuffled_batches(&ops, seed, cuts) {
            prop_assert!(pieces.apply(&b).unwrap().is_complete());
            pieces.check_invariants();
        }
        prop_assert_eq!(pieces.to_vec(), expected);
    }
}

fn dot() -> impl Strategy<Value = converge::Dot> {
    (
        prop_oneof![0u64..4, any::<u64>()],
        prop_oneof![0u64..20, any::<u64>()],
    )
        .prop_map(|(r, c)| converge::Dot::new(ReplicaId(r), c))
}

fn wire_op() -> impl Strategy<Value = converge::list::SequenceOp<String>> {
    use converge::list::SequenceOp;
    prop_oneof![
        (
            dot(),
            proptest::option::of(dot()),
            proptest::option::of(dot()),
            "[ab\u{e9}\u{1F600}]{0,4}"
        )
            .prop_map(|(id, origin_left, origin_right, content)| {
                let mut ops = SequenceOps::<String>::default();
                ops.ops.push(SequenceOp::Insert {
                    id,
                    origin_left,
                    origin_right,
                    content,
                });
                ops.ops.pop().unwrap()
            }),
        (
            dot(),
            prop_oneof![0u64..5, any::<u64>()],
            dot(),
            any::<bool>()
        )
            .prop_map(|(id, len, target, reversed)| {
                let mut ops = SequenceOps::<String>::default();
                ops.ops.push(SequenceOp::Delete {
                    id,
                    len,
                    target,
                    reversed,
                });
                ops.ops.pop().unwrap()
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The compact `SequenceOps` wire form round-trips any batch, malformed ones included
    /// (empty content, counter 0, huge counters and lengths), and decoding arbitrary or
    /// corrupted bytes returns an error or a batch, never panics.
    #[test]
    fn sequence_ops_wire_round_trips(
        ops in proptest::collection::vec(wire_op(), 0..12),
        at in any::<usize>(),
        val in any::<u8>(),
        junk in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let ops = SequenceOps { ops };
        let bytes = converge::encode(&ops);
        prop_assert_eq!(converge::decode::<SequenceOps<String>>(&bytes), Ok(ops.clone()));
        let mut bad = bytes.clone();
        let i = at % bad.len();
        bad[i] = val;
        let _ = converge::decode::<SequenceOps<String>>(&bad);
        let _ = converge::decode::<SequenceOps<String>>(&bytes[..i]);
        let mut framed = bytes[..5].to_vec();
        framed.extend_from_slice(&junk);
        let _ = converge::decode::<SequenceOps<String>>(&framed);
        let _ = converge::decode::<SequenceOps<Vec<u32>>>(&framed);
    }
}

/// Real batches round-trip through the wire form, for text and for lists, and it is compact:
/// typing runs, continued ids and repeated origins cost no id bytes.
#[test]
fn real_batches_round_trip_compactly() {
    let mut a = Text::new(ReplicaId(1));
    let mut b = Text::new(ReplicaId(2));
    let mut rng = Lcg(3);
    for step in 0..400 {
        let t = if step % 2 == 0 { &mut a } else { &mut b };
        let pos = rng.next(t.len() + 1);
        t.insert(pos, ["x", "yz", "\u{e9}", "\u{1F600}"][rng.next(4)])
            .unwrap();
        if step % 7 == 0 && t.len() > 3 {
            let p = rng.next(t.len() - 2);
            t.delete(p..p + 2).unwrap();
        }
        if step % 50 == 0 {
            let ops = a.ops_since(&b.version());
            b.apply(&ops).unwrap();
        }
    }
    for t in [&a, &b] {
        let ops = t.ops_since(&converge::VersionVector::new());
        let bytes = converge::encode(&ops);
        assert_eq!(converge::decode::<SequenceOps<String>>(&bytes), Ok(ops));
    }
    // 300 chars typed one at a time at the end: one op, a few bytes beyond the content.
    let mut t = Text::new(ReplicaId(7));
    for _ in 0..300 {
        t.insert(t.len(), "q").unwrap();
    }
    let bytes = converge::encode(&t.ops_since(&converge::VersionVector::new()));
    assert!(bytes.len() < 300 + 20, "{} bytes", bytes.len());
    // 100 chars typed backwards at one place: one op each, but every id and origin follows
    // from the op before (head and char byte only).
    let mut t = Text::new(ReplicaId(7));
    t.insert(0, "ab").unwrap();
    let v = t.version();
    for _ in 0..100 {
        t.insert(1, "q").unwrap();
    }
    let ops = t.ops_since(&v);
    assert_eq!(ops.ops.len(), 100);
    let bytes = converge::encode(&ops);
    assert!(bytes.len() < 2 * 100 + 20, "{} bytes", bytes.len());
    assert_eq!(converge::decode::<SequenceOps<String>>(&bytes), Ok(ops));
    // 400 single chars typed at random places: a right origin always follows from the left
    // one and earlier ops of the batch (the rest of a split run, the left item's original
    // neighbour, or what was typed after it last), so an op is its head, one dot and a byte.
    let mut t = Text::new(ReplicaId(7));
    t.insert(0, &"0123456789".repeat(10)).unwrap();
    let v = t.version();
    for _ in 0..400 {
        let pos = rng.next(t.len() + 1);
        t.insert(pos, "r").unwrap();
    }
    let ops = t.ops_since(&v);
    let bytes = converge::encode(&ops);
    assert!(
        bytes.len() < 4 * ops.ops.len() + 20,
        "{} bytes",
        bytes.len()
    );
    assert_eq!(converge::decode::<SequenceOps<String>>(&bytes), Ok(ops));
    // Typing a word and deleting part of it at once (B2.4's pattern): the delete names the
    // word's first char, which the op before implies.
    let mut t = Text::new(ReplicaId(8));
    t.insert(0, &"0123456789".repeat(10)).unwrap();
    let v = t.version();
    for k in 0..100 {
        let pos = rng.next(t.len() + 1);
        t.insert(pos, "wxyz").unwrap();
        t.delete(pos..pos + 1 + k % 3).unwrap();
    }
    let ops = t.ops_since(&v);
    let bytes = converge::encode(&ops);
    // Per word about 9 bytes (head, a dot or two, 4 chars, the delete's head); a target dot
    // per delete would add 2 more.
    assert!(bytes.len() < 100 * 10, "{} bytes", bytes.len());
    assert_eq!(converge::decode::<SequenceOps<String>>(&bytes), Ok(ops));
    let mut l = List::new(ReplicaId(9));
    for i in 0..50u32 {
        l.insert((i as usize * 7) % (l.len() + 1), i).unwrap();
    }
    l.delete(3..9).unwrap();
    let ops = l.ops_since(&converge::VersionVector::new());
    let back: SequenceOps<Vec<u32>> = converge::decode(&converge::encode(&ops)).unwrap();
    assert_eq!(back, ops);
}

/// `decode_with_budget` charges a batch at least the memory its ops take once decoded (each
/// op holds a `SequenceOp` plus its content), and a budget one byte short of the charge is
/// refused.
#[test]
fn budgeted_decode_of_sequence_ops_charges_the_ops() {
    use converge_pool::Budget;
    let mut t = Text::new(ReplicaId(4));
    t.insert(0, &"0123456789".repeat(10)).unwrap();
    let v = t.version();
    let mut rng = Lcg(9);
    for _ in 0..500 {
        let pos = rng.next(t.len() + 1);
        t.insert(pos, "ab").unwrap();
    }
    let ops = t.ops_since(&v);
    let bytes = converge::encode(&ops);
    let mut roomy = Budget::new(usize::MAX);
    let back = converge::decode_with_budget::<SequenceOps<String>>(&bytes, &mut roomy).unwrap();
    assert_eq!(back, ops);
    let held: usize = ops
        .ops
        .iter()
        .map(|o| {
            std::mem::size_of_val(o)
                + match o {
                    converge::list::SequenceOp::Insert { content, .. } => content.capacity(),
                    _ => 0,
                }
        })
        .sum();
    assert!(
        roomy.used() >= held,
        "charged {} < held {held}",
        roomy.used()
    );
    let mut tight = Budget::new(roomy.used() - 1);
    assert_eq!(
        converge::decode_with_budget::<SequenceOps<String>>(&bytes, &mut tight),
        Err(converge::DecodeError::BudgetExceeded)
    );
}
