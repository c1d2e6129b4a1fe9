//! Encoding the engine's full history compactly and rebuilding an engine from it.
//!
//! `history` replays the op log into a scratch replica so that every op a local edit at some
//! position would reproduce is written as that position, relative to where the previous one
//! left the cursor (one or two bytes for typing and backspacing); only the rest (typically
//! concurrent inserts whose origins are not a position's neighbours) keep explicit origins or
//! targets. `from_history` validates every field and replays the ops, so malformed input is a
//! [`DecodeError`], never a panic.
//!
//! The replay runs on a flat span list (`Flat`: chunks of spans and a cursor that walks from
//! the previous edit) rather than the tree, and the tree is built from the final order in one
//! pass. It moves to the tree at the first explicit op (which names items, so needs the item
//! index), once the list grows too long, or once cursor walks get long on average; both
//! replays build the same op log.

use alloc::vec::Vec;

use super::super::content::ContentCodec;
use super::super::ops::{HistOp, SequenceHistory, pack_ops, unpack_ids, unpack_ops};
use super::super::tree::{Cursor, MAX_SPAN, NONE, Span, Tree, Widths};
use super::log::LogPiece;
use super::{Core, Seq, Store};
use crate::clock::ReplicaId;
use crate::encoding::DecodeError;

impl<S: Store> Seq<S> {
    /// The compact history. Replays the op log into a scratch replica so that every op that a
    /// local edit at some position would reproduce is stored as that position (relative to
    /// the previous one), and only the others with explicit origins or targets.
    pub(crate) fn history(&self) -> SequenceHistory
    where
        S: ContentCodec,
    {
        self.history_packed(S::pack)
    }

    /// [`history`](Self::history) with the content packed by `pack` (the document packs its
    /// lists' items with the hand-written codec, not serde).
    pub(crate) fn history_packed(&self, pack: impl FnOnce(&S) -> Vec<u8>) -> SequenceHistory {
        let ops = self.core.history_ops(self.store.widths());
        let ids = &self.core.ids;
        SequenceHistory {
            owner: self.core.replica,
            replicas: ids.replicas().to_vec(),
            ids: ids.packed(),
            ops: pack_ops(&ops),
            content: pack(&self.store),
        }
    }

    /// Section sizes of [`history`](Self::history), for profiling.
    pub(crate) fn debug_history(&self) -> alloc::string::String
    where
        S: ContentCodec,
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
        Self::from_history_unpacked(h, replica, S::unpack)
    }

    /// [`from_history`](Self::from_history) with the content unpacked by `unpack`.
    pub(crate) fn from_history_unpacked(
        h: &SequenceHistory,
        replica: Option<ReplicaId>,
        unpack: impl FnOnce(&[u8]) -> core::result::Result<S, DecodeError>,
    ) -> core::result::Result<Self, DecodeError> {
        Self::from_history_with(h, replica, unpack, MAX_CHUNKS, STEPS_PER_OP, FREE_STEPS)
    }

    /// [`from_history`](Self::from_history), moving from the flat replay to the tree once it
    /// holds more than `max_chunks` chunks or its cursor has walked more than `free_steps`
    /// chunks beyond `steps_per_op` per op (tests vary all three).
    fn from_history_with(
        h: &SequenceHistory,
        replica: Option<ReplicaId>,
        unpack: impl FnOnce(&[u8]) -> core::result::Result<S, DecodeError>,
        max_chunks: usize,
        steps_per_op: usize,
        free_steps: usize,
    ) -> core::result::Result<Self, DecodeError> {
        let bad = DecodeError::Invalid;
        let mut seq = Seq::<S>::new(replica.unwrap_or(h.owner));
        seq.core.ids.register(&h.replicas)?;
        seq.store = unpack(&h.content)?;
        let items = seq.store.items() as u64;
        if items >= u64::from(NONE) {
            return Err(bad("too many items"));
        }
        let w = seq.store.widths();
        (seq.core).replay_history(h, items, max_chunks, steps_per_op, free_steps, w)?;
        Ok(seq)
    }
}

