//! Shared helpers for the text benchmarks and `text_report`: loading the editing traces from
//! `../shared/traces` (never copied into the repo), replaying them into converge and its peers,
//! a loop that makes the branch predictor forget ([`scramble`]), and a counting global allocator
//! for heap measurements; [`state_inputs`] builds the inputs of
//! the state-CRDT benchmarks.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use converge::list::{SequenceOps, Text};
use converge::{ReplicaId, VersionVector};
use serde::{Deserialize, Serialize};

pub mod rng;
pub mod state_inputs;
pub mod synth;

/// Where the traces live: the repository root's sibling `shared/traces`.
pub const TRACES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/traces");

/// The sequential traces, in the community suite's order.
pub const SEQUENTIAL: [&str; 3] = ["automerge-paper", "seph-blog1", "json-crdt-patch"];

/// One edit: at char `pos`, delete `del` chars, then insert `ins`.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Patch(pub usize, pub usize, pub String);

/// One transaction of a trace.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Txn {
    /// Indexes of the transactions this one was made on top of (concurrent traces).
    #[serde(default)]
    pub parents: Vec<usize>,
    /// Which author (concurrent traces).
    #[serde(default)]
    pub agent: usize,
    /// The edits, applied in order.
    pub patches: Vec<Patch>,
}

/// A parsed trace (format in `shared/traces/README.md`).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Trace {
    /// Initial document.
    #[serde(rename = "startContent", default)]
    pub start_content: String,
    /// Expected final document.
    #[serde(rename = "endContent")]
    pub end_content: String,
    /// Number of authors (concurrent traces).
    #[serde(rename = "numAgents", default, skip_serializing_if = "Option::is_none")]
    pub num_agents: Option<usize>,
    /// The transactions.
    pub txns: Vec<Txn>,
}

impl Trace {
    /// How many authors: `numAgents`, or one past the highest agent a transaction names.
    pub fn agents(&self) -> usize {
        self.num_agents
            .unwrap_or(0)
            .max(self.txns.iter().map(|t| t.agent + 1).max().unwrap_or(1))
    }

    /// Writes the trace as gzipped JSON in the shared traces' format (with `"kind":
    /// "concurrent"` when it has agents).
    pub fn write_gz(&self, path: &std::path::Path) -> std::io::Result<()> {
        let mut json = serde_json::to_value(self).map_err(std::io::Error::other)?;
        if self.num_agents.is_some() {
            json["kind"] = "concurrent".into();
        }
        let file = std::fs::File::create(path)?;
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        serde_json::to_writer(&mut gz, &json).map_err(std::io::Error::other)?;
        gz.finish()?;
        Ok(())
    }

    /// All patches in order (sequential traces).
    pub fn patches(&self) -> Vec<Patch> {
        self.txns
            .iter()
            .flat_map(|t| t.patches.iter().cloned())
            .collect()
    }
}

/// Loads `<name>.json.gz` from [`TRACES`].
pub fn load_trace(name: &str) -> Trace {
    let path = format!("{TRACES}/{name}.json.gz");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
    let mut json = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut json)
        .expect("gunzip trace");
    serde_json::from_str(&json).expect("parse trace")
}

/// Replays a sequential trace into the root text container `"text"` of a [`converge::doc::Doc`]:
/// with `explicit`, each trace transaction is one `begin` ... `commit` (an editor committing
/// once per user action); otherwise every edit is its own implicit transaction.
pub fn replay_doc(trace: &Trace, explicit: bool) -> converge::doc::Doc {
    use converge::doc::{ContainerId, ContainerKind, Doc};
    let text = ContainerId::root("text", ContainerKind::Text);
    let mut doc = Doc::new(ReplicaId(1));
    for txn in &trace.txns {
        if explicit {
            doc.begin().expect("no transaction open");
        }
        for Patch(pos, del, ins) in &txn.patches {
            doc.text_splice(text, *pos, *del, ins)
                .expect("edit in range");
        }
        if explicit {
            doc.commit().expect("no memory limit");
        }
    }
    doc
}

/// The root text container the `Doc` replays edit: `doc.root("text", ContainerKind::Text)`.
pub fn doc_text(doc: &mut converge::doc::Doc) -> converge::doc::ContainerId {
    doc.root("text", converge::doc::ContainerKind::Text)
}

/// The document's history-only export (`Doc::save_history`; `None` during a transaction).
/// Every benchmark that reports a `Doc`'s history size reads it here.
pub fn doc_history(doc: &converge::doc::Doc) -> Option<Vec<u8>> {
    doc.save_history().ok()
}

