//! Golden vectors for the bindings: scripted sessions replayed on a [`Doc`], written to the
//! top-level `vectors/` folder that every binding's tests read (format: `vectors/README.md`).
//!
//! The sessions below are data (JSON step lists, the same vocabulary the files carry); this
//! module interprets them, computes each session's update, version and snapshot bytes and its
//! JSON view, and compares the result with the committed files byte for byte, so a change to
//! the wire format or to the JSON view cannot go unnoticed. If the change is deliberate,
//! regenerate with
//!
//! ```text
//! CONVERGE_WRITE_VECTORS=1 cargo test -p converge --test integration vectors
//! ```
//!
//! and commit `vectors/` (the bindings' tests then follow). Besides, every vector is checked to
//! be self-consistent: loading its snapshot or its history export and applying its updates to a
//! fresh document give its JSON view, a merge vector's inputs give it in every order and on every
//! replica that made them, and each session's view equals that of an independent model of the
//! steps (plain maps, vectors and strings). `errors.json` lists rejected inputs with the
//! `DocError::code` every binding must report.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use converge::doc::{ContainerId, ContainerKind, Doc, Node, Value};
use converge::{ReplicaId, VersionVector};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

// ---------------------------------------------------------------------------------------------
// The file format (see vectors/README.md).

/// A container kind as the vectors spell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Map,
    List,
    Text,
    Counter,
    Register,
    Set,
}

impl Kind {
    fn kernel(self) -> ContainerKind {
        match self {
            Kind::Map => ContainerKind::Map,
            Kind::List => ContainerKind::List,
            Kind::Text => ContainerKind::Text,
            Kind::Counter => ContainerKind::Counter,
            Kind::Register => ContainerKind::Register,
            Kind::Set => ContainerKind::Set,
        }
    }
}

/// Which container a step edits: a named root, or a container an earlier step created.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
enum Target {
    Root { root: String, kind: Kind },
    Alias { alias: String },
}

/// One step of a scripted session. Values are JSON scalars or `{"$bytes": hex}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum Step {
    Begin,
    Commit,
    MapSet {
        target: Target,
        key: String,
        value: Json,
    },
    MapDelete {
        target: Target,
        key: String,
    },
    MapInsertContainer {
        target: Target,
        key: String,
        kind: Kind,
        #[serde(rename = "as")]
        alias: String,
    },
    ListInsert {
        target: Target,
        index: usize,
        value: Json,
    },
    ListDelete {
        target: Target,
        start: usize,
        end: usize,
    },
    ListInsertContainer {
        target: Target,
        index: usize,
        kind: Kind,
        #[serde(rename = "as")]
        alias: String,
    },
    TextInsert {
        target: Target,
        pos: usize,
        text: String,
    },
    TextDelete {
        target: Target,
        start: usize,
        end: usize,
    },
    CounterAdd {
        target: Target,
        amount: i64,
    },
    RegisterSet {
        target: Target,
        value: Json,
    },
    SetAdd {
        target: Target,
        value: Json,
    },
    SetRemove {
        target: Target,
        value: Json,
    },
}

/// A root container's name and kind: what a reader registers with `doc.root(name, kind)` so
/// that a loaded or synced document keys its JSON view by name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct RootName {
    name: String,
    kind: Kind,
}

/// `vectors/<name>.json`: one replica's scripted session and what it produces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionVector {
    name: String,
    replica: u64,
    steps: Vec<Step>,
    all_updates: String,
    version: String,
    snapshot: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    history: Option<String>,
    json: Json,
}

/// One replica's part of a merge scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Branch {
    replica: u64,
    steps: Vec<Step>,
}

/// `vectors/merge-<name>.json`: concurrent sessions and the state their updates merge to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeVector {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    base: Option<Branch>,
    replicas: Vec<Branch>,
    inputs: Vec<String>,
    version: String,
    json: Json,
}

/// The document call an error case makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Call {
    /// `doc.apply_update(bytes)` on a fresh document (replica 99) that first applied `setup`.
    ApplyUpdate,
    /// `Doc::load(bytes)`.
    Load,
}

/// One rejected input: the call must fail with `code` and (for `apply_update`) leave the
/// document's `save()` bytes as they were.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorCase {
    name: String,
    setup: Vec<String>,
    call: Call,
    bytes: String,
    code: String,
}

/// `vectors/errors.json`: inputs every binding must reject with the same error code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorVectors {
    name: String,
    cases: Vec<ErrorCase>,
}

impl SessionVector {
    /// The roots the steps use.
    fn roots(&self) -> Vec<RootName> {
        roots_of(&self.steps)
    }
}

impl MergeVector {
    /// The roots the base's and the replicas' steps use.
    fn roots(&self) -> Vec<RootName> {
        roots_of(
            self.base
                .iter()
                .chain(&self.replicas)
                .flat_map(|b| &b.steps),
        )
    }
}

/// The replica id of the fresh document merge vectors are applied to (authors none of them).
const READER: ReplicaId = ReplicaId(99);

// ---------------------------------------------------------------------------------------------
// Hex and JSON conversions.

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        write!(s, "{b:02x}").expect("writing to a String");
    }
    s
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd-length hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// A step's JSON value as a document value: an integer literal is an `Int`, a number with a
/// fraction or exponent a `Float`, `{"$bytes": hex}` is `Bytes`.
fn value_of(v: &Json) -> Value {
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) if !n.is_f64() => Value::Int(i),
            (_, Some(f)) if n.is_f64() => Value::Float(f),
            _ => panic!("number {n} is neither an i64 nor an f64"),
        },
        Json::String(s) => Value::Str(s.clone()),
        Json::Object(o) if o.len() == 1 && o.contains_key("$bytes") => {
            Value::Bytes(unhex(o["$bytes"].as_str().expect("$bytes is a hex string")))
        }
        other => panic!("not a value: {other}"),
    }
}

/// A document value as JSON (the inverse of [`value_of`]).
fn json_of_value(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => json!(i),
        Value::Float(f) => {
            let n = serde_json::Number::from_f64(*f).expect("vectors hold finite floats only");
            Json::Number(n)
        }
        Value::Str(s) => Json::String(s.clone()),
        Value::Bytes(b) => json!({ "$bytes": hex(b) }),
    }
}

/// The Node -> JSON mapping of the brief (`vectors/README.md`).
fn json_of_node(node: &Node) -> Json {
    match node {
        Node::Value(v) => json_of_value(v),
        Node::Map(m) => Json::Object(
            m.iter()
                .map(|(k, n)| (k.clone(), json_of_node(n)))
                .collect(),
        ),
        Node::List(l) => Json::Array(l.iter().map(json_of_node).collect()),
        Node::Text(t) => Json::String(t.clone()),
        Node::Counter(c) => json!(c),
        Node::Register(r) => r.as_ref().map_or(Json::Null, json_of_value),
        Node::Set(s) => Json::Array(s.iter().map(json_of_value).collect()),
    }
}

/// The document's JSON view. Root names travel in updates and snapshots, so registering them
/// (`doc.root(name, kind)`, as a reader that knows them may do) must not change it.
fn json_view(doc: &mut Doc, roots: &[RootName]) -> Json {
    let before = named_view(doc);
    for r in roots {
        doc.root(&r.name, r.kind.kernel());
    }
    let after = named_view(doc);
    assert_eq!(
        before, after,
        "root names travel with the bytes: registering them changes nothing"
    );
    after
}

