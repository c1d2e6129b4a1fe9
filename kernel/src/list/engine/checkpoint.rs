//! Checkpoints: what changed since a point in a replica's history, and forgetting it, so a
//! caller that stages edits (the document's transactions and remote updates) can work on the
//! replica itself instead of on a copy.
//!
//! Every event this replica learns, local or remote, takes the next local version, and every
//! inserted item the next item number. So the events after a [`Checkpoint`] are exactly the
//! tail of each log, of the id runs and of the content store:
//!
//! * their ops are the ops of that lv range (`Seq::ops_after`, which the tests compare with
//!   `ops_since`); `events_after` names them without building them;
//! * the items whose visibility they changed are the items they inserted and the items they
//!   deleted, and the visible range those span is the change a subscriber is told about
//!   ([`Core::change_since`]);
//! * undoing them is cutting those tails: the items they inserted go, and the items they
//!   deleted come back unless an earlier event deleted them too. The span tree is rebuilt from
//!   its own spans in one pass ([`Seq::rollback`]).
//!
//! Invariant: after `rollback(checkpoint())` the replica is the replica it was — same text,
//! version, history and snapshot — except for the shape of its tree and its caches, which only
//! affect speed.

use alloc::vec::Vec;

use crate::clock::Dot;

use super::super::content::Store;
use super::super::tree::{Span, TreeBuilder, Widths};
use super::log::DelRun;
use super::state::Bits;
use super::{Core, Seq};
use crate::sort::sort;

/// A point in a replica's history to return to with [`Seq::rollback`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    /// Events learnt before it.
    lv: u32,
    /// Items inserted before it.
    items: u32,
    /// Replicas known before it.
    agents: usize,
    /// Visible items at it.
    len: usize,
}

impl<S: Store> Seq<S> {
    /// The id of the first event learnt since `cp` (taken from this replica) and how many
    /// were learnt, if any: for local edits, the replica's own new events.
    pub(crate) fn events_after(&self, cp: Checkpoint) -> Option<(Dot, u64)> {
        self.core.events_after(cp)
    }

    /// The replica's current point, for [`rollback`](Self::rollback).
    pub(crate) fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            lv: self.core.ids.next_lv(),
            items: self.store.items() as u32,
            agents: self.core.ids.replicas().len(),
            len: self.len(),
        }
    }

    /// The visible change the events since `cp` made, as `(start, removed, inserted)`:
    /// visible positions `start..start + removed` at `cp` are now `start..start + inserted`.
    /// `None` if no item's visibility changed (see [`Core::change_since`]).
    pub(crate) fn change_since(&mut self, cp: Checkpoint) -> Option<(usize, usize, usize)> {
        let items = self.store.items() as u32;
        self.core.change_since(cp, items)
    }

    /// The ops of every event learnt since `cp` (what a local edit made, without comparing
    /// version vectors).
    #[cfg(test)]
    pub(crate) fn ops_after(&self, cp: Checkpoint) -> super::super::ops::SequenceOps<S::Chunk> {
        self.ops_of_lvs(&[(cp.lv, self.core.ids.next_lv())])
    }

    /// Forgets every event learnt since `cp` (taken from this replica, which has only grown
    /// since). Costs time linear in the document's spans and delete runs.
    pub(crate) fn rollback(&mut self, cp: Checkpoint) {
        if cp == self.checkpoint() {
            return;
        }
        self.core.rollback(cp, self.store.widths());
        self.store.truncate(cp.items as usize);
    }
}

impl Core {
    /// See [`Seq::events_after`].
    fn events_after(&self, cp: Checkpoint) -> Option<(Dot, u64)> {
        (self.ids.next_lv() > cp.lv)
            .then(|| (self.ids.dot(cp.lv), u64::from(self.ids.next_lv() - cp.lv)))
    }

