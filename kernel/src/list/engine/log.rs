//! The op log: every event this replica knows, as insert runs and delete runs in local order.
//!
//! Inserted items get an *item number* `ilv`, dense in the order they were learnt (the order
//! of their lvs), used by the span tree, the content store, origins and delete targets. An
//! insert run is items `ilv..ilv + len` made by events `lv..lv + len`, all but the first with
//! the item before it as left origin, all with one right origin. A delete run is events
//! `lv..lv + len` deleting consecutive items from `target`, upwards or (backspace) downwards.
//! Runs do not know which replica made their events: [`Ids`](super::ids::Ids) does, and
//! [`Core::for_each_piece`](super::Core::for_each_piece) walks the two together.
//!
//! Invariants: insert runs are sorted by lv and by item number, their item numbers
//! contiguous from 0 (one per stored item); delete runs are sorted by lv; together the runs
//! cover every lv exactly once; no run is longer than [`MAX_SPAN`]; a delete run is
//! descending only if it has two events or more.

use alloc::vec::Vec;

use super::super::content::reserve_frugal;
use super::super::tree::MAX_SPAN;
use super::ids::cut_runs;

/// Items `ilv..ilv + len`, inserted by events `lv..lv + len`; the first with left origin
/// `ol`, each later one with the item before it; all with right origin `or` (origins are item
/// numbers, [`NONE`](super::super::tree::NONE) for the start or end).
#[derive(Clone, Copy, Debug)]
pub(super) struct InsRun {
    pub(super) lv: u32,
    pub(super) ilv: u32,
    pub(super) len: u32,
    pub(super) ol: u32,
    pub(super) or: u32,
}

/// Events `lv..lv + len`, deleting items from `target` on, one per event: upwards, or
/// downwards when `rev` (backspace).
#[derive(Clone, Copy, Debug)]
pub(super) struct DelRun {
    pub(super) lv: u32,
    pub(super) len: u32,
    pub(super) target: u32,
    pub(super) rev: bool,
}

impl DelRun {
    /// The last target in run order.
    pub(super) fn last_target(&self) -> u32 {
        if self.rev {
            self.target - (self.len - 1)
        } else {
            self.target + (self.len - 1)
        }
    }
}

/// Part of one run of the op log made by one replica, as
/// [`Core::for_each_piece`](super::Core::for_each_piece) walks them: events `off..off + len`
/// of `run`, the first of them `counter` of replica index `agent`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Piece<R> {
    pub(super) run: R,
    pub(super) off: u32,
    pub(super) len: u32,
    pub(super) agent: u32,
    pub(super) counter: u64,
}

impl Piece<InsRun> {
    /// The item number of the piece's first item.
    pub(super) fn ilv(&self) -> u32 {
        self.run.ilv + self.off
    }
    /// The left origin of the piece's first item: the run's, or the item before it in the run.
    pub(super) fn ol(&self) -> u32 {
        if self.off == 0 {
            self.run.ol
        } else {
            self.ilv() - 1
        }
    }
}

impl Piece<DelRun> {
    /// The item the piece's first event deletes.
    pub(super) fn first_target(&self) -> u32 {
        if self.run.rev {
            self.run.target - self.off
        } else {
            self.run.target + self.off
        }
    }
}

/// A [`Piece`] of an insert run or of a delete run.
#[derive(Clone, Copy, Debug)]
pub(super) enum LogPiece {
    Insert(Piece<InsRun>),
    Delete(Piece<DelRun>),
}

/// The insert and delete runs. See the module docs.
#[derive(Clone, Debug, Default)]
pub(super) struct OpLog {
    pub(super) ins: Vec<InsRun>,
    pub(super) dels: Vec<DelRun>,
}

impl OpLog {
    /// Logs items `ilv..ilv + len` inserted by events `lv..`, extending the last run when
    /// they continue it.
    pub(super) fn push_ins(&mut self, lv: u32, ilv: u32, len: u32, ol: u32, or: u32) {
        if let Some(l) = self.ins.last_mut() {
            if l.lv + l.len == lv
                && l.ilv + l.len == ilv
                && ol == ilv.wrapping_sub(1)
                && l.or == or
                && l.len.checked_add(len).is_some_and(|x| x <= MAX_SPAN)
            {
                l.len += len;
                return;
            }
        }
        reserve_frugal(&mut self.ins, 1);
        self.ins.push(InsRun {
            lv,
            ilv,
            len,
            ol,
            or,
        });
    }

