//! State snapshots of the engine: the document order and the op log written as they are, so a
//! replica loads without replaying a single operation.
//!
//! [`history`](super::Seq::history) stores each op as the position a local edit would have
//! used, which is compact but has to be replayed to recover the order. A state snapshot stores
//! the result instead:
//!
//! * `order` — the spans of the tree in document order, tombstones included: the number of
//!   spans, then two bit-packed columns ([`crate::encoding::packed`]): `len << 1 | deleted`,
//!   and the zigzag distance from the previous span's end to the span's first item.
//! * `log` — the insert and delete runs in local order: the number of runs and of insert runs,
//!   a bit set of the runs' kinds (one bit per run in local order, set for an insert), then
//!   each kind's columns on their own: each insert's length and distances back from its first
//!   item to its left and to its right origin (0 for none); each delete's
//!   `len << 1 | descending` and zigzag distance from the previous delete run's last target
//!   to its first.
//! * the ids, as the history packs them, and the content in item order (the caller's part).
//!
//! Loading ([`from_state_until`](super::Seq::from_state_until)) checks everything the engine
//! relies on: every item is placed exactly once, every origin and target names an item
//! inserted earlier, the tombstones are exactly the deleted items, and the ids cover the log.
//! What it cannot check without a replay is that the order is the one FugueMax gives those
//! origins; that is [`replays_to_same_order`](super::Seq::replays_to_same_order).

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::super::tree::{MAX_SPAN, NONE, Span, Tree, TreeBuilder, Widths};
use super::ids::Ids;
use super::log::{DelRun, InsRun, LogPiece};
use super::{Core, Seq, Store};
use crate::clock::ReplicaId;
use crate::encoding::DecodeError;
use crate::encoding::packed::{Column, put_column};
use crate::encoding::varint::{get_varint, put_varint};
use crate::list::ops::{unzigzag, zigzag};
use crate::version::VersionVector;

/// The engine's part of a state snapshot (the content is the store's, written by the caller):
/// owned when written, borrowed from the input when read.
pub(crate) struct StateParts<'a> {
    pub(crate) owner: ReplicaId,
    pub(crate) replicas: Cow<'a, [ReplicaId]>,
    pub(crate) ids: Cow<'a, [u8]>,
    pub(crate) order: Cow<'a, [u8]>,
    pub(crate) log: Cow<'a, [u8]>,
}

/// A fixed-size bit set over item numbers.
pub(super) struct Bits(Vec<u64>);

impl Bits {
    pub(super) fn new(n: u32) -> Self {
        Bits(alloc::vec![0; (n as usize).div_ceil(64)])
    }
    /// Sets bits `lo..hi` (`lo < hi`, both in range; out of range sets nothing). A range
    /// within one word, as most are, takes no loop.
    #[inline(always)]
    pub(super) fn set(&mut self, lo: u32, hi: u32) {
        let (first, last, head, tail) = word_masks(lo, hi);
        if first == last {
            if let Some(w) = self.0.get_mut(first) {
                *w |= head & tail;
            }
        } else if let Some([a, mid @ .., z]) = self.0.get_mut(first..=last) {
            *a |= head;
            mid.fill(u64::MAX);
            *z |= tail;
        }
    }
    /// Whether bit `i` is set (false out of range).
    pub(super) fn get(&self, i: u32) -> bool {
        self.0
            .get((i / 64) as usize)
            .is_some_and(|w| w >> (i % 64) & 1 == 1)
    }
}

/// For bits `lo..hi` (`lo < hi`) of a bit set in 64-bit words: the first and last word and
/// the masks of the bits in them (each as if the range continued past that word).
#[inline]
fn word_masks(lo: u32, hi: u32) -> (usize, usize, u64, u64) {
    let (first, last) = ((lo / 64) as usize, ((hi - 1) / 64) as usize);
    (
        first,
        last,
        u64::MAX << (lo % 64),
        u64::MAX >> (63 - (hi - 1) % 64),
    )
}