    /// [`Seq::change_since`], `items` being the number of items stored now. Costs a tree
    /// lookup per run of touched items.
    ///
    /// The touched items are those inserted (and still visible) or deleted since `cp`; the
    /// others keep their visibility and their order. So the visible items before the first
    /// touched one, and those after the last, are the same at `cp` and now, and the range
    /// between covers every change. It is the smallest such range unless an event since `cp`
    /// deleted an item already deleted before (a concurrent delete), which widens it to that
    /// item's position.
    fn change_since(&mut self, cp: Checkpoint, items: u32) -> Option<(usize, usize, usize)> {
        // Deleted items below `cp.items` (inserted ones are found by their spans below).
        let mut touched = self.deleted_since(cp);
        let inserted = touched.len();
        if cp.items < items {
            touched.push((cp.items, items));
        }
        if touched.is_empty() {
            return None;
        }
        self.tree.ensure_index();
        let (mut lo, mut hi) = (usize::MAX, 0);
        for (k, (a, b)) in touched.into_iter().enumerate() {
            let mut at = a;
            while at < b {
                // Every item is in the tree.
                let Some(c) = self.tree.locate(at) else { break };
                let s = self.tree.span(c);
                let end = s.end().min(b);
                // Skip items inserted and deleted again since `cp`: never visible.
                if k != inserted || !s.deleted() {
                    let before = self.tree.vis_before(c);
                    lo = lo.min(before);
                    hi = hi.max(before + s.vis().min(end - at) as usize);
                }
                at = end;
            }
        }
        if lo > hi {
            return None;
        }
        let suffix = self.len().saturating_sub(hi);
        let removed = cp.len.saturating_sub(suffix + lo);
        let inserted = hi.saturating_sub(lo);
        (removed > 0 || inserted > 0).then_some((lo, removed, inserted))
    }

    /// [`Seq::rollback`] of everything but the content, whose items before `cp` have widths
    /// `w`.
    fn rollback(&mut self, cp: Checkpoint, w: Widths<'_>) {
        let revived = self.revived(cp);
        let mut tree = TreeBuilder::new();
        self.tree.for_each_span(|s| {
            if s.lv >= cp.items {
                return;
            }
            let s = Span::new(s.lv, s.len().min(cp.items - s.lv), s.deleted());
            if !s.deleted() {
                tree.push(s, w);
                return;
            }
            // Split the tombstone where items deleted only after `cp` come back.
            let mut at = s.lv;
            let first = revived.partition_point(|&(_, hi)| hi <= s.lv);
            for &(lo, hi) in revived[first..].iter().take_while(|&&(lo, _)| lo < s.end()) {
                let (lo, hi) = (lo.max(at), hi.min(s.end()));
                if at < lo {
                    tree.push(Span::new(at, lo - at, true), w);
                }
                tree.push(Span::new(lo, hi - lo, false), w);
                at = hi;
            }
            if at < s.end() {
                tree.push(Span::new(at, s.end() - at, true), w);
            }
        });
        self.tree = tree.finish(w);
        self.log.truncate(cp.lv);
        self.ids.truncate(cp.lv, cp.agents);
        if self.me.is_some_and(|a| a as usize >= cp.agents) {
            self.me = None;
        }
        self.cache = None;
        self.typing = None;
        self.sibling = None;
    }

    /// The items below `cp.items` that events since `cp` deleted, as `lo..hi` ranges in log
    /// order (some may have been deleted before too).
    fn deleted_since(&self, cp: Checkpoint) -> Vec<(u32, u32)> {
        // The run holding event `cp.lv` may start before it.
        let first = self
            .log
            .dels
            .partition_point(|r| r.lv < cp.lv)
            .saturating_sub(1);
        (self.log.dels.get(first..).unwrap_or(&[]).iter())
            .filter_map(|&r| tail(r, cp.lv))
            .map(|r| targets_of(&r))
            .filter(|&(lo, _)| lo < cp.items)
            .map(|(lo, hi)| (lo, hi.min(cp.items)))
            .collect()
    }

