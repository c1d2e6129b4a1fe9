//! Local edits: inserting and deleting at visible positions as this replica's own events.
//!
//! A local insert takes its origins from the visible neighbours of the position (left: the
//! item before it, right: the next item in the tree, visible or not), so integrating it
//! anywhere else puts it at the same place. Deletions take whole visible runs at a time.
//!
//! Typing is the common case, so two caches make it cheap: the leaf of the last edit and the
//! counts before it (for position lookups), and [`Typing`], where the last insert ended while
//! nothing else has changed since, so the next keystroke extends the same span and op-log
//! run in `O(1)`. Invariant: both describe the current tree or are `None`; every edit that
//! does not maintain them (remote integration, deletion, rollback) clears them.

use alloc::vec::Vec;

use converge_pool::Idx;

use super::super::content::Store;
use super::super::tree::{Cursor, Found, Leaf, NONE, Span, Widths};
use super::{Core, Seq};
use crate::error::{Error, Result};

/// The state of an uninterrupted run of local typing: the next insert at visible position
/// `pos` continues the span at `cur` (which ends at item number `end`), keeping right origin
/// `or`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Typing {
    pos: usize,
    cur: Cursor,
    end: u32,
    or: u32,
    agent: u32,
}

impl<S: Store> Seq<S> {
    /// Inserts `n` items at visible position `pos`; `push` appends their content to the store.
    pub(crate) fn insert_local(
        &mut self,
        pos: usize,
        n: usize,
        push: impl FnOnce(&mut S),
    ) -> Result<()> {
        let Some((agent, n)) = self.core.begin_insert(pos, n)? else {
            return Ok(());
        };
        let ilv = self.store.items() as u32;
        push(&mut self.store);
        self.core.insert_at(agent, pos, n, ilv, self.store.widths());
        Ok(())
    }

    /// Deletes visible items `start..end`.
    #[inline]
    pub(crate) fn delete_local(&mut self, start: usize, end: usize) -> Result<()> {
        self.core.delete_local(start, end, self.store.widths())
    }

    /// Deletes the `n` visible items ending at `last` as `n` backspaces from `last + 1`
    /// would: the item at `last` first, then the one before it, and so on.
    pub(crate) fn delete_back_local(&mut self, last: usize, n: usize) -> Result<()> {
        self.core.delete_back_local(last, n, self.store.widths())
    }
}

impl Core {
    /// This replica's agent number, registered at its first local edit.
    fn me(&mut self) -> u32 {
        match self.me {
            Some(a) => a,
            None => {
                let a = self.ids.agent_or_insert(self.replica);
                self.me = Some(a);
                a
            }
        }
    }

    /// Visible item `pos`, using the typing cache when it applies.
    fn find_vis(&mut self, pos: usize, w: Widths<'_>) -> Option<Found> {
        if let Some((leaf, start)) = self.cache {
            if let Some(f) = self.tree.find_visible_in(leaf, start, pos, w) {
                return Some(f);
            }
        }
        let f = self.tree.find_visible(pos, w)?;
        self.cache = Some((f.cur.leaf, f.leaf_start));
        Some(f)
    }

    /// Checks a local insert of `n` items at visible position `pos`: `None` if there is
    /// nothing to insert, else the agent making it and `n` as a run length. (Inlined into
    /// each store's `insert_local`: a call more per keystroke measured 2% slower typing in
    /// the npm package, `bench/batch.mjs`.)
    #[inline(always)]
    fn begin_insert(&mut self, pos: usize, n: usize) -> Result<Option<(u32, u32)>> {
        let len = self.len();
        if pos > len {
            return Err(Error::OutOfBounds { index: pos, len });
        }
        if n == 0 {
            return Ok(None);
        }
        let n = self.check_capacity(n)?;
        Ok(Some((self.me(), n)))
    }

    /// Inserts the `n` items whose content is stored at `ilv..` at visible position `pos`
    /// (checked by the caller) as the next events of `agent`.
    pub(super) fn insert_at(&mut self, agent: u32, pos: usize, n: u32, ilv: u32, w: Widths<'_>) {
        self.sibling = None;
        let counter = self.ids.seen(agent) + 1;
        if let Some(ty) = self.typing.take() {
            if ty.pos == pos && ty.end == ilv && ty.agent == agent {
                // Typing fast path: extend the span we just typed into.
                let lv = self.ids.push(agent, counter, n);
                self.log.push_ins(lv, ilv, n, ilv - 1, ty.or);
                self.tree.extend_span(ty.cur, n, w);
                self.typing = Some(Typing {
                    pos: pos + n as usize,
                    end: ilv + n,
                    ..ty
                });
                return;
            }
        }
        let (at, ol) = if pos == 0 {
            (self.tree.start(), NONE)
        } else {
            let f = self.find_vis(pos - 1, w).expect("pos - 1 < len");
            let s = self.tree.span(f.cur);
            (
                Cursor {
                    off: f.cur.off + 1,
                    ..f.cur
                },
                s.lv + f.cur.off,
            )
        };
        let or = self
            .tree
            .normalize(at)
            .map_or(NONE, |c| self.tree.span(c).lv + c.off);
        let lv = self.ids.push(agent, counter, n);
        self.log.push_ins(lv, ilv, n, ol, or);
        let leaves = self.tree.leaf_count();
        let c = self.tree.insert(at, Span::new(ilv, n, false), w);
        self.after_edit(c.leaf, leaves);
        self.typing = Some(Typing {
            pos: pos + n as usize,
            cur: c,
            end: ilv + n,
            or,
            agent,
        });
    }