impl Core {
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
        (next == or).then(|| self.tree.vis_before(c) + 1)
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
            (!self.tree.span(c).deleted()).then(|| self.tree.vis_before(c))
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

    /// The ops of [`Seq::history`], for a store of widths `w`.
    fn history_ops(&self, w: Widths<'_>) -> Vec<HistOp> {
        let mut r = self.scratch();
        r.tree.ensure_index();
        let mut ops = Vec::new();
        let mut cursor: usize = 0;
        self.for_each_piece(|piece| match piece {
            LogPiece::Insert(p) => {
                let (run, k, agent) = (p.run, p.len, p.agent);
                let (ilv, ol) = (p.ilv(), p.ol());
                if let Some(p) = r.natural_insert_pos(ol, run.or) {
                    ops.push(HistOp::InsertAt {
                        len: k,
                        delta: p as i64 - cursor as i64,
                    });
                    cursor = p + k as usize;
                    r.insert_at(agent, p, k, ilv, w);
                } else {
                    ops.push(HistOp::Insert {
                        len: k,
                        left: if ol == NONE { 0 } else { ilv - ol },
                        right: if run.or == NONE { 0 } else { run.or + 1 },
                    });
                    r.integrate(agent, p.counter, ilv, k, ol, run.or, w);
                }
            }
            LogPiece::Delete(p) => {
                let (run, k, agent, counter) = (p.run, p.len, p.agent, p.counter);
                let first = p.first_target();
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
                            r.delete_back(agent, p, m, w);
                            cursor = p - (m as usize - 1);
                        } else {
                            r.delete_at(agent, p, m, w);
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
                        r.log.push_del(dlv, m, t, rev);
                        let lo = if rev { t - (m - 1) } else { t };
                        r.mark_deleted(lo, m, w);
                        j += m;
                    }
                }
            }
        });
        ops
    }

    /// The replay of [`Seq::from_history_with`] into this empty replica (its replicas
    /// registered), for `items` stored items of widths `w`.
    fn replay_history(
        &mut self,
        h: &SequenceHistory,
        items: u64,
        max_chunks: usize,
        steps_per_op: usize,
        free_steps: usize,
        w: Widths<'_>,
    ) -> core::result::Result<(), DecodeError> {
        let bad = DecodeError::Invalid;
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
        self.log.ins.reserve_exact(inserts);
        self.log.dels.reserve_exact(hist_ops.len() - inserts);
        // Positional ops replay into a flat span list until an explicit op needs the tree (or
        // the list grows too long for cursor walks); the tree is then built in one pass.
        let mut flat = Some(Flat::default());
        for (n, op) in hist_ops.iter().enumerate() {
            if matches!(op, HistOp::Insert { .. } | HistOp::Delete { .. })
                || flat.as_ref().is_some_and(|f| {
                    f.chunks.len() > max_chunks || f.steps > n * steps_per_op + free_steps
                })
            {
                if let Some(f) = flat.take() {
                    self.finish_flat(f, w);
                }
            }
            let vis_len = |core: &Core, flat: &Option<Flat>| match flat {
                Some(f) => f.vis,
                None => core.len(),
            };
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
                let c = self.ids.seen(agent) + 1;
                if u64::from(self.ids.next_lv()) + u64::from(k) >= u64::from(NONE) {
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
                            self.tree.ensure_index();
                        }
                        self.integrate(agent, c, ilv, k, ol, or, w);
                        next_ilv += k;
                    }
                    HistOp::InsertAt { .. } => {
                        let ilv = next_ilv;
                        if u64::from(ilv) + u64::from(k) > items {
                            return Err(bad("content too short"));
                        }
                        let p = base + done as usize;
                        if p > vis_len(self, &flat) {
                            return Err(bad("insert position"));
                        }
                        match &mut flat {
                            Some(f) => self.flat_insert(f, agent, p, k, ilv),
                            None => self.insert_at(agent, p, k, ilv, w),
                        }
                        next_ilv += k;
                    }
                    HistOp::DeleteAt { reversed, .. } => {
                        if reversed {
                            // Positions `base - done` down to `base - done - (k - 1)`.
                            let len = vis_len(self, &flat);
                            let last = base
                                .checked_sub(done as usize)
                                .filter(|&p| p < len && p + 1 >= k as usize)
                                .ok_or(bad("delete position"))?;
                            match &mut flat {
                                Some(f) => self.flat_delete_back(f, agent, last, k),
                                None => self.delete_back(agent, last, k, w),
                            }
                        } else {
                            let len = vis_len(self, &flat);
                            if base.checked_add(k as usize).is_none_or(|e| e > len) {
                                return Err(bad("delete position"));
                            }
                            match &mut flat {
                                Some(f) => self.flat_delete(f, agent, base, k),
                                None => self.delete_at(agent, base, k, w),
                            }
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
                            self.tree.ensure_index();
                        }
                        let lv = self.ids.push(agent, c, k);
                        self.log.push_del(lv, k, first, reversed && k > 1);
                        self.mark_deleted(lo, hi - lo + 1, w);
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
        if let Some(f) = flat {
            self.finish_flat(f, w);
        }
        if id_i != ids.len() || id_off != 0 {
            return Err(bad("ids longer than ops"));
        }
        if u64::from(next_ilv) != items {
            return Err(bad("content longer than inserts"));
        }
        Ok(())
    }
}