/// `named_roots()` as JSON.
fn named_view(doc: &Doc) -> Json {
    Json::Object(
        doc.named_roots()
            .iter()
            .map(|(k, n)| (k.clone(), json_of_node(n)))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// The interpreter.

/// Replays `steps` on `doc`, panicking with the step's position on any error.
fn replay(doc: &mut Doc, name: &str, steps: &[Step]) {
    let mut aliases: BTreeMap<String, ContainerId> = BTreeMap::new();
    for (i, step) in steps.iter().enumerate() {
        if let Err(e) = run_step(doc, &mut aliases, step) {
            panic!("{name}: step {i} {step:?} failed: {e}");
        }
    }
}

fn run_step(
    doc: &mut Doc,
    aliases: &mut BTreeMap<String, ContainerId>,
    step: &Step,
) -> Result<(), String> {
    let mut target = |t: &Target| -> Result<ContainerId, String> {
        match t {
            Target::Root { root, kind } => Ok(doc.root(root, kind.kernel())),
            Target::Alias { alias } => aliases
                .get(alias)
                .copied()
                .ok_or_else(|| format!("unknown alias {alias:?}")),
        }
    };
    let err = |e: converge::doc::DocError| format!("{} ({})", e, e.code());
    match step {
        Step::Begin => doc.begin().map_err(err)?,
        Step::Commit => {
            doc.commit().map_err(err)?;
        }
        Step::MapSet {
            target: t,
            key,
            value,
        } => {
            let id = target(t)?;
            doc.map_set(id, key, value_of(value)).map_err(err)?;
        }
        Step::MapDelete { target: t, key } => {
            let id = target(t)?;
            doc.map_delete(id, key).map_err(err)?;
        }
        Step::MapInsertContainer {
            target: t,
            key,
            kind,
            alias,
        } => {
            let id = target(t)?;
            let child = doc
                .map_insert_container(id, key, kind.kernel())
                .map_err(err)?;
            aliases.insert(alias.clone(), child);
        }
        Step::ListInsert {
            target: t,
            index,
            value,
        } => {
            let id = target(t)?;
            doc.list_insert(id, *index, value_of(value)).map_err(err)?;
        }
        Step::ListDelete {
            target: t,
            start,
            end,
        } => {
            let id = target(t)?;
            doc.list_delete(id, *start..*end).map_err(err)?;
        }
        Step::ListInsertContainer {
            target: t,
            index,
            kind,
            alias,
        } => {
            let id = target(t)?;
            let child = doc
                .list_insert_container(id, *index, kind.kernel())
                .map_err(err)?;
            aliases.insert(alias.clone(), child);
        }
        Step::TextInsert {
            target: t,
            pos,
            text,
        } => {
            let id = target(t)?;
            doc.text_insert(id, *pos, text).map_err(err)?;
        }
        Step::TextDelete {
            target: t,
            start,
            end,
        } => {
            let id = target(t)?;
            doc.text_delete(id, *start..*end).map_err(err)?;
        }
        Step::CounterAdd { target: t, amount } => {
            let id = target(t)?;
            doc.counter_add(id, *amount).map_err(err)?;
        }
        Step::RegisterSet { target: t, value } => {
            let id = target(t)?;
            doc.register_set(id, value_of(value)).map_err(err)?;
        }
        Step::SetAdd { target: t, value } => {
            let id = target(t)?;
            doc.set_add(id, value_of(value)).map_err(err)?;
        }
        Step::SetRemove { target: t, value } => {
            let id = target(t)?;
            doc.set_remove(id, &value_of(value)).map_err(err)?;
        }
    }
    Ok(())
}

/// The root names the steps use, in a stable order.
fn roots_of<'a>(steps: impl IntoIterator<Item = &'a Step>) -> Vec<RootName> {
    let mut roots = BTreeSet::new();
    for step in steps {
        let t = match step {
            Step::Begin | Step::Commit => continue,
            Step::MapSet { target, .. }
            | Step::MapDelete { target, .. }
            | Step::MapInsertContainer { target, .. }
            | Step::ListInsert { target, .. }
            | Step::ListDelete { target, .. }
            | Step::ListInsertContainer { target, .. }
            | Step::TextInsert { target, .. }
            | Step::TextDelete { target, .. }
            | Step::CounterAdd { target, .. }
            | Step::RegisterSet { target, .. }
            | Step::SetAdd { target, .. }
            | Step::SetRemove { target, .. } => target,
        };
        if let Target::Root { root, kind } = t {
            roots.insert(RootName {
                name: root.clone(),
                kind: *kind,
            });
        }
    }
    roots.into_iter().collect()
}

/// THE ONE PLACE for the history export (`Doc::save_history`): the vectors carry it as
/// `history`, and [`check_session`] checks that loading it gives the JSON view.
fn history_of(doc: &Doc) -> Option<Vec<u8>> {
    Some(doc.save_history().expect("save_history"))
}

fn empty() -> VersionVector {
    VersionVector::new()
}

/// Replays a session and records what it produces.
fn run_session(name: &str, replica: u64, steps: Vec<Step>) -> SessionVector {
    let mut doc = Doc::new(ReplicaId(replica));
    replay(&mut doc, name, &steps);
    let roots = roots_of(&steps);
    SessionVector {
        name: name.into(),
        replica,
        all_updates: hex(&doc.encode_updates_since(&empty())),
        version: hex(&converge::encode(&doc.version())),
        snapshot: hex(&doc.save().expect("save")),
        history: history_of(&doc).map(|h| hex(&h)),
        json: json_view(&mut doc, &roots),
        steps,
    }
}

/// Replays a merge scenario: the base (if any) on its replica; each branch on a replica that
/// first applied the base's updates. The inputs are the base's updates and each branch's
/// updates since the base; the expected state is theirs applied in order to a fresh document.
fn run_merge(name: &str, base: Option<Branch>, replicas: Vec<Branch>) -> MergeVector {
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    let mut base_version = empty();
    if let Some(b) = &base {
        let mut doc = Doc::new(ReplicaId(b.replica));
        replay(&mut doc, &format!("{name} base"), &b.steps);
        inputs.push(doc.encode_updates_since(&empty()));
        base_version = doc.version();
    }
    let base_updates = inputs.first().cloned();
    let mut peers = Vec::new();
    for b in &replicas {
        let mut doc = Doc::new(ReplicaId(b.replica));
        if let Some(u) = &base_updates {
            doc.apply_update(u).expect("base updates apply");
        }
        replay(&mut doc, &format!("{name} replica {}", b.replica), &b.steps);
        inputs.push(doc.encode_updates_since(&base_version));
        peers.push(doc);
    }
    let steps = base
        .iter()
        .chain(&replicas)
        .flat_map(|b| &b.steps)
        .collect::<Vec<_>>();
    let roots = roots_of(steps);
    let mut doc = Doc::new(READER);
    for u in &inputs {
        doc.apply_update(u).expect("merge input applies");
    }
    assert_eq!(
        doc.pending_count(),
        0,
        "{name}: inputs leave updates buffered"
    );
    let json = json_view(&mut doc, &roots);
    // The editing replicas converge too, once each has every input.
    for mut peer in peers {
        for u in &inputs {
            peer.apply_update(u)
                .expect("merge input applies on a replica");
        }
        assert_eq!(peer.version(), doc.version(), "{name}: a replica's version");
        assert_eq!(
            json_view(&mut peer, &roots),
            json,
            "{name}: a replica's view"
        );
    }
    MergeVector {
        name: name.into(),
        version: hex(&converge::encode(&doc.version())),
        json,
        inputs: inputs.iter().map(|u| hex(u)).collect(),
        base,
        replicas,
    }
}

// ---------------------------------------------------------------------------------------------
// An independent model of the steps' effect on one replica (no CRDT, no concurrency): plain
// maps, vectors and strings. Every session's JSON view must equal the model's, so a vector can
// not record a kernel bug as the expected answer. (Merge results are only checked where the
// answer needs no conflict rule: counters add up.)

enum Slot {
    Value(Value),
    Container(usize),
}

enum Model {
    Map(BTreeMap<String, Slot>),
    List(Vec<Slot>),
    Text(Vec<char>),
    Counter(i64),
    Register(Option<Value>),
    Set(BTreeSet<Value>),
}

#[derive(Default)]
struct Replica {
    arena: Vec<Model>,
    roots: BTreeMap<(String, Kind), usize>,
    aliases: BTreeMap<String, usize>,
}

impl Replica {
    fn new_container(&mut self, kind: Kind) -> usize {
        self.arena.push(match kind {
            Kind::Map => Model::Map(BTreeMap::new()),
            Kind::List => Model::List(Vec::new()),
            Kind::Text => Model::Text(Vec::new()),
            Kind::Counter => Model::Counter(0),
            Kind::Register => Model::Register(None),
            Kind::Set => Model::Set(BTreeSet::new()),
        });
        self.arena.len() - 1
    }

    fn target(&mut self, t: &Target) -> usize {
        match t {
            Target::Root { root, kind } => match self.roots.get(&(root.clone(), *kind)) {
                Some(&i) => i,
                None => {
                    let i = self.new_container(*kind);
                    self.roots.insert((root.clone(), *kind), i);
                    i
                }
            },
            Target::Alias { alias } => self.aliases[alias],
        }
    }

    fn step(&mut self, step: &Step) {
        match step {
            Step::Begin | Step::Commit => {}
            Step::MapSet { target, key, value } => {
                let i = self.target(target);
                self.map(i)
                    .insert(key.clone(), Slot::Value(value_of(value)));
            }
            Step::MapDelete { target, key } => {
                let i = self.target(target);
                self.map(i).remove(key);
            }
            Step::MapInsertContainer {
                target,
                key,
                kind,
                alias,
            } => {
                let i = self.target(target);
                let child = self.new_container(*kind);
                self.map(i).insert(key.clone(), Slot::Container(child));
                self.aliases.insert(alias.clone(), child);
            }
            Step::ListInsert {
                target,
                index,
                value,
            } => {
                let i = self.target(target);
                self.list(i).insert(*index, Slot::Value(value_of(value)));
            }
            Step::ListDelete { target, start, end } => {
                let i = self.target(target);
                self.list(i).drain(*start..*end);
            }
            Step::ListInsertContainer {
                target,
                index,
                kind,
                alias,
            } => {
                let i = self.target(target);
                let child = self.new_container(*kind);
                self.list(i).insert(*index, Slot::Container(child));
                self.aliases.insert(alias.clone(), child);
            }
            Step::TextInsert { target, pos, text } => {
                let i = self.target(target);
                let Model::Text(chars) = &mut self.arena[i] else {
                    panic!("not a text")
                };
                chars.splice(*pos..*pos, text.chars());
            }
            Step::TextDelete { target, start, end } => {
                let i = self.target(target);
                let Model::Text(chars) = &mut self.arena[i] else {
                    panic!("not a text")
                };
                chars.drain(*start..*end);
            }
            Step::CounterAdd { target, amount } => {
                let i = self.target(target);
                let Model::Counter(c) = &mut self.arena[i] else {
                    panic!("not a counter")
                };
                *c += amount;
            }
            Step::RegisterSet { target, value } => {
                let i = self.target(target);
                self.arena[i] = Model::Register(Some(value_of(value)));
            }
            Step::SetAdd { target, value } => {
                let i = self.target(target);
                self.set(i).insert(value_of(value));
            }
            Step::SetRemove { target, value } => {
                let i = self.target(target);
                self.set(i).remove(&value_of(value));
            }
        }
    }

    fn map(&mut self, i: usize) -> &mut BTreeMap<String, Slot> {
        match &mut self.arena[i] {
            Model::Map(m) => m,
            _ => panic!("not a map"),
        }
    }

    fn list(&mut self, i: usize) -> &mut Vec<Slot> {
        match &mut self.arena[i] {
            Model::List(l) => l,
            _ => panic!("not a list"),
        }
    }

    fn set(&mut self, i: usize) -> &mut BTreeSet<Value> {
        match &mut self.arena[i] {
            Model::Set(s) => s,
            _ => panic!("not a set"),
        }
    }

    fn slot_json(&self, slot: &Slot) -> Json {
        match slot {
            Slot::Value(v) => json_of_value(v),
            Slot::Container(i) => self.json(*i),
        }
    }

    fn json(&self, i: usize) -> Json {
        match &self.arena[i] {
            Model::Map(m) => Json::Object(
                m.iter()
                    .map(|(k, s)| (k.clone(), self.slot_json(s)))
                    .collect(),
            ),
            Model::List(l) => Json::Array(l.iter().map(|s| self.slot_json(s)).collect()),
            Model::Text(t) => Json::String(t.iter().collect()),
            Model::Counter(c) => json!(c),
            Model::Register(r) => r.as_ref().map_or(Json::Null, json_of_value),
            Model::Set(s) => Json::Array(s.iter().map(json_of_value).collect()),
        }
    }

    fn is_empty(&self, i: usize) -> bool {
        match &self.arena[i] {
            Model::Map(m) => m.is_empty(),
            Model::List(l) => l.is_empty(),
            Model::Text(t) => t.is_empty(),
            Model::Counter(c) => *c == 0,
            Model::Register(r) => r.is_none(),
            Model::Set(s) => s.is_empty(),
        }
    }

    /// The JSON view: non-empty roots by name, `name:kind` where two share a name.
    fn view(&self) -> Json {
        let live: Vec<(&(String, Kind), &usize)> = self
            .roots
            .iter()
            .filter(|(_, i)| !self.is_empty(**i))
            .collect();
        let mut out = serde_json::Map::new();
        for &((name, kind), &i) in &live {
            let shared = live.iter().filter(|((n, _), _)| n == name).count() > 1;
            let key = if shared {
                format!("{name}:{}", kind.kernel().name())
            } else {
                name.clone()
            };
            out.insert(key, self.json(i));
        }
        Json::Object(out)
    }
}

/// What the steps give on the model.
fn model_view(steps: &[Step]) -> Json {
    let mut model = Replica::default();
    for s in steps {
        model.step(s);
    }
    model.view()
}

// ---------------------------------------------------------------------------------------------
// Self-consistency: what a binding checks, done here in Rust first.

fn check_session(v: &SessionVector) {
    let name = &v.name;
    assert_eq!(
        v.json,
        model_view(&v.steps),
        "{name}: the kernel's view differs from the model's"
    );
    let mut loaded = Doc::load(&unhex(&v.snapshot)).expect("snapshot loads");
    assert_eq!(
        loaded.replica(),
        ReplicaId(v.replica),
        "{name}: snapshot replica"
    );
    assert_eq!(
        hex(&converge::encode(&loaded.version())),
        v.version,
        "{name}: version after load(snapshot)"
    );
    assert_eq!(
        json_view(&mut loaded, &v.roots()),
        v.json,
        "{name}: load(snapshot)"
    );
    assert_eq!(
        hex(&loaded.save().expect("save")),
        v.snapshot,
        "{name}: load(snapshot).save()"
    );

    let mut applied = Doc::new(READER);
    applied
        .apply_update(&unhex(&v.all_updates))
        .expect("all_updates apply");
    assert_eq!(
        hex(&converge::encode(&applied.version())),
        v.version,
        "{name}: version after apply(all_updates)"
    );
    assert_eq!(
        json_view(&mut applied, &v.roots()),
        v.json,
        "{name}: apply(all_updates)"
    );

    if let Some(h) = &v.history {
        let mut from_history = Doc::load(&unhex(h)).expect("history loads");
        assert_eq!(
            json_view(&mut from_history, &v.roots()),
            v.json,
            "{name}: load(history)"
        );
    }

    let decoded: VersionVector = converge::decode(&unhex(&v.version)).expect("version decodes");
    assert_eq!(decoded, applied.version(), "{name}: version decodes");
}

/// Every permutation of `0..n` (n is at most 4 here).
fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, n - 1);
            out.push(q);
        }
    }
    out
}

