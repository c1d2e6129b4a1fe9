//! Seeded network simulator for documents: replicas edit every container kind while the
//! network drops, duplicates, reorders and delays messages and partitions heal; after
//! anti-entropy (exchanging version vectors and the updates each side lacks) every replica
//! must hold the same state. Replicas also restart from their snapshots and relays combine
//! messages with `merge_updates`. A failing scenario prints its seed; replay it with
//! `simulate(seed, replicas, steps)`. A proptest of generated action sequences (indices taken
//! modulo what exists) complements it with shrinking.

use converge::ReplicaId;
use converge::doc::{ChangeEvent, Changed, ContainerId, ContainerKind, Doc, Item, Value};

/// SplitMix64 (Steele, Lea, Flood): small, seedable, good enough for test scheduling.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const KINDS: [ContainerKind; 6] = [
    ContainerKind::Map,
    ContainerKind::List,
    ContainerKind::Text,
    ContainerKind::Counter,
    ContainerKind::Register,
    ContainerKind::Set,
];

const ROOTS: [(&str, ContainerKind); 6] = [
    ("map", ContainerKind::Map),
    ("list", ContainerKind::List),
    ("text", ContainerKind::Text),
    ("counter", ContainerKind::Counter),
    ("register", ContainerKind::Register),
    ("set", ContainerKind::Set),
];

fn random_value(rng: &mut Rng) -> Value {
    match rng.below(6) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(50)),
        2 => Value::Int(rng.below(5) as i64 - 2),
        3 => Value::Float(rng.below(4) as f64 / 2.0),
        4 => Value::Str(["a", "b", "é"][rng.below(3)].into()),
        _ => Value::Bytes(vec![rng.below(3) as u8]),
    }
}

/// Every container reachable on `doc` (roots and nested), found by walking the tree.
fn containers(doc: &Doc) -> Vec<ContainerId> {
    let mut out: Vec<ContainerId> = ROOTS
        .iter()
        .map(|(n, k)| ContainerId::root(n, *k))
        .collect();
    let mut i = 0;
    while i < out.len() {
        let id = out[i];
        let nested: Vec<ContainerId> = match id.kind {
            ContainerKind::Map => doc
                .map_entries(id)
                .unwrap()
                .into_iter()
                .filter_map(|(_, it)| it.as_container())
                .collect(),
            ContainerKind::List => doc
                .list_items(id)
                .unwrap()
                .into_iter()
                .filter_map(|it: Item| it.as_container())
                .collect(),
            _ => Vec::new(),
        };
        out.extend(nested);
        i += 1;
    }
    out
}

