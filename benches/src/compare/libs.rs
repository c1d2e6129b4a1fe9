//! One adapter per library: the same few operations (edit text, edit a list, set a map key,
//! take the update a replica produced since the last call, apply updates, encode the whole
//! document, load it back) written with each library's idiomatic public API.
//!
//! Every adapter is a thin wrapper: no caching, no shortcuts a user of the library would not
//! take. Where a library offers a batch entry point (one transaction for many edits, one call
//! for many updates), the adapter uses it, as a user would.
//!
//! Positions count Unicode scalar values. yrs counts UTF-8 bytes by default, so the workloads
//! that reach yrs use ASCII text only (the workload builder checks this).

use converge::list::{List, SequenceOps, Text};
use converge::{Crdt, LwwMap, ReplicaId};
use serde::{Deserialize, Serialize};

/// One value stored in a list or a map: the community suite stores numbers and strings.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Val {
    /// A number (the suite draws them from `0..2^31`).
    Num(u32),
    /// A string.
    Str(String),
}

/// One text edit, positions in chars.
#[derive(Clone, Debug)]
pub enum Edit {
    /// Insert the string at the position.
    Ins(usize, String),
    /// Delete `len` chars from the position.
    Del(usize, usize),
}

/// What every document adapter does.
pub trait Doc: Sized {
    /// Library name as shown in the tables.
    const NAME: &'static str;
    /// A fresh replica with id `id` (ids start at 1; higher ids win concurrent map writes in
    /// every library compared here, which the B3 map checks rely on).
    fn create(id: u64) -> Self;
    /// Start collecting update messages as transactions commit, for libraries whose
    /// idiomatic update path is an event (yrs `observe_update_v1`, loro
    /// `subscribe_local_update`). Workloads that send updates call this right after
    /// [`create`](Doc::create); the trace replays do not, as in the suite.
    fn record_updates(&mut self) {}
    /// Everything this replica did locally since the previous call, as one update message.
    fn take_update(&mut self) -> Vec<u8>;
    /// Applies updates from other replicas (one transaction where the library has one).
    fn apply_updates(&mut self, updates: &[Vec<u8>]);
    /// The whole document in the library's own persistent encoding.
    fn encode(&mut self) -> Vec<u8>;
    /// The smallest export of the whole history, where the library has one besides
    /// [`encode`](Doc::encode); [`load`](Doc::load) must accept it too.
    fn encode_history(&mut self) -> Option<Vec<u8>> {
        None
    }
    /// Rebuilds a document from [`encode`](Doc::encode) (or
    /// [`encode_history`](Doc::encode_history)) output.
    fn load(bytes: &[u8]) -> Self;
}

/// Text editing.
pub trait TextDoc: Doc {
    /// Applies the edits as one transaction.
    fn edit(&mut self, edits: &[Edit]);
    /// The current text.
    fn text(&mut self) -> String;
}

/// List editing.
pub trait ListDoc: Doc {
    /// Inserts `vals` at `pos` as one transaction.
    fn insert_vals(&mut self, pos: usize, vals: &[Val]);
    /// The current contents.
    fn vals(&mut self) -> Vec<Val>;
}

/// Map editing.
pub trait MapDoc: Doc {
    /// Sets `key` to `val` as one transaction.
    fn set(&mut self, key: &str, val: Val);
    /// The current value of `key`.
    fn get(&mut self, key: &str) -> Option<Val>;
}

// ------------------------------------------------------------------------------ converge

/// converge's [`Text`]: updates are [`SequenceOps`] in the wire envelope.
pub struct ConvergeText {
    doc: Text,
    sent: converge::VersionVector,
}

impl Doc for ConvergeText {
    const NAME: &'static str = "converge";
    fn create(id: u64) -> Self {
        ConvergeText {
            doc: Text::new(ReplicaId(id)),
            sent: converge::VersionVector::new(),
        }
    }
    fn take_update(&mut self) -> Vec<u8> {
        let ops = self.doc.ops_since(&self.sent);
        self.sent = self.doc.version();
        converge::encode(&ops)
    }
    fn apply_updates(&mut self, updates: &[Vec<u8>]) {
        let mut all = SequenceOps::<String>::default();
        for u in updates {
            let ops: SequenceOps<String> = converge::decode(u).expect("converge update decodes");
            all.ops.extend(ops.ops);
        }
        let report = self.doc.apply(&all).expect("converge apply");
        assert!(report.is_complete(), "converge: missing dependencies");
    }
    fn encode(&mut self) -> Vec<u8> {
        self.doc.encode()
    }
    fn load(bytes: &[u8]) -> Self {
        let doc = Text::decode(bytes).expect("converge text decodes");
        let sent = doc.version();
        ConvergeText { doc, sent }
    }
}