fn check_merge(v: &MergeVector) {
    let name = &v.name;
    // Counters need no conflict rule: the merged value is the sum of every branch's amounts.
    let all: Vec<Step> = v
        .base
        .iter()
        .chain(&v.replicas)
        .flat_map(|b| b.steps.iter().cloned())
        .collect();
    for r in v.roots().iter().filter(|r| r.kind == Kind::Counter) {
        let sum: i64 = all
            .iter()
            .filter_map(|s| match s {
                Step::CounterAdd {
                    target: Target::Root { root, kind },
                    amount,
                } if *root == r.name && *kind == Kind::Counter => Some(*amount),
                _ => None,
            })
            .sum();
        let shown = v.json.get(&r.name).cloned().unwrap_or(json!(0));
        assert_eq!(
            shown,
            json!(sum),
            "{name}: counter {} is the sum of the amounts",
            r.name
        );
    }
    let inputs: Vec<Vec<u8>> = v.inputs.iter().map(|s| unhex(s)).collect();
    for order in permutations(inputs.len()) {
        let mut doc = Doc::new(READER);
        for &i in &order {
            doc.apply_update(&inputs[i]).expect("merge input applies");
        }
        assert_eq!(
            doc.pending_count(),
            0,
            "{name}: order {order:?} leaves updates buffered"
        );
        assert_eq!(
            hex(&converge::encode(&doc.version())),
            v.version,
            "{name}: version in order {order:?}"
        );
        assert_eq!(
            json_view(&mut doc, &v.roots()),
            v.json,
            "{name}: order {order:?}"
        );
    }
    let parts: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
    let merged = Doc::merge_updates(&parts).expect("merge_updates");
    let mut doc = Doc::new(READER);
    doc.apply_update(&merged).expect("merged updates apply");
    assert_eq!(
        json_view(&mut doc, &v.roots()),
        v.json,
        "{name}: merge_updates"
    );
}