/// Most spans in one [`Flat`] chunk before it splits in two.
const CHUNK: usize = 64;

/// Most chunks a [`Flat`] replay may hold: a far cursor jump walks chunk by chunk, so beyond
/// this the replay moves to the tree (logarithmic jumps) for the rest of the history.
const MAX_CHUNKS: usize = 1024;

/// Chunk steps per op that a [`Flat`] replay's cursor may walk on average (beyond
/// [`FREE_STEPS`]) before the replay moves to the tree: histories that jump far all the time
/// are replayed at the tree's logarithmic cost, with at most this much overhead per op before.
const STEPS_PER_OP: usize = 16;

/// Chunk steps a [`Flat`] replay may walk without counting against [`STEPS_PER_OP`].
const FREE_STEPS: usize = 1 << 14;

/// The document order while a history replays, before any tree exists: spans in chunks of at
/// most [`CHUNK`], each with its visible count, and a cursor chunk kept between operations.
/// Histories are mostly local editing, which stays near the previous position, so finding a
/// position is a short walk from the cursor, and an edit touches one small `Vec` — no counts
/// to propagate up a tree. The tree is built from the final order in one pass
/// ([`Tree::from_spans`]).
///
/// [`Tree::from_spans`]: super::super::tree::Tree::from_spans
#[derive(Default)]
struct Flat {
    chunks: Vec<Chunk>,
    /// Visible items in all chunks.
    vis: usize,
    /// The cursor: chunk `cur` (with `cur_start` visible items before it) and its span
    /// `cur_span` (with `span_start` visible items before it, counted from the document
    /// start). Every edit leaves it on a span whose start did not move.
    cur: usize,
    cur_start: usize,
    cur_span: usize,
    span_start: usize,
    /// Chunks the cursor has walked over so far.
    steps: usize,
    /// Reused by backspace runs for their pieces.
    pieces: Vec<(u32, u32)>,
}

struct Chunk {
    spans: Vec<Span>,
    vis: usize,
}

/// Whether `a` and `b` are deleted runs that `b` continues (and can merge into one span).
fn joins(a: Span, b: Span) -> bool {
    a.deleted() && b.deleted() && a.end() == b.lv && a.len() + b.len() <= MAX_SPAN
}