impl TextDoc for ConvergeText {
    fn edit(&mut self, edits: &[Edit]) {
        for e in edits {
            match e {
                Edit::Ins(pos, s) => self.doc.insert(*pos, s).expect("insert in range"),
                Edit::Del(pos, len) => self.doc.delete(*pos..*pos + *len).expect("delete in range"),
            }
        }
    }
    fn text(&mut self) -> String {
        self.doc.to_string()
    }
}

/// converge's [`List<Val>`].
pub struct ConvergeList {
    doc: List<Val>,
    sent: converge::VersionVector,
}

impl Doc for ConvergeList {
    const NAME: &'static str = "converge";
    fn create(id: u64) -> Self {
        ConvergeList {
            doc: List::new(ReplicaId(id)),
            sent: converge::VersionVector::new(),
        }
    }
    fn take_update(&mut self) -> Vec<u8> {
        let ops = self.doc.ops_since(&self.sent);
        self.sent = self.doc.version();
        converge::encode(&ops)
    }
    fn apply_updates(&mut self, updates: &[Vec<u8>]) {
        let mut all = SequenceOps::<Vec<Val>>::default();
        for u in updates {
            let ops: SequenceOps<Vec<Val>> = converge::decode(u).expect("converge update decodes");
            all.ops.extend(ops.ops);
        }
        let report = self.doc.apply(&all).expect("converge apply");
        assert!(report.is_complete(), "converge: missing dependencies");
    }
    fn encode(&mut self) -> Vec<u8> {
        self.doc.encode()
    }
    fn load(bytes: &[u8]) -> Self {
        let doc = List::decode(bytes).expect("converge list decodes");
        let sent = doc.version();
        ConvergeList { doc, sent }
    }
}

impl ListDoc for ConvergeList {
    fn insert_vals(&mut self, pos: usize, vals: &[Val]) {
        if let [one] = vals {
            self.doc.insert(pos, one.clone()).expect("insert in range");
        } else {
            self.doc.insert_batch(pos, vals).expect("insert in range");
        }
    }
    fn vals(&mut self) -> Vec<Val> {
        self.doc.to_vec()
    }
}

/// converge's state [`LwwMap<String, Val>`]: updates are the deltas its writes return.
pub struct ConvergeMap {
    id: ReplicaId,
    doc: LwwMap<String, Val>,
    pending: Vec<LwwMap<String, Val>>,
}

impl Doc for ConvergeMap {
    const NAME: &'static str = "converge";
    fn create(id: u64) -> Self {
        ConvergeMap {
            id: ReplicaId(id),
            doc: LwwMap::new(),
            pending: Vec::new(),
        }
    }
    fn take_update(&mut self) -> Vec<u8> {
        let mut delta = LwwMap::new();
        delta.merge_batch(&self.pending);
        self.pending.clear();
        converge::encode(&delta)
    }
    fn apply_updates(&mut self, updates: &[Vec<u8>]) {
        let deltas: Vec<LwwMap<String, Val>> = updates
            .iter()
            .map(|u| converge::decode(u).expect("converge delta decodes"))
            .collect();
        self.doc.merge_batch(&deltas);
    }
    fn encode(&mut self) -> Vec<u8> {
        converge::encode(&self.doc)
    }
    fn load(bytes: &[u8]) -> Self {
        ConvergeMap {
            id: ReplicaId(u64::MAX),
            doc: converge::decode(bytes).expect("converge map decodes"),
            pending: Vec::new(),
        }
    }
}

impl MapDoc for ConvergeMap {
    fn set(&mut self, key: &str, val: Val) {
        let d = self.doc.insert(self.id, key.to_string(), val);
        self.pending.push(d);
    }
    fn get(&mut self, key: &str) -> Option<Val> {
        self.doc.get(&key.to_string()).cloned()
    }
}

// -------------------------------------------------------------------------- converge Doc