/// One random local edit on `doc`. Errors are impossible for the positions chosen here, so
/// any error fails the scenario.
fn random_edit(doc: &mut Doc, rng: &mut Rng) -> Result<(), String> {
    let all = containers(doc);
    let id = all[rng.below(all.len())];
    let r = match id.kind {
        ContainerKind::Map => {
            let key = ["x", "y", "z"][rng.below(3)];
            match rng.below(5) {
                0 => doc.map_delete(id, key),
                1 if all.len() < 24 => doc
                    .map_insert_container(id, key, KINDS[rng.below(KINDS.len())])
                    .map(|_| ()),
                _ => doc.map_set(id, key, random_value(rng)),
            }
        }
        ContainerKind::List => {
            let len = doc.list_len(id).unwrap();
            match rng.below(5) {
                0 if len > 0 => {
                    let at = rng.below(len);
                    let n = 1 + rng.below((len - at).min(3));
                    doc.list_delete(id, at..at + n)
                }
                1 if all.len() < 24 => doc
                    .list_insert_container(id, rng.below(len + 1), KINDS[rng.below(KINDS.len())])
                    .map(|_| ()),
                _ => {
                    let vals: Vec<Value> =
                        (0..1 + rng.below(3)).map(|_| random_value(rng)).collect();
                    doc.list_insert_batch(id, rng.below(len + 1), &vals)
                }
            }
        }
        ContainerKind::Text => {
            let len = doc.text_len(id).unwrap();
            if rng.chance(15) {
                // A batch of splices, each within the text as the ones before leave it; one in
                // ten batches ends with one out of range, which must undo the whole batch.
                let mut patches = Vec::new();
                let mut cur = len;
                for _ in 0..1 + rng.below(4) {
                    let pos = rng.below(cur + 1);
                    let del = rng.below((cur - pos).min(3) + 1);
                    let ins = ["", "q", "rs", "ñ😀"][rng.below(4)];
                    cur = cur - del + ins.chars().count();
                    patches.push((pos, del, ins));
                }
                let failing = rng.chance(10);
                if failing {
                    patches.push((cur + 1, 0, "!"));
                }
                let before = doc.text(id).unwrap();
                let r = doc.text_splice_batch(id, patches);
                if failing {
                    assert!(r.is_err(), "a splice out of range fails the batch");
                    assert_eq!(
                        doc.text(id).unwrap(),
                        before,
                        "a failed batch changes nothing"
                    );
                    return Ok(());
                }
                r
            } else if len > 0 && rng.chance(35) {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(4));
                doc.text_delete(id, at..at + n)
            } else {
                let s = ["a", "bc", "dé", "xyz"][rng.below(4)];
                doc.text_insert(id, rng.below(len + 1), s)
            }
        }
        ContainerKind::Counter => doc.counter_add(id, rng.below(7) as i64 - 3),
        ContainerKind::Register => doc.register_set(id, random_value(rng)),
        ContainerKind::Set => {
            let v = Value::Int(rng.below(4) as i64);
            if rng.chance(40) {
                doc.set_remove(id, &v)
            } else {
                doc.set_add(id, v)
            }
        }
    };
    r.map_err(|e| format!("local edit on {id:?} failed: {e}"))
}

/// The root text and list contents, to check change events against.
fn seq_contents(doc: &Doc) -> (Vec<char>, Vec<Item>) {
    (
        doc.text(ContainerId::root("text", ContainerKind::Text))
            .unwrap()
            .chars()
            .collect(),
        doc.list_items(ContainerId::root("list", ContainerKind::List))
            .unwrap(),
    )
}

/// Checks that `what` describes the change from `before` to `after`: a reported range, spliced
/// into `before`, gives `after`, and a change is never left unreported.
fn check_range<T: PartialEq>(
    before: &[T],
    after: &[T],
    what: Option<&Changed>,
) -> Result<(), String> {
    match what {
        None if before == after => Ok(()),
        None => Err("a sequence changed without a change event".into()),
        Some(&Changed::Range {
            start,
            removed,
            inserted,
        }) => {
            let fits = start + removed <= before.len() && start + inserted <= after.len();
            if fits
                && before[..start] == after[..start]
                && before[start + removed..] == after[start + inserted..]
            {
                Ok(())
            } else {
                Err(format!(
                    "range {start}+{removed}->{inserted} does not describe the edit"
                ))
            }
        }
        Some(other) => Err(format!("a sequence reported {other:?}")),
    }
}

/// Checks the text and list entries of the events a step produced (taken from `doc`'s queue).
fn check_events(before: &(Vec<char>, Vec<Item>), doc: &mut Doc) -> Result<(), String> {
    let events = doc.take_events();
    check_event_list(before, doc, &events)
}

/// Checks the text and list entries of `events`.
fn check_event_list(
    before: &(Vec<char>, Vec<Item>),
    doc: &Doc,
    events: &[ChangeEvent],
) -> Result<(), String> {
    if events.len() > 1 {
        return Err(format!("one step produced {} events", events.len()));
    }
    let after = seq_contents(doc);
    let get = |id| events.first().and_then(|e| e.get(id));
    check_range(
        &before.0,
        &after.0,
        get(ContainerId::root("text", ContainerKind::Text)),
    )?;
    check_range(
        &before.1,
        &after.1,
        get(ContainerId::root("list", ContainerKind::List)),
    )
}