impl Flat {
    /// The span holding visible item `pos` (`pos < self.vis`): `(chunk, span index, offset)`.
    /// Walks from the cursor, and leaves it on that span.
    fn find(&mut self, pos: usize) -> (usize, usize, u32) {
        debug_assert!(pos < self.vis);
        if pos < self.cur_start || pos >= self.cur_start + self.chunks[self.cur].vis {
            let from = self.cur;
            while pos < self.cur_start {
                self.cur -= 1;
                self.cur_start -= self.chunks[self.cur].vis;
            }
            while pos >= self.cur_start + self.chunks[self.cur].vis {
                self.cur_start += self.chunks[self.cur].vis;
                self.cur += 1;
            }
            self.steps += from.abs_diff(self.cur);
            self.cur_span = 0;
            self.span_start = self.cur_start;
        }
        let spans = &self.chunks[self.cur].spans;
        while pos < self.span_start {
            self.cur_span -= 1;
            self.span_start -= spans[self.cur_span].vis() as usize;
        }
        loop {
            let v = spans[self.cur_span].vis() as usize;
            if pos < self.span_start + v {
                return (self.cur, self.cur_span, (pos - self.span_start) as u32);
            }
            self.span_start += v;
            self.cur_span += 1;
        }
    }

    /// The first item at or after span `i` of chunk `c` (tombstones included), or [`NONE`].
    fn item_from(&self, c: usize, i: usize) -> u32 {
        match self.chunks[c].spans.get(i) {
            Some(s) => s.lv,
            None => self.chunks.get(c + 1).map_or(NONE, |ch| ch.spans[0].lv),
        }
    }

    /// Splits chunk `c` in two if it has grown past [`CHUNK`] spans.
    fn split_if_full(&mut self, c: usize) {
        if self.chunks[c].spans.len() <= CHUNK {
            return;
        }
        let tail: Vec<Span> = self.chunks[c].spans.split_off(CHUNK / 2);
        let vis: usize = tail.iter().map(|s| s.vis() as usize).sum();
        self.chunks[c].vis -= vis;
        self.chunks.insert(c + 1, Chunk { spans: tail, vis });
        if self.cur > c {
            self.cur += 1;
        } else if self.cur == c && self.cur_span >= CHUNK / 2 {
            // The cursor span moved to the new chunk; its start did not change.
            self.cur = c + 1;
            self.cur_start += self.chunks[c].vis;
            self.cur_span -= CHUNK / 2;
        }
    }

    /// Inserts the `n` items numbered `ilv..` at visible position `pos` (`pos <= self.vis`),
    /// right after visible item `pos - 1` (before any tombstones that follow it), the way a
    /// local insert does. Returns the origins `(left, right)` (item numbers or [`NONE`]).
    fn insert(&mut self, pos: usize, ilv: u32, n: u32) -> (u32, u32) {
        let new = Span::new(ilv, n, false);
        if pos == 0 {
            let or = if self.chunks.is_empty() {
                self.chunks.push(Chunk {
                    spans: Vec::new(),
                    vis: 0,
                });
                NONE
            } else {
                self.chunks[0].spans[0].lv
            };
            self.chunks[0].spans.insert(0, new);
            self.chunks[0].vis += n as usize;
            self.vis += n as usize;
            (self.cur, self.cur_start, self.cur_span, self.span_start) = (0, 0, 0, 0);
            self.split_if_full(0);
            return (NONE, or);
        }
        let (c, i, off) = self.find(pos - 1);
        let s = self.chunks[c].spans[i];
        let ol = s.lv + off;
        let or;
        if off + 1 < s.len() {
            // Inside a span: split it around the new items.
            or = ol + 1;
            let rest = Span::new(ol + 1, s.len() - off - 1, false);
            self.chunks[c].spans[i] = Span::new(s.lv, off + 1, false);
            self.chunks[c].spans.splice(i + 1..i + 1, [new, rest]);
        } else {
            or = self.item_from(c, i + 1);
            if s.end() == ilv && s.len() + n <= MAX_SPAN {
                // Typing on: the new items continue the span.
                self.chunks[c].spans[i] = Span::new(s.lv, s.len() + n, false);
            } else {
                self.chunks[c].spans.insert(i + 1, new);
            }
        }
        self.chunks[c].vis += n as usize;
        self.vis += n as usize;
        self.split_if_full(c);
        (ol, or)
    }