/// Replays patches into the root text `"text"` of a [`converge::doc::Doc`] as an application
/// that does not group edits would: one `text_delete` and/or one `text_insert` per patch, each
/// its own implicit transaction (the engine replay, [`replay_converge`], through the document).
pub fn replay_doc_edits(patches: &[Patch]) -> converge::doc::Doc {
    let mut doc = converge::doc::Doc::new(ReplicaId(1));
    let text = doc_text(&mut doc);
    for Patch(pos, del, ins) in patches {
        if *del > 0 {
            doc.text_delete(text, *pos..*pos + *del)
                .expect("delete in range");
        }
        if !ins.is_empty() {
            doc.text_insert(text, *pos, ins).expect("insert in range");
        }
    }
    doc
}

/// Applies update `messages` to `doc` as one message (`Doc::merge_updates` when there are
/// several); every update must apply.
pub fn doc_apply_all(doc: &mut converge::doc::Doc, messages: &[&[u8]]) {
    let report = match messages {
        [] => return,
        [one] => doc.apply_update(one),
        _ => {
            let merged = converge::doc::Doc::merge_updates(messages).expect("updates merge");
            doc.apply_update(&merged)
        }
    }
    .expect("update applies");
    assert!(report.is_complete(), "{report:?}");
}

/// Replays a concurrent trace with one [`converge::doc::Doc`] per agent (replica = agent + 1,
/// root text `"text"`), exchanging updates only as bytes, the way [`replay_concurrent_yrs`]
/// does for yrs: each trace transaction's edits are implicit transactions (one call per
/// insert or delete), and the bytes `encode_updates_since` gives for them (from the version
/// before the transaction) are its update; before a transaction, its agent's document applies
/// exactly the transactions its parents' merged version adds, in trace order, as one message;
/// finally every document applies everything it lacks. Returns the documents.
pub fn replay_concurrent_doc(trace: &Trace) -> Vec<converge::doc::Doc> {
    let agents = trace.agents();
    let mut docs: Vec<converge::doc::Doc> = (0..agents)
        .map(|a| converge::doc::Doc::new(ReplicaId(a as u64 + 1)))
        .collect();
    let text = doc_text(&mut docs[0]);
    for doc in &mut docs[1..] {
        doc_text(doc);
    }
    if !trace.start_content.is_empty() {
        docs[0]
            .text_insert(text, 0, &trace.start_content)
            .expect("start content");
        let update = docs[0].encode_updates_since(&VersionVector::new());
        for doc in &mut docs[1..] {
            doc_apply_all(doc, &[&update]);
        }
    }
    // As in `replay_concurrent_yrs`: each transaction's update; per agent, its transactions;
    // per transaction, how many of each agent's transactions its document had seen; per
    // document, the same now.
    let mut updates: Vec<Vec<u8>> = Vec::with_capacity(trace.txns.len());
    let mut by_agent: Vec<Vec<usize>> = vec![Vec::new(); agents];
    let mut seen: Vec<Vec<u32>> = Vec::with_capacity(trace.txns.len());
    let mut have = vec![vec![0u32; agents]; agents];
    let pull = |doc: &mut converge::doc::Doc,
                have: &mut Vec<u32>,
                want: &[u32],
                by_agent: &[Vec<usize>],
                updates: &[Vec<u8>]| {
        let mut missing: Vec<usize> = (0..agents)
            .flat_map(|q| {
                by_agent[q][have[q] as usize..want[q].max(have[q]) as usize]
                    .iter()
                    .copied()
            })
            .collect();
        if !missing.is_empty() {
            missing.sort_unstable();
            let messages: Vec<&[u8]> = missing.iter().map(|&t| updates[t].as_slice()).collect();
            doc_apply_all(doc, &messages);
            raise_to(have, want);
        }
    };
    for txn in &trace.txns {
        let r = txn.agent;
        let mut want = vec![0u32; agents];
        for &p in &txn.parents {
            raise_to(&mut want, &seen[p]);
        }
        pull(&mut docs[r], &mut have[r], &want, &by_agent, &updates);
        let doc = &mut docs[r];
        let before = doc.version();
        for Patch(pos, del, ins) in &txn.patches {
            if *del > 0 {
                doc.text_delete(text, *pos..*pos + *del)
                    .expect("delete in range");
            }
            if !ins.is_empty() {
                doc.text_insert(text, *pos, ins).expect("insert in range");
            }
        }
        by_agent[r].push(updates.len());
        updates.push(doc.encode_updates_since(&before));
        have[r][r] += 1;
        seen.push(have[r].clone());
    }
    let all: Vec<u32> = by_agent.iter().map(|t| t.len() as u32).collect();
    for (doc, have) in docs.iter_mut().zip(&mut have) {
        pull(doc, have, &all, &by_agent, &updates);
    }
    docs
}