// ---------------------------------------------------------------------------------------------
// The scripted sessions.

fn steps(v: Json) -> Vec<Step> {
    serde_json::from_value(v).expect("the scripted steps parse")
}

fn branch(replica: u64, v: Json) -> Branch {
    Branch {
        replica,
        steps: steps(v),
    }
}

fn sessions() -> Vec<SessionVector> {
    let t = json!({"root": "doc", "kind": "text"});
    let m = json!({"root": "m", "kind": "map"});
    let l = json!({"root": "l", "kind": "list"});
    let c = json!({"root": "c", "kind": "counter"});
    let r = json!({"root": "r", "kind": "register"});
    let s = json!({"root": "s", "kind": "set"});
    let bytes = |h: &str| json!({ "$bytes": h });
    vec![
        run_session("empty", 1, steps(json!([]))),
        run_session(
            "text-unicode",
            1,
            steps(json!([
                {"op": "text_insert", "target": t, "pos": 0, "text": "héllo wörld"},
                {"op": "text_insert", "target": t, "pos": 5, "text": " 🎉"},
                {"op": "text_insert", "target": t, "pos": 0, "text": "日本語 "},
                {"op": "text_delete", "target": t, "start": 1, "end": 2},
                {"op": "text_insert", "target": t, "pos": 14, "text": "👩‍💻"},
                {"op": "text_delete", "target": t, "start": 9, "end": 11},
                {"op": "text_insert", "target": t, "pos": 17, "text": "!𝄞"},
                {"op": "text_delete", "target": t, "start": 0, "end": 1},
            ])),
        ),
        run_session(
            "map-overwrite-delete",
            2,
            steps(json!([
                {"op": "map_set", "target": m, "key": "a", "value": 1},
                {"op": "map_set", "target": m, "key": "b", "value": "two"},
                {"op": "map_set", "target": m, "key": "a", "value": "one"},
                {"op": "map_set", "target": m, "key": "gone", "value": true},
                {"op": "map_delete", "target": m, "key": "gone"},
                {"op": "map_set", "target": m, "key": "back", "value": 1},
                {"op": "map_delete", "target": m, "key": "back"},
                {"op": "map_set", "target": m, "key": "back", "value": 2},
                {"op": "map_delete", "target": m, "key": "never-set"},
                {"op": "map_set", "target": m, "key": "ключ 🔑", "value": "значение"},
            ])),
        ),
        run_session(
            "list-insert-delete",
            3,
            steps(json!([
                {"op": "list_insert", "target": l, "index": 0, "value": "a"},
                {"op": "list_insert", "target": l, "index": 1, "value": "c"},
                {"op": "list_insert", "target": l, "index": 1, "value": "b"},
                {"op": "list_insert", "target": l, "index": 0, "value": 0},
                {"op": "list_insert", "target": l, "index": 4, "value": null},
                {"op": "list_delete", "target": l, "start": 1, "end": 3},
                {"op": "list_insert", "target": l, "index": 1, "value": 1.5},
                {"op": "list_delete", "target": l, "start": 0, "end": 1},
                {"op": "list_insert", "target": l, "index": 3, "value": bytes("00ff")},
            ])),
        ),
        run_session(
            "counter",
            4,
            steps(json!([
                {"op": "counter_add", "target": c, "amount": 5},
                {"op": "counter_add", "target": c, "amount": -12},
                {"op": "counter_add", "target": c, "amount": 1},
                {"op": "counter_add", "target": c, "amount": 0},
            ])),
        ),
        run_session(
            "register",
            5,
            steps(json!([
                {"op": "register_set", "target": r, "value": "first"},
                {"op": "register_set", "target": r, "value": 2.25},
            ])),
        ),
        run_session(
            "set-add-remove",
            6,
            steps(json!([
                {"op": "set_add", "target": s, "value": 3},
                {"op": "set_add", "target": s, "value": "b"},
                {"op": "set_add", "target": s, "value": -1},
                {"op": "set_add", "target": s, "value": "a"},
                {"op": "set_add", "target": s, "value": 3},
                {"op": "set_remove", "target": s, "value": "b"},
                {"op": "set_add", "target": s, "value": bytes("01")},
                {"op": "set_add", "target": s, "value": false},
                {"op": "set_add", "target": s, "value": null},
                {"op": "set_add", "target": s, "value": 0.5},
                {"op": "set_remove", "target": s, "value": -1},
                {"op": "set_remove", "target": s, "value": "never-added"},
            ])),
        ),
        run_session(
            "values",
            7,
            steps(json!([
                {"op": "map_set", "target": m, "key": "null", "value": null},
                {"op": "map_set", "target": m, "key": "true", "value": true},
                {"op": "map_set", "target": m, "key": "false", "value": false},
                {"op": "map_set", "target": m, "key": "int", "value": -42},
                {"op": "map_set", "target": m, "key": "zero", "value": 0},
                {"op": "map_set", "target": m, "key": "float", "value": 3.75},
                {"op": "map_set", "target": m, "key": "negative float", "value": -0.001},
                {"op": "map_set", "target": m, "key": "string", "value": "a \"quoted\" \\ line\nbreak"},
                {"op": "map_set", "target": m, "key": "empty string", "value": ""},
                {"op": "map_set", "target": m, "key": "unicode", "value": "ünï 😀"},
                {"op": "map_set", "target": m, "key": "bytes", "value": bytes("00017f80ff")},
                {"op": "map_set", "target": m, "key": "empty bytes", "value": bytes("")},
                {"op": "list_insert", "target": l, "index": 0, "value": null},
                {"op": "list_insert", "target": l, "index": 1, "value": true},
                {"op": "list_insert", "target": l, "index": 2, "value": 7},
                {"op": "list_insert", "target": l, "index": 3, "value": -2.5},
                {"op": "list_insert", "target": l, "index": 4, "value": "s"},
                {"op": "list_insert", "target": l, "index": 5, "value": bytes("beef")},
                {"op": "register_set", "target": r, "value": bytes("c0ffee")},
            ])),
        ),
        run_session(
            "nested",
            8,
            steps(json!([
                {"op": "map_set", "target": m, "key": "title", "value": "board"},
                {"op": "map_insert_container", "target": m, "key": "cards", "kind": "list", "as": "cards"},
                {"op": "list_insert_container", "target": {"alias": "cards"}, "index": 0, "kind": "map", "as": "card1"},
                {"op": "map_set", "target": {"alias": "card1"}, "key": "done", "value": false},
                {"op": "map_insert_container", "target": {"alias": "card1"}, "key": "body", "kind": "text", "as": "body1"},
                {"op": "text_insert", "target": {"alias": "body1"}, "pos": 0, "text": "write vectors ✍️"},
                {"op": "map_insert_container", "target": {"alias": "card1"}, "key": "tags", "kind": "set", "as": "tags1"},
                {"op": "set_add", "target": {"alias": "tags1"}, "value": "rust"},
                {"op": "set_add", "target": {"alias": "tags1"}, "value": "json"},
                {"op": "map_insert_container", "target": {"alias": "card1"}, "key": "votes", "kind": "counter", "as": "votes1"},
                {"op": "counter_add", "target": {"alias": "votes1"}, "amount": 3},
                {"op": "list_insert_container", "target": {"alias": "cards"}, "index": 0, "kind": "list", "as": "inner"},
                {"op": "list_insert", "target": {"alias": "inner"}, "index": 0, "value": 1},
                {"op": "list_insert_container", "target": {"alias": "inner"}, "index": 1, "kind": "register", "as": "reg"},
                {"op": "register_set", "target": {"alias": "reg"}, "value": "deep"},
                {"op": "list_insert", "target": {"alias": "cards"}, "index": 2, "value": "plain"},
                {"op": "map_insert_container", "target": m, "key": "notes", "kind": "text", "as": "notes"},
                {"op": "text_insert", "target": {"alias": "notes"}, "pos": 0, "text": "hello"},
                {"op": "map_insert_container", "target": m, "key": "replaced", "kind": "map", "as": "old"},
                {"op": "map_set", "target": {"alias": "old"}, "key": "x", "value": 1},
                {"op": "map_set", "target": m, "key": "replaced", "value": "by a value"},
                {"op": "map_insert_container", "target": m, "key": "empty list", "kind": "list", "as": "el"},
            ])),
        ),
        run_session(
            "transactions",
            9,
            steps(json!([
                {"op": "begin"},
                {"op": "text_insert", "target": t, "pos": 0, "text": "abc"},
                {"op": "map_set", "target": m, "key": "k", "value": 1},
                {"op": "map_insert_container", "target": m, "key": "list", "kind": "list", "as": "list"},
                {"op": "list_insert", "target": {"alias": "list"}, "index": 0, "value": "x"},
                {"op": "counter_add", "target": c, "amount": 2},
                {"op": "commit"},
                {"op": "text_insert", "target": t, "pos": 3, "text": "d"},
                {"op": "begin"},
                {"op": "text_delete", "target": t, "start": 0, "end": 1},
                {"op": "map_set", "target": m, "key": "k", "value": 2},
                {"op": "list_insert", "target": {"alias": "list"}, "index": 1, "value": "y"},
                {"op": "list_delete", "target": {"alias": "list"}, "start": 0, "end": 1},
                {"op": "counter_add", "target": c, "amount": -5},
                {"op": "set_add", "target": s, "value": "t"},
                {"op": "commit"},
                {"op": "begin"},
                {"op": "commit"},
            ])),
        ),
        run_session(
            "two-roots",
            10,
            steps(json!([
                {"op": "text_insert", "target": {"root": "notes", "kind": "text"}, "pos": 0, "text": "buy milk"},
                {"op": "list_insert", "target": {"root": "todo", "kind": "list"}, "index": 0, "value": "milk"},
                {"op": "list_insert", "target": {"root": "todo", "kind": "list"}, "index": 1, "value": "eggs"},
            ])),
        ),
        run_session(
            "same-name-roots",
            11,
            steps(json!([
                {"op": "map_set", "target": {"root": "x", "kind": "map"}, "key": "k", "value": 1},
                {"op": "text_insert", "target": {"root": "x", "kind": "text"}, "pos": 0, "text": "t"},
                {"op": "counter_add", "target": {"root": "y", "kind": "counter"}, "amount": 1},
            ])),
        ),
        run_session(
            "values-int64",
            12,
            steps(json!([
                {"op": "map_set", "target": m, "key": "max", "value": i64::MAX},
                {"op": "map_set", "target": m, "key": "min", "value": i64::MIN},
                {"op": "map_set", "target": m, "key": "2^53+1", "value": 9_007_199_254_740_993_i64},
                {"op": "list_insert", "target": l, "index": 0, "value": i64::MIN},
                {"op": "list_insert", "target": l, "index": 1, "value": -9_007_199_254_740_993_i64},
                {"op": "set_add", "target": s, "value": i64::MAX},
                {"op": "set_add", "target": s, "value": 9_007_199_254_740_992_i64},
                {"op": "set_add", "target": s, "value": 9_007_199_254_740_993_i64},
                {"op": "register_set", "target": r, "value": i64::MAX - 1},
                {"op": "counter_add", "target": c, "amount": 4_611_686_018_427_387_904_i64},
                {"op": "counter_add", "target": c, "amount": 4_611_686_018_427_387_903_i64},
            ])),
        ),
        run_session(
            "containers-deleted",
            13,
            steps(json!([
                {"op": "list_insert_container", "target": l, "index": 0, "kind": "text", "as": "t0"},
                {"op": "text_insert", "target": {"alias": "t0"}, "pos": 0, "text": "first"},
                {"op": "list_insert_container", "target": l, "index": 1, "kind": "map", "as": "m1"},
                {"op": "map_set", "target": {"alias": "m1"}, "key": "k", "value": "v"},
                {"op": "list_insert", "target": l, "index": 2, "value": "scalar"},
                {"op": "list_insert_container", "target": l, "index": 3, "kind": "list", "as": "l3"},
                {"op": "list_insert", "target": {"alias": "l3"}, "index": 0, "value": 3},
                {"op": "list_delete", "target": l, "start": 0, "end": 2},
                {"op": "list_insert", "target": {"alias": "l3"}, "index": 1, "value": 4},
                {"op": "map_insert_container", "target": m, "key": "child", "kind": "set", "as": "cs"},
                {"op": "set_add", "target": {"alias": "cs"}, "value": "x"},
                {"op": "map_delete", "target": m, "key": "child"},
                {"op": "map_insert_container", "target": m, "key": "child", "kind": "counter", "as": "cc"},
                {"op": "counter_add", "target": {"alias": "cc"}, "amount": -1},
                {"op": "map_insert_container", "target": m, "key": "emptied", "kind": "map", "as": "em"},
                {"op": "map_set", "target": {"alias": "em"}, "key": "k", "value": 1},
                {"op": "map_delete", "target": {"alias": "em"}, "key": "k"},
            ])),
        ),
        run_session("text-typing", 14, typing_steps(&t)),
    ]
}

