//! The wasm-bindgen layer of the `converge-crdt` npm package: one exported class, [`RawDoc`],
//! that owns a [`converge::doc::Doc`] and converts arguments, results and errors between Rust
//! and JavaScript. Nothing here decides a CRDT rule; every call is one `Doc` call (or, for the
//! batch and splice entry points, several of them inside one transaction).
//!
//! The hand-written JavaScript in `js/` wraps this class into the public API (`Doc`, container
//! references, `ConvergeError` subclasses, subscriptions). Conventions across the boundary:
//!
//! * containers are **handles**: small integers indexing a per-document table of
//!   [`ContainerId`]s, so a hot call such as `text_insert(handle, pos, str)` passes two numbers
//!   and a string. A nested container read back from a map or list comes as `[handle, kind]`
//!   (an array is never a value, so the JS side tells them apart with `Array.isArray`);
//! * kinds are numbers in the update format's order: map 0, list 1, text 2, counter 3,
//!   register 4, set 5;
//! * text positions and lengths are UTF-16 code units, what JavaScript strings index by;
//! * a [`DocError`] becomes a JS `Error` whose `name` is its stable [`DocError::code`]; the
//!   wrapper turns it into the matching `ConvergeError` subclass. Arguments of the wrong JS
//!   type throw `TypeError` / `RangeError`.

use hashbrown::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use converge::doc::{
    Change, ChangeEvent, ChangeOrigin, Changed, ContainerId, ContainerKind, Doc, DocError, Item,
    Node, Value,
};
use converge::{ReplicaId, VersionVector};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

type Res<T> = Result<T, JsValue>;

/// The largest integer a JS number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

fn doc_err(e: DocError) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name(e.code());
    err.into()
}

fn type_err(msg: &str) -> JsValue {
    js_sys::TypeError::new(msg).into()
}

fn kind_of(k: u8) -> Res<ContainerKind> {
    (ContainerKind::ALL.get(usize::from(k)).copied())
        .ok_or_else(|| type_err("unknown container kind"))
}

/// A JS value as a document [`Value`]: `null`, boolean, number (a safe integer becomes an
/// integer, anything else a float), bigint (64-bit), string or `Uint8Array`.
fn to_value(v: &JsValue) -> Res<Value> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    if let Some(b) = v.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(f) = v.as_f64() {
        return Ok(number(f));
    }
    if let Some(s) = v.as_string() {
        return Ok(Value::Str(s));
    }
    if v.is_bigint() {
        return i64::try_from(v.clone())
            .map(Value::Int)
            .map_err(|_| js_sys::RangeError::new("bigint outside the 64-bit signed range").into());
    }
    if let Some(bytes) = v.dyn_ref::<Uint8Array>() {
        return Ok(Value::Bytes(bytes.to_vec()));
    }
    Err(type_err(
        "a value must be null, a boolean, a number, a bigint, a string or a Uint8Array",
    ))
}

/// A JS number as a value: an integer when it is one exactly (and not -0), else a float.
fn number(f: f64) -> Value {
    let int = f.fract() == 0.0 && f.abs() <= MAX_SAFE && !(f == 0.0 && f.is_sign_negative());
    if int {
        Value::Int(f as i64)
    } else {
        Value::Float(f)
    }
}

fn to_values(vs: &[JsValue]) -> Res<Vec<Value>> {
    vs.iter().map(to_value).collect()
}

fn int_to_js(i: i64) -> JsValue {
    if (i as f64).abs() <= MAX_SAFE {
        JsValue::from_f64(i as f64)
    } else {
        JsValue::from(i)
    }
}

fn from_value(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Int(i) => int_to_js(*i),
        Value::Float(f) => JsValue::from_f64(*f),
        Value::Str(s) => JsValue::from_str(s),
        Value::Bytes(b) => Uint8Array::from(&b[..]).into(),
    }
}

fn from_values(vs: &[Value]) -> Array {
    vs.iter().map(from_value).collect()
}

fn set(obj: &Object, key: &str, v: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(obj, &JsValue::from_str(key), v);
}