/// The bits of a bit set's last word that hold any of `n` bits (all of them when `n` fills
/// the word).
fn tail_mask(n: usize) -> u64 {
    match n % 64 {
        0 => u64::MAX,
        r => (1 << r) - 1,
    }
}

/// Calls `f` with the position of every set bit of `words` XOR `flip`, in order, the last
/// word masked by `tail`. A word's bits are walked without a branch per bit.
#[inline(always)]
fn for_each_bit(words: &[u64], flip: u64, tail: u64, mut f: impl FnMut(usize)) {
    let last = words.len().saturating_sub(1);
    for (w, &word) in words.iter().enumerate() {
        let mut bits = (word ^ flip) & if w == last { tail } else { u64::MAX };
        while bits != 0 {
            f(w * 64 + bits.trailing_zeros() as usize);
            bits &= bits - 1;
        }
    }
}

/// The version of a state snapshot whose ids are `ids` over `replicas`, checked as a load
/// checks them (for a reader that shows the snapshot without loading its replica).
pub(crate) fn snapshot_version(
    replicas: &[ReplicaId],
    ids: &[u8],
) -> Result<VersionVector, DecodeError> {
    let mut map = Ids::default();
    map.load(replicas, ids)?;
    Ok(map.version())
}

impl<S: Store> Seq<S> {
    /// The order, log and ids of a state snapshot (see the module docs).
    pub(crate) fn state_parts(&self) -> StateParts<'static> {
        self.core.state_parts()
    }

    /// Builds a replica from a state snapshot's parts and its content `store`, checking every
    /// field (see the module docs). Never panics; allocates in proportion to the input (the
    /// bit sets are one bit per item of `store`, which the caller holds already).
    ///
    /// `stages` below 3 stop early, after the ids (1) or the log (2), leaving an incomplete
    /// replica: for profiling the load only.
    pub(crate) fn from_state_until(
        parts: &StateParts<'_>,
        replica: Option<ReplicaId>,
        store: S,
        stages: u8,
    ) -> Result<Self, DecodeError> {
        let mut seq = Seq::<S>::new(replica.unwrap_or(parts.owner));
        seq.core.ids.load(&parts.replicas, &parts.ids)?;
        let items = u32::try_from(store.items())
            .ok()
            .filter(|&n| n < NONE)
            .ok_or(DecodeError::Invalid("too many items"))?;
        if stages < 2 {
            return Ok(seq);
        }
        let dead = seq.core.load_log(&parts.log, items)?;
        if stages < 3 {
            return Ok(seq);
        }
        seq.core.tree = load_order(&parts.order, items, &dead, store.widths())?;
        seq.store = store;
        Ok(seq)
    }

    /// Whether replaying this replica's op log (every insert integrated with its origins,
    /// every delete applied, in local order) gives exactly its document order. Always true for
    /// a replica built by edits and merges; for one loaded from a state snapshot it checks the
    /// one thing loading trusts. Costs about as much as loading the full history.
    pub(crate) fn replays_to_same_order(&self) -> bool {
        self.core.replays_to_same_order(self.store.widths())
    }
}

impl Core {
    /// See [`Seq::state_parts`].
    fn state_parts(&self) -> StateParts<'static> {
        let (mut heads, mut starts) = (Vec::new(), Vec::new());
        let mut prev_end = 0u32;
        self.tree.for_each_span(|sp| {
            heads.push(u64::from(sp.len()) << 1 | u64::from(sp.deleted()));
            starts.push(zigzag(i64::from(sp.lv) - i64::from(prev_end)));
            prev_end = sp.end();
        });
        let mut order = Vec::new();
        put_varint(&mut order, heads.len() as u64);
        put_column(&mut order, &heads);
        put_column(&mut order, &starts);