/// A typing session: a sentence typed one char per step, typos corrected with backspace, a
/// word inserted in the middle, a selection deleted and retyped; then a paragraph pasted.
fn typing_steps(t: &Json) -> Vec<Step> {
    let mut out = Vec::new();
    let mut len = 0;
    let type_str = |out: &mut Vec<Json>, pos: &mut usize, s: &str| {
        for ch in s.chars() {
            out.push(
                json!({"op": "text_insert", "target": t, "pos": *pos, "text": ch.to_string()}),
            );
            *pos += 1;
        }
    };
    let backspace = |out: &mut Vec<Json>, pos: &mut usize, n: usize| {
        for _ in 0..n {
            out.push(json!({"op": "text_delete", "target": t, "start": *pos - 1, "end": *pos}));
            *pos -= 1;
        }
    };
    type_str(&mut out, &mut len, "The quikc");
    backspace(&mut out, &mut len, 2);
    type_str(&mut out, &mut len, "ck brown fox jumps over the lazy dog.");
    let mut cursor = 10; // after "The quick "
    type_str(&mut out, &mut cursor, "and nimble ");
    len += 11;
    out.push(json!({"op": "text_delete", "target": t, "start": 4, "end": 9}));
    len -= 5;
    let mut cursor = 4;
    type_str(&mut out, &mut cursor, "slow");
    len += 4;
    out.push(json!({"op": "text_insert", "target": t, "pos": len, "text": " Ça va? Ünïcödé, 中文, 🦊🐶."}));
    steps(Json::Array(out))
}