/// converge's [`Doc`](converge::doc::Doc), the layer users edit through, with one root
/// container per kind obtained by `doc.root(name, kind)`: `"text"`, `"list"`, `"map"`.
///
/// Every edit is one call (`text_insert`, `text_delete`, `list_insert` or `list_insert_batch`,
/// `map_set`) in an implicit transaction, as an application that does not group edits makes
/// them. Updates are `encode_updates_since` the version last sent, received with
/// `apply_update` (several updates are combined by `Doc::merge_updates` first, the document's
/// batch entry point). The full encoding is `save()`; loading is `Doc::load`.
pub struct ConvergeDoc {
    doc: converge::doc::Doc,
    text: converge::doc::ContainerId,
    list: converge::doc::ContainerId,
    map: converge::doc::ContainerId,
    sent: converge::VersionVector,
}

impl ConvergeDoc {
    fn wrap(mut doc: converge::doc::Doc) -> Self {
        use converge::doc::ContainerKind;
        let text = doc.root("text", ContainerKind::Text);
        let list = doc.root("list", ContainerKind::List);
        let map = doc.root("map", ContainerKind::Map);
        let sent = doc.version();
        ConvergeDoc {
            doc,
            text,
            list,
            map,
            sent,
        }
    }
}

fn val_to_value(v: &Val) -> converge::doc::Value {
    match v {
        Val::Num(n) => converge::doc::Value::Int(i64::from(*n)),
        Val::Str(s) => converge::doc::Value::Str(s.clone()),
    }
}

fn item_to_val(item: converge::doc::Item) -> Val {
    match item.as_value() {
        Some(converge::doc::Value::Int(n)) => Val::Num(*n as u32),
        Some(converge::doc::Value::Str(s)) => Val::Str(s.clone()),
        other => panic!("converge Doc: unexpected item {other:?}"),
    }
}

impl Doc for ConvergeDoc {
    const NAME: &'static str = "converge Doc";
    fn create(id: u64) -> Self {
        Self::wrap(converge::doc::Doc::new(ReplicaId(id)))
    }
    fn take_update(&mut self) -> Vec<u8> {
        let update = self.doc.encode_updates_since(&self.sent);
        self.sent = self.doc.version();
        update
    }
    fn apply_updates(&mut self, updates: &[Vec<u8>]) {
        let report = if let [one] = updates {
            self.doc.apply_update(one)
        } else {
            let all: Vec<&[u8]> = updates.iter().map(Vec::as_slice).collect();
            let merged = converge::doc::Doc::merge_updates(&all).expect("converge Doc merge");
            self.doc.apply_update(&merged)
        }
        .expect("converge Doc apply");
        assert!(report.is_complete(), "converge Doc: missing dependencies");
    }
    fn encode(&mut self) -> Vec<u8> {
        self.doc.save().expect("no transaction open")
    }
    fn encode_history(&mut self) -> Option<Vec<u8>> {
        converge_benches::doc_history(&self.doc)
    }
    fn load(bytes: &[u8]) -> Self {
        Self::wrap(converge::doc::Doc::load(bytes).expect("converge Doc loads"))
    }
}

impl TextDoc for ConvergeDoc {
    fn edit(&mut self, edits: &[Edit]) {
        for e in edits {
            match e {
                Edit::Ins(pos, s) => self.doc.text_insert(self.text, *pos, s),
                Edit::Del(pos, len) => self.doc.text_delete(self.text, *pos..*pos + *len),
            }
            .expect("edit in range");
        }
    }
    fn text(&mut self) -> String {
        self.doc.text(self.text).expect("a text container")
    }
}

impl ListDoc for ConvergeDoc {
    fn insert_vals(&mut self, pos: usize, vals: &[Val]) {
        if let [one] = vals {
            self.doc.list_insert(self.list, pos, val_to_value(one))
        } else {
            let values: Vec<converge::doc::Value> = vals.iter().map(val_to_value).collect();
            self.doc.list_insert_batch(self.list, pos, &values)
        }
        .expect("insert in range");
    }
    fn vals(&mut self) -> Vec<Val> {
        let items = self.doc.list_items(self.list).expect("a list container");
        items.into_iter().map(item_to_val).collect()
    }
}

impl MapDoc for ConvergeDoc {
    fn set(&mut self, key: &str, val: Val) {
        self.doc
            .map_set(self.map, key, val_to_value(&val))
            .expect("map set");
    }
    fn get(&mut self, key: &str) -> Option<Val> {
        let item = self.doc.map_get(self.map, key).expect("a map container")?;
        Some(item_to_val(item))
    }
}

