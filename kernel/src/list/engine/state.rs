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
//!   then columns: each run's `len << 2 | kind` (0 insert, 1 delete, 2 delete of descending
//!   items); each insert's distances back from its first item to its left and to its right
//!   origin (0 for none); each delete's zigzag distance from the previous delete run's last
//!   target to its first.
//! * the ids, as the history packs them, and the content in item order (the caller's part).
//!
//! Loading ([`from_state_until`](super::Seq::from_state_until)) checks everything the engine
//! relies on: every item is placed exactly once, every origin and target names an item
//! inserted earlier, the tombstones are exactly the deleted items, and the ids cover the log.
//! What it cannot check without a replay is that the order is the one FugueMax gives those
//! origins; that is [`replays_to_same_order`](super::Seq::replays_to_same_order).

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::super::tree::{MAX_SPAN, NONE, Span, Tree, TreeBuilder};
use super::{DelRun, InsRun, LogPiece, Seq, Store};
use crate::clock::ReplicaId;
use crate::encoding::DecodeError;
use crate::encoding::packed::{Column, put_column};
use crate::encoding::varint::{get_varint, put_varint};
use crate::list::ops::{unpack_ids, unzigzag, zigzag};

const K_INSERT: u64 = 0;
const K_DELETE: u64 = 1;
const K_DELETE_REV: u64 = 2;

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
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: u32) -> Self {
        Bits(alloc::vec![0; (n as usize).div_ceil(64)])
    }
    /// Sets bits `lo..hi` (`lo < hi`, both in range; out of range sets nothing). A range
    /// within one word, as most are, takes no loop.
    #[inline(always)]
    fn set(&mut self, lo: u32, hi: u32) {
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

impl<S: Store> Seq<S> {
    /// The order, log and ids of a state snapshot (see the module docs).
    pub(crate) fn state_parts(&self) -> StateParts<'static> {
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

        let runs = self.ins.len() + self.dels.len();
        let mut heads = Vec::with_capacity(runs);
        let (mut ols, mut ors) = (Vec::new(), Vec::new());
        let mut targets = Vec::new();
        let (mut i, mut d) = (0, 0);
        let mut prev_target = 0u32;
        while i < self.ins.len() || d < self.dels.len() {
            if d >= self.dels.len() || (i < self.ins.len() && self.ins[i].lv < self.dels[d].lv) {
                let r = self.ins[i];
                let back = |o: u32| if o == NONE { 0 } else { u64::from(r.ilv - o) };
                heads.push(u64::from(r.len) << 2 | K_INSERT);
                ols.push(back(r.ol));
                ors.push(back(r.or));
                i += 1;
            } else {
                let r = self.dels[d];
                let kind = if r.rev { K_DELETE_REV } else { K_DELETE };
                heads.push(u64::from(r.len) << 2 | kind);
                targets.push(zigzag(i64::from(r.target) - i64::from(prev_target)));
                prev_target = r.last_target();
                d += 1;
            }
        }
        let mut log = Vec::new();
        put_varint(&mut log, runs as u64);
        put_varint(&mut log, self.ins.len() as u64);
        for column in [&heads, &ols, &ors, &targets] {
            put_column(&mut log, column);
        }
        StateParts {
            owner: self.replica,
            replicas: Cow::Owned(self.ids.replicas.clone()),
            ids: Cow::Owned(self.ids.packed()),
            order: Cow::Owned(order),
            log: Cow::Owned(log),
        }
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
        seq.load_ids(&parts.replicas, &parts.ids)?;
        let items = u32::try_from(store.items())
            .ok()
            .filter(|&n| n < NONE)
            .ok_or(DecodeError::Invalid("too many items"))?;
        if stages < 2 {
            return Ok(seq);
        }
        let dead = seq.load_log(&parts.log, items)?;
        if stages < 3 {
            return Ok(seq);
        }
        seq.tree = load_order(&parts.order, items, &dead, &store)?;
        seq.store = store;
        Ok(seq)
    }

    /// The replicas and the id runs (which number every event).
    #[inline(never)]
    fn load_ids(&mut self, replicas: &[ReplicaId], ids: &[u8]) -> Result<(), DecodeError> {
        let bad = DecodeError::Invalid;
        self.ids.register(replicas)?;
        for (agent, len) in unpack_ids(ids, replicas.len())? {
            if agent as usize >= replicas.len() {
                return Err(bad("bad id run"));
            }
            if u64::from(self.ids.next_lv) + u64::from(len) >= u64::from(NONE) {
                return Err(bad("too many events"));
            }
            let counter = self.ids.seen(agent) + 1;
            self.ids.push(agent, counter, len);
        }
        Ok(())
    }

    /// The op log, in local order (lvs and item numbers are implied by the run lengths), for
    /// `items` inserted items. Returns the set of deleted items.
    #[inline(never)]
    fn load_log(&mut self, bytes: &[u8], items: u32) -> Result<Bits, DecodeError> {
        let bad = DecodeError::Invalid;
        let events = self.ids.next_lv;
        let mut at = 0;
        let runs = usize::try_from(get_varint(bytes, &mut at)?).map_err(|_| bad("run count"))?;
        let inserts =
            usize::try_from(get_varint(bytes, &mut at)?).map_err(|_| bad("insert count"))?;
        // Every run holds at least one event, every insert run at least one item.
        if inserts > runs || runs > events as usize || inserts > items as usize {
            return Err(bad("run count"));
        }
        let deletes = runs - inserts;
        // A head is at least `1 << 2`, three bits: so `runs` is at most 8/3 per byte of the
        // column, which bounds the logs allocated below by the input.
        let mut column = |count, min_width| {
            Column::read(bytes, &mut at, count, min_width)?
                .collect()
                .ok_or(bad("log columns disagree with their counts"))
        };
        let heads = column(runs, 3)?;
        let ols = column(inserts, 0)?;
        let ors = column(inserts, 0)?;
        let targets = column(deletes, 0)?;
        if at != bytes.len() {
            return Err(bad("bytes after the log"));
        }
        // Three passes, none branching on a run's kind (typing and deleting alternate, so the
        // kind is an unpredictable branch). Flaws are collected and checked at the end.
        let mut flaw = false;
        // 1. Kinds and lengths: every run's lv, every insert's item number, and for every
        //    delete the number of items inserted before it (kept in `target` for now). Each
        //    run is written to both logs and only the log its kind selects moves on, so the
        //    other write lands in a slot that is overwritten later (or in the spare last one).
        let mut ins = alloc::vec![
            InsRun {
                lv: 0,
                ilv: 0,
                len: 0,
                ol: NONE,
                or: NONE,
            };
            inserts + 1
        ];
        let mut dels = alloc::vec![
            DelRun {
                lv: 0,
                len: 0,
                target: 0,
                rev: false,
            };
            deletes + 1
        ];
        let (mut lv, mut ilv) = (0u64, 0u64);
        let (mut n_ins, mut n_del) = (0usize, 0usize);
        for &head in &heads {
            let (len, kind) = (head >> 2, head & 3);
            flaw |= len == 0 || len > u64::from(MAX_SPAN) || kind > K_DELETE_REV;
            let len = len.min(u64::from(MAX_SPAN)) as u32;
            let is_ins = kind == K_INSERT;
            ins[n_ins.min(inserts)] = InsRun {
                lv: lv as u32,
                ilv: ilv as u32,
                len,
                ol: NONE,
                or: NONE,
            };
            dels[n_del.min(deletes)] = DelRun {
                lv: lv as u32,
                len,
                target: ilv as u32,
                rev: kind == K_DELETE_REV,
            };
            n_ins += usize::from(is_ins);
            n_del += usize::from(!is_ins);
            lv += u64::from(len);
            ilv += u64::from(len) * u64::from(is_ins);
        }
        if flaw || n_ins != inserts || lv != u64::from(events) || ilv != u64::from(items) {
            return Err(bad(
                "log runs disagree with the ids, the content or their counts",
            ));
        }
        ins.truncate(inserts);
        dels.truncate(deletes);
        // 2. Origins: each names an item inserted before the run.
        for (r, (&l, &o)) in ins.iter_mut().zip(ols.iter().zip(&ors)) {
            flaw |= l > u64::from(r.ilv) || o > u64::from(r.ilv);
            r.ol = if l == 0 {
                NONE
            } else {
                r.ilv.wrapping_sub(l as u32)
            };
            r.or = if o == 0 {
                NONE
            } else {
                r.ilv.wrapping_sub(o as u32)
            };
        }
        // 3. Delete targets: only items inserted before the deletion.
        let mut dead = Bits::new(items);
        let mut prev_target = 0i64;
        for (r, &t) in dels.iter_mut().zip(&targets) {
            let before = i64::from(r.target);
            let target = prev_target.saturating_add(unzigzag(t));
            let span = i64::from(r.len) - 1;
            let (lo, hi) = if r.rev {
                (target - span, target)
            } else {
                (target, target + span)
            };
            let ok = lo >= 0 && hi < before;
            flaw |= !ok;
            if ok {
                dead.set(lo as u32, hi as u32 + 1);
            }
            r.target = target as u32;
            prev_target = if r.rev { lo } else { hi };
        }
        if flaw {
            return Err(bad("origin or delete target out of range"));
        }
        self.ins = ins;
        self.dels = dels;
        Ok(dead)
    }

    /// Whether replaying this replica's op log (every insert integrated with its origins,
    /// every delete applied, in local order) gives exactly its document order. Always true for
    /// a replica built by edits and merges; for one loaded from a state snapshot it checks the
    /// one thing loading trusts. Costs about as much as loading the full history.
    pub(crate) fn replays_to_same_order(&self) -> bool
    where
        S: Clone,
    {
        let mut r = self.scratch();
        self.for_each_piece(|piece| match piece {
            LogPiece::Insert(p) => {
                r.integrate(p.agent, p.counter, p.ilv(), p.len, p.ol(), p.run.or);
            }
            LogPiece::Delete(p) => {
                let first = p.first_target();
                let rev = p.run.rev && p.len > 1;
                let dlv = r.ids.push(p.agent, p.counter, p.len);
                r.push_del(dlv, p.len, first, rev);
                r.mark_deleted(if rev { first - (p.len - 1) } else { first }, p.len);
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

/// The span tree of the document order for the `items` items of `store`, whose deleted ones
/// are `dead`: every item exactly once, tombstones exactly the deleted items. Each span goes
/// into the tree as it is checked ([`TreeBuilder`]), so no list of spans is kept.
///
/// Each span sets its items' bits in one bit set (an item placed twice finds its bit set) and,
/// if it is a tombstone, in a second one, which must equal `dead` at the end: compared
/// word by word in item order, not probed span by span in document order. The two sets are
/// interleaved so a span touches one cache line, and a span within one 64-item word (nearly
/// all of them) takes no loop.
#[inline(never)]
fn load_order<S: Store>(
    bytes: &[u8],
    items: u32,
    dead: &Bits,
    store: &S,
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
        tree.push(Span::new(lo, len as u32, deleted), store);
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
    Ok(tree.finish(store))
}