fn merges() -> Vec<MergeVector> {
    let t = json!({"root": "doc", "kind": "text"});
    let l = json!({"root": "l", "kind": "list"});
    let m = json!({"root": "m", "kind": "map"});
    let c = json!({"root": "c", "kind": "counter"});
    let r = json!({"root": "r", "kind": "register"});
    let s = json!({"root": "s", "kind": "set"});
    vec![
        run_merge(
            "merge-text-same-position",
            Some(branch(
                1,
                json!([{"op": "text_insert", "target": t, "pos": 0, "text": "ab"}]),
            )),
            vec![
                branch(
                    2,
                    json!([
                        {"op": "text_insert", "target": t, "pos": 1, "text": "XY"},
                        {"op": "text_delete", "target": t, "start": 3, "end": 4},
                    ]),
                ),
                branch(
                    3,
                    json!([
                        {"op": "text_insert", "target": t, "pos": 1, "text": "12"},
                        {"op": "text_insert", "target": t, "pos": 4, "text": "é🎉"},
                    ]),
                ),
            ],
        ),
        run_merge(
            "merge-map-same-key",
            Some(branch(
                1,
                json!([
                    {"op": "map_set", "target": m, "key": "k", "value": 1},
                    {"op": "map_set", "target": m, "key": "gone", "value": "x"},
                ]),
            )),
            vec![
                branch(
                    2,
                    json!([
                        {"op": "map_set", "target": m, "key": "k", "value": "two"},
                        {"op": "map_delete", "target": m, "key": "gone"},
                        {"op": "map_insert_container", "target": m, "key": "child", "kind": "list", "as": "l"},
                        {"op": "list_insert", "target": {"alias": "l"}, "index": 0, "value": 2},
                    ]),
                ),
                branch(
                    3,
                    json!([
                        {"op": "map_set", "target": m, "key": "k", "value": 3.5},
                        {"op": "map_insert_container", "target": m, "key": "child", "kind": "text", "as": "t"},
                        {"op": "text_insert", "target": {"alias": "t"}, "pos": 0, "text": "three"},
                    ]),
                ),
            ],
        ),
        run_merge(
            "merge-set-add-remove",
            Some(branch(
                1,
                json!([
                    {"op": "set_add", "target": s, "value": 1},
                    {"op": "set_add", "target": s, "value": 2},
                    {"op": "set_add", "target": s, "value": "a"},
                ]),
            )),
            vec![
                branch(
                    2,
                    json!([
                        {"op": "set_remove", "target": s, "value": 1},
                        {"op": "set_remove", "target": s, "value": "a"},
                        {"op": "set_add", "target": s, "value": "new"},
                    ]),
                ),
                branch(
                    3,
                    json!([
                        {"op": "set_add", "target": s, "value": 1},
                        {"op": "set_remove", "target": s, "value": 2},
                    ]),
                ),
            ],
        ),
        run_merge(
            "merge-counter",
            None,
            vec![
                branch(1, json!([{"op": "counter_add", "target": c, "amount": 5}])),
                branch(
                    2,
                    json!([
                        {"op": "counter_add", "target": c, "amount": -3},
                        {"op": "counter_add", "target": c, "amount": -4},
                    ]),
                ),
                branch(3, json!([{"op": "counter_add", "target": c, "amount": 10}])),
            ],
        ),
        run_merge(
            "merge-register",
            None,
            vec![
                branch(
                    1,
                    json!([{"op": "register_set", "target": r, "value": "one"}]),
                ),
                branch(2, json!([{"op": "register_set", "target": r, "value": 2}])),
            ],
        ),
        run_merge(
            "merge-text-three-replicas",
            None,
            vec![
                branch(
                    1,
                    json!([{"op": "text_insert", "target": t, "pos": 0, "text": "one "}]),
                ),
                branch(
                    2,
                    json!([{"op": "text_insert", "target": t, "pos": 0, "text": "two "}]),
                ),
                branch(
                    3,
                    json!([
                        {"op": "text_insert", "target": t, "pos": 0, "text": "three"},
                        {"op": "text_delete", "target": t, "start": 0, "end": 1},
                    ]),
                ),
            ],
        ),
        run_merge(
            "merge-list-same-index",
            Some(branch(
                1,
                json!([
                    {"op": "list_insert", "target": l, "index": 0, "value": "a"},
                    {"op": "list_insert", "target": l, "index": 1, "value": "b"},
                    {"op": "list_insert", "target": l, "index": 2, "value": "c"},
                ]),
            )),
            vec![
                branch(
                    2,
                    json!([
                        {"op": "list_insert", "target": l, "index": 1, "value": 2},
                        {"op": "list_delete", "target": l, "start": 2, "end": 3},
                    ]),
                ),
                branch(
                    3,
                    json!([
                        {"op": "list_insert", "target": l, "index": 1, "value": 3},
                        {"op": "list_delete", "target": l, "start": 2, "end": 3},
                        {"op": "list_insert", "target": l, "index": 3, "value": "end"},
                    ]),
                ),
            ],
        ),
        run_merge(
            "merge-nested",
            Some(branch(
                1,
                json!([
                    {"op": "map_insert_container", "target": m, "key": "cards", "kind": "list", "as": "cards"},
                    {"op": "list_insert_container", "target": {"alias": "cards"}, "index": 0, "kind": "text", "as": "card"},
                    {"op": "text_insert", "target": {"alias": "card"}, "pos": 0, "text": "draft"},
                    {"op": "map_insert_container", "target": m, "key": "meta", "kind": "map", "as": "meta"},
                    {"op": "map_set", "target": {"alias": "meta"}, "key": "owner", "value": "ann"},
                ]),
            )),
            vec![
                branch(
                    2,
                    json!([
                        {"op": "begin"},
                        {"op": "map_insert_container", "target": m, "key": "cards", "kind": "list", "as": "cards2"},
                        {"op": "list_insert", "target": {"alias": "cards2"}, "index": 0, "value": "fresh"},
                        {"op": "map_set", "target": m, "key": "by", "value": 2},
                        {"op": "commit"},
                    ]),
                ),
                branch(
                    3,
                    json!([
                        {"op": "map_delete", "target": m, "key": "meta"},
                        {"op": "counter_add", "target": c, "amount": 1},
                    ]),
                ),
            ],
        ),
        run_merge(
            "merge-transactions",
            Some(branch(
                1,
                json!([{"op": "text_insert", "target": t, "pos": 0, "text": "0123456789"}]),
            )),
            vec![
                branch(
                    2,
                    json!([
                        {"op": "begin"},
                        {"op": "text_delete", "target": t, "start": 2, "end": 6},
                        {"op": "text_insert", "target": t, "pos": 2, "text": "two"},
                        {"op": "set_add", "target": s, "value": "from 2"},
                        {"op": "counter_add", "target": c, "amount": -2},
                        {"op": "commit"},
                    ]),
                ),
                branch(
                    3,
                    json!([
                        {"op": "begin"},
                        {"op": "text_delete", "target": t, "start": 4, "end": 8},
                        {"op": "set_add", "target": s, "value": "from 3"},
                        {"op": "counter_add", "target": c, "amount": 7},
                        {"op": "commit"},
                        {"op": "text_insert", "target": t, "pos": 0, "text": ">"},
                    ]),
                ),
            ],
        ),
    ]
}