struct Msg {
    from: usize,
    to: usize,
    deliver_at: usize,
    bytes: Vec<u8>,
}

/// What a scenario exercised, to check that the simulator covers what it claims.
#[derive(Default)]
struct Stats {
    /// Deliveries after which something was buffered (arrived before its dependencies).
    buffered: usize,
    /// Duplicate updates received.
    duplicates: usize,
    /// Deliveries that applied more than one update (buffered ones unblocked).
    unblocked: usize,
    /// Partitions started.
    partitions: usize,
    /// Replicas restarted from a snapshot.
    restarts: usize,
    /// Relayed messages combined with `merge_updates`.
    merged: usize,
}

/// Runs one scenario; `Err` describes the first divergence or failure.
fn simulate(seed: u64, replicas: usize, steps: usize) -> Result<Stats, String> {
    let mut stats = Stats::default();
    let mut rng = Rng(seed);
    let mut docs: Vec<Doc> = (0..replicas)
        .map(|i| {
            let mut d = Doc::new(ReplicaId(i as u64 + 1));
            d.queue_events(true);
            d
        })
        .collect();
    let mut net: Vec<Msg> = Vec::new();
    // Replicas in the same group can talk; `None` means no partition.
    let mut group: Option<Vec<usize>> = None;
    let mut heal_at = 0;

    for now in 0..steps {
        if group.is_none() && rng.chance(5) {
            group = Some((0..replicas).map(|_| rng.below(2)).collect());
            heal_at = now + 1 + rng.below(steps / 2 + 1);
            stats.partitions += 1;
        } else if group.is_some() && now >= heal_at {
            group = None;
        }
        match rng.below(10) {
            // A local transaction of one to three edits, broadcast as one update.
            0..=4 => {
                let i = rng.below(replicas);
                let before = docs[i].version();
                let contents = seq_contents(&docs[i]);
                docs[i].take_events();
                let n = 1 + rng.below(3);
                if n > 1 {
                    docs[i].begin().map_err(|e| e.to_string())?;
                }
                for _ in 0..n {
                    random_edit(&mut docs[i], &mut rng)?;
                }
                if n > 1 {
                    if rng.chance(10) {
                        docs[i].rollback();
                        check_events(&contents, &mut docs[i])?;
                        continue;
                    }
                    docs[i].commit().map_err(|e| e.to_string())?;
                }
                check_events(&contents, &mut docs[i]).map_err(|e| format!("local: {e}"))?;
                let bytes = docs[i].encode_updates_since(&before);
                for to in (0..replicas).filter(|&j| j != i) {
                    if rng.chance(20) {
                        continue; // dropped
                    }
                    let copies = if rng.chance(10) { 2 } else { 1 };
                    for _ in 0..copies {
                        net.push(Msg {
                            from: i,
                            to,
                            deliver_at: now + rng.below(6),
                            bytes: bytes.clone(),
                        });
                    }
                }
            }
            // Deliver a random due message (which reorders them).
            5..=8 => {
                let due: Vec<usize> = (0..net.len())
                    .filter(|&k| net[k].deliver_at <= now)
                    .collect();
                if due.is_empty() {
                    continue;
                }
                let mut m = net.swap_remove(due[rng.below(due.len())]);
                if group.as_ref().is_some_and(|g| g[m.from] != g[m.to]) {
                    // Cut off by the partition: lost, or held until later.
                    if rng.chance(50) {
                        m.deliver_at = heal_at;
                        net.push(m);
                    }
                    continue;
                }
                let contents = seq_contents(&docs[m.to]);
                docs[m.to].take_events();
                let r = docs[m.to]
                    .apply_update(&m.bytes)
                    .map_err(|e| format!("apply of a genuine update failed: {e}"))?;
                check_events(&contents, &mut docs[m.to]).map_err(|e| format!("remote: {e}"))?;
                if !r.event.is_empty() {
                    check_event_list(&contents, &docs[m.to], std::slice::from_ref(&r.event))?;
                }
                stats.buffered += usize::from(r.pending > 0);
                stats.duplicates += r.duplicates;
                stats.unblocked += usize::from(r.applied > 1);
            }
            // A replica restarts from its snapshot (buffered updates included).
            _ if rng.chance(15) => {
                let i = rng.below(replicas);
                let saved = docs[i].save().map_err(|e| e.to_string())?;
                let mut restarted = Doc::load(&saved).map_err(|e| format!("restart: {e}"))?;
                if restarted.save().map_err(|e| e.to_string())? != saved {
                    return Err("a restarted replica saves different bytes".into());
                }
                restarted.queue_events(true);
                docs[i] = restarted;
                stats.restarts += 1;
            }
            // A relay combines everything due for one replica into one message.
            _ if rng.chance(15) && group.is_none() => {
                let to = rng.below(replicas);
                let (mine, rest): (Vec<Msg>, Vec<Msg>) = net
                    .drain(..)
                    .partition(|m| m.to == to && m.deliver_at <= now);
                net = rest;
                if !mine.is_empty() {
                    let parts: Vec<&[u8]> = mine.iter().map(|m| m.bytes.as_slice()).collect();
                    let merged = Doc::merge_updates(&parts).map_err(|e| e.to_string())?;
                    docs[to]
                        .apply_update(&merged)
                        .map_err(|e| format!("apply of merged updates failed: {e}"))?;
                    stats.merged += 1;
                }
            }
            // A pairwise anti-entropy round inside the current partition.
            _ => {
                let (i, j) = (rng.below(replicas), rng.below(replicas));
                let same_side = group.as_ref().is_none_or(|g| g[i] == g[j]);
                if i != j && same_side {
                    let msg = docs[i].encode_updates_since(&docs[j].version());
                    docs[j].apply_update(&msg).map_err(|e| e.to_string())?;
                }
            }
        }
    }

    // Heal and run anti-entropy: each replica sends replica 0 what it lacks, then replica 0
    // sends each replica what it lacks (version vectors out, missing updates back).
    for i in 1..replicas {
        let msg = docs[i].encode_updates_since(&docs[0].version());
        docs[0].apply_update(&msg).map_err(|e| e.to_string())?;
    }
    for j in 1..replicas {
        let msg = docs[0].encode_updates_since(&docs[j].version());
        docs[j].apply_update(&msg).map_err(|e| e.to_string())?;
    }

    let reference = &docs[0];
    for d in &docs[1..] {
        if d.version() != reference.version() {
            return Err(format!(
                "versions differ: {:?} vs {:?}",
                reference.version(),
                d.version()
            ));
        }
        if d.roots() != reference.roots() {
            return Err(format!("state differs:\n{reference:?}\n{d:?}"));
        }
    }
    for d in &docs {
        if d.pending_count() != 0 {
            return Err(format!("{} updates still pending", d.pending_count()));
        }
    }
    // A snapshot restores the same state.
    let restored = Doc::load(&docs[0].save().map_err(|e| e.to_string())?)
        .map_err(|e| format!("load failed: {e}"))?;
    if restored.roots() != reference.roots() {
        return Err("a saved and loaded replica differs".into());
    }
    Ok(stats)
}