    /// The items that events since `cp` deleted and no earlier event did, as sorted, disjoint
    /// `lo..hi` ranges of item numbers (all below `cp.items`).
    fn revived(&self, cp: Checkpoint) -> Vec<(u32, u32)> {
        let mut targets = self.deleted_since(cp);
        if targets.is_empty() {
            return targets;
        }
        let split = self.log.dels.partition_point(|r| r.lv < cp.lv);
        let earlier = self.log.dels[..split].iter().map(|&r| clip(r, cp.lv));
        let mut dead = Bits::new(cp.items);
        for r in earlier.filter(|r| r.len > 0) {
            let (lo, hi) = targets_of(&r);
            dead.set(lo, hi);
        }
        sort(&mut targets);
        let mut out: Vec<(u32, u32)> = Vec::new();
        for (lo, hi) in targets {
            for i in lo..hi {
                if dead.get(i) {
                    continue;
                }
                match out.last_mut() {
                    Some(last) if last.1 >= i => last.1 = last.1.max(i + 1),
                    _ => out.push((i, i + 1)),
                }
            }
        }
        out
    }
}

/// The part of delete run `r` before event `lv`.
fn clip(r: DelRun, lv: u32) -> DelRun {
    let len = r.len.min(lv.saturating_sub(r.lv));
    DelRun { len, ..r }
}

/// The part of delete run `r` from event `lv` on, if any.
fn tail(r: DelRun, lv: u32) -> Option<DelRun> {
    let skip = lv.saturating_sub(r.lv);
    (skip < r.len).then(|| DelRun {
        lv: r.lv + skip,
        len: r.len - skip,
        target: if r.rev {
            r.target - skip
        } else {
            r.target + skip
        },
        rev: r.rev,
    })
}

