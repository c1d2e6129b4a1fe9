//! The state every Python object of one document shares: the kernel [`Doc`] behind a mutex,
//! the thread that owns the open transaction, and the subscribers.
//!
//! Locking discipline (what keeps threads from deadlocking on the mutex and the GIL):
//! - Python objects are built and Python code runs only while the mutex is *not* held.
//!   Arguments are converted to Rust values before locking; results are Rust values that are
//!   converted after unlocking.
//! - A thread attached to Python first tries the mutex without blocking; if it is taken (or
//!   another thread's transaction is open) it detaches from Python before waiting, so the
//!   thread that holds the mutex never waits for the GIL held by a waiter.
//! - A transaction belongs to the thread that opened it: other threads' calls wait until it
//!   is committed or rolled back, so their edits never land inside it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, ThreadId};

use converge::doc::{ChangeEvent, Doc};
use pyo3::prelude::*;

/// Inputs at least this long are decoded with the GIL released (other Python threads run).
pub(crate) const DETACH_BYTES: usize = 16 * 1024;

/// The locked part: the document and its transaction's owner.
pub(crate) struct State {
    /// The kernel document.
    pub(crate) doc: Doc,
    /// The thread whose transaction is open, if any.
    pub(crate) owner: Option<ThreadId>,
}

/// One document's shared state (see the module docs).
pub(crate) struct Inner {
    state: Mutex<State>,
    turn: Condvar,
    subscribers: Mutex<Vec<(u64, Py<PyAny>)>>,
    listening: AtomicBool,
    next_id: AtomicU64,
}

/// A handle to the shared state, held by the document and every container handle.
pub(crate) type Shared = Arc<Inner>;

impl Inner {
    /// Shares `doc`.
    pub(crate) fn new(doc: Doc) -> Shared {
        Arc::new(Inner {
            state: Mutex::new(State { doc, owner: None }),
            turn: Condvar::new(),
            subscribers: Mutex::new(Vec::new()),
            listening: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic inside the kernel leaves the document as the kernel left it; keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn free_for(state: &State, me: ThreadId) -> bool {
        state.owner.is_none_or(|o| o == me)
    }

    /// Runs `f` on the state, waiting (detached from Python) if another thread holds the lock
    /// or has a transaction open. Short calls stay attached when the lock is free.
    pub(crate) fn with<T, F>(&self, py: Python<'_>, f: F) -> T
    where
        F: FnOnce(&mut State) -> T + Send,
        T: Send,
    {
        let me = thread::current().id();
        if let Ok(mut guard) = self.state.try_lock() {
            if Self::free_for(&guard, me) {
                return f(&mut guard);
            }
        }
        py.detach(|| self.with_blocking(me, f))
    }

    /// Runs `f` with the GIL released for the whole call: for long kernel work.
    pub(crate) fn with_detached<T, F>(&self, py: Python<'_>, f: F) -> T
    where
        F: FnOnce(&mut State) -> T + Send,
        T: Send,
    {
        let me = thread::current().id();
        py.detach(|| self.with_blocking(me, f))
    }

    fn with_blocking<T>(&self, me: ThreadId, f: impl FnOnce(&mut State) -> T) -> T {
        let mut guard = self.lock();
        while !Self::free_for(&guard, me) {
            guard = self.turn.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
        f(&mut guard)
    }

    /// Wakes threads waiting for a transaction to end.
    pub(crate) fn transaction_ended(&self) {
        self.turn.notify_all();
    }

    /// Adds a subscriber; returns its id.
    pub(crate) fn subscribe(&self, py: Python<'_>, callback: Py<PyAny>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut subs = self.subscribers.lock().unwrap_or_else(|e| e.into_inner());
        subs.push((id, callback));
        if subs.len() == 1 {
            self.listening.store(true, Ordering::Release);
            drop(subs);
            self.with(py, |s| s.doc.queue_events(true));
        }
        id
    }

    /// Removes subscriber `id`; returns whether it was there.
    pub(crate) fn unsubscribe(&self, py: Python<'_>, id: u64) -> bool {
        let mut subs = self.subscribers.lock().unwrap_or_else(|e| e.into_inner());
        let before = subs.len();
        subs.retain(|(i, _)| *i != id);
        let removed = subs.len() != before;
        if removed && subs.is_empty() {
            self.listening.store(false, Ordering::Release);
            let taken = std::mem::take(&mut *subs);
            drop(subs);
            // Dropping callbacks may run Python code: never under a lock.
            drop(taken);
            self.with(py, |s| s.doc.queue_events(false));
        }
        removed
    }

    /// Takes the queued events and the callbacks to call, if anyone listens.
    pub(crate) fn pending_events(
        &self,
        py: Python<'_>,
    ) -> Option<(Vec<ChangeEvent>, Vec<Py<PyAny>>)> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        let events = self.with(py, |s| s.doc.take_events());
        if events.is_empty() {
            return None;
        }
        let subs = self.subscribers.lock().unwrap_or_else(|e| e.into_inner());
        let callbacks = subs.iter().map(|(_, cb)| cb.clone_ref(py)).collect();
        Some((events, callbacks))
    }
}
