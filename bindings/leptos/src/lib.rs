//! converge documents in Leptos (client-side rendering).
//!
//! A [`DocHandle`] owns a [`converge::doc::Doc`] and gives reactive reads per container: a
//! text as a `Signal<String>`, a list's items, a map's entries, a counter's value. Each read
//! is a memo that tracks one `ArcTrigger` per container, notified from the document's change
//! events, so it re-runs only when an event touches that container. Local edits
//! ([`DocHandle::edit`]) update the view at once.
//!
//! [`connect`] (in the browser) syncs a handle with a `converge-relay` over WebSocket
//! (version-vector handshake, then updates both ways; reconnect with backoff; what was edited
//! offline is sent on reconnect), with the other tabs of the browser over a
//! `BroadcastChannel`, and keeps a snapshot in IndexedDB so a reload or an offline start
//! shows the last state.
//!
//! ```
//! use converge::doc::ContainerKind;
//! use converge_leptos::DocHandle;
//! use leptos::prelude::*;
//!
//! let doc = DocHandle::new(converge::ReplicaId(1));
//! let title = doc.root("title", ContainerKind::Text);
//! let shown = doc.text(title);
//! doc.edit(|d| d.text_insert(title, 0, "Groceries")).unwrap();
//! assert_eq!(shown.get_untracked(), "Groceries");
//! ```

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use converge::VersionVector;
use converge::doc::{ChangeEvent, ContainerId, ContainerKind, Doc, DocError, Item, Value};
use leptos::prelude::*;
use send_wrapper::SendWrapper;

#[cfg(target_arch = "wasm32")]
mod storage;
#[cfg(target_arch = "wasm32")]
mod transport;

#[cfg(target_arch = "wasm32")]
pub use transport::{SyncHandle, SyncStatus, connect};

/// Where a change to the document came from; transports use it to avoid sending a change
/// back where it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// An edit in this tab.
    Local,
    /// The relay.
    Relay,
    /// Another tab of this browser.
    Tab,
    /// The local snapshot (IndexedDB).
    Storage,
}

/// A change the document accepted: its origin and the update message carrying it.
#[derive(Clone, Debug)]
pub struct Update {
    /// Where it came from.
    pub source: Source,
    /// `encode_updates_since(version before the change)`: the new updates as one message.
    pub bytes: Rc<[u8]>,
}

type Listener = Rc<dyn Fn(&Update)>;

struct Inner {
    doc: RefCell<Doc>,
    triggers: RefCell<HashMap<ContainerId, ArcTrigger>>,
    /// Notified on every change, whichever container it touched.
    any: ArcTrigger,
    listeners: RefCell<Vec<Listener>>,
}

/// A document shared by the components of a Leptos app: cheap to clone, reactive to read.
///
/// Browser apps are single-threaded; the handle is `Send + Sync` (as Leptos signals require)
/// through a `SendWrapper` and panics if used from another thread.
#[derive(Clone)]
pub struct DocHandle {
    inner: SendWrapper<Rc<Inner>>,
}

impl DocHandle {
    /// An empty document whose edits are attributed to `replica` (unique per tab and device).
    pub fn new(replica: converge::ReplicaId) -> Self {
        let mut doc = Doc::new(replica);
        doc.queue_events(true);
        DocHandle {
            inner: SendWrapper::new(Rc::new(Inner {
                doc: RefCell::new(doc),
                triggers: RefCell::new(HashMap::new()),
                any: ArcTrigger::new(),
                listeners: RefCell::new(Vec::new()),
            })),
        }
    }

    /// An empty document with a random replica id (from `Math.random` in the browser).
    #[cfg(target_arch = "wasm32")]
    pub fn new_random() -> Self {
        let hi = (js_sys::Math::random() * 4294967296.0) as u64;
        let lo = (js_sys::Math::random() * 4294967296.0) as u64;
        Self::new(converge::ReplicaId((hi << 32 | lo).max(1)))
    }

    /// The root container `name` of `kind` (remembered for JSON views).
    pub fn root(&self, name: &str, kind: ContainerKind) -> ContainerId {
        self.inner.doc.borrow_mut().root(name, kind)
    }

    /// Reads the document (untracked: wrap in a signal, or use the typed reads, to react).
    pub fn with<R>(&self, f: impl FnOnce(&Doc) -> R) -> R {
        f(&self.inner.doc.borrow())
    }

    /// The document's version vector.
    pub fn version(&self) -> VersionVector {
        self.inner.doc.borrow().version()
    }

