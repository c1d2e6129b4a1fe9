//! The sequence CRDT engine shared by [`Text`](super::Text) and [`List`](super::List).
//!
//! A [`Seq`] is a replica: the span tree (document order, tombstones included), the content
//! store, the op log and the ids. Each concept has its module:
//!
//! | module | owns |
//! | --- | --- |
//! | [`ids`] | numbering: local versions `lv` of events ↔ [`Dot`]s, agents ↔ replicas |
//! | [`log`] | the op log: insert and delete runs in local order, item numbers `ilv` |
//! | [`local`] | local edits at visible positions and the typing caches |
//! | [`integrate`] | placing remote inserts (FugueMax / YjsMod) and deletions in the tree |
//! | [`remote`] | applying a batch of remote ops: dedup, waiting for dependencies, limits |
//! | [`export`] | rebuilding the ops a peer lacks from the log |
//! | [`checkpoint`] | what changed since a point, and rolling back to it |
//! | [`history`] | the compact history encoding and its replay |
//! | [`state`] | state snapshots: the tree and log written as they are |
//!
//! `ids` and `log` are data structures that know nothing of the tree or of each other (only
//! the helper that cuts runs at an lv is shared); [`Core::for_each_piece`] walks the log with
//! the ids. The other modules are `impl` blocks over all the parts, which call each other
//! only through methods.
//!
//! Everything but the content lives in a [`Core`], which a `Seq<S>` holds next to its store
//! `S`: most of the engine never reads the content, and as `Core` methods it compiles once
//! for text and lists instead of once per store (the npm package's `.wasm` is that much
//! smaller). `Seq<S>` methods are the crate's entry points; they touch the store (pushing
//! content, reading chunks) and hand the rest to `Core`, with the store's
//! [`Widths`](super::tree::Widths) where the tree's width counts need them.
//!
//! Imports between the modules go one way: `log` uses `ids`' run cutter; `state` uses both;
//! `history` and `checkpoint` use the log's run types (and `checkpoint` the bit set of
//! `state`).
//!
//! Invariants, across the parts ([`Seq::check_invariants`]): the tree holds every stored
//! item exactly once; the op log's insert runs number every stored item and, with its delete
//! runs, every event the ids number; each part's own invariants hold (see its module).
//!
//! [`Dot`]: crate::clock::Dot

mod checkpoint;
mod export;
mod history;
mod ids;
mod integrate;
mod local;
mod log;
mod remote;
mod state;

pub(crate) use self::checkpoint::Checkpoint;
pub(crate) use self::state::{StateParts, snapshot_version};

use converge_pool::Idx;

use self::ids::Ids;
use self::integrate::Sibling;
use self::local::Typing;
use self::log::{LogPiece, OpLog, Piece};
use super::content::Store;
use super::tree::{Counts, Leaf, MAX_SPAN, NONE, Tree};
use crate::clock::ReplicaId;
use crate::error::{Error, Result};
use crate::version::VersionVector;

/// The engine: span tree, content, operation log and ids. See the module docs.
#[derive(Clone, Debug)]
pub(crate) struct Seq<S> {
    /// Everything but the content.
    core: Core,
    pub(crate) store: S,
}

/// The part of a replica that does not depend on the content store: the span tree, the op
/// log, the ids and the caches. Its methods compile once for text and lists (the `.wasm`
/// holds one copy); those that change the tree take the store's
/// [`Widths`](super::tree::Widths).
#[derive(Clone, Debug)]
struct Core {
    tree: Tree,
    log: OpLog,
    ids: Ids,
    replica: ReplicaId,
    me: Option<u32>,
    /// The leaf of the last local edit and the counts before it (typing fast path).
    cache: Option<(Idx<Leaf>, Counts)>,
    /// Where the last local insert ended, while nothing else has changed since.
    typing: Option<Typing>,
    /// The last remote insert run, while nothing else has changed since (concurrent inserts
    /// at one spot arriving in ascending replica order).
    sibling: Option<Sibling>,
}

impl<S: Store> Seq<S> {
    pub(crate) fn new(replica: ReplicaId) -> Self {
        Seq {
            core: Core::new(replica),
            store: S::default(),
        }
    }