/// The JSON view of a tree (see the package README for the mapping).
fn from_node(n: &Node) -> JsValue {
    match n {
        Node::Value(v) => from_value(v),
        Node::Map(m) => {
            let obj = Object::new();
            for (k, v) in m {
                set(&obj, k, &from_node(v));
            }
            obj.into()
        }
        Node::List(l) => l.iter().map(from_node).collect::<Array>().into(),
        Node::Text(t) => JsValue::from_str(t),
        Node::Counter(c) => int_to_js(*c),
        Node::Register(r) => r.as_ref().map_or(JsValue::NULL, from_value),
        Node::Set(s) => from_values(s).into(),
    }
}

fn vv_of(bytes: Option<Box<[u8]>>) -> Res<VersionVector> {
    match bytes {
        None => Ok(VersionVector::new()),
        Some(b) => VersionVector::from_bytes(&b).map_err(|e| doc_err(DocError::from(e))),
    }
}

/// The error of a batch whose inserted text has more than its patches take.
fn patch_mismatch() -> JsValue {
    type_err("inserted text does not match the patches' insert lengths")
}

/// Checks that `ops` holds whole `(pos, del, insert_len)` triples whose insert lengths add
/// up to `units`, the inserted text's length in UTF-16 units.
fn check_patch_units(ops: &[u32], units: usize) -> Res<()> {
    if ops.len() % 3 != 0 {
        return Err(type_err("patch array length must be a multiple of 3"));
    }
    let total: u64 = ops.chunks_exact(3).map(|p| u64::from(p[2])).sum();
    match total.cmp(&(units as u64)) {
        core::cmp::Ordering::Greater => Err(patch_mismatch()),
        core::cmp::Ordering::Less => Err(type_err(
            "inserted text is longer than the patches' insert lengths",
        )),
        core::cmp::Ordering::Equal => Ok(()),
    }
}

/// Resizes `v` to `len` elements, new ones zero, and returns its address. An empty `v` is
/// allocated zeroed (the allocator can skip the writes for memory fresh from the module).
fn resize_zeroed<T: Copy + Default>(v: &mut Vec<T>, len: usize) -> *mut T {
    if v.is_empty() {
        *v = vec![T::default(); len];
    } else {
        v.resize(len, T::default());
    }
    v.as_mut_ptr()
}

/// Splits `s` after `n16` UTF-16 code units; `None` if `s` is shorter or the cut falls inside
/// a surrogate pair.
fn split_utf16(s: &str, n16: usize) -> Option<(&str, &str)> {
    if n16 <= s.len() && s.as_bytes()[..n16].is_ascii() {
        return s.split_at_checked(n16);
    }
    let mut units = 0;
    for (i, ch) in s.char_indices() {
        if units == n16 {
            return s.split_at_checked(i);
        }
        if units > n16 {
            return None;
        }
        units += ch.len_utf16();
    }
    (units == n16).then_some((s, ""))
}

/// Pages of WebAssembly memory at the last [`keep_headroom`] call.
static SEEN_PAGES: AtomicUsize = AtomicUsize::new(0);