/// Replays patches into a converge `Text`, one call per patch.
pub fn replay_converge(patches: &[Patch]) -> Text {
    let mut t = Text::new(ReplicaId(1));
    for Patch(pos, del, ins) in patches {
        if *del > 0 {
            t.delete(*pos..*pos + *del).expect("delete in range");
        }
        if !ins.is_empty() {
            t.insert(*pos, ins).expect("insert in range");
        }
    }
    t
}

/// Replays patches into a diamond-types 1.0 `ListCRDT`.
pub fn replay_diamond(patches: &[Patch]) -> diamond_types::list::ListCRDT {
    let mut doc = diamond_types::list::ListCRDT::new();
    let agent = doc.get_or_create_agent_id("a");
    for Patch(pos, del, ins) in patches {
        if *del > 0 {
            doc.delete_without_content(agent, *pos..*pos + *del);
        }
        if !ins.is_empty() {
            doc.insert(agent, *pos, ins);
        }
    }
    doc
}

/// Replays patches into a jumprope rope (no CRDT metadata: the plain-rope floor).
pub fn replay_jumprope(patches: &[Patch]) -> jumprope::JumpRope {
    let mut rope = jumprope::JumpRope::new();
    for Patch(pos, del, ins) in patches {
        if *del > 0 {
            rope.remove(*pos..*pos + *del);
        }
        if !ins.is_empty() {
            rope.insert(*pos, ins);
        }
    }
    rope
}

/// Replays a concurrent trace with one converge replica per agent: each transaction runs on
/// its agent's replica after pulling exactly its parents' merged version from the replicas
/// of the agents that made those parents (`ops_between` + `apply`); finally everyone
/// exchanges everything. Ops travel as wire bytes. Returns the replicas.
pub fn replay_concurrent(trace: &Trace) -> Vec<Text> {
    let agents = trace.agents();
    let mut reps: Vec<Text> = (0..agents)
        .map(|a| Text::new(ReplicaId(a as u64 + 1)))
        .collect();
    let mut start = VersionVector::new();
    if !trace.start_content.is_empty() {
        reps[0]
            .insert(0, &trace.start_content)
            .expect("start content");
        start = reps[0].version();
    }
    let mut after: Vec<VersionVector> = Vec::with_capacity(trace.txns.len());
    for txn in &trace.txns {
        let mut target = start.clone();
        for &p in &txn.parents {
            target.merge(&after[p]);
        }
        // Pull from the agent of each parent the replica lacks (that replica has seen the
        // parent's whole version: replicas only grow), and the start content from agent 0.
        let r = txn.agent;
        let mut have = reps[r].version();
        let sources = txn
            .parents
            .iter()
            .map(|&p| (trace.txns[p].agent, &after[p]));
        for (q, version) in std::iter::once((0, &start)).chain(sources) {
            if q == r || have.dominates(version) {
                continue;
            }
            send(&reps[q].ops_between(&have, &target), &mut reps[r]);
            have = reps[r].version();
        }
        for Patch(pos, del, ins) in &txn.patches {
            let t = &mut reps[r];
            if *del > 0 {
                t.delete(*pos..*pos + *del).expect("delete in range");
            }
            if !ins.is_empty() {
                t.insert(*pos, ins).expect("insert in range");
            }
        }
        after.push(reps[r].version());
    }
    for r in 0..agents {
        for other in 0..agents {
            if other != r {
                let ops = reps[other].ops_since(&reps[r].version());
                send(&ops, &mut reps[r]);
            }
        }
    }
    reps
}

/// Sends `ops` to `to` as the bytes a network would carry (the versioned wire envelope), as
/// the yrs and Loro replays exchange encoded updates; every op must apply.
fn send(ops: &SequenceOps<String>, to: &mut Text) {
    let ops: SequenceOps<String> = converge::decode(&converge::encode(ops)).expect("ops decode");
    let report = to.apply(&ops).expect("apply");
    assert!(report.is_complete(), "{report:?}");
}