    pub(crate) fn replica(&self) -> ReplicaId {
        self.core.replica
    }

    /// The span tree (document order).
    pub(crate) fn tree(&self) -> &Tree {
        &self.core.tree
    }

    pub(crate) fn len(&self) -> usize {
        self.core.len()
    }

    pub(crate) fn width(&self) -> usize {
        self.core.tree.total().wide
    }

    pub(crate) fn version(&self) -> VersionVector {
        self.core.ids.version()
    }

    // ---------------------------------------------------------------- checks

    pub(crate) fn debug_stats(&self) -> alloc::string::String {
        alloc::format!(
            "ins {} (cap {}), dels {} (cap {}), lvruns {}, items {}, {}",
            self.core.log.ins.len(),
            self.core.log.ins.capacity(),
            self.core.log.dels.len(),
            self.core.log.dels.capacity(),
            self.core.ids.lv_runs(),
            self.store.items(),
            self.core.tree.debug_stats()
        )
    }

    pub(crate) fn check_invariants(&self) {
        self.core.tree.check(self.store.widths());
        assert_eq!(
            self.core.tree.total().raw,
            self.store.items(),
            "tree holds every item"
        );
        self.core
            .log
            .check_invariants(self.store.items(), self.core.ids.next_lv());
        self.core.ids.check_invariants();
        self.core.check_caches();
    }
}

impl Core {
    fn new(replica: ReplicaId) -> Self {
        Core {
            tree: Tree::new(),
            log: OpLog::default(),
            ids: Ids::default(),
            replica,
            me: None,
            cache: None,
            typing: None,
            sibling: None,
        }
    }

    /// An empty replica with this one's id and replicas (same agent numbers): the starting
    /// point of a replay of this replica's op log (with this replica's content).
    fn scratch(&self) -> Self {
        let mut r = Core::new(self.replica);
        for rep in self.ids.replicas() {
            r.ids.agent_or_insert(*rep);
        }
        r
    }

    fn len(&self) -> usize {
        self.tree.total().vis
    }

    /// `events` as a run length, or an error if that many more events or items would not fit
    /// the numbering. (The tree holds every stored item, so its item count is the store's.)
    fn check_capacity(&self, events: usize) -> Result<u32> {
        let n = u32::try_from(events).map_err(|_| Error::CapacityExceeded)?;
        if n > MAX_SPAN
            || u64::from(self.ids.next_lv()) + u64::from(n) >= u64::from(NONE)
            || self.tree.total().raw as u64 + u64::from(n) >= u64::from(NONE)
        {
            return Err(Error::CapacityExceeded);
        }
        Ok(n)
    }

    /// Calls `f` with every piece of the op log in local order: each insert and delete run
    /// split where the replica making its events changes (as the ids number them). (On `Core`
    /// rather than on the log with the ids as an argument: one pointer fewer in the loop
    /// that `history` inlines it into measured 0.7% fewer instructions there.)
    fn for_each_piece(&self, mut f: impl FnMut(LogPiece)) {
        let (mut i, mut d) = (0, 0);
        while i < self.log.ins.len() || d < self.log.dels.len() {
            let take_ins = d >= self.log.dels.len()
                || (i < self.log.ins.len() && self.log.ins[i].lv < self.log.dels[d].lv);
            let (run_lv, run_len) = if take_ins {
                (self.log.ins[i].lv, self.log.ins[i].len)
            } else {
                (self.log.dels[d].lv, self.log.dels[d].len)
            };
            let mut lv = run_lv;
            while lv < run_lv + run_len {
                let idr = *self.ids.lv_run(lv);
                let len = (run_lv + run_len).min(idr.lv + idr.len) - lv;
                let (off, agent) = (lv - run_lv, idr.agent);
                let counter = idr.counter + u64::from(lv - idr.lv);
                f(if take_ins {
                    LogPiece::Insert(Piece {
                        run: self.log.ins[i],
                        off,
                        len,
                        agent,
                        counter,
                    })
                } else {
                    LogPiece::Delete(Piece {
                        run: self.log.dels[d],
                        off,
                        len,
                        agent,
                        counter,
                    })
                });
                lv += len;
            }
            if take_ins {
                i += 1;
            } else {
                d += 1;
            }
        }
    }
}