        // Which runs are inserts, in local order; then each kind's columns on their own.
        let (ins, dels) = (&self.log.ins, &self.log.dels);
        let runs = ins.len() + dels.len();
        let mut kinds = alloc::vec![0u8; runs.div_ceil(8)];
        let (mut i, mut d) = (0, 0);
        while i < ins.len() || d < dels.len() {
            if d >= dels.len() || (i < ins.len() && ins[i].lv < dels[d].lv) {
                kinds[(i + d) / 8] |= 1 << ((i + d) % 8);
                i += 1;
            } else {
                d += 1;
            }
        }
        let back = |r: &InsRun, o: u32| if o == NONE { 0 } else { u64::from(r.ilv - o) };
        let lens: Vec<u64> = ins.iter().map(|r| u64::from(r.len)).collect();
        let ols: Vec<u64> = ins.iter().map(|r| back(r, r.ol)).collect();
        let ors: Vec<u64> = ins.iter().map(|r| back(r, r.or)).collect();
        let del_heads: Vec<u64> = (dels.iter())
            .map(|r| u64::from(r.len) << 1 | u64::from(r.rev))
            .collect();
        let mut prev_target = 0u32;
        let targets: Vec<u64> = (dels.iter())
            .map(|r| {
                let t = zigzag(i64::from(r.target) - i64::from(prev_target));
                prev_target = r.last_target();
                t
            })
            .collect();
        let mut log = Vec::new();
        put_varint(&mut log, runs as u64);
        put_varint(&mut log, ins.len() as u64);
        log.extend_from_slice(&kinds);
        for column in [&lens, &ols, &ors, &del_heads, &targets] {
            put_column(&mut log, column);
        }
        StateParts {
            owner: self.replica,
            replicas: Cow::Owned(self.ids.replicas().to_vec()),
            ids: Cow::Owned(self.ids.packed()),
            order: Cow::Owned(order),
            log: Cow::Owned(log),
        }
    }

    /// The op log, in local order (lvs and item numbers are implied by the run lengths and
    /// kinds), for `items` inserted items. Returns the set of deleted items.
    ///
    /// Each kind is built in its own pass over its own columns, every run written once: the
    /// kinds bit set tells where each run falls in local order, so an insert at position `p`
    /// that is the `k`th insert follows `p - k` deletes, whose events a prefix sum over the
    /// delete lengths gives (and likewise for a delete). Nothing branches on a run's kind,
    /// which alternates unpredictably between typing and deleting.
    #[inline(never)]
    fn load_log(&mut self, bytes: &[u8], items: u32) -> Result<Bits, DecodeError> {
        let bad = DecodeError::Invalid;
        let events = self.ids.next_lv();
        let mut at = 0;
        let runs = usize::try_from(get_varint(bytes, &mut at)?).map_err(|_| bad("run count"))?;
        let inserts =
            usize::try_from(get_varint(bytes, &mut at)?).map_err(|_| bad("insert count"))?;
        // Every run holds at least one event, every insert run at least one item.
        if inserts > runs || runs > events as usize || inserts > items as usize {
            return Err(bad("run count"));
        }
        let deletes = runs - inserts;
        // One bit per run (set for an insert), so `runs` is bounded by the input.
        let kinds = bytes
            .get(at..)
            .and_then(|rest| rest.get(..runs.div_ceil(8)))
            .ok_or(DecodeError::UnexpectedEnd)?;
        at += kinds.len();
        let words: Vec<u64> = kinds
            .chunks(8)
            .map(|c| {
                let mut w = [0u8; 8];
                w[..c.len()].copy_from_slice(c);
                u64::from_le_bytes(w)
            })
            .collect();
        let tail = tail_mask(runs);
        if words.last().is_some_and(|&w| w & !tail != 0)
            || words.iter().map(|w| w.count_ones() as usize).sum::<usize>() != inserts
        {
            return Err(bad("run kinds disagree with their counts"));
        }
        let mut column = |count, min_width| {
            Column::read(bytes, &mut at, count, min_width)?
                .collect()
                .ok_or(bad("log columns disagree with their counts"))
        };
        let lens = column(inserts, 1)?;
        let ols = column(inserts, 0)?;
        let ors = column(inserts, 0)?;
        let del_heads = column(deletes, 2)?;
        let targets = column(deletes, 0)?;
        if at != bytes.len() {
            return Err(bad("bytes after the log"));
        }
        let max = u64::from(MAX_SPAN);
        let mut flaw = false;
        // 1. Deletes: lengths, and in `lv` for now the delete events before each (with the
        //    total after the last, for the inserts that follow it).
        let mut dels = Vec::with_capacity(deletes + 1);
        let mut deleted = 0u64;
        for &h in &del_heads {
            let len = h >> 1;
            flaw |= len == 0 || len > max;
            dels.push(DelRun {
                lv: deleted as u32,
                len: len.min(max) as u32,
                target: 0,
                rev: h & 1 == 1,
            });
            deleted += len.min(max);
        }
        dels.push(DelRun {
            lv: deleted as u32,
            len: 0,
            target: 0,
            rev: false,
        });
        flaw |= u64::from(items) + deleted != u64::from(events);
        // 2. Inserts: item numbers, lvs, and origins naming items inserted before the run
        //    (with the item count after the last, for the deletes that follow it).
        let mut ins = Vec::with_capacity(inserts + 1);
        let (mut ilv, mut k) = (0u64, 0usize);
        let mut columns = lens.iter().zip(ols.iter().zip(&ors));
        for_each_bit(&words, 0, tail, |p| {
            let (&len, (&l, &o)) = columns.next().unwrap_or((&0, (&0, &0)));
            flaw |= len == 0 || len > max || l > ilv || o > ilv;
            let before = dels.get(p - k).map_or(0, |d| d.lv);
            let origin = |back: u64| {
                if back == 0 {
                    NONE
                } else {
                    ilv.wrapping_sub(back) as u32
                }
            };
            ins.push(InsRun {
                lv: (ilv as u32).wrapping_add(before),
                ilv: ilv as u32,
                len: len.min(max) as u32,
                ol: origin(l),
                or: origin(o),
            });
            ilv += len.min(max);
            k += 1;
        });
        flaw |= ilv != u64::from(items);
        ins.push(InsRun {
            lv: 0,
            ilv: ilv as u32,
            len: 0,
            ol: NONE,
            or: NONE,
        });
        // 3. Deletes again: lvs, and targets naming only items inserted before the deletion.
        let mut dead = Bits::new(items);
        let mut prev_target = 0i64;
        let mut j = 0usize;
        let mut columns = dels.iter_mut().zip(&targets);
        for_each_bit(&words, u64::MAX, tail, |p| {
            let Some((r, &t)) = columns.next() else {
                return;
            };
            let before = ins.get(p - j).map_or(0, |r| r.ilv);
            r.lv = r.lv.wrapping_add(before);
            let target = prev_target.saturating_add(unzigzag(t));
            let span = i64::from(r.len) - 1;
            let (lo, hi) = if r.rev {
                (target - span, target)
            } else {
                (target, target + span)
            };
            // An empty run (already a flaw) would make `lo` pass `hi`.
            let ok = r.len > 0 && lo >= 0 && hi < i64::from(before);
            flaw |= !ok;
            if ok {
                dead.set(lo as u32, hi as u32 + 1);
            }
            r.target = target as u32;
            prev_target = if r.rev { lo } else { hi };
            j += 1;
        });
        if flaw {
            return Err(bad(
                "log runs, origins or delete targets disagree with the ids or the content",
            ));
        }
        ins.truncate(inserts);
        dels.truncate(deletes);
        self.log.ins = ins;
        self.log.dels = dels;
        Ok(dead)
    }

    /// [`Seq::replays_to_same_order`] for content of widths `w`.
    fn replays_to_same_order(&self, w: Widths<'_>) -> bool {
        let mut r = self.scratch();
        self.for_each_piece(|piece| match piece {
            LogPiece::Insert(p) => {
                r.integrate(p.agent, p.counter, p.ilv(), p.len, p.ol(), p.run.or, w);
            }
            LogPiece::Delete(p) => {
                let first = p.first_target();
                let rev = p.run.rev && p.len > 1;
                let dlv = r.ids.push(p.agent, p.counter, p.len);
                r.log.push_del(dlv, p.len, first, rev);
                r.mark_deleted(if rev { first - (p.len - 1) } else { first }, p.len, w);
            }
        });
        // `(first, end, deleted)` of each maximal run, so the two trees' span boundaries do
        // not matter.
        let spans = |t: &Tree| {
            let mut v: Vec<(u32, u32, bool)> = Vec::new();
            t.for_each_span(|s| match v.last_mut() {
                Some(l) if l.1 == s.lv && l.2 == s.deleted() => l.1 = s.end(),
                _ => v.push((s.lv, s.end(), s.deleted())),
            });
            v
        };
        spans(&r.tree) == spans(&self.tree)
    }
}