/// What `call` on `bytes` returns (after `setup`): `Ok(())` or the error's code, checking that a
/// rejected `apply_update` leaves the document unchanged.
fn try_call(setup: &[Vec<u8>], call: Call, bytes: &[u8]) -> Result<(), String> {
    match call {
        Call::ApplyUpdate => {
            let mut doc = Doc::new(READER);
            for u in setup {
                doc.apply_update(u).expect("setup updates apply");
            }
            let before = doc.save().expect("save");
            let result = doc.apply_update(bytes).map(|_| ());
            if result.is_err() {
                assert_eq!(
                    doc.save().expect("save"),
                    before,
                    "a rejected update changed the doc"
                );
            }
            result.map_err(|e| e.code().to_string())
        }
        Call::Load => Doc::load(bytes)
            .map(|_| ())
            .map_err(|e| e.code().to_string()),
    }
}

/// An error case before it is run: name, setup messages, call, input bytes.
type Case<'a> = (&'a str, Vec<Vec<u8>>, Call, Vec<u8>);

/// Rejected inputs, made from the sessions' bytes by cutting, corrupting and mixing them up.
fn error_vectors(sessions: &[SessionVector]) -> ErrorVectors {
    let by_name = |n: &str| {
        sessions
            .iter()
            .find(|v| v.name == n)
            .expect("a session of that name")
    };
    let text = by_name("text-unicode");
    let updates = unhex(&text.all_updates);
    let snapshot = unhex(&text.snapshot);
    let half = |b: &[u8]| b[..b.len() / 2].to_vec();
    let flip = |b: &[u8], i: usize| {
        let mut b = b.to_vec();
        b[i] ^= 0xff;
        b
    };
    // Same replica as text-unicode (1), other content: its first update reuses a known id.
    let mut other = Doc::new(ReplicaId(text.replica));
    other
        .text_insert(ContainerId::root("doc", ContainerKind::Text), 0, "other")
        .expect("insert");
    let conflicting = other.encode_updates_since(&empty());
    let cases: Vec<Case<'_>> = vec![
        ("apply-empty", vec![], Call::ApplyUpdate, vec![]),
        ("apply-truncated", vec![], Call::ApplyUpdate, half(&updates)),
        (
            "apply-bad-magic",
            vec![],
            Call::ApplyUpdate,
            flip(&updates, 0),
        ),
        (
            "apply-bad-format-version",
            vec![],
            Call::ApplyUpdate,
            flip(&updates, 3),
        ),
        (
            "apply-snapshot-bytes",
            vec![],
            Call::ApplyUpdate,
            snapshot.clone(),
        ),
        (
            "apply-conflicting-update",
            vec![updates.clone()],
            Call::ApplyUpdate,
            conflicting,
        ),
        ("load-empty", vec![], Call::Load, vec![]),
        ("load-truncated", vec![], Call::Load, half(&snapshot)),
        ("load-bad-magic", vec![], Call::Load, flip(&snapshot, 0)),
        (
            "load-bad-format-version",
            vec![],
            Call::Load,
            flip(&snapshot, 3),
        ),
        ("load-update-bytes", vec![], Call::Load, updates.clone()),
    ];
    ErrorVectors {
        name: "errors".into(),
        cases: cases
            .into_iter()
            .map(|(name, setup, call, bytes)| {
                let code = match try_call(&setup, call, &bytes) {
                    Err(code) => code,
                    Ok(()) => panic!("errors: {name} was accepted"),
                };
                ErrorCase {
                    name: name.into(),
                    setup: setup.iter().map(|u| hex(u)).collect(),
                    call,
                    bytes: hex(&bytes),
                    code,
                }
            })
            .collect(),
    }
}

fn check_errors(v: &ErrorVectors) {
    for case in &v.cases {
        let setup: Vec<Vec<u8>> = case.setup.iter().map(|u| unhex(u)).collect();
        assert_eq!(
            try_call(&setup, case.call, &unhex(&case.bytes)),
            Err(case.code.clone()),
            "errors: {}",
            case.name
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Files.

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
}

// The exact text of a vector file, laid out for readable diffs: one field per line, one step or
// input per line, the JSON view pretty-printed; two-space indent and a final newline. Field order
// is the structs' (not a map's), so the text does not depend on serde_json's features.

fn indent(depth: usize) -> String {
    "  ".repeat(depth)
}

fn compact<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("vectors serialize")
}

fn pretty(v: &Json, depth: usize) -> String {
    let text = serde_json::to_string_pretty(v).expect("vectors serialize");
    text.replace('\n', &format!("\n{}", indent(depth)))
}

fn rows(items: &[String], depth: usize) -> String {
    if items.is_empty() {
        return "[]".into();
    }
    let inner = indent(depth + 1);
    let body: Vec<String> = items.iter().map(|i| format!("{inner}{i}")).collect();
    format!("[\n{}\n{}]", body.join(",\n"), indent(depth))
}

fn object(fields: &[(&str, String)], depth: usize) -> String {
    let inner = indent(depth + 1);
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{inner}{}: {v}", compact(*k)))
        .collect();
    format!("{{\n{}\n{}}}", body.join(",\n"), indent(depth))
}

fn step_rows(steps: &[Step], depth: usize) -> String {
    let items: Vec<String> = steps.iter().map(compact).collect();
    rows(&items, depth)
}

fn session_text(v: &SessionVector) -> String {
    let mut fields = vec![
        ("name", compact(&v.name)),
        ("replica", compact(&v.replica)),
        ("steps", step_rows(&v.steps, 1)),
        ("all_updates", compact(&v.all_updates)),
        ("version", compact(&v.version)),
        ("snapshot", compact(&v.snapshot)),
    ];
    if let Some(h) = &v.history {
        fields.push(("history", compact(h)));
    }
    fields.push(("json", pretty(&v.json, 1)));
    let text = object(&fields, 0) + "\n";
    let back: SessionVector = serde_json::from_str(&text).expect("the layout parses");
    assert_eq!(
        &back, v,
        "{}: the file text reads back as the vector",
        v.name
    );
    text
}

fn branch_text(b: &Branch, depth: usize) -> String {
    let fields = [
        ("replica", compact(&b.replica)),
        ("steps", step_rows(&b.steps, depth + 1)),
    ];
    object(&fields, depth)
}

fn merge_text(v: &MergeVector) -> String {
    let mut fields = vec![("name", compact(&v.name))];
    if let Some(b) = &v.base {
        fields.push(("base", branch_text(b, 1)));
    }
    let replicas: Vec<String> = v.replicas.iter().map(|b| branch_text(b, 2)).collect();
    let inputs: Vec<String> = v.inputs.iter().map(compact).collect();
    fields.extend([
        ("replicas", rows(&replicas, 1)),
        ("inputs", rows(&inputs, 1)),
        ("version", compact(&v.version)),
        ("json", pretty(&v.json, 1)),
    ]);
    let text = object(&fields, 0) + "\n";
    let back: MergeVector = serde_json::from_str(&text).expect("the layout parses");
    assert_eq!(
        &back, v,
        "{}: the file text reads back as the vector",
        v.name
    );
    text
}

fn errors_text(v: &ErrorVectors) -> String {
    let cases: Vec<String> = v
        .cases
        .iter()
        .map(|c| {
            let fields = [
                ("name", compact(&c.name)),
                ("setup", compact(&c.setup)),
                ("call", compact(&c.call)),
                ("bytes", compact(&c.bytes)),
                ("code", compact(&c.code)),
            ];
            object(&fields, 2)
        })
        .collect();
    let fields = [("name", compact(&v.name)), ("cases", rows(&cases, 1))];
    let text = object(&fields, 0) + "\n";
    let back: ErrorVectors = serde_json::from_str(&text).expect("the layout parses");
    assert_eq!(&back, v, "errors: the file text reads back as the vectors");
    text
}

/// The file holding the error cases (every other file is a session or merge vector).
const ERRORS_FILE: &str = "errors.json";

/// Every vector, by file name, as its text.
fn expected_files() -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let sessions = sessions();
    files.insert(ERRORS_FILE.into(), errors_text(&error_vectors(&sessions)));
    for v in sessions {
        files.insert(format!("{}.json", v.name), session_text(&v));
    }
    for v in merges() {
        files.insert(format!("{}.json", v.name), merge_text(&v));
    }
    files
}

