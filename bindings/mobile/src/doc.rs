//! [`Doc`]: the kernel document behind a mutex, with sync, transactions and listeners.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use converge::doc::{self as k};
use converge::{ReplicaId, VersionVector};

use crate::containers::{DocCounter, DocList, DocMap, DocRegister, DocSet, DocText};
use crate::error::{ConvergeError, Result};
use crate::event::{ChangeEvent, ChangeListener};
use crate::value::{ContainerId, Item, Node};

/// What a document and all its handles share: the kernel document and the listeners.
pub(crate) struct Shared {
    doc: Mutex<k::Doc>,
    listeners: Mutex<Vec<(u64, Arc<dyn ChangeListener>)>>,
    next_listener: AtomicU64,
}

impl Shared {
    fn new(doc: k::Doc) -> Arc<Self> {
        Arc::new(Shared {
            doc: Mutex::new(doc),
            listeners: Mutex::new(Vec::new()),
            next_listener: AtomicU64::new(1),
        })
    }

    /// The locked document. A panic inside the kernel poisons the lock; later calls panic too
    /// (uniffi turns that into an internal error in the host) rather than touch a document
    /// that may be half-edited.
    fn lock(&self) -> MutexGuard<'_, k::Doc> {
        self.doc
            .lock()
            .expect("a previous call panicked inside the document")
    }

    /// Runs an infallible read under the lock.
    pub(crate) fn peek<T>(&self, f: impl FnOnce(&k::Doc) -> T) -> T {
        f(&self.lock())
    }

    /// Runs a read under the lock.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&k::Doc) -> k::Result<T>) -> Result<T> {
        f(&self.lock()).map_err(ConvergeError::from)
    }

    /// Runs an edit under the lock, then delivers the events it queued once the lock is
    /// released.
    pub(crate) fn edit<T>(&self, f: impl FnOnce(&mut k::Doc) -> Result<T>) -> Result<T> {
        let (out, events) = {
            let mut doc = self.lock();
            let out = f(&mut doc);
            let events = doc.take_events();
            let events: Vec<ChangeEvent> = events
                .into_iter()
                .filter(|e| !e.is_empty())
                .map(|e| ChangeEvent::from_kernel(&doc, e))
                .collect();
            (out, events)
        };
        if !events.is_empty() {
            let listeners: Vec<Arc<dyn ChangeListener>> = self
                .listeners
                .lock()
                .expect("listener list")
                .iter()
                .map(|(_, l)| Arc::clone(l))
                .collect();
            for event in events {
                for l in &listeners {
                    l.on_change(event.clone());
                }
            }
        }
        out
    }
}

/// A position or length from the host: negative is `OUT_OF_BOUNDS`.
pub(crate) fn to_usize(what: &str, i: i32) -> Result<usize> {
    usize::try_from(i).map_err(|_| ConvergeError::negative(what, i.into()))
}

/// A length or position for the host (saturating: no container holds 2^31 items in memory
/// a phone has).
pub(crate) fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn decode_version(bytes: &[u8]) -> Result<VersionVector> {
    Ok(converge::decode::<VersionVector>(bytes)?)
}

/// What [`Doc::apply_update`] did.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ApplyReport {
    /// Updates applied by this call (new ones, and buffered ones they unblocked).
    pub applied: i32,
    /// Updates that were already applied or buffered.
    pub duplicates: i32,
    /// Updates buffered because something they depend on is missing.
    pub pending: i32,
    /// Buffered updates dropped as invalid once their dependencies arrived.
    pub rejected: i32,
    /// The version the buffered updates wait for (encoded like [`Doc::version`]): ask a peer
    /// for `encodeUpdatesSince(myVersion)` to get it.
    pub missing: Vec<u8>,
}

/// A collaborative document. Safe to share between threads: every call takes the document's
/// lock once. Edits outside a transaction commit by themselves; a transaction is the
/// document's (not a thread's), so threads that edit concurrently should not open one.
#[derive(uniffi::Object)]
pub struct Doc {
    shared: Arc<Shared>,
}

