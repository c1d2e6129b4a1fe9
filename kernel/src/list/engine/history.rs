//! Encoding the engine's full history compactly and rebuilding an engine from it.
//!
//! `history` replays the op log into a scratch replica so that every op a local edit at some
//! position would reproduce is written as that position, relative to where the previous one
//! left the cursor (one or two bytes for typing and backspacing); only the rest (typically
//! concurrent inserts whose origins are not a position's neighbours) keep explicit origins or
//! targets. `from_history` validates every field and replays the ops, so malformed input is a
//! [`DecodeError`], never a panic.

use alloc::vec::Vec;

use super::super::content::ContentCodec;
use super::super::ops::{HistOp, SequenceHistory, pack_ids, pack_ops, unpack_ids, unpack_ops};
use super::super::tree::{Cursor, MAX_SPAN, NONE};
use super::{Seq, Store};
use crate::clock::ReplicaId;
use crate::encoding::DecodeError;

impl<S: Store> Seq<S> {
    /// Visible position of the item at `c` (which must be visible).
    fn vis_pos(&self, c: Cursor) -> usize {
        let mut p = self.tree.leaf_start(c.leaf).vis;
        for s in &self.tree.leaf_spans(c.leaf)[..c.idx] {
            p += s.vis() as usize;
        }
        p + c.off as usize
    }

    /// The visible position at which a local insert would get origins `ol`/`or`, if any.
    fn natural_insert_pos(&self, ol: u32, or: u32) -> Option<usize> {
        let item = |c: Cursor| self.tree.span(c).lv + c.off;
        if ol == NONE {
            let first = self.tree.normalize(self.tree.start()).map_or(NONE, item);
            return (first == or).then_some(0);
        }
        let c = self.tree.locate(ol)?;
        if self.tree.span(c).deleted() {
            return None;
        }
        let next = self
            .tree
            .normalize(Cursor {
                off: c.off + 1,
                ..c
            })
            .map_or(NONE, item);
        (next == or).then(|| self.vis_pos(c) + 1)
    }

    /// The longest prefix of the deletions of items `first, first ± 1, ...` (`-` when
    /// `rev_targets`; at most `k` of them) that a local delete reproduces:
    /// `Some((p, backwards, len))` if they are the visible items at positions `p, p + 1, ...`
    /// (a forward delete at `p`) or `p, p - 1, ...` (`backwards`: backspacing from `p + 1`);
    /// `None` if the first item is not visible. Items typed backwards are deleted forwards
    /// with descending item numbers, so the target order and the position order are
    /// independent; and a run of deletions with consecutive targets may have been made at
    /// unrelated places, which splits it into several prefixes.
    fn natural_delete_prefix(
        &self,
        first: u32,
        k: u32,
        rev_targets: bool,
    ) -> Option<(usize, bool, u32)> {
        let pos_of = |t: u32| {
            let c = self.tree.locate(t)?;
            (!self.tree.span(c).deleted()).then(|| self.vis_pos(c))
        };
        let target = |j: u32| {
            if rev_targets {
                first.checked_sub(j)
            } else {
                first.checked_add(j)
            }
        };
        let p = pos_of(first)?;
        if k == 1 {
            return Some((p, false, 1));
        }
        let backwards = match target(1).and_then(pos_of) {
            Some(q) if q == p + 1 => false,
            Some(q) if p > 0 && q == p - 1 => true,
            _ => return Some((p, false, 1)),
        };
        let mut len = 2;
        while len < k {
            let want = if backwards {
                p.checked_sub(len as usize)
            } else {
                Some(p + len as usize)
            };
            if want.is_none() || target(len).and_then(pos_of) != want {
                break;
            }
            len += 1;
        }
        Some((p, backwards, len))
    }

    /// Whether item `t` is in the tree and visible.
    fn is_visible(&self, t: u32) -> bool {
        self.tree
            .locate(t)
            .is_some_and(|c| !self.tree.span(c).deleted())
    }