/// The span tree of the document order for `items` items (of widths `widths`), whose deleted
/// ones are `dead`: every item exactly once, tombstones exactly the deleted items. Each span goes
/// into the tree as it is checked ([`TreeBuilder`]), so no list of spans is kept.
///
/// Each span sets its items' bits in one bit set (an item placed twice finds its bit set) and,
/// if it is a tombstone, in a second one, which must equal `dead` at the end: compared
/// word by word in item order, not probed span by span in document order. The two sets are
/// interleaved so a span touches one cache line, and a span within one 64-item word (nearly
/// all of them) takes no loop.
#[inline(never)]
fn load_order(
    bytes: &[u8],
    items: u32,
    dead: &Bits,
    widths: Widths<'_>,
) -> Result<Tree, DecodeError> {
    let bad = DecodeError::Invalid;
    let mut at = 0;
    let n = usize::try_from(get_varint(bytes, &mut at)?).map_err(|_| bad("span count"))?;
    // Every span holds at least one item.
    if n > items as usize {
        return Err(bad("span count"));
    }
    let mut column = |min_width| {
        Column::read(bytes, &mut at, n, min_width)?
            .collect()
            .ok_or(bad("order columns disagree with their count"))
    };
    let heads = column(2)?;
    let starts = column(0)?;
    if at != bytes.len() {
        return Err(bad("bytes after the order"));
    }
    // Per 64 items: `[placed, placed in a tombstone]`.
    let mut words = alloc::vec![[0u64; 2]; (items as usize).div_ceil(64)];
    let mut tree = TreeBuilder::new();
    let (mut prev_end, mut total, mut twice) = (0i64, 0u64, 0u64);
    for (&head, &start) in heads.iter().zip(&starts) {
        let (len, deleted) = (head >> 1, head & 1 == 1);
        // Both values are below 2^57, so none of this overflows.
        let start = prev_end + unzigzag(start);
        let end = start + len as i64;
        if len == 0 || len > u64::from(MAX_SPAN) || start < 0 || end > i64::from(items) {
            return Err(bad("span out of range"));
        }
        let (lo, hi) = (start as u32, end as u32);
        let tomb = if deleted { u64::MAX } else { 0 };
        let mut mark = |w: &mut [u64; 2], m: u64| {
            twice |= w[0] & m;
            w[0] |= m;
            w[1] |= m & tomb;
        };
        let (first, last, head, tail) = word_masks(lo, hi);
        if first == last {
            if let Some(w) = words.get_mut(first) {
                mark(w, head & tail);
            }
        } else if let Some([a, mid @ .., z]) = words.get_mut(first..=last) {
            mark(a, head);
            for w in mid {
                mark(w, u64::MAX);
            }
            mark(z, tail);
        }
        total += len;
        prev_end = end;
        tree.push(Span::new(lo, len as u32, deleted), widths);
    }
    if twice != 0 {
        return Err(bad("item placed twice"));
    }
    if total != u64::from(items) {
        return Err(bad("item missing from the order"));
    }
    if !words.iter().zip(&dead.0).all(|(w, &d)| w[1] == d) {
        return Err(bad("tombstones differ from the log"));
    }
    Ok(tree.finish(widths))
}