// ------------------------------------------------------------------------ diamond-types

/// diamond-types 1.0 `ListCRDT` (text only): updates are `encode_from` the last sent version
/// with `ENCODE_PATCH`; the full encoding uses `ENCODE_FULL`.
pub struct Diamond {
    doc: diamond_types::list::ListCRDT,
    agent: diamond_types::AgentId,
    sent: Vec<usize>,
}

impl Doc for Diamond {
    const NAME: &'static str = "diamond-types";
    fn create(id: u64) -> Self {
        let mut doc = diamond_types::list::ListCRDT::new();
        let agent = doc.get_or_create_agent_id(&format!("agent{id:08}"));
        Diamond {
            doc,
            agent,
            sent: Vec::new(),
        }
    }
    fn take_update(&mut self) -> Vec<u8> {
        let opts = diamond_types::list::encoding::ENCODE_PATCH;
        let bytes = self.doc.oplog.encode_from(opts, &self.sent);
        self.sent = self.doc.oplog.local_version_ref().to_vec();
        bytes
    }
    fn apply_updates(&mut self, updates: &[Vec<u8>]) {
        for u in updates {
            self.doc
                .merge_data_and_ff(u)
                .expect("diamond-types update decodes");
        }
    }
    fn encode(&mut self) -> Vec<u8> {
        self.doc
            .oplog
            .encode(diamond_types::list::encoding::ENCODE_FULL)
    }
    fn load(bytes: &[u8]) -> Self {
        let mut doc = diamond_types::list::ListCRDT::load_from(bytes).expect("diamond-types loads");
        let agent = doc.get_or_create_agent_id("loader");
        let sent = doc.oplog.local_version_ref().to_vec();
        Diamond { doc, agent, sent }
    }
}

impl TextDoc for Diamond {
    fn edit(&mut self, edits: &[Edit]) {
        for e in edits {
            match e {
                Edit::Ins(pos, s) => {
                    self.doc.insert(self.agent, *pos, s);
                }
                Edit::Del(pos, len) => {
                    self.doc
                        .delete_without_content(self.agent, *pos..*pos + *len);
                }
            }
        }
    }
    fn text(&mut self) -> String {
        self.doc.branch.content().to_string()
    }
}

// ---------------------------------------------------------------------------------- yrs

/// A yrs `Doc` with a root text, array and map. Updates are the v1 update of each
/// transaction, collected by `observe_update_v1` (what y-websocket providers send), merged
/// with `merge_updates_v1` when a replica made several; without a subscription they are
/// `encode_diff_v1` against the state vector last sent.
pub struct Yrs {
    doc: yrs::Doc,
    text: yrs::TextRef,
    array: yrs::ArrayRef,
    map: yrs::MapRef,
    sent: yrs::StateVector,
    pending: Option<Pending>,
}

/// Update messages collected by a subscription callback.
type Pending = std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>;

impl Yrs {
    fn wrap(doc: yrs::Doc) -> Self {
        let text = doc.get_or_insert_text("text");
        let array = doc.get_or_insert_array("list");
        let map = doc.get_or_insert_map("map");
        let sent = yrs::ReadTxn::state_vector(&yrs::Transact::transact(&doc));
        Yrs {
            doc,
            text,
            array,
            map,
            sent,
            pending: None,
        }
    }
}

fn any_to_val(v: yrs::Out) -> Val {
    match v {
        yrs::Out::Any(yrs::Any::Number(yrs::Number::Int(n))) => Val::Num(n as u32),
        yrs::Out::Any(yrs::Any::Number(yrs::Number::Float(n))) => Val::Num(n as u32),
        yrs::Out::Any(yrs::Any::String(s)) => Val::Str(s.to_string()),
        other => panic!("yrs: unexpected value {other:?}"),
    }
}

fn val_to_any(v: &Val) -> yrs::Any {
    match v {
        Val::Num(n) => yrs::Any::Number(yrs::Number::Int(i64::from(*n))),
        Val::Str(s) => yrs::Any::from(s.as_str()),
    }
}