    /// The compact history. Replays the op log into a scratch replica so that every op that a
    /// local edit at some position would reproduce is stored as that position (relative to
    /// the previous one), and only the others with explicit origins or targets.
    pub(crate) fn history(&self) -> SequenceHistory
    where
        S: Clone + ContentCodec,
    {
        let mut r = Seq::<S>::new(self.replica);
        r.store = self.store.clone();
        r.tree.ensure_index();
        for rep in &self.ids.replicas {
            r.ids.agent_or_insert(*rep);
        }
        let mut ops = Vec::new();
        let mut cursor: usize = 0;
        let (mut i, mut d) = (0, 0);
        while i < self.ins.len() || d < self.dels.len() {
            let take_ins =
                d >= self.dels.len() || (i < self.ins.len() && self.ins[i].lv < self.dels[d].lv);
            let (run_lv, run_len) = if take_ins {
                (self.ins[i].lv, self.ins[i].len)
            } else {
                (self.dels[d].lv, self.dels[d].len)
            };
            // One piece per replica run inside the op run.
            let mut lv = run_lv;
            while lv < run_lv + run_len {
                let idr = *self.ids.lv_run(lv);
                let k = (run_lv + run_len).min(idr.lv + idr.len) - lv;
                let agent = idr.agent;
                let counter = idr.counter + u64::from(lv - idr.lv);
                if take_ins {
                    let run = self.ins[i];
                    let ilv = run.ilv + (lv - run.lv);
                    let ol = if lv == run.lv { run.ol } else { ilv - 1 };
                    if let Some(p) = r.natural_insert_pos(ol, run.or) {
                        ops.push(HistOp::InsertAt {
                            len: k,
                            delta: p as i64 - cursor as i64,
                        });
                        cursor = p + k as usize;
                        r.insert_at(agent, p, k, ilv);
                    } else {
                        ops.push(HistOp::Insert {
                            len: k,
                            left: if ol == NONE { 0 } else { ilv - ol },
                            right: if run.or == NONE { 0 } else { run.or + 1 },
                        });
                        r.integrate(agent, counter, ilv, k, ol, run.or);
                    }
                } else {
                    let run = self.dels[d];
                    let off = lv - run.lv;
                    let first = if run.rev {
                        run.target - off
                    } else {
                        run.target + off
                    };
                    let rev_targets = run.rev && k > 1;
                    let target = |j: u32| if rev_targets { first - j } else { first + j };
                    // Split into the longest pieces a local delete reproduces; the rest (items
                    // already deleted, by a concurrent replica) keep explicit targets.
                    let mut j = 0;
                    while j < k {
                        let t = target(j);
                        if let Some((p, back, m)) = r.natural_delete_prefix(t, k - j, rev_targets) {
                            ops.push(HistOp::DeleteAt {
                                len: m,
                                delta: p as i64 - cursor as i64,
                                reversed: back,
                            });
                            if back {
                                r.delete_back(agent, p, m);
                                cursor = p - (m as usize - 1);
                            } else {
                                r.delete_at(agent, p, m);
                                cursor = p;
                            }
                            j += m;
                        } else {
                            let mut m = 1;
                            while j + m < k && !r.is_visible(target(j + m)) {
                                m += 1;
                            }
                            let rev = rev_targets && m > 1;
                            ops.push(HistOp::Delete {
                                len: m,
                                target: t,
                                reversed: rev,
                            });
                            let dlv = r.ids.push(agent, counter + u64::from(j), m);
                            r.push_del(dlv, m, t, rev);
                            let lo = if rev { t - (m - 1) } else { t };
                            r.mark_deleted(lo, m);
                            j += m;
                        }
                    }
                }
                lv += k;
            }
            if take_ins {
                i += 1;
            } else {
                d += 1;
            }
        }
        SequenceHistory {
            owner: self.replica,
            replicas: self.ids.replicas.clone(),
            ids: pack_ids(
                &self
                    .ids
                    .lvs
                    .iter()
                    .map(|r| (r.agent, r.len))
                    .collect::<Vec<_>>(),
                self.ids.replicas.len(),
            ),
            ops: pack_ops(&ops),
            content: self.store.pack(),
        }
    }

    /// Section sizes of [`history`](Self::history), for profiling.
    pub(crate) fn debug_history(&self) -> alloc::string::String
    where
        S: Clone + ContentCodec,
    {
        let h = self.history();
        let ops = unpack_ops(&h.ops).unwrap_or_default();
        let mut kinds = [0usize; 4];
        for op in &ops {
            kinds[match op {
                HistOp::Insert { .. } => 0,
                HistOp::Delete { .. } => 1,
                HistOp::InsertAt { .. } => 2,
                HistOp::DeleteAt { .. } => 3,
            }] += 1;
        }
        alloc::format!(
            "replicas {}, id bytes {}{}, ops {} ({} B: ins {} del {} ins@ {} del@ {}), content {} B",
            h.replicas.len(),
            h.ids.len(),
            "",
            ops.len(),
            h.ops.len(),
            kinds[0],
            kinds[1],
            kinds[2],
            kinds[3],
            h.content.len()
        )
    }