fn committed_json_files() -> BTreeSet<String> {
    match std::fs::read_dir(vectors_dir()) {
        Ok(entries) => entries
            .map(|e| e.expect("readable vectors/").file_name())
            .filter_map(|n| n.into_string().ok())
            .filter(|n| n.ends_with(".json"))
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

#[test]
fn vectors_are_self_consistent() {
    let sessions = sessions();
    assert!(sessions.len() >= 10);
    for v in &sessions {
        check_session(v);
    }
    for v in &merges() {
        check_merge(v);
    }
    check_errors(&error_vectors(&sessions));
}

/// Every op of the step vocabulary, every container kind (as a root and nested) and every
/// value kind appears in some session, so a binding that passes the vectors has run them all.
#[test]
fn vectors_cover_the_vocabulary() {
    let sessions = sessions();
    let merges = merges();
    let all: Vec<&Step> = sessions
        .iter()
        .flat_map(|v| &v.steps)
        .chain(
            merges
                .iter()
                .flat_map(|v| v.base.iter().chain(&v.replicas))
                .flat_map(|b| &b.steps),
        )
        .collect();
    let ops: BTreeSet<String> = all
        .iter()
        .map(|s| serde_json::to_value(s).expect("a step serializes")["op"].to_string())
        .collect();
    assert_eq!(ops.len(), 14, "ops used: {ops:?}");

    let every_kind = [
        Kind::Map,
        Kind::List,
        Kind::Text,
        Kind::Counter,
        Kind::Register,
        Kind::Set,
    ];
    let root_kinds: BTreeSet<Kind> = sessions
        .iter()
        .flat_map(|v| v.roots())
        .map(|r| r.kind)
        .collect();
    let nested_kinds: BTreeSet<Kind> = all
        .iter()
        .filter_map(|s| match s {
            Step::MapInsertContainer { kind, .. } | Step::ListInsertContainer { kind, .. } => {
                Some(*kind)
            }
            _ => None,
        })
        .collect();
    for k in every_kind {
        assert!(root_kinds.contains(&k), "no session has a {k:?} root");
        assert!(nested_kinds.contains(&k), "no session nests a {k:?}");
    }

    let value_kinds: BTreeSet<&str> = all
        .iter()
        .filter_map(|s| match s {
            Step::MapSet { value, .. }
            | Step::ListInsert { value, .. }
            | Step::RegisterSet { value, .. }
            | Step::SetAdd { value, .. }
            | Step::SetRemove { value, .. } => Some(match value_of(value) {
                Value::Null => "null",
                Value::Bool(_) => "bool",
                Value::Int(_) => "int",
                Value::Float(f) => {
                    assert!(
                        f.is_finite() && f.fract() != 0.0,
                        "floats must be non-integral"
                    );
                    "float"
                }
                Value::Str(_) => "str",
                Value::Bytes(_) => "bytes",
            }),
            _ => None,
        })
        .collect();
    assert_eq!(value_kinds.len(), 6, "value kinds used: {value_kinds:?}");
}

#[test]
fn vectors_names_are_unique_and_merges_are_prefixed() {
    let names: Vec<String> = sessions().into_iter().map(|v| v.name).collect();
    let merges: Vec<String> = merges().into_iter().map(|v| v.name).collect();
    let all: BTreeSet<&String> = names.iter().chain(&merges).collect();
    assert_eq!(
        all.len(),
        names.len() + merges.len(),
        "duplicate vector names"
    );
    assert!(names.iter().all(|n| !n.starts_with("merge-")));
    assert!(
        !all.contains(&"errors".to_string()),
        "`errors` names the error cases' file"
    );
    assert!(merges.iter().all(|n| n.starts_with("merge-")));
}

#[test]
fn vectors_committed_files_are_current() {
    let dir = vectors_dir();
    let expected = expected_files();
    let committed = committed_json_files();
    if std::env::var("CONVERGE_WRITE_VECTORS").as_deref() == Ok("1") {
        std::fs::create_dir_all(&dir).expect("create vectors/");
        for (name, text) in &expected {
            std::fs::write(dir.join(name), text).expect("write a vector");
        }
        for stale in committed.iter().filter(|n| !expected.contains_key(*n)) {
            std::fs::remove_file(dir.join(stale)).expect("remove a stale vector");
        }
    } else {
        let mut problems = Vec::new();
        for (name, text) in &expected {
            match std::fs::read_to_string(dir.join(name)) {
                Ok(on_disk) if on_disk == *text => {}
                Ok(_) => problems.push(format!("{name} differs")),
                Err(_) => problems.push(format!("{name} is missing")),
            }
        }
        for stale in committed.iter().filter(|n| !expected.contains_key(*n)) {
            problems.push(format!("{stale} is not written by any session (stale)"));
        }
        assert!(
            problems.is_empty(),
            "vectors/ does not match what the kernel produces now:\n  {}\n\
             If the change is deliberate (a format or behaviour change), regenerate with\n  \
             CONVERGE_WRITE_VECTORS=1 cargo test -p converge --test integration vectors\n\
             review the diff and commit vectors/ (every binding's tests read these files).",
            problems.join("\n  ")
        );
    }

    // Read the files back as a binding would and replay them.
    for name in committed_json_files() {
        let text = std::fs::read_to_string(dir.join(&name)).expect("read a vector");
        if name == ERRORS_FILE {
            let v: ErrorVectors = serde_json::from_str(&text).expect("the error cases parse");
            check_errors(&v);
        } else if name.starts_with("merge-") {
            let v: MergeVector = serde_json::from_str(&text).expect("a merge vector parses");
            check_merge(&v);
        } else {
            let v: SessionVector = serde_json::from_str(&text).expect("a session vector parses");
            let again = run_session(&v.name, v.replica, v.steps.clone());
            assert_eq!(again, v, "{name}: replaying its steps gives the file");
            check_session(&v);
        }
    }
}