    /// Logs `len` deletions by events `lv..` from item `target` on (downwards when `rev`),
    /// extending the last run when they continue it.
    pub(super) fn push_del(&mut self, lv: u32, len: u32, target: u32, rev: bool) {
        if let Some(l) = self.dels.last_mut() {
            if l.lv + l.len == lv && l.len < MAX_SPAN - len {
                let last = l.last_target();
                if !l.rev && !rev && last.checked_add(1) == Some(target) {
                    l.len += len;
                    return;
                }
                if (rev || len == 1) && (l.rev || l.len == 1) && last.checked_sub(1) == Some(target)
                {
                    l.rev = true;
                    l.len += len;
                    return;
                }
            }
        }
        reserve_frugal(&mut self.dels, 1);
        self.dels.push(DelRun {
            lv,
            len,
            target,
            rev: rev && len > 1,
        });
    }

    /// Forgets the events from `lv` on.
    pub(super) fn truncate(&mut self, lv: u32) {
        cut_runs(&mut self.ins, lv, |r| (r.lv, &mut r.len));
        cut_runs(&mut self.dels, lv, |r| (r.lv, &mut r.len));
        if let Some(last) = self.dels.last_mut() {
            // A run is descending only once it has two events (as `push_del` makes them).
            last.rev &= last.len > 1;
        }
    }

    // ---------------------------------------------------------------- lookups

    /// The insert run holding item `ilv`.
    pub(super) fn ins_by_ilv(&self, ilv: u32) -> &InsRun {
        // The newest run first: what a local edit or a sync of recent edits asks for.
        match self.ins.last() {
            Some(r) if r.ilv <= ilv => r,
            _ => &self.ins[self.ins.partition_point(|r| r.ilv <= ilv) - 1],
        }
    }

    /// [`ins_by_ilv`](Self::ins_by_ilv), trying run `*hint` and its successor first;
    /// leaves the found run's index in `hint`.
    #[inline]
    pub(super) fn ins_near(&self, ilv: u32, hint: &mut usize) -> &InsRun {
        let contains = |i: usize| {
            self.ins
                .get(i)
                .is_some_and(|r| r.ilv <= ilv && ilv < r.ilv + r.len)
        };
        if !contains(*hint) {
            if contains(*hint + 1) {
                *hint += 1;
            } else {
                *hint = self.ins.partition_point(|r| r.ilv <= ilv) - 1;
            }
        }
        &self.ins[*hint]
    }

    /// The insert run holding event `lv`, if it is an insert.
    pub(super) fn ins_by_lv(&self, lv: u32) -> Option<&InsRun> {
        let r = match self.ins.last() {
            Some(r) if r.lv <= lv => r,
            _ => &self.ins[self.ins.partition_point(|r| r.lv <= lv).checked_sub(1)?],
        };
        (lv < r.lv + r.len).then_some(r)
    }

    /// The delete run holding event `lv`, if it is a deletion.
    pub(super) fn del_by_lv(&self, lv: u32) -> Option<&DelRun> {
        let r = match self.dels.last() {
            Some(r) if r.lv <= lv => r,
            _ => &self.dels[self.dels.partition_point(|r| r.lv <= lv).checked_sub(1)?],
        };
        (lv < r.lv + r.len).then_some(r)
    }

    /// The event that inserted item `ilv`.
    pub(super) fn ilv_to_lv(&self, ilv: u32) -> u32 {
        let r = self.ins_by_ilv(ilv);
        r.lv + (ilv - r.ilv)
    }

    /// Panics unless the log holds `items` items and, with them, `events` events, and the
    /// insert runs are in order.
    pub(super) fn check_invariants(&self, items: usize, events: u32) {
        let ins: u64 = self.ins.iter().map(|r| u64::from(r.len)).sum();
        let dels: u64 = self.dels.iter().map(|r| u64::from(r.len)).sum();
        assert_eq!(ins, items as u64, "insert log covers every item");
        assert_eq!(ins + dels, u64::from(events), "every lv is logged");
        for w in self.ins.windows(2) {
            assert!(w[0].lv + w[0].len <= w[1].lv && w[0].ilv + w[0].len == w[1].ilv);
        }
    }
}