impl Doc for Yrs {
    const NAME: &'static str = "yrs";
    fn create(id: u64) -> Self {
        Self::wrap(yrs::Doc::with_client_id(id))
    }
    fn record_updates(&mut self) {
        let pending = Pending::default();
        let sink = pending.clone();
        self.doc
            .observe_update_v1("bench", move |_, e| {
                sink.lock().expect("lock").push(e.update.clone());
            })
            .expect("yrs subscribe");
        self.pending = Some(pending);
    }
    fn take_update(&mut self) -> Vec<u8> {
        use yrs::{ReadTxn, Transact};
        if let Some(p) = &self.pending {
            let mut p = p.lock().expect("lock");
            match p.len() {
                0 => {}
                1 => return p.pop().expect("one update"),
                _ => {
                    let all: Vec<&[u8]> = p.iter().map(Vec::as_slice).collect();
                    let merged = yrs::merge_updates_v1(&all).expect("yrs merge");
                    p.clear();
                    return merged;
                }
            }
        }
        let txn = self.doc.transact();
        let update = txn.encode_diff_v1(&self.sent);
        self.sent = txn.state_vector();
        update
    }
    fn apply_updates(&mut self, updates: &[Vec<u8>]) {
        use yrs::Transact;
        use yrs::updates::decoder::Decode;
        let mut txn = self.doc.transact_mut();
        for u in updates {
            let update = yrs::Update::decode_v1(u).expect("yrs update decodes");
            txn.apply_update(update).expect("yrs apply");
        }
    }
    fn encode(&mut self) -> Vec<u8> {
        use yrs::{ReadTxn, Transact};
        self.doc
            .transact()
            .encode_state_as_update_v1(&yrs::StateVector::default())
    }
    fn load(bytes: &[u8]) -> Self {
        use yrs::Transact;
        use yrs::updates::decoder::Decode;
        let doc = yrs::Doc::new();
        {
            let mut txn = doc.transact_mut();
            txn.apply_update(yrs::Update::decode_v1(bytes).expect("yrs state decodes"))
                .expect("yrs apply");
        }
        Self::wrap(doc)
    }
}

impl TextDoc for Yrs {
    fn edit(&mut self, edits: &[Edit]) {
        use yrs::{Text as _, Transact};
        let mut txn = self.doc.transact_mut();
        for e in edits {
            match e {
                Edit::Ins(pos, s) => self.text.insert(&mut txn, *pos as u32, s),
                Edit::Del(pos, len) => self.text.remove_range(&mut txn, *pos as u32, *len as u32),
            }
        }
    }
    fn text(&mut self) -> String {
        use yrs::{GetString, Transact};
        self.text.get_string(&self.doc.transact())
    }
}

impl ListDoc for Yrs {
    fn insert_vals(&mut self, pos: usize, vals: &[Val]) {
        use yrs::{Array, Transact};
        let mut txn = self.doc.transact_mut();
        self.array
            .insert_range(&mut txn, pos as u32, vals.iter().map(val_to_any));
    }
    fn vals(&mut self) -> Vec<Val> {
        use yrs::{Array, Transact};
        let txn = self.doc.transact();
        self.array.iter(&txn).map(any_to_val).collect()
    }
}

impl MapDoc for Yrs {
    fn set(&mut self, key: &str, val: Val) {
        use yrs::{Map, Transact};
        let mut txn = self.doc.transact_mut();
        self.map.insert(&mut txn, key, val_to_any(&val));
    }
    fn get(&mut self, key: &str) -> Option<Val> {
        use yrs::{Map, Transact};
        let txn = self.doc.transact();
        self.map.get(&txn, key).map(any_to_val)
    }
}

// --------------------------------------------------------------------------------- loro

/// A `LoroDoc` with a root text, list and map. Updates are what `subscribe_local_update`
/// hands out at each commit, or `export(updates(vv))` from the version last sent when a
/// replica committed several times; full encoding is a snapshot.
pub struct Loro {
    doc: loro::LoroDoc,
    sent: loro::VersionVector,
    pending: Option<(Pending, loro::Subscription)>,
}

fn loro_to_val(v: loro::LoroValue) -> Val {
    match v {
        loro::LoroValue::I64(n) => Val::Num(n as u32),
        loro::LoroValue::String(s) => Val::Str(s.to_string()),
        other => panic!("loro: unexpected value {other:?}"),
    }
}

fn val_to_loro(v: &Val) -> loro::LoroValue {
    match v {
        Val::Num(n) => loro::LoroValue::I64(i64::from(*n)),
        Val::Str(s) => loro::LoroValue::from(s.as_str()),
    }
}