    fn after_edit(&mut self, leaf: Idx<Leaf>, leaves_before: usize) {
        match self.cache {
            Some((l, _)) if l == leaf && self.tree.leaf_count() == leaves_before => {}
            _ => self.cache = None,
        }
    }

    /// Deletes visible items `start..end`.
    fn delete_local(&mut self, start: usize, end: usize, w: Widths<'_>) -> Result<()> {
        let len = self.len();
        if end > len || start > end {
            return Err(Error::OutOfBounds {
                index: end.max(start),
                len,
            });
        }
        if start == end {
            return Ok(());
        }
        self.check_capacity(end - start)?;
        let agent = self.me();
        self.delete_at(agent, start, (end - start) as u32, w);
        Ok(())
    }

    /// [`Seq::delete_back_local`].
    fn delete_back_local(&mut self, last: usize, n: usize, w: Widths<'_>) -> Result<()> {
        let len = self.len();
        if last >= len || n > last + 1 {
            return Err(Error::OutOfBounds {
                index: last.saturating_add(1),
                len,
            });
        }
        if n == 0 {
            return Ok(());
        }
        let n = self.check_capacity(n)?;
        let agent = self.me();
        self.delete_back(agent, last, n, w);
        Ok(())
    }

    /// Deletes `n` visible items from `start` (checked by the caller) as the next events of
    /// `agent`.
    pub(super) fn delete_at(&mut self, agent: u32, start: usize, n: u32, w: Widths<'_>) {
        self.typing = None;
        self.sibling = None;
        let mut remaining = n;
        while remaining > 0 {
            let f = self.find_vis(start, w).expect("start < len");
            let leaves = self.tree.leaf_count();
            let (t, k, _) = self.tree.delete_at(f.cur, remaining, w);
            self.after_edit(f.cur.leaf, leaves);
            let counter = self.ids.seen(agent) + 1;
            let lv = self.ids.push(agent, counter, k);
            self.log.push_del(lv, k, t, false);
            remaining -= k;
        }
    }

    /// Deletes the `n` visible items ending at position `last` (checked by the caller) the
    /// way repeated backspace from `last + 1` would: the first deletion event takes the item
    /// at `last`, the next one the item before it, and so on. One range walk instead of `n`
    /// single deletions.
    pub(super) fn delete_back(&mut self, agent: u32, last: usize, n: u32, w: Widths<'_>) {
        self.typing = None;
        self.sibling = None;
        let start = last + 1 - n as usize;
        let mut pieces: Vec<(u32, u32)> = Vec::new();
        let mut remaining = n;
        while remaining > 0 {
            let f = self.find_vis(start, w).expect("start < len");
            let leaves = self.tree.leaf_count();
            let (t, k, _) = self.tree.delete_at(f.cur, remaining, w);
            self.after_edit(f.cur.leaf, leaves);
            pieces.push((t, k));
            remaining -= k;
        }
        self.log_back_deletes(agent, &pieces);
    }

    /// Logs the deletions of a backspace run as backspace makes them: `pieces` are the
    /// deleted `(first item, count)` runs in document order, logged last run first, each run
    /// highest item first.
    pub(super) fn log_back_deletes(&mut self, agent: u32, pieces: &[(u32, u32)]) {
        for &(t, k) in pieces.iter().rev() {
            let counter = self.ids.seen(agent) + 1;
            let lv = self.ids.push(agent, counter, k);
            self.log.push_del(lv, k, t + (k - 1), k > 1);
        }
    }

    /// Panics unless the typing caches describe the current tree (see the module docs).
    pub(super) fn check_caches(&self) {
        if let Some(ty) = self.typing {
            let s = self.tree.span(ty.cur);
            assert!(!s.deleted() && s.end() == ty.end, "typing span is current");
            let mut pos = self.tree.leaf_start(ty.cur.leaf).vis;
            for sp in &self.tree.leaf_spans(ty.cur.leaf)[..=ty.cur.idx] {
                pos += sp.vis() as usize;
            }
            assert_eq!(pos, ty.pos, "typing position is current");
        }
        if let Some((leaf, start)) = self.cache {
            assert_eq!(self.tree.leaf_start(leaf), start, "typing cache is current");
        }
    }
}