fn run_seeds(seeds: core::ops::Range<u64>, replicas: usize, steps: usize) {
    for seed in seeds {
        if let Err(e) = simulate(seed, replicas, steps) {
            panic!("simulation failed: seed {seed}, {replicas} replicas, {steps} steps: {e}");
        }
    }
}

#[test]
fn doc_sim_exercises_buffering_duplicates_and_partitions() {
    let mut total = Stats::default();
    for seed in 0..300 {
        let s = simulate(seed, 3, 10).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        total.buffered += s.buffered;
        total.duplicates += s.duplicates;
        total.unblocked += s.unblocked;
        total.partitions += s.partitions;
        total.restarts += s.restarts;
        total.merged += s.merged;
    }
    assert!(
        total.buffered > 0,
        "no update ever arrived before its dependencies"
    );
    assert!(total.unblocked > 0, "no buffered update was ever unblocked");
    assert!(total.duplicates > 0, "no duplicate was ever delivered");
    assert!(total.partitions > 0, "no partition ever happened");
    assert!(total.restarts > 0, "no replica ever restarted");
    assert!(total.merged > 0, "no relay ever merged messages");
}

#[test]
fn doc_sim_three_replicas_small() {
    run_seeds(0..5_000, 3, 10);
}

#[test]
fn doc_sim_two_replicas_small() {
    run_seeds(100_000..103_500, 2, 8);
}

