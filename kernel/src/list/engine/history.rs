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
use super::super::ops::{HistOp, SequenceHistory, pack_ops, unpack_ops};
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

    /// The visible position `p` such that deleting `k` items at `p` (or backspacing from `p`
    /// when `rev`) deletes exactly items `first, first ± 1, ...` in that order, if any.
    fn natural_delete_pos(&self, first: u32, k: u32, rev: bool) -> Option<usize> {
        let pos_of = |t: u32| {
            let c = self.tree.locate(t)?;
            (!self.tree.span(c).deleted()).then(|| self.vis_pos(c))
        };
        let p = pos_of(first)?;
        for j in 1..k {
            let (t, want) = if rev {
                (first.checked_sub(j)?, p.checked_sub(j as usize)?)
            } else {
                (first + j, p + j as usize)
            };
            if pos_of(t)? != want {
                return None;
            }
        }
        Some(p)
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
                    let rev = run.rev && k > 1;
                    if let Some(p) = r.natural_delete_pos(first, k, rev) {
                        ops.push(HistOp::DeleteAt {
                            len: k,
                            delta: p as i64 - cursor as i64,
                            reversed: rev,
                        });
                        if rev {
                            for j in 0..k as usize {
                                r.delete_at(agent, p - j, 1);
                            }
                            cursor = p - (k as usize - 1);
                        } else {
                            r.delete_at(agent, p, k);
                            cursor = p;
                        }
                    } else {
                        ops.push(HistOp::Delete {
                            len: k,
                            target: first,
                            reversed: rev,
                        });
                        let dlv = r.ids.push(agent, counter, k);
                        r.push_del(dlv, k, first, rev);
                        let lo = if rev { first - (k - 1) } else { first };
                        r.mark_deleted(lo, k);
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
            ids: self
                .ids
                .lvs
                .iter()
                .map(|r| (r.agent, r.counter, r.len))
                .collect(),
            ops: pack_ops(&ops),
            content: self.store.pack(),
        }
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
                let &(agent, counter, run_len) = h.ids.get(id_i).ok_or(bad("ids too short"))?;
                if agent as usize >= h.replicas.len() || run_len == 0 {
                    return Err(bad("bad id run"));
                }
                let k = (run_len - id_off).min(len - done);
                let c = counter
                    .checked_add(u64::from(id_off))
                    .ok_or(bad("counter overflow"))?;
                if c != seq.ids.seen(agent) + 1 || c.checked_add(u64::from(k)).is_none() {
                    return Err(bad("counters not contiguous"));
                }
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
                            for jj in 0..k {
                                let pos = base
                                    .checked_sub((done + jj) as usize)
                                    .filter(|&p| p < seq.len())
                                    .ok_or(bad("delete position"))?;
                                seq.delete_at(agent, pos, 1);
                            }
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
        if id_i != h.ids.len() || id_off != 0 {
            return Err(bad("ids longer than ops"));
        }
        if u64::from(next_ilv) != items {
            return Err(bad("content longer than inserts"));
        }
        Ok(seq)
    }
}