impl Doc {
    fn wrap(doc: k::Doc) -> Arc<Self> {
        Arc::new(Doc {
            shared: Shared::new(doc),
        })
    }

    fn root(&self, name: &str, kind: k::ContainerKind) -> k::ContainerId {
        self.shared.lock().root(name, kind)
    }
}

#[uniffi::export]
impl Doc {
    /// An empty document whose local edits are attributed to `replica`. Every replica
    /// editing a document needs its own id.
    #[uniffi::constructor]
    pub fn new(replica: u64) -> Arc<Self> {
        Doc::wrap(k::Doc::new(ReplicaId(replica)))
    }

    /// An empty document that keeps at most `bytes` of update history; an edit or update
    /// that would exceed it fails with `BUDGET_EXCEEDED`.
    #[uniffi::constructor]
    pub fn with_memory_limit(replica: u64, bytes: u64) -> Arc<Self> {
        let bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        Doc::wrap(k::Doc::with_memory_limit(ReplicaId(replica), bytes))
    }

    /// Restores a document from [`save`](Doc::save) or [`save_history`](Doc::save_history)
    /// output, with the saved replica id.
    #[uniffi::constructor]
    pub fn load(bytes: Vec<u8>) -> Result<Arc<Self>> {
        Ok(Doc::wrap(k::Doc::load(&bytes)?))
    }

    /// The replica id local edits are attributed to.
    pub fn replica(&self) -> u64 {
        self.shared.lock().replica().0
    }

    /// The root text called `name`.
    pub fn text(&self, name: &str) -> Arc<DocText> {
        let id = self.root(name, k::ContainerKind::Text);
        Arc::new(DocText::new(Arc::clone(&self.shared), id))
    }

    /// The root map called `name`.
    pub fn map(&self, name: &str) -> Arc<DocMap> {
        let id = self.root(name, k::ContainerKind::Map);
        Arc::new(DocMap::new(Arc::clone(&self.shared), id))
    }

    /// The root list called `name`.
    pub fn list(&self, name: &str) -> Arc<DocList> {
        let id = self.root(name, k::ContainerKind::List);
        Arc::new(DocList::new(Arc::clone(&self.shared), id))
    }

    /// The root counter called `name`.
    pub fn counter(&self, name: &str) -> Arc<DocCounter> {
        let id = self.root(name, k::ContainerKind::Counter);
        Arc::new(DocCounter::new(Arc::clone(&self.shared), id))
    }

    /// The root register called `name`.
    pub fn register(&self, name: &str) -> Arc<DocRegister> {
        let id = self.root(name, k::ContainerKind::Register);
        Arc::new(DocRegister::new(Arc::clone(&self.shared), id))
    }

    /// The root set called `name`.
    pub fn set(&self, name: &str) -> Arc<DocSet> {
        let id = self.root(name, k::ContainerKind::Set);
        Arc::new(DocSet::new(Arc::clone(&self.shared), id))
    }

    /// A handle of the right kind for the container `id` (from an event, say).
    pub fn container(&self, id: ContainerId) -> Item {
        Item::container(&self.shared, id.into())
    }

    /// The name of root `id`, if this document has named it.
    pub fn root_name(&self, id: ContainerId) -> Option<String> {
        self.shared.lock().root_name(id.into()).map(str::to_owned)
    }

    /// The named roots' contents by name (the document's JSON view).
    pub fn named_roots(&self) -> HashMap<String, Node> {
        let roots = self.shared.lock().named_roots();
        roots.into_iter().map(|(k, n)| (k, n.into())).collect()
    }

    // ---------------------------------------------------------------- transactions

    /// Opens a transaction: the following edits commit together as one update and one event,
    /// or not at all. Fails with `TRANSACTION_OPEN` if one is open.
    pub fn begin(&self) -> Result<()> {
        self.shared.edit(|d| Ok(d.begin()?))
    }