    /// Rebuilds a sequence from its history, validating every reference.
    pub(crate) fn from_history(
        h: &SequenceHistory,
        replica: Option<ReplicaId>,
    ) -> core::result::Result<Self, DecodeError>
    where
        S: ContentCodec,
    {
        let bad = DecodeError::Invalid;
        let mut seq = Seq::<S>::new(replica.unwrap_or(h.owner));
        for (i, r) in h.replicas.iter().enumerate() {
            if h.replicas[..i].contains(r) {
                return Err(bad("duplicate replica"));
            }
            seq.ids.agent_or_insert(*r);
        }
        seq.store = S::unpack(&h.content)?;
        let items = seq.store.items() as u64;
        if items >= u64::from(NONE) {
            return Err(bad("too many items"));
        }
        // Events in lv order, with their (agent, counter).
        let mut id_i = 0usize;
        let mut id_off = 0u32;
        let mut next_ilv = 0u32;
        let mut cursor = 0usize;
        // Explicit ops name items, which needs the item index; histories of mostly local
        // editing have only a few, so the first ones locate items by scanning the leaves and
        // the index is only built (and then maintained) once they become frequent.
        const LINEAR_LOOKUPS: usize = 64;
        let mut explicit = 0usize;
        let hist_ops = unpack_ops(&h.ops)?;
        let ids = unpack_ids(&h.ids, h.replicas.len())?;
        // The logs get about one run per history op (ops only exist for input bytes present,
        // so this never trusts a declared length): no regrowth while replaying.
        let inserts = hist_ops
            .iter()
            .filter(|o| matches!(o, HistOp::Insert { .. } | HistOp::InsertAt { .. }))
            .count();
        seq.ins.reserve_exact(inserts);
        seq.dels.reserve_exact(hist_ops.len() - inserts);
        for op in &hist_ops {
            let len = match op {
                HistOp::Insert { len, .. }
                | HistOp::Delete { len, .. }
                | HistOp::InsertAt { len, .. }
                | HistOp::DeleteAt { len, .. } => *len,
            };
            if len == 0 || len > MAX_SPAN {
                return Err(bad("bad run length"));
            }
            let base = match op {
                HistOp::InsertAt { delta, .. } | HistOp::DeleteAt { delta, .. } => (cursor as i64)
                    .checked_add(*delta)
                    .and_then(|p| usize::try_from(p).ok())
                    .ok_or(bad("position"))?,
                _ => 0,
            };
            let mut done = 0u32;
            while done < len {
                let &(agent, run_len) = ids.get(id_i).ok_or(bad("ids too short"))?;
                if agent as usize >= h.replicas.len() {
                    return Err(bad("bad id run"));
                }
                let k = (run_len - id_off).min(len - done);
                // Each replica's events are numbered from 1 in local order.
                let c = seq.ids.seen(agent) + 1;
                if u64::from(seq.ids.next_lv) + u64::from(k) >= u64::from(NONE) {
                    return Err(bad("too many events"));
                }
                match *op {
                    HistOp::Insert { left, right, .. } => {
                        let ilv = next_ilv;
                        if u64::from(ilv) + u64::from(k) > items {
                            return Err(bad("content too short"));
                        }
                        let ol = if done > 0 {
                            ilv - 1
                        } else if left == 0 {
                            NONE
                        } else {
                            ilv.checked_sub(left).ok_or(bad("left origin"))?
                        };
                        let or = if right == 0 {
                            NONE
                        } else if right - 1 < ilv {
                            right - 1
                        } else {
                            return Err(bad("right origin"));
                        };
                        explicit += 1;
                        if explicit > LINEAR_LOOKUPS {
                            seq.tree.ensure_index();
                        }
                        seq.integrate(agent, c, ilv, k, ol, or);
                        next_ilv += k;
                    }
                    HistOp::InsertAt { .. } => {
                        let ilv = next_ilv;
                        if u64::from(ilv) + u64::from(k) > items {
                            return Err(bad("content too short"));
                        }
                        let p = base + done as usize;
                        if p > seq.len() {
                            return Err(bad("insert position"));
                        }
                        seq.insert_at(agent, p, k, ilv);
                        next_ilv += k;
                    }
                    HistOp::DeleteAt { reversed, .. } => {
                        if reversed {
                            // Positions `base - done` down to `base - done - (k - 1)`.
                            let last = base
                                .checked_sub(done as usize)
                                .filter(|&p| p < seq.len() && p + 1 >= k as usize)
                                .ok_or(bad("delete position"))?;
                            seq.delete_back(agent, last, k);
                        } else {
                            if base.checked_add(k as usize).is_none_or(|e| e > seq.len()) {
                                return Err(bad("delete position"));
                            }
                            seq.delete_at(agent, base, k);
                        }
                    }
                    HistOp::Delete {
                        target, reversed, ..
                    } => {
                        let first = if reversed {
                            target.checked_sub(done)
                        } else {
                            target.checked_add(done)
                        }
                        .ok_or(bad("delete target"))?;
                        let (lo, hi) = if reversed {
                            (first.checked_sub(k - 1).ok_or(bad("delete target"))?, first)
                        } else {
                            (first, first.checked_add(k - 1).ok_or(bad("delete target"))?)
                        };
                        if hi >= next_ilv {
                            return Err(bad("delete target"));
                        }
                        explicit += 1;
                        if explicit > LINEAR_LOOKUPS {
                            seq.tree.ensure_index();
                        }
                        let lv = seq.ids.push(agent, c, k);
                        seq.push_del(lv, k, first, reversed && k > 1);
                        seq.mark_deleted(lo, hi - lo + 1);
                    }
                }
                done += k;
                id_off += k;
                if id_off == run_len {
                    id_i += 1;
                    id_off = 0;
                }
            }
            match op {
                HistOp::InsertAt { .. } => cursor = base + len as usize,
                HistOp::DeleteAt { reversed, .. } => {
                    cursor = if *reversed {
                        base - (len as usize - 1)
                    } else {
                        base
                    }
                }
                _ => {}
            }
        }
        if id_i != ids.len() || id_off != 0 {
            return Err(bad("ids longer than ops"));
        }
        if u64::from(next_ilv) != items {
            return Err(bad("content longer than inserts"));
        }
        Ok(seq)
    }
}