/// Grows the WebAssembly memory in large steps. The allocator asks for as few 64 KiB pages as
/// each allocation needs, and V8 collects the whole JS heap on every `memory.grow`: a document
/// growing by many small steps beside a large JS heap spent most of its time in the garbage
/// collector (measured: a 260k-patch batch replay took 22 s instead of 1 s). After each call
/// that grew the memory, one block as large as the memory (at most 64 MiB) is allocated and
/// freed at once, so the allocator keeps it for the next allocations and the number of grows
/// stays logarithmic in the memory size.
fn keep_headroom() {
    #[cfg(target_arch = "wasm32")]
    {
        let pages = core::arch::wasm32::memory_size(0);
        if pages != SEEN_PAGES.load(Ordering::Relaxed) {
            let bytes = (pages * 65536).min(64 << 20);
            drop(std::hint::black_box(Vec::<u8>::with_capacity(bytes)));
            SEEN_PAGES.store(core::arch::wasm32::memory_size(0), Ordering::Relaxed);
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    SEEN_PAGES.store(0, Ordering::Relaxed);
}

/// The module's `WebAssembly.Memory` (what `applyPatches` packs into).
#[wasm_bindgen(js_name = wasmMemory)]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// Returns the size of the WebAssembly memory in bytes (0 outside WebAssembly). It only
/// grows; tests read it to show that freed documents give their memory back for reuse.
#[wasm_bindgen(js_name = wasmMemoryBytes)]
pub fn wasm_memory_bytes() -> usize {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) * 65536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

/// Combines update messages into one (see `Doc::merge_updates`).
#[wasm_bindgen(js_name = mergeUpdates)]
pub fn merge_updates(parts: Vec<Uint8Array>) -> Res<Vec<u8>> {
    let owned: Vec<Vec<u8>> = parts.iter().map(Uint8Array::to_vec).collect();
    let refs: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
    Doc::merge_updates(&refs).map_err(doc_err)
}

/// A document and its table of container handles; wrapped by the JS `Doc` class.
#[wasm_bindgen]
pub struct RawDoc {
    doc: Doc,
    ids: Vec<ContainerId>,
    index: HashMap<ContainerId, u32>,
    /// What `applyPatches` packs straight into the module's memory (see `patch_ops`).
    packed: Packed,
    /// The error of the last call that reported one by status (see `take_error`).
    error: Option<JsValue>,
}

/// The patches of one `applyPatches` call as JS writes them: `(index, deleteCount,
/// insertLength)` triples and the inserted strings' UTF-16 code units.
#[derive(Default)]
struct Packed {
    ops: Vec<u32>,
    units: Vec<u16>,
}

impl RawDoc {
    /// The kernel batch of both patch calls: patch `i` inserts `text` up to `ends[i]` (bytes;
    /// with no `ends`, the text is ASCII and cut at the patches' lengths).
    fn splice_cut(
        &mut self,
        id: ContainerId,
        ops: &[u32],
        text: &str,
        ends: Option<&[usize]>,
    ) -> Res<()> {
        let mut start = 0;
        let patches = ops.chunks_exact(3).enumerate().map(|(i, p)| {
            let end = ends.map_or(start + p[2] as usize, |e| {
                e.get(i).copied().unwrap_or(start)
            });
            let ins = text.get(start..end).unwrap_or("");
            start = end;
            if i % 1024 == 1023 {
                keep_headroom();
            }
            (p[0] as usize, p[1] as usize, ins)
        });
        let r = self
            .doc
            .text_splice_batch_utf16(id, patches)
            .map_err(doc_err);
        keep_headroom();
        r
    }

    fn wrap(doc: Doc) -> RawDoc {
        RawDoc {
            doc,
            ids: Vec::new(),
            index: HashMap::new(),
            packed: Packed::default(),
            error: None,
        }
    }

    /// 0 for `Ok`; 1 for an error, kept for [`take_error`](Self::take_error).
    fn status(&mut self, r: Res<()>) -> u32 {
        match r {
            Ok(()) => 0,
            Err(e) => {
                self.error = Some(e);
                1
            }
        }
    }

    fn handle(&mut self, id: ContainerId) -> u32 {
        let ids = &mut self.ids;
        *self.index.entry(id).or_insert_with(|| {
            ids.push(id);
            (ids.len() - 1) as u32
        })
    }

    fn id(&self, h: u32) -> Res<ContainerId> {
        self.ids
            .get(h as usize)
            .copied()
            .ok_or_else(|| type_err("not a container of this document"))
    }

    fn container_js(&mut self, id: ContainerId) -> JsValue {
        let h = self.handle(id);
        Array::of2(&JsValue::from(h), &JsValue::from(id.kind as u8)).into()
    }

    fn item_js(&mut self, item: &Item) -> JsValue {
        match item {
            Item::Value(v) => from_value(v),
            Item::Container(id) => self.container_js(*id),
        }
    }

    /// Runs `f` inside the open transaction, or inside one of its own committed when `f`
    /// succeeds and rolled back when it fails (so a batch is one update and all-or-nothing).
    fn atomically(&mut self, f: impl FnOnce(&mut Doc) -> Result<(), DocError>) -> Res<()> {
        if self.doc.in_transaction() {
            return f(&mut self.doc).map_err(doc_err);
        }
        self.doc.begin().map_err(doc_err)?;
        match f(&mut self.doc) {
            Ok(()) => self.doc.commit().map(drop).map_err(doc_err),
            Err(e) => {
                self.doc.rollback();
                Err(doc_err(e))
            }
        }
    }

    fn event_js(&mut self, ev: &ChangeEvent) -> JsValue {
        let obj = Object::new();
        let origin = match ev.origin {
            ChangeOrigin::Local => "local",
            ChangeOrigin::Remote => "remote",
        };
        set(&obj, "origin", &JsValue::from_str(origin));
        let changes = Array::new();
        for Change { container, what } in &ev.changes {
            let c = Object::new();
            set(&c, "container", &self.container_js(*container));
            match what {
                Changed::Keys(keys) => {
                    let ks: Array = keys.iter().map(|k| JsValue::from_str(k)).collect();
                    set(&c, "type", &JsValue::from_str("keys"));
                    set(&c, "keys", &ks);
                }
                Changed::Range {
                    start,
                    removed,
                    inserted,
                } => {
                    let (mut start, mut inserted) = (*start, *inserted);
                    if container.kind == ContainerKind::Text {
                        // The kernel reports chars; JS indexes by UTF-16 units. The text
                        // before `start` and the inserted run are in the current text.
                        let text = self.doc.text(*container).unwrap_or_default();
                        let mut chars = text.chars();
                        let s16: usize = chars.by_ref().take(start).map(char::len_utf16).sum();
                        let i16: usize = chars.take(inserted).map(char::len_utf16).sum();
                        (start, inserted) = (s16, i16);
                    }
                    set(&c, "type", &JsValue::from_str("range"));
                    set(&c, "start", &JsValue::from(start as u32));
                    set(&c, "removed", &JsValue::from(*removed as u32));
                    set(&c, "inserted", &JsValue::from(inserted as u32));
                }
                _ => set(&c, "type", &JsValue::from_str("value")),
            }
            changes.push(&c);
        }
        set(&obj, "changes", &changes);
        obj.into()
    }
}

#[wasm_bindgen]
impl RawDoc {
    // ------------------------------------------------------------------ lifecycle

    /// An empty document whose edits are attributed to `replica`.
    #[wasm_bindgen(constructor)]
    pub fn new(replica: u64) -> RawDoc {
        RawDoc::wrap(Doc::new(ReplicaId(replica)))
    }

    /// An empty document that keeps at most `bytes` of history (see `Doc::with_memory_limit`).
    pub fn with_memory_limit(replica: u64, bytes: usize) -> RawDoc {
        RawDoc::wrap(Doc::with_memory_limit(ReplicaId(replica), bytes))
    }

    /// Restores a document from `save()` or `save_history()` bytes, with an optional limit.
    pub fn load(bytes: &[u8], limit: Option<usize>) -> Res<RawDoc> {
        let doc = match limit {
            Some(l) => Doc::load_with_memory_limit(bytes, l),
            None => Doc::load(bytes),
        };
        let r = doc.map(RawDoc::wrap).map_err(doc_err);
        keep_headroom();
        r
    }

    /// The replica id local edits are attributed to.
    pub fn replica(&self) -> u64 {
        self.doc.replica().0
    }

    /// The handle of root container `name` of kind `kind`.
    pub fn root(&mut self, name: &str, kind: u8) -> Res<u32> {
        let id = self.doc.root(name, kind_of(kind)?);
        Ok(self.handle(id))
    }

    // ------------------------------------------------------------------ transactions, events

    /// Opens a transaction.
    pub fn begin(&mut self) -> Res<()> {
        self.doc.begin().map_err(doc_err)
    }

    /// Commits the open transaction.
    pub fn commit(&mut self) -> Res<()> {
        self.doc.commit().map(drop).map_err(doc_err)
    }

    /// Discards the open transaction (nothing if none is open).
    pub fn rollback(&mut self) {
        self.doc.rollback();
    }

    /// Whether a transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.doc.in_transaction()
    }

    /// Turns the change-event queue on or off.
    pub fn queue_events(&mut self, on: bool) {
        self.doc.queue_events(on);
    }

    /// The queued change events, oldest first, as plain objects.
    pub fn take_events(&mut self) -> Array {
        let events = self.doc.take_events();
        events.iter().map(|e| self.event_js(e)).collect()
    }

    // ------------------------------------------------------------------ sync and storage

    /// The version vector's bytes.
    pub fn version(&self) -> Vec<u8> {
        self.doc.version().to_bytes()
    }

    /// The updates a peer at `since` (version bytes; none = empty) lacks.
    pub fn encode_updates_since(&self, since: Option<Box<[u8]>>) -> Res<Vec<u8>> {
        Ok(self.doc.encode_updates_since(&vv_of(since)?))
    }

    /// Applies an update message; returns `{applied, duplicates, pending, rejected, missing}`.
    pub fn apply_update(&mut self, bytes: &[u8]) -> Res<Object> {
        let r = self.doc.apply_update(bytes).map_err(doc_err);
        keep_headroom();
        let r = r?;
        let obj = Object::new();
        set(&obj, "applied", &JsValue::from(r.applied as u32));
        set(&obj, "duplicates", &JsValue::from(r.duplicates as u32));
        set(&obj, "pending", &JsValue::from(r.pending as u32));
        set(&obj, "rejected", &JsValue::from(r.rejected as u32));
        let missing = Uint8Array::from(&r.missing.to_bytes()[..]);
        set(&obj, "missing", &missing);
        Ok(obj)
    }

    /// A state snapshot for `load`.
    pub fn save(&self) -> Res<Vec<u8>> {
        self.doc.save().map_err(doc_err)
    }

    /// The whole history in its most compact form, for `load` (the smallest transfer).
    pub fn save_history(&self) -> Res<Vec<u8>> {
        self.doc.save_history().map_err(doc_err)
    }

    /// Buffered updates waiting for their dependencies.
    pub fn pending_count(&self) -> usize {
        self.doc.pending_count()
    }

    /// Bytes of history charged to the memory budget.
    pub fn memory_used(&self) -> usize {
        self.doc.memory_used()
    }

    /// The named roots as a JSON-like object.
    pub fn to_json(&self) -> JsValue {
        let obj = Object::new();
        for (name, node) in self.doc.named_roots() {
            set(&obj, &name, &from_node(&node));
        }
        obj.into()
    }

    /// One container's tree as a JSON-like value.
    pub fn container_json(&self, h: u32) -> Res<JsValue> {
        Ok(from_node(&self.doc.to_tree(self.id(h)?)))
    }

    // ------------------------------------------------------------------ text

    /// Inserts `s` at UTF-16 position `pos`.
    pub fn text_insert(&mut self, h: u32, pos: usize, s: &str) -> u32 {
        let r = self.id(h).and_then(|id| {
            let r = self.doc.text_insert_utf16(id, pos, s).map_err(doc_err);
            keep_headroom();
            r
        });
        self.status(r)
    }

    /// The error of the last call that returned status 1 (`undefined` if none). The calls
    /// made once per keystroke (`text_insert`, `text_delete`, `text_splice`) report errors so
    /// rather than by a thrown value: a `Result` crosses as two return values, which the JS
    /// side receives as an array, one per call for the collector.
    pub fn take_error(&mut self) -> JsValue {
        self.error.take().unwrap_or(JsValue::UNDEFINED)
    }

    /// Deletes `len` UTF-16 units from `pos`.
    pub fn text_delete(&mut self, h: u32, pos: usize, len: usize) -> u32 {
        let r = self.id(h).and_then(|id| {
            let end = pos
                .checked_add(len)
                .ok_or_else(|| type_err("range overflows"))?;
            self.doc.text_delete_utf16(id, pos..end).map_err(doc_err)
        });
        self.status(r)
    }

    /// Deletes `del` units at `pos` and inserts `s` there, as one edit.
    pub fn text_splice(&mut self, h: u32, pos: usize, del: usize, s: &str) -> u32 {
        let r = self.id(h).and_then(|id| {
            let end = pos
                .checked_add(del)
                .ok_or_else(|| type_err("range overflows"))?;
            self.atomically(|d| {
                if del > 0 {
                    d.text_delete_utf16(id, pos..end)?;
                }
                if !s.is_empty() {
                    d.text_insert_utf16(id, pos, s)?;
                }
                Ok(())
            })
        });
        self.status(r)
    }

    /// [`text_splice`](Self::text_splice) (an insert when `del` is 0) of text the JS side
    /// encoded with `TextEncoder`. Long strings come this way: the glue passes a `&str` with
    /// a loop over its code units, about 17 ns each until V8 optimises the loop (~100 µs for
    /// 6,000 of them), where the encoder is native code in every tier.
    pub fn text_splice_utf8(&mut self, h: u32, pos: usize, del: usize, s: &[u8]) -> u32 {
        match core::str::from_utf8(s) {
            Ok(s) if del == 0 => self.text_insert(h, pos, s),
            Ok(s) => self.text_splice(h, pos, del, s),
            Err(_) => self.status(Err(type_err("text is not UTF-8"))),
        }
    }

    /// Applies many splices in one call: `ops` holds `(pos, del, insert_len)` triples (UTF-16
    /// units) and `inserted` the inserted strings one after another. One kernel batch: one
    /// transaction (or part of the open one), all or nothing.
    pub fn text_apply_patches(&mut self, h: u32, ops: &[u32], inserted: &str) -> Res<()> {
        let id = self.id(h)?;
        let ascii = inserted.is_ascii();
        let units = if ascii {
            inserted.len()
        } else {
            inserted.encode_utf16().count()
        };
        check_patch_units(ops, units)?;
        // Where each patch's text ends, in bytes, unless the text is ASCII (bytes are units).
        // A cut inside a surrogate pair does not match the patches.
        let ends = if ascii {
            None
        } else {
            let mut ends = Vec::with_capacity(ops.len() / 3);
            let mut rest = inserted;
            for p in ops.chunks_exact(3) {
                rest = split_utf16(rest, p[2] as usize)
                    .ok_or_else(patch_mismatch)?
                    .1;
                ends.push(inserted.len() - rest.len());
            }
            Some(ends)
        };
        self.splice_cut(id, ops, inserted, ends.as_deref())
    }

    /// [`text_apply_patches`](Self::text_apply_patches) with the inserted strings as their
    /// UTF-16 code units one after another, as JS strings hold them (what `applyPatches`
    /// packs: no joined string to build and encode in JS). Each patch's units are decoded on
    /// their own, a lone surrogate becoming U+FFFD as in every other call taking a string.
    pub fn text_apply_patches_utf16(&mut self, h: u32, ops: &[u32], units: &[u16]) -> Res<()> {
        let id = self.id(h)?;
        check_patch_units(ops, units.len())?;
        let (text, ends) = if units.iter().all(|&u| u < 0x80) {
            let bytes = units.iter().map(|&u| u as u8).collect();
            let text = String::from_utf8(bytes).map_err(|_| patch_mismatch())?;
            (text, None)
        } else {
            let mut text = String::with_capacity(units.len());
            let mut ends = Vec::with_capacity(ops.len() / 3);
            let mut at = 0;
            for p in ops.chunks_exact(3) {
                let n = p[2] as usize;
                let chars = char::decode_utf16(units[at..at + n].iter().copied());
                text.extend(chars.map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)));
                at += n;
                ends.push(text.len());
            }
            (text, Some(ends))
        };
        self.splice_cut(id, ops, &text, ends.as_deref())
    }

    /// Makes the packed patch triples `len` words long, keeping what they hold, and returns
    /// their address in the module's memory: `applyPatches` writes into them there instead
    /// of building JS arrays that would be copied in (and collected). A call that grows the
    /// module's memory empties JS views of it, and `patch_units` may move the units;
    /// `text_apply_packed` or `release_packed` frees both.
    pub fn patch_ops(&mut self, len: usize) -> *mut u32 {
        resize_zeroed(&mut self.packed.ops, len)
    }

    /// [`patch_ops`](Self::patch_ops) for the inserted strings' UTF-16 code units.
    pub fn patch_units(&mut self, len: usize) -> *mut u16 {
        resize_zeroed(&mut self.packed.units, len)
    }

    /// Frees the packed patches (`applyPatches` failed while packing).
    pub fn release_packed(&mut self) {
        self.packed = Packed::default();
    }

    /// [`text_apply_patches_utf16`](Self::text_apply_patches_utf16) of the first `patches`
    /// packed triples and `units` code units; frees them.
    pub fn text_apply_packed(&mut self, h: u32, patches: usize, units: usize) -> Res<()> {
        let Packed { ops, units: all } = core::mem::take(&mut self.packed);
        let ops = patches.checked_mul(3).and_then(|n| ops.get(..n));
        match (ops, all.get(..units)) {
            (Some(ops), Some(units)) => self.text_apply_patches_utf16(h, ops, units),
            _ => Err(type_err("more packed patches than were allocated")),
        }
    }

    /// The text's content.
    pub fn text(&self, h: u32) -> Res<String> {
        self.doc.text(self.id(h)?).map_err(doc_err)
    }

    /// The text's length in UTF-16 units.
    pub fn text_len(&self, h: u32) -> Res<usize> {
        self.doc.text_len_utf16(self.id(h)?).map_err(doc_err)
    }

    // ------------------------------------------------------------------ map

    /// Sets `key` to a value.
    pub fn map_set(&mut self, h: u32, key: &str, v: JsValue) -> Res<()> {
        let (id, v) = (self.id(h)?, to_value(&v)?);
        self.doc.map_set(id, key, v).map_err(doc_err)
    }

    /// Sets many keys as one edit.
    pub fn map_set_batch(&mut self, h: u32, keys: Vec<String>, vals: Vec<JsValue>) -> Res<()> {
        let id = self.id(h)?;
        if keys.len() != vals.len() {
            return Err(type_err("keys and values differ in length"));
        }
        let entries = keys
            .into_iter()
            .zip(vals.iter().map(to_value))
            .map(|(k, v)| v.map(|v| (k, v)))
            .collect::<Res<Vec<_>>>()?;
        self.doc.map_set_batch(id, &entries).map_err(doc_err)
    }

    /// Creates a container of kind `kind` under `key`; returns its handle.
    pub fn map_insert_container(&mut self, h: u32, key: &str, kind: u8) -> Res<u32> {
        let (id, kind) = (self.id(h)?, kind_of(kind)?);
        let c = self
            .doc
            .map_insert_container(id, key, kind)
            .map_err(doc_err)?;
        Ok(self.handle(c))
    }

    /// Removes `key`.
    pub fn map_delete(&mut self, h: u32, key: &str) -> Res<()> {
        let id = self.id(h)?;
        self.doc.map_delete(id, key).map_err(doc_err)
    }

    /// The value or `[handle, kind]` under `key`, or `undefined`.
    pub fn map_get(&mut self, h: u32, key: &str) -> Res<JsValue> {
        let item = self.doc.map_get(self.id(h)?, key).map_err(doc_err)?;
        Ok(item.map_or(JsValue::UNDEFINED, |i| self.item_js(&i)))
    }

    /// The live keys in ascending order.
    pub fn map_keys(&self, h: u32) -> Res<Vec<String>> {
        self.doc.map_keys(self.id(h)?).map_err(doc_err)
    }

    /// `[key, item]` pairs in key order.
    pub fn map_entries(&mut self, h: u32) -> Res<Array> {
        let entries = self.doc.map_entries(self.id(h)?).map_err(doc_err)?;
        Ok(entries
            .iter()
            .map(|(k, i)| Array::of2(&JsValue::from_str(k), &self.item_js(i)))
            .collect())
    }

    // ------------------------------------------------------------------ list

    /// Inserts values at `index`.
    pub fn list_insert(&mut self, h: u32, index: usize, vals: Vec<JsValue>) -> Res<()> {
        let (id, vals) = (self.id(h)?, to_values(&vals)?);
        let r = self
            .doc
            .list_insert_batch(id, index, &vals)
            .map_err(doc_err);
        keep_headroom();
        r
    }

    /// Inserts numbers at `index` (`None`: at the end), passed as one `Float64Array` instead of
    /// one JS value each.
    pub fn list_insert_numbers(&mut self, h: u32, index: Option<usize>, nums: &[f64]) -> Res<()> {
        let id = self.id(h)?;
        let vals: Vec<Value> = nums.iter().map(|&f| number(f)).collect();
        let index = match index {
            Some(i) => i,
            None => self.doc.list_len(id).map_err(doc_err)?,
        };
        let r = self
            .doc
            .list_insert_batch(id, index, &vals)
            .map_err(doc_err);
        keep_headroom();
        r
    }

    /// Appends values.
    pub fn list_push(&mut self, h: u32, vals: Vec<JsValue>) -> Res<()> {
        let (id, vals) = (self.id(h)?, to_values(&vals)?);
        self.doc.list_push_batch(id, &vals).map_err(doc_err)
    }

    /// Creates a container at `index`; returns its handle.
    pub fn list_insert_container(&mut self, h: u32, index: usize, kind: u8) -> Res<u32> {
        let (id, kind) = (self.id(h)?, kind_of(kind)?);
        let c = self
            .doc
            .list_insert_container(id, index, kind)
            .map_err(doc_err)?;
        Ok(self.handle(c))
    }

    /// Deletes `len` elements from `index`.
    pub fn list_delete(&mut self, h: u32, index: usize, len: usize) -> Res<()> {
        let id = self.id(h)?;
        let end = index
            .checked_add(len)
            .ok_or_else(|| type_err("range overflows"))?;
        self.doc.list_delete(id, index..end).map_err(doc_err)
    }

    /// The element at `index` (value or `[handle, kind]`), or `undefined`.
    pub fn list_get(&mut self, h: u32, index: usize) -> Res<JsValue> {
        let item = self.doc.list_get(self.id(h)?, index).map_err(doc_err)?;
        Ok(item.map_or(JsValue::UNDEFINED, |i| self.item_js(&i)))
    }

    /// The list's length.
    pub fn list_len(&self, h: u32) -> Res<usize> {
        self.doc.list_len(self.id(h)?).map_err(doc_err)
    }

    /// Every element.
    pub fn list_items(&mut self, h: u32) -> Res<Array> {
        let items = self.doc.list_items(self.id(h)?).map_err(doc_err)?;
        Ok(items.iter().map(|i| self.item_js(i)).collect())
    }

    // ------------------------------------------------------------------ counter, register

    /// Adds `amount` (a safe integer or a bigint) to a counter.
    pub fn counter_add(&mut self, h: u32, amount: JsValue) -> Res<()> {
        let id = self.id(h)?;
        let Value::Int(n) = to_value(&amount)? else {
            return Err(type_err("a counter adds integers"));
        };
        self.doc.counter_add(id, n).map_err(doc_err)
    }

    /// The counter's value (a number, or a bigint beyond 2^53).
    pub fn counter(&self, h: u32) -> Res<JsValue> {
        Ok(int_to_js(self.doc.counter(self.id(h)?).map_err(doc_err)?))
    }

    /// Sets a register.
    pub fn register_set(&mut self, h: u32, v: JsValue) -> Res<()> {
        let (id, v) = (self.id(h)?, to_value(&v)?);
        self.doc.register_set(id, v).map_err(doc_err)
    }

    /// The register's value, or `undefined` if never written.
    pub fn register(&self, h: u32) -> Res<JsValue> {
        let v = self.doc.register(self.id(h)?).map_err(doc_err)?;
        Ok(v.as_ref().map_or(JsValue::UNDEFINED, from_value))
    }

    // ------------------------------------------------------------------ set

    /// Adds values to a set (one edit).
    pub fn set_add(&mut self, h: u32, vals: Vec<JsValue>) -> Res<()> {
        let (id, vals) = (self.id(h)?, to_values(&vals)?);
        match &vals[..] {
            [one] => self.doc.set_add(id, one.clone()),
            _ => self.doc.set_add_batch(id, &vals),
        }
        .map_err(doc_err)
    }

    /// Removes values from a set (one edit).
    pub fn set_remove(&mut self, h: u32, vals: Vec<JsValue>) -> Res<()> {
        let (id, vals) = (self.id(h)?, to_values(&vals)?);
        match &vals[..] {
            [one] => self.doc.set_remove(id, one),
            _ => self.doc.set_remove_batch(id, &vals),
        }
        .map_err(doc_err)
    }

    /// Whether the set holds `v`.
    pub fn set_has(&self, h: u32, v: JsValue) -> Res<bool> {
        let (id, v) = (self.id(h)?, to_value(&v)?);
        self.doc.set_contains(id, &v).map_err(doc_err)
    }

    /// The set's values in ascending order.
    pub fn set_values(&self, h: u32) -> Res<Array> {
        let vs = self.doc.set_values(self.id(h)?).map_err(doc_err)?;
        Ok(from_values(&vs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_utf16_cuts_at_code_unit_counts() {
        assert_eq!(split_utf16("abc", 2), Some(("ab", "c")));
        assert_eq!(split_utf16("é😀x", 1), Some(("é", "😀x")));
        assert_eq!(split_utf16("é😀x", 3), Some(("é😀", "x")));
        assert_eq!(split_utf16("é😀x", 2), None, "inside the surrogate pair");
        assert_eq!(split_utf16("é😀x", 4), Some(("é😀x", "")));
        assert_eq!(split_utf16("ab", 3), None);
    }
}