impl Doc for Loro {
    const NAME: &'static str = "loro";
    fn create(id: u64) -> Self {
        let doc = loro::LoroDoc::new();
        doc.set_peer_id(id).expect("loro peer id");
        Loro {
            doc,
            sent: loro::VersionVector::default(),
            pending: None,
        }
    }
    fn record_updates(&mut self) {
        let pending = Pending::default();
        let sink = pending.clone();
        let sub = self.doc.subscribe_local_update(Box::new(move |bytes| {
            sink.lock().expect("lock").push(bytes.clone());
            true
        }));
        self.pending = Some((pending, sub));
    }
    fn take_update(&mut self) -> Vec<u8> {
        self.doc.commit();
        if let Some((p, _)) = &self.pending {
            let mut p = p.lock().expect("lock");
            if p.len() == 1 {
                self.sent = self.doc.oplog_vv();
                return p.pop().expect("one update");
            }
            p.clear();
        }
        let bytes = self
            .doc
            .export(loro::ExportMode::updates(&self.sent))
            .expect("loro export");
        self.sent = self.doc.oplog_vv();
        bytes
    }
    fn apply_updates(&mut self, updates: &[Vec<u8>]) {
        self.doc.import_batch(updates).expect("loro import");
    }
    fn encode(&mut self) -> Vec<u8> {
        self.doc.commit();
        self.doc
            .export(loro::ExportMode::Snapshot)
            .expect("loro snapshot")
    }
    fn load(bytes: &[u8]) -> Self {
        let doc = loro::LoroDoc::from_snapshot(bytes).expect("loro snapshot loads");
        let sent = doc.oplog_vv();
        Loro {
            doc,
            sent,
            pending: None,
        }
    }
}

impl TextDoc for Loro {
    fn edit(&mut self, edits: &[Edit]) {
        let text = self.doc.get_text("text");
        for e in edits {
            match e {
                Edit::Ins(pos, s) => text.insert(*pos, s).expect("loro insert"),
                Edit::Del(pos, len) => text.delete(*pos, *len).expect("loro delete"),
            }
        }
    }
    fn text(&mut self) -> String {
        self.doc.get_text("text").to_string()
    }
}

impl ListDoc for Loro {
    fn insert_vals(&mut self, pos: usize, vals: &[Val]) {
        let list = self.doc.get_list("list");
        for (i, v) in vals.iter().enumerate() {
            list.insert(pos + i, val_to_loro(v)).expect("loro insert");
        }
    }
    fn vals(&mut self) -> Vec<Val> {
        self.doc
            .get_list("list")
            .to_vec()
            .into_iter()
            .map(loro_to_val)
            .collect()
    }
}