    /// Deletes visible items from position `pos` (`pos < self.vis`), at most `max` of them and
    /// only within one span. Returns the first deleted item number and how many were deleted.
    /// The deleted part joins a deleted neighbour that it continues, in place where it can.
    fn delete(&mut self, pos: usize, max: u32) -> (u32, u32) {
        let (c, i, off) = self.find(pos);
        let spans = &mut self.chunks[c].spans;
        let s = spans[i];
        let k = (s.len() - off).min(max);
        let t = s.lv + off;
        let dead = Span::new(t, k, true);
        let prev = i
            .checked_sub(1)
            .map(|j| spans[j])
            .filter(|&p| joins(p, dead));
        let next = spans.get(i + 1).copied().filter(|&n| joins(dead, n));
        let head = Span::new(s.lv, off.max(1), false);
        let rest = (off + k < s.len()).then(|| Span::new(t + k, s.len() - off - k, false));
        match (off, rest) {
            (0, None) => match (prev, next) {
                (Some(p), Some(n)) => {
                    spans[i - 1] = Span::new(p.lv, p.len() + k + n.len(), true);
                    spans.drain(i..i + 2);
                    self.cur_span = i - 1;
                }
                (Some(p), None) => {
                    spans[i - 1] = Span::new(p.lv, p.len() + k, true);
                    spans.remove(i);
                    self.cur_span = i - 1;
                }
                (None, Some(n)) => {
                    spans[i] = Span::new(t, k + n.len(), true);
                    spans.remove(i + 1);
                }
                (None, None) => spans[i] = dead,
            },
            (0, Some(r)) => match prev {
                Some(p) => {
                    spans[i - 1] = Span::new(p.lv, p.len() + k, true);
                    spans[i] = r;
                }
                None => {
                    spans[i] = dead;
                    spans.insert(i + 1, r);
                }
            },
            (_, None) => {
                spans[i] = head;
                match next {
                    Some(n) => spans[i + 1] = Span::new(t, k + n.len(), true),
                    None => spans.insert(i + 1, dead),
                }
            }
            (_, Some(r)) => {
                spans[i] = head;
                spans.splice(i + 1..i + 1, [dead, r]);
            }
        }
        self.chunks[c].vis -= k as usize;
        self.vis -= k as usize;
        self.split_if_full(c);
        (t, k)
    }

    /// The spans in document order.
    fn into_spans(self) -> impl Iterator<Item = Span> {
        self.chunks.into_iter().flat_map(|c| c.spans)
    }
}

impl Core {
    /// [`insert_at`](Core::insert_at) on a [`Flat`] replay.
    fn flat_insert(&mut self, flat: &mut Flat, agent: u32, pos: usize, n: u32, ilv: u32) {
        let counter = self.ids.seen(agent) + 1;
        let (ol, or) = flat.insert(pos, ilv, n);
        let lv = self.ids.push(agent, counter, n);
        self.log.push_ins(lv, ilv, n, ol, or);
    }

    /// [`delete_at`](Core::delete_at) on a [`Flat`] replay.
    fn flat_delete(&mut self, flat: &mut Flat, agent: u32, start: usize, n: u32) {
        let mut remaining = n;
        while remaining > 0 {
            let (t, k) = flat.delete(start, remaining);
            let counter = self.ids.seen(agent) + 1;
            let lv = self.ids.push(agent, counter, k);
            self.log.push_del(lv, k, t, false);
            remaining -= k;
        }
    }