    /// The updates a peer at `since` lacks.
    pub fn encode_updates_since(&self, since: &VersionVector) -> Vec<u8> {
        self.inner.doc.borrow().encode_updates_since(since)
    }

    /// A snapshot (`Doc::save`).
    pub fn save(&self) -> Result<Vec<u8>, DocError> {
        self.inner.doc.borrow().save()
    }

    /// Runs `f` as one transaction: all of it commits (one update, one event) or, if it
    /// returns an error, none of it. The views of the containers it changed update at once.
    pub fn edit<R>(&self, f: impl FnOnce(&mut Doc) -> Result<R, DocError>) -> Result<R, DocError> {
        let (result, bytes) = {
            let mut doc = self.inner.doc.borrow_mut();
            let before = doc.version();
            doc.begin()?;
            match f(&mut doc) {
                Ok(r) => {
                    doc.commit()?;
                    (r, doc.encode_updates_since(&before))
                }
                Err(e) => {
                    doc.rollback();
                    return Err(e);
                }
            }
        };
        self.deliver(Source::Local, bytes);
        Ok(result)
    }

    /// Applies an update message from elsewhere (a peer, the relay, another tab, storage).
    /// Returns the kernel's report; on error nothing changed.
    pub fn apply(
        &self,
        bytes: &[u8],
        source: Source,
    ) -> Result<converge::doc::ApplyReport, DocError> {
        let (report, fresh) = {
            let mut doc = self.inner.doc.borrow_mut();
            let before = doc.version();
            let report = doc.apply_update(bytes)?;
            let fresh = (report.applied > 0).then(|| doc.encode_updates_since(&before));
            (report, fresh)
        };
        match fresh {
            Some(bytes) => self.deliver(source, bytes),
            None => self.notify(),
        }
        Ok(report)
    }

    /// Merges a snapshot (`Doc::save` output, from any replica) into this document, keeping
    /// this document's replica id.
    pub fn merge_snapshot(&self, snapshot: &[u8], source: Source) -> Result<(), DocError> {
        let loaded = Doc::load(snapshot)?;
        self.apply(&loaded.encode_updates_since(&VersionVector::new()), source)
            .map(|_| ())
    }

    /// Calls `f` after every change the document accepts, with its update message.
    pub fn subscribe(&self, f: impl Fn(&Update) + 'static) {
        self.inner.listeners.borrow_mut().push(Rc::new(f));
    }

    /// Notifies the triggers of the containers queued events touched, then the listeners.
    fn deliver(&self, source: Source, bytes: Vec<u8>) {
        self.notify();
        let update = Update {
            source,
            bytes: bytes.into(),
        };
        let listeners = self.inner.listeners.borrow().clone();
        for l in listeners {
            l(&update);
        }
    }

    fn notify(&self) {
        let events: Vec<ChangeEvent> = self.inner.doc.borrow_mut().take_events();
        let mut touched = false;
        {
            let triggers = self.inner.triggers.borrow();
            for change in events.iter().flat_map(|e| &e.changes) {
                touched = true;
                if let Some(t) = triggers.get(&change.container) {
                    t.notify();
                }
            }
        }
        if touched {
            self.inner.any.notify();
        }
    }

    fn trigger(&self, id: ContainerId) -> ArcTrigger {
        self.inner
            .triggers
            .borrow_mut()
            .entry(id)
            .or_default()
            .clone()
    }