/// Replays patches into a Loro 1.17 document's root text `"text"` (Unicode positions), one
/// call per patch.
pub fn replay_loro(patches: &[Patch]) -> loro::LoroDoc {
    let doc = loro::LoroDoc::new();
    doc.set_peer_id(1).expect("loro peer id");
    let text = doc.get_text("text");
    for Patch(pos, del, ins) in patches {
        if *del > 0 {
            text.delete(*pos, *del).expect("loro delete");
        }
        if !ins.is_empty() {
            text.insert(*pos, ins).expect("loro insert");
        }
    }
    doc.commit();
    doc
}

/// Replays a concurrent trace into Loro the way `replay_concurrent` does for converge: one
/// document per agent; before each transaction its agent's document imports exactly the
/// operations its parents' merged version adds (each peer's counter range, exported from that
/// peer's own document); then everyone imports everything. Returns agent 0's document.
pub fn replay_concurrent_loro(trace: &Trace) -> loro::LoroDoc {
    let agents = trace.agents();
    let docs: Vec<loro::LoroDoc> = (0..agents)
        .map(|a| {
            let d = loro::LoroDoc::new();
            d.set_peer_id(a as u64 + 1).expect("loro peer id");
            d
        })
        .collect();
    let mut start = loro::VersionVector::default();
    if !trace.start_content.is_empty() {
        docs[0]
            .get_text("text")
            .insert(0, &trace.start_content)
            .expect("loro start content");
        docs[0].commit();
        start = docs[0].oplog_vv();
    }
    let mut after: Vec<loro::VersionVector> = Vec::with_capacity(trace.txns.len());
    for txn in &trace.txns {
        let mut target = start.clone();
        for &p in &txn.parents {
            target.merge(&after[p]);
        }
        let r = txn.agent;
        let have = docs[r].oplog_vv();
        for (&peer, &end) in target.iter() {
            let from = have.get(&peer).copied().unwrap_or(0);
            if end > from {
                let src = &docs[(peer - 1) as usize];
                let bytes = src
                    .export(loro::ExportMode::updates_in_range(vec![loro::IdSpan::new(
                        peer, from, end,
                    )]))
                    .expect("loro export range");
                docs[r].import(&bytes).expect("loro import");
            }
        }
        let text = docs[r].get_text("text");
        for Patch(pos, del, ins) in &txn.patches {
            if *del > 0 {
                text.delete(*pos, *del).expect("loro delete");
            }
            if !ins.is_empty() {
                text.insert(*pos, ins).expect("loro insert");
            }
        }
        docs[r].commit();
        after.push(docs[r].oplog_vv());
    }
    for r in 0..agents {
        for other in 0..agents {
            if other != r {
                let bytes = docs[other]
                    .export(loro::ExportMode::updates(&docs[r].oplog_vv()))
                    .expect("loro export");
                docs[r].import(&bytes).expect("loro import");
            }
        }
    }
    docs.into_iter().next().expect("one agent")
}