    /// [`delete_back`](Core::delete_back) on a [`Flat`] replay.
    fn flat_delete_back(&mut self, flat: &mut Flat, agent: u32, last: usize, n: u32) {
        let start = last + 1 - n as usize;
        let mut pieces = core::mem::take(&mut flat.pieces);
        pieces.clear();
        let mut remaining = n;
        while remaining > 0 {
            let (t, k) = flat.delete(start, remaining);
            pieces.push((t, k));
            remaining -= k;
        }
        self.log_back_deletes(agent, &pieces);
        flat.pieces = pieces;
    }

    /// Ends a [`Flat`] replay: the tree is built from its final order.
    fn finish_flat(&mut self, flat: Flat, w: Widths<'_>) {
        self.tree = Tree::from_spans(flat.into_spans(), w);
        self.sibling = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::Text;
    use crate::list::content::TextStore;

    /// A deterministic xorshift generator.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// Random typing, jumps, forward deletes and backspaces, with thousands of spans; with
    /// `merge`, on two replicas that merge now and then (so the history holds explicit ops
    /// too), else on one.
    fn session(seed: u64, merge: bool) -> Text {
        let mut rng = Rng(seed);
        let mut a = Text::new(ReplicaId(1));
        let mut b = Text::new(ReplicaId(2));
        let mut pos = 0;
        for step in 0..3000 {
            let t = if merge && step % 7 == 3 {
                &mut b
            } else {
                &mut a
            };
            if rng.below(8) == 0 || pos > t.len() {
                pos = rng.below(t.len() + 1);
            }
            match rng.below(10) {
                0..=5 => {
                    let s = ["x", "yz", "é", "😀w", "abc"][rng.below(5)];
                    t.insert(pos, s).unwrap();
                    pos += s.chars().count();
                }
                6 | 7 if pos < t.len() => {
                    let n = 1 + rng.below(3).min(t.len() - pos - 1);
                    t.delete(pos..pos + n).unwrap();
                }
                _ if pos > 0 => {
                    let n = 1 + rng.below(3).min(pos - 1);
                    t.delete(pos - n..pos).unwrap();
                    pos -= n;
                }
                _ => {}
            }
            if merge && step % 97 == 0 {
                b.apply(&a.ops_since(&b.version())).unwrap();
                a.apply(&b.ops_since(&a.version())).unwrap();
            }
        }
        a.apply(&b.ops_since(&a.version())).unwrap();
        a
    }

    /// The flat replay, the tree replay and every switch point between them rebuild the same
    /// replica: same text, version, and history bytes when encoded again.
    #[test]
    fn flat_and_tree_replays_agree() {
        for (seed, merge) in [(1, false), (2, false), (3, true), (4, true)] {
            let t = session(0x9e37_79b9_7f4a_7c15 ^ seed, merge);
            let h = t.seq.history();
            let bytes = t.encode();
            for (max_chunks, per_op, free) in [
                (0, STEPS_PER_OP, FREE_STEPS),
                (1, STEPS_PER_OP, FREE_STEPS),
                (5, STEPS_PER_OP, FREE_STEPS),
                (20, STEPS_PER_OP, FREE_STEPS),
                (MAX_CHUNKS, 0, 0),
                (MAX_CHUNKS, 0, 200),
                (MAX_CHUNKS, 1, 0),
                (MAX_CHUNKS, STEPS_PER_OP, FREE_STEPS),
            ] {
                let seq = Seq::<TextStore>::from_history_with(
                    &h,
                    None,
                    TextStore::unpack,
                    max_chunks,
                    per_op,
                    free,
                )
                .unwrap();
                seq.check_invariants();
                let back = Text { seq };
                assert_eq!(
                    back.to_string(),
                    t.to_string(),
                    "limits {max_chunks} {per_op} {free}"
                );
                assert_eq!(back.version(), t.version());
                assert!(
                    back.encode() == bytes,
                    "re-encoded, limits {max_chunks} {per_op} {free}"
                );
            }
        }
    }
}