    /// A memo of `read` over container `id`: recomputed only when an event touches `id`.
    pub fn watch<T>(&self, id: ContainerId, read: impl Fn(&Doc) -> T + 'static) -> Signal<T>
    where
        T: Clone + PartialEq + Send + Sync + 'static,
    {
        let trigger = self.trigger(id);
        let handle = self.clone();
        let read = SendWrapper::new(read);
        let memo = ArcMemo::new(move |_| {
            trigger.track();
            handle.with(|d| read(d))
        });
        memo.into()
    }

    /// Tracks every change to the document (for status displays).
    pub fn track_any(&self) {
        self.inner.any.track();
    }

    /// The text of `id` (empty if it does not exist).
    pub fn text(&self, id: ContainerId) -> Signal<String> {
        self.watch(id, move |d| d.text(id).unwrap_or_default())
    }

    /// The items of list `id`.
    pub fn list_items(&self, id: ContainerId) -> Signal<Vec<Item>> {
        self.watch(id, move |d| d.list_items(id).unwrap_or_default())
    }

    /// The entries of map `id`, in key order.
    pub fn map_entries(&self, id: ContainerId) -> Signal<Vec<(String, Item)>> {
        self.watch(id, move |d| d.map_entries(id).unwrap_or_default())
    }

    /// The value of key `key` in map `id`, if it holds a plain value.
    pub fn map_value(&self, id: ContainerId, key: &str) -> Signal<Option<Value>> {
        let key = key.to_owned();
        self.watch(id, move |d| match d.map_get(id, &key) {
            Ok(Some(Item::Value(v))) => Some(v),
            _ => None,
        })
    }

    /// The value of counter `id`.
    pub fn counter(&self, id: ContainerId) -> Signal<i64> {
        self.watch(id, move |d| d.counter(id).unwrap_or_default())
    }
}

/// Edits text `id` from `old` to `new` by replacing only the part between their common
/// prefix and suffix (in chars), so concurrent edits elsewhere in the text survive. For
/// `<input>` handlers, which see only the new value.
pub fn diff_text(doc: &mut Doc, id: ContainerId, new: &str) -> Result<(), DocError> {
    let old = doc.text(id)?;
    let (o, n): (Vec<char>, Vec<char>) = (old.chars().collect(), new.chars().collect());
    let prefix = o.iter().zip(&n).take_while(|(a, b)| a == b).count();
    let suffix = o[prefix..]
        .iter()
        .rev()
        .zip(n[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let inserted: String = n[prefix..n.len() - suffix].iter().collect();
    doc.text_splice(id, prefix, o.len() - suffix - prefix, &inserted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use converge::ReplicaId;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn reads_rerun_only_when_their_container_changes() {
        let doc = DocHandle::new(ReplicaId(1));
        let title = doc.root("title", ContainerKind::Text);
        let items = doc.root("items", ContainerKind::List);
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let shown = doc.watch(title, move |d| {
            counted.fetch_add(1, Ordering::SeqCst);
            d.text(title).unwrap()
        });
        assert_eq!(shown.get_untracked(), "");
        assert_eq!(runs.load(Ordering::SeqCst), 1);

        doc.edit(|d| d.list_insert(items, 0, Value::from("x")))
            .unwrap();
        assert_eq!(shown.get_untracked(), "");
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "a list edit must not re-run the title"
        );

        doc.edit(|d| d.text_insert(title, 0, "Todo")).unwrap();
        assert_eq!(shown.get_untracked(), "Todo");
        assert_eq!(runs.load(Ordering::SeqCst), 2);

        // A remote change to the title re-runs it too.
        let mut peer = Doc::new(ReplicaId(2));
        peer.apply_update(&doc.encode_updates_since(&VersionVector::new()))
            .unwrap();
        let before = peer.version();
        peer.text_insert(title, 4, "!").unwrap();
        doc.apply(&peer.encode_updates_since(&before), Source::Relay)
            .unwrap();
        assert_eq!(shown.get_untracked(), "Todo!");
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn listeners_get_each_change_with_its_source() {
        let doc = DocHandle::new(ReplicaId(1));
        let n = doc.root("n", ContainerKind::Counter);
        let seen = Rc::new(RefCell::new(Vec::new()));
        let log = seen.clone();
        doc.subscribe(move |u| log.borrow_mut().push((u.source, u.bytes.clone())));
        doc.edit(|d| d.counter_add(n, 2)).unwrap();
        let mut peer = Doc::new(ReplicaId(2));
        let (source, bytes) = seen.borrow()[0].clone();
        assert_eq!(source, Source::Local);
        peer.apply_update(&bytes).unwrap();
        assert_eq!(peer.counter(n).unwrap(), 2);
        // A failed transaction changes nothing and tells nobody.
        assert!(doc.edit(|d| d.text_insert(n, 0, "x")).is_err());
        assert_eq!(seen.borrow().len(), 1);
        assert_eq!(doc.counter(n).get_untracked(), 2);
    }

    #[test]
    fn diff_text_replaces_only_the_changed_middle() {
        let doc = DocHandle::new(ReplicaId(1));
        let t = doc.root("t", ContainerKind::Text);
        doc.edit(|d| d.text_insert(t, 0, "buy milk")).unwrap();
        let mut peer = Doc::new(ReplicaId(2));
        peer.apply_update(&doc.encode_updates_since(&VersionVector::new()))
            .unwrap();
        let base = peer.version();
        peer.text_insert(t, 0, "ALSO ").unwrap();
        doc.edit(|d| diff_text(d, t, "buy oat milk")).unwrap();
        doc.apply(&peer.encode_updates_since(&base), Source::Relay)
            .unwrap();
        assert_eq!(doc.text(t).get_untracked(), "ALSO buy oat milk");
    }
}