/// Replays a concurrent trace into yrs 0.28 the way [`replay_concurrent`] does for converge:
/// one document per agent (client id = agent + 1, root text `"text"`). yrs counts positions in
/// UTF-8 bytes, so the trace must be ASCII (the caller checks). Each transaction's own update
/// (`encode_update_v1` of the yrs transaction that made it) is kept; before a transaction, its
/// agent's document applies exactly the transactions its parents' merged version adds, in
/// trace order, in one yrs transaction; finally every document applies everything it lacks.
/// yrs is handed the precise updates it needs and never computes a diff, as converge's
/// `ops_between` does. Returns the documents.
pub fn replay_concurrent_yrs(trace: &Trace) -> Vec<yrs::Doc> {
    use yrs::{Text as _, Transact};
    let agents = trace.agents();
    let docs: Vec<yrs::Doc> = (0..agents)
        .map(|a| yrs::Doc::with_client_id(a as u64 + 1))
        .collect();
    let texts: Vec<yrs::TextRef> = docs.iter().map(|d| d.get_or_insert_text("text")).collect();
    if !trace.start_content.is_empty() {
        let update = {
            let mut txn = docs[0].transact_mut();
            texts[0].insert(&mut txn, 0, &trace.start_content);
            txn.encode_update_v1()
        };
        for doc in &docs[1..] {
            yrs_apply(doc, [update.as_slice()]);
        }
    }
    // Each transaction's update; per agent, its transactions; per transaction, how many of each
    // agent's transactions its document has seen (itself included); per document, the same now.
    let mut updates: Vec<Vec<u8>> = Vec::with_capacity(trace.txns.len());
    let mut by_agent: Vec<Vec<usize>> = vec![Vec::new(); agents];
    let mut seen: Vec<Vec<u32>> = Vec::with_capacity(trace.txns.len());
    let mut have = vec![vec![0u32; agents]; agents];
    let pull = |doc: &yrs::Doc,
                have: &mut Vec<u32>,
                want: &[u32],
                by_agent: &[Vec<usize>],
                updates: &[Vec<u8>]| {
        let mut missing: Vec<usize> = (0..agents)
            .flat_map(|q| {
                by_agent[q][have[q] as usize..want[q] as usize]
                    .iter()
                    .copied()
            })
            .collect();
        if !missing.is_empty() {
            missing.sort_unstable();
            yrs_apply(doc, missing.iter().map(|&t| updates[t].as_slice()));
            have.copy_from_slice(want);
        }
    };
    for txn in &trace.txns {
        let r = txn.agent;
        let mut want = vec![0u32; agents];
        for &p in &txn.parents {
            raise_to(&mut want, &seen[p]);
        }
        pull(&docs[r], &mut have[r], &want, &by_agent, &updates);
        let update = {
            let mut t = docs[r].transact_mut();
            for Patch(pos, del, ins) in &txn.patches {
                if *del > 0 {
                    texts[r].remove_range(&mut t, *pos as u32, *del as u32);
                }
                if !ins.is_empty() {
                    texts[r].insert(&mut t, *pos as u32, ins);
                }
            }
            t.encode_update_v1()
        };
        by_agent[r].push(updates.len());
        updates.push(update);
        have[r][r] += 1;
        seen.push(have[r].clone());
    }
    let all: Vec<u32> = by_agent.iter().map(|t| t.len() as u32).collect();
    for (doc, have) in docs.iter().zip(&mut have) {
        pull(doc, have, &all, &by_agent, &updates);
    }
    docs
}

/// Raises each per-agent transaction count in `counts` to at least the one in `other` (the
/// merged view of two transactions).
pub(crate) fn raise_to(counts: &mut [u32], other: &[u32]) {
    for (c, &o) in counts.iter_mut().zip(other) {
        *c = (*c).max(o);
    }
}

/// Applies v1 `updates` to `doc` in one transaction.
fn yrs_apply<'a>(doc: &yrs::Doc, updates: impl IntoIterator<Item = &'a [u8]>) {
    use yrs::Transact;
    use yrs::updates::decoder::Decode;
    let mut txn = doc.transact_mut();
    for u in updates {
        txn.apply_update(yrs::Update::decode_v1(u).expect("yrs update decodes"))
            .expect("yrs apply");
    }
}

/// A fresh yrs document with a v1 update applied (a full state update loads a document).
pub fn yrs_load(update: &[u8]) -> yrs::Doc {
    let doc = yrs::Doc::new();
    yrs_apply(&doc, [update]);
    doc
}

/// The root text of a yrs document as a string.
pub fn yrs_text(doc: &yrs::Doc) -> String {
    use yrs::{GetString, Transact};
    doc.get_or_insert_text("text").get_string(&doc.transact())
}

/// Best time of each of `fs` over `runs` rounds, each round running every one once in turn.
pub fn best_round_robin<const N: usize>(
    runs: usize,
    mut fs: [&mut dyn FnMut(); N],
) -> [Duration; N] {
    let mut best = [Duration::MAX; N];
    for _ in 0..runs {
        for (f, b) in fs.iter_mut().zip(&mut best) {
            let t = Instant::now();
            f();
            *b = (*b).min(t.elapsed());
        }
    }
    best
}

/// Runs a loop of random branches over `junk` (seeded by `round`), so the branch predictor
/// forgets what it learnt from the code timed before it.
pub fn scramble(junk: &mut [u64], round: usize) {
    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ round as u64;
    for j in junk.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if x & 1 == 1 {
            *j += 1;
        } else if x & 2 == 2 {
            *j ^= 3;
        }
    }
    std::hint::black_box(junk);
}

/// A global allocator that counts the bytes currently allocated through it.
///
/// Install it in a binary with `#[global_allocator] static A: CountingAlloc = CountingAlloc;`
/// and read [`allocated_bytes`].
pub struct CountingAlloc;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

/// Bytes currently allocated through [`CountingAlloc`].
pub fn allocated_bytes() -> usize {
    ALLOCATED.load(Ordering::Relaxed)
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract holds exactly as it does for `System`; the counter is bookkeeping only.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract (non-zero-size layout guaranteed by the caller).
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (through `alloc`/`realloc`) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract: `ptr` came from this allocator with `layout`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
            ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}