#[test]
fn doc_sim_five_replicas_longer() {
    run_seeds(200_000..201_500, 5, 24);
}

/// A long soak run: `cargo test -p converge --release --test integration doc_sim_soak -- --ignored`.
#[test]
#[ignore]
fn doc_sim_soak() {
    run_seeds(1_000_000..1_050_000, 4, 80);
}

/// One step of a generated scenario. Indices are taken modulo what exists, so every action is
/// valid and proptest explores behaviour, not argument errors (the idea of Loro's fuzz
/// actions), and a failing case shrinks to a short one.
#[derive(Clone, Debug)]
enum Action {
    /// A transaction of edits on one replica.
    Edit {
        replica: usize,
        edits: Vec<(u8, u16, u16, i8)>,
    },
    /// Replica `from` sends `to` what it lacks.
    Sync { from: usize, to: usize },
}

fn edit_by_numbers(doc: &mut Doc, (what, a, b, v): (u8, u16, u16, i8)) {
    let all = containers(doc);
    let id = all[usize::from(a) % all.len()];
    let n = usize::from(b);
    let value = match v.rem_euclid(4) {
        0 => Value::Int(i64::from(v)),
        1 => Value::Str(format!("s{v}")),
        2 => Value::Bool(v > 0),
        _ => Value::Null,
    };
    let r = match id.kind {
        ContainerKind::Map => {
            let key = ["p", "q"][n % 2];
            match what % 4 {
                0 => doc.map_delete(id, key),
                1 if all.len() < 16 => doc
                    .map_insert_container(id, key, KINDS[n % KINDS.len()])
                    .map(|_| ()),
                _ => doc.map_set(id, key, value),
            }
        }
        ContainerKind::List => {
            let len = doc.list_len(id).unwrap();
            match what % 4 {
                0 if len > 0 => doc.list_delete(id, n % len..n % len + 1),
                1 if all.len() < 16 => doc
                    .list_insert_container(id, n % (len + 1), KINDS[n % KINDS.len()])
                    .map(|_| ()),
                _ => doc.list_insert(id, n % (len + 1), value),
            }
        }
        ContainerKind::Text => {
            let len = doc.text_len(id).unwrap();
            if what % 3 == 0 && len > 0 {
                let at = n % len;
                doc.text_delete(id, at..(at + 2).min(len))
            } else {
                doc.text_insert(id, n % (len + 1), ["a", "ü", "xy"][usize::from(what) % 3])
            }
        }
        ContainerKind::Counter => doc.counter_add(id, i64::from(v)),
        ContainerKind::Register => doc.register_set(id, value),
        ContainerKind::Set => {
            let v = Value::Int(i64::from(v % 3));
            if what % 2 == 0 {
                doc.set_add(id, v)
            } else {
                doc.set_remove(id, &v)
            }
        }
    };
    r.expect("generated edits are valid");
}