impl MapDoc for Loro {
    fn set(&mut self, key: &str, val: Val) {
        self.doc
            .get_map("map")
            .insert(key, val_to_loro(&val))
            .expect("loro map insert");
    }
    fn get(&mut self, key: &str) -> Option<Val> {
        match self.doc.get_map("map").get(key)? {
            loro::ValueOrContainer::Value(v) => Some(loro_to_val(v)),
            other => panic!("loro: unexpected container {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------- automerge

/// An automerge `AutoCommit` whose root holds a text, a list and a map object. Automerge
/// objects are identified by the operation that created them, so every replica starts from
/// the same base document (created once, loaded by each replica, as automerge documents are
/// shared in practice); updates are `save_incremental`; full encoding is `save`.
pub struct Automerge {
    doc: automerge::AutoCommit,
    text: automerge::ObjId,
    list: automerge::ObjId,
    map: automerge::ObjId,
}

thread_local! {
    static AUTOMERGE_BASE: Vec<u8> = {
        use automerge::transaction::Transactable;
        let mut doc = automerge::AutoCommit::new_with_encoding(automerge::TextEncoding::UnicodeCodePoint)
            .with_actor(automerge::ActorId::from(&[0u8; 8][..]));
        doc.put_object(automerge::ROOT, "text", automerge::ObjType::Text).expect("text");
        doc.put_object(automerge::ROOT, "list", automerge::ObjType::List).expect("list");
        doc.put_object(automerge::ROOT, "map", automerge::ObjType::Map).expect("map");
        doc.save()
    };
}

impl Automerge {
    fn wrap(mut doc: automerge::AutoCommit) -> Self {
        use automerge::ReadDoc;
        let obj = |doc: &automerge::AutoCommit, key: &str| match doc.get(automerge::ROOT, key) {
            Ok(Some((automerge::Value::Object(_), id))) => id,
            other => panic!("automerge: no {key} object: {other:?}"),
        };
        let (text, list, map) = (obj(&doc, "text"), obj(&doc, "list"), obj(&doc, "map"));
        // Start incremental saves after the loaded state.
        let _ = doc.save_incremental();
        Automerge {
            doc,
            text,
            list,
            map,
        }
    }

    fn load_with_encoding(bytes: &[u8]) -> automerge::AutoCommit {
        automerge::AutoCommit::load_with_options(
            bytes,
            automerge::LoadOptions::new().text_encoding(automerge::TextEncoding::UnicodeCodePoint),
        )
        .expect("automerge loads")
    }
}

fn am_to_val(v: automerge::Value<'_>) -> Val {
    match v {
        automerge::Value::Scalar(s) => match s.as_ref() {
            automerge::ScalarValue::Uint(n) => Val::Num(*n as u32),
            automerge::ScalarValue::Int(n) => Val::Num(*n as u32),
            automerge::ScalarValue::Str(s) => Val::Str(s.to_string()),
            other => panic!("automerge: unexpected scalar {other:?}"),
        },
        other => panic!("automerge: unexpected value {other:?}"),
    }
}

fn val_to_am(v: &Val) -> automerge::ScalarValue {
    match v {
        Val::Num(n) => automerge::ScalarValue::Uint(u64::from(*n)),
        Val::Str(s) => automerge::ScalarValue::Str(s.as_str().into()),
    }
}

impl Doc for Automerge {
    const NAME: &'static str = "automerge";
    fn create(id: u64) -> Self {
        let base = AUTOMERGE_BASE.with(|b| b.clone());
        let doc = Self::load_with_encoding(&base)
            .with_actor(automerge::ActorId::from(&id.to_be_bytes()[..]));
        Self::wrap(doc)
    }
    fn take_update(&mut self) -> Vec<u8> {
        self.doc.save_incremental()
    }
    fn apply_updates(&mut self, updates: &[Vec<u8>]) {
        // Incremental saves concatenate into one valid input: load them in one call.
        if let [one] = updates {
            self.doc.load_incremental(one).expect("automerge applies");
        } else {
            self.doc
                .load_incremental(&updates.concat())
                .expect("automerge applies");
        }
    }
    fn encode(&mut self) -> Vec<u8> {
        self.doc.save()
    }
    fn load(bytes: &[u8]) -> Self {
        Self::wrap(Self::load_with_encoding(bytes))
    }
}

impl TextDoc for Automerge {
    fn edit(&mut self, edits: &[Edit]) {
        use automerge::transaction::Transactable;
        for e in edits {
            match e {
                Edit::Ins(pos, s) => self.doc.splice_text(&self.text, *pos, 0, s),
                Edit::Del(pos, len) => self.doc.splice_text(&self.text, *pos, *len as isize, ""),
            }
            .expect("automerge splice");
        }
    }
    fn text(&mut self) -> String {
        use automerge::ReadDoc;
        self.doc.text(&self.text).expect("automerge text")
    }
}

impl ListDoc for Automerge {
    fn insert_vals(&mut self, pos: usize, vals: &[Val]) {
        use automerge::transaction::Transactable;
        if let [one] = vals {
            self.doc.insert(&self.list, pos, val_to_am(one))
        } else {
            self.doc
                .splice(&self.list, pos, 0, vals.iter().map(val_to_am))
        }
        .expect("automerge insert");
    }
    fn vals(&mut self) -> Vec<Val> {
        use automerge::ReadDoc;
        self.doc
            .list_range(&self.list, ..)
            .map(|item| am_to_val(item.value.into()))
            .collect()
    }
}

impl MapDoc for Automerge {
    fn set(&mut self, key: &str, val: Val) {
        use automerge::transaction::Transactable;
        self.doc
            .put(&self.map, key, val_to_am(&val))
            .expect("automerge put");
    }
    fn get(&mut self, key: &str) -> Option<Val> {
        use automerge::ReadDoc;
        self.doc
            .get(&self.map, key)
            .expect("automerge get")
            .map(|(v, _)| am_to_val(v))
    }
}