    /// Commits the open transaction; returns its event (listeners get it too).
    pub fn commit(&self) -> Result<ChangeEvent> {
        self.shared.edit(|d| {
            let e = d.commit()?;
            Ok(ChangeEvent::from_kernel(d, e))
        })
    }

    /// Discards the open transaction's edits (nothing happens if none is open).
    pub fn rollback(&self) {
        self.shared.lock().rollback();
    }

    /// Whether a transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.shared.lock().in_transaction()
    }

    // ---------------------------------------------------------------- sync

    /// This document's version vector, encoded for `encodeUpdatesSince` on a peer.
    pub fn version(&self) -> Vec<u8> {
        converge::encode(&self.shared.lock().version())
    }

    /// The updates a peer at `version` lacks (all of them for `null`), as one message for
    /// `applyUpdate`. Fails with `DECODE` on bytes that are not a version.
    pub fn encode_updates_since(&self, version: Option<Vec<u8>>) -> Result<Vec<u8>> {
        let since = match version {
            Some(bytes) => decode_version(&bytes)?,
            None => VersionVector::new(),
        };
        Ok(self.shared.lock().encode_updates_since(&since))
    }

    /// Applies a message from a peer's `encodeUpdatesSince` or `mergeUpdates`; idempotent
    /// and order-independent. On error the document is unchanged.
    pub fn apply_update(&self, bytes: Vec<u8>) -> Result<ApplyReport> {
        self.shared.edit(|d| {
            let r = d.apply_update(&bytes)?;
            Ok(ApplyReport {
                applied: to_i32(r.applied),
                duplicates: to_i32(r.duplicates),
                pending: to_i32(r.pending),
                rejected: to_i32(r.rejected),
                missing: converge::encode(&r.missing),
            })
        })
    }

    /// The document's state as bytes for `Doc.load`. Fails during a transaction.
    pub fn save(&self) -> Result<Vec<u8>> {
        Ok(self.shared.lock().save()?)
    }

    /// The whole edit history as compact bytes (the smallest transfer); `Doc.load` accepts
    /// them too. Fails during a transaction.
    pub fn save_history(&self) -> Result<Vec<u8>> {
        Ok(self.shared.lock().save_history()?)
    }

    /// Bytes charged to the memory limit (counted only when a limit is set, plus the size
    /// of the snapshot the document was loaded from).
    pub fn memory_used(&self) -> u64 {
        self.shared.lock().memory_used() as u64
    }

    /// Updates buffered while they wait for their dependencies.
    pub fn pending_count(&self) -> i32 {
        to_i32(self.shared.lock().pending_count())
    }

    // ---------------------------------------------------------------- events

    /// Calls `listener` with every change from now on; returns an id for `unsubscribe`.
    pub fn subscribe(&self, listener: Arc<dyn ChangeListener>) -> u64 {
        let id = self.shared.next_listener.fetch_add(1, Ordering::Relaxed);
        let mut doc = self.shared.lock();
        let mut listeners = self.shared.listeners.lock().expect("listener list");
        listeners.push((id, listener));
        doc.queue_events(true);
        id
    }

    /// Stops the listener `id`; whether it was subscribed.
    pub fn unsubscribe(&self, id: u64) -> bool {
        let mut doc = self.shared.lock();
        let mut listeners = self.shared.listeners.lock().expect("listener list");
        let before = listeners.len();
        listeners.retain(|(i, _)| *i != id);
        if listeners.is_empty() {
            doc.queue_events(false);
        }
        listeners.len() != before
    }
}

/// Combines update messages into one (for a relay, or to store fewer blobs).
#[uniffi::export]
pub fn merge_updates(messages: Vec<Vec<u8>>) -> Result<Vec<u8>> {
    let parts: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    Ok(k::Doc::merge_updates(&parts)?)
}