fn action() -> impl proptest::strategy::Strategy<Value = Action> {
    use proptest::prelude::*;
    prop_oneof![
        (
            0..3usize,
            proptest::collection::vec(any::<(u8, u16, u16, i8)>(), 1..4)
        )
            .prop_map(|(replica, edits)| Action::Edit { replica, edits }),
        (0..3usize, 0..3usize).prop_map(|(from, to)| Action::Sync { from, to }),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    #[test]
    fn doc_sim_generated_actions_converge(actions in proptest::collection::vec(action(), 1..40)) {
        let mut docs: Vec<Doc> = (1..=3).map(|i| Doc::new(ReplicaId(i))).collect();
        for a in actions {
            match a {
                Action::Edit { replica, edits } => {
                    let doc = &mut docs[replica];
                    if edits.len() > 1 {
                        doc.begin().unwrap();
                    }
                    for e in edits.iter().copied() {
                        edit_by_numbers(doc, e);
                    }
                    if doc.in_transaction() {
                        doc.commit().unwrap();
                    }
                }
                Action::Sync { from, to } if from != to => {
                    let msg = docs[from].encode_updates_since(&docs[to].version());
                    docs[to].apply_update(&msg).unwrap();
                }
                Action::Sync { .. } => {}
            }
        }
        for i in 1..3 {
            let msg = docs[i].encode_updates_since(&docs[0].version());
            docs[0].apply_update(&msg).unwrap();
        }
        for i in 1..3 {
            let msg = docs[0].encode_updates_since(&docs[i].version());
            docs[i].apply_update(&msg).unwrap();
        }
        for d in &docs[1..] {
            proptest::prop_assert_eq!(d.version(), docs[0].version());
            proptest::prop_assert_eq!(d.roots(), docs[0].roots());
        }
    }
}

/// `encode_updates_since` from the versions a document passed through, in a history of 45
/// authors (so the index's version checkpoints are spaced by the authors, not by 32 entries),
/// live and after `save` / `save_history`: a document at that version reaches the same state.
#[test]
fn doc_sim_updates_since_every_prefix_many_authors() {
    let m = ContainerId::root("m", ContainerKind::Map);
    let t = ContainerId::root("t", ContainerKind::Text);
    let n = 45u64;
    let mut writers: Vec<Doc> = (1..=n).map(|i| Doc::new(ReplicaId(i))).collect();
    let mut hub = Doc::new(ReplicaId(1000));
    let mut sent: Vec<Vec<u8>> = Vec::new();
    let mut versions = vec![hub.version()];
    let mut rng = Rng(3);
    for step in 0..400 {
        let w = &mut writers[rng.below(n as usize)];
        if rng.chance(30) {
            let msg = hub.encode_updates_since(&w.version());
            w.apply_update(&msg).unwrap();
        }
        let before = w.version();
        match rng.below(3) {
            0 => w
                .map_set(m, ["x", "y"][rng.below(2)], Value::Int(step))
                .unwrap(),
            1 => {
                let len = w.text_len(t).unwrap();
                w.text_insert(t, rng.below(len + 1), "ab").unwrap()
            }
            _ => {
                w.text_insert(t, 0, "q").unwrap();
                w.text_insert(t, 1, "r").unwrap();
            }
        }
        let u = w.encode_updates_since(&before);
        hub.apply_update(&u).unwrap();
        sent.push(u);
        versions.push(hub.version());
    }
    let loaded = Doc::load(&hub.save().unwrap()).unwrap();
    let from_history = Doc::load(&hub.save_history().unwrap()).unwrap();
    // Every fifth version (and the first): each is a different place between checkpoints.
    for (k, v) in versions.iter().enumerate().step_by(5) {
        let mut at = Doc::new(ReplicaId(2000));
        let parts: Vec<&[u8]> = sent[..k].iter().map(Vec::as_slice).collect();
        if !parts.is_empty() {
            at.apply_update(&Doc::merge_updates(&parts).unwrap())
                .unwrap();
        }
        assert_eq!(&at.version(), v);
        for src in [&hub, &loaded, &from_history] {
            let mut x = Doc::load(&at.save().unwrap()).unwrap();
            let report = x.apply_update(&src.encode_updates_since(v)).unwrap();
            assert_eq!(report.pending, 0, "prefix {k}");
            assert_eq!(x.version(), hub.version(), "prefix {k}");
            assert_eq!(x.roots(), hub.roots(), "prefix {k}");
        }
    }
}