/// The items a delete run deletes, as `lo..hi`.
fn targets_of(r: &DelRun) -> (u32, u32) {
    if r.rev {
        (r.target + 1 - r.len, r.target + 1)
    } else {
        (r.target, r.target + r.len)
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::String;
    use alloc::vec::Vec;

    use super::{tail, targets_of};
    use crate::clock::ReplicaId;
    use crate::list::Text;

    /// A reproducible generator (the inputs only need to vary with the seed).
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: usize) -> usize {
            self.0 = (self.0)
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) as usize % n.max(1)
        }
    }

    /// One random step of replica `r`: typing a burst, deleting forwards, backspacing char by
    /// char, or pulling what replica `from` has.
    fn step(rng: &mut Lcg, reps: &mut [Text], r: usize, from: usize) {
        let len = reps[r].len();
        match rng.below(8) {
            0..=2 => {
                let pos = rng.below(len + 1);
                let burst: String = (0..1 + rng.below(5))
                    .map(|_| ['a', 'b', ' ', '\u{e9}', '\u{1F600}'][rng.below(5)])
                    .collect();
                for (k, ch) in burst.chars().enumerate() {
                    let mut buf = [0; 4];
                    reps[r].insert(pos + k, ch.encode_utf8(&mut buf)).unwrap();
                }
            }
            3 if len > 0 => {
                let pos = rng.below(len);
                let n = 1 + rng.below(3.min(len - pos));
                reps[r].delete(pos..pos + n).unwrap();
            }
            4 if len > 0 => {
                let end = 1 + rng.below(len);
                for p in (end.saturating_sub(1 + rng.below(4))..end).rev() {
                    reps[r].delete(p..p + 1).unwrap();
                }
            }
            _ => {
                let ops = reps[from].ops_since(&reps[r].version());
                assert!(reps[r].apply(&ops).unwrap().is_complete());
            }
        }
    }

    /// The ids of the visible items, in document order.
    fn visible_ids(t: &Text) -> Vec<crate::clock::Dot> {
        let seq = &t.seq;
        let mut out = Vec::new();
        seq.tree().for_each_span(|s| {
            if !s.deleted() {
                out.extend((s.lv..s.end()).map(|i| seq.core.ids.dot(seq.core.log.ilv_to_lv(i))));
            }
        });
        out
    }

    fn assert_same(a: &Text, b: &Text, seed: u64) {
        assert_eq!(a.to_string(), b.to_string(), "seed {seed}: text");
        assert_eq!(a.version(), b.version(), "seed {seed}: version");
        assert_eq!(a.encode(), b.encode(), "seed {seed}: history");
        assert_eq!(a.snapshot(), b.snapshot(), "seed {seed}: snapshot");
    }

    /// The ops after a checkpoint are those a peer at the checkpoint's version lacks; rolling
    /// back to it gives back the replica as it was there, and the two then go on alike: local
    /// edits (the typing fast path included) and merges.
    #[test]
    fn rollback_forgets_exactly_the_events_since_the_checkpoint() {
        for seed in 0..400 {
            let mut rng = Lcg(seed);
            let n = 2 + rng.below(3);
            let mut reps: Vec<Text> = (0..n)
                .map(|i| Text::new(ReplicaId(1 + (seed + 3 * i as u64) % 7)))
                .collect();
            // The last replica stays unknown to replica 0 until after the checkpoint.
            for _ in 0..rng.below(80) {
                let (r, from) = (rng.below(n), rng.below(n - 1));
                if !(r == 0 && from == n - 1) {
                    step(&mut rng, &mut reps, r, from);
                }
            }
            let before = reps[0].clone();
            let cp = reps[0].seq.checkpoint();
            // What replica 0 does from here never leaves it (as a transaction that is rolled
            // back is never sent).
            for _ in 0..rng.below(30) {
                let (r, from) = (rng.below(n), rng.below(n));
                if r == 0 || from != 0 {
                    step(&mut rng, &mut reps, r, from);
                }
            }
            // In ids, the change is exactly the span between the common prefix and suffix.
            let (old, new) = (visible_ids(&before), visible_ids(&reps[0]));
            let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
            let rest = (old.len() - prefix).min(new.len() - prefix);
            let suffix = (old.iter().rev().zip(new.iter().rev()))
                .take(rest)
                .take_while(|(a, b)| a == b)
                .count();
            let exact = (old != new).then(|| {
                (
                    prefix,
                    old.len() - prefix - suffix,
                    new.len() - prefix - suffix,
                )
            });
            let got = reps[0].seq.change_since(cp);
            // An item deleted again since the checkpoint may only widen the range.
            let deleted_again = reps[0].seq.core.log.dels.iter().any(|r| {
                tail(*r, cp.lv).is_some_and(|r| {
                    let (lo, hi) = targets_of(&r);
                    (lo..hi.min(cp.items)).any(|i| {
                        !old.contains(&reps[0].seq.core.ids.dot(reps[0].seq.core.log.ilv_to_lv(i)))
                    })
                })
            });
            if deleted_again {
                let (s, r, i) = got.unwrap_or((0, 0, 0));
                let (es, er, ei) = exact.unwrap_or((s, 0, 0));
                assert!(
                    s <= es && s + r >= es + er && s + i >= es + ei,
                    "seed {seed}: {got:?} does not cover {exact:?}"
                );
            } else {
                assert_eq!(got, exact, "seed {seed}: change");
            }
            assert_eq!(
                reps[0].seq.ops_after(cp),
                reps[0].ops_since(&before.version()),
                "seed {seed}: the events since the checkpoint"
            );
            reps[0].seq.rollback(cp);
            reps[0].check_invariants();
            assert_same(&reps[0], &before, seed);

            let mut twins = [reps[0].clone(), before];
            let mut others = reps.split_off(1);
            for _ in 0..20 {
                let (seed2, from) = (rng.below(1 << 30) as u64, rng.below(others.len()));
                for t in &mut twins {
                    let mut pair = [t.clone(), others[from].clone()];
                    step(&mut Lcg(seed2), &mut pair, 0, 1);
                    *t = pair[0].clone();
                }
                let r = rng.below(others.len());
                step(&mut rng, &mut others, r, 0);
            }
            twins[0].check_invariants();
            assert_same(&twins[0], &twins[1], seed);
        }
    }
}
