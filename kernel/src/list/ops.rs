//! The owned, serializable forms of sequence history: operations exchanged between replicas
//! ([`SequenceOps`]) and the compact full history ([`SequenceHistory`]).
//!
//! Operations name items by [`Dot`] (replica, counter), never by local indexes. Every inserted
//! item and every deleted item consumes one counter of the replica that did it, so a
//! [`VersionVector`](crate::VersionVector) says exactly which operations a replica has seen.

use crate::encoding::varint::{get_varint, put_varint};
use alloc::string::String;
use alloc::vec::Vec;

use serde::de::{self, DeserializeOwned};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::clock::{Dot, ReplicaId};
use crate::encoding::codec::{self, Decode, Encode, put_len};
use crate::encoding::{DecodeError, REJECTED, TypeTag, WireType};
use crate::sort::sort_by_key;

/// One run of operations by one replica.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SequenceOp<C> {
    /// Items `id.counter .. id.counter + len(content)` of `id.replica`, inserted as one run:
    /// the first item right of `origin_left` (or at the start), every later item right of its
    /// predecessor in the run, all of them left of `origin_right` (or at the end) at the time
    /// they were typed.
    Insert {
        /// Id of the first item.
        id: Dot,
        /// The item the run was typed after, `None` for the document start.
        origin_left: Option<Dot>,
        /// The item the run was typed before, `None` for the document end.
        origin_right: Option<Dot>,
        /// The items (`String` for text, `Vec<T>` for lists); never empty.
        content: C,
    },
    /// `len` deletions with ids `id.counter ..`: the `k`-th deletes item
    /// `target.counter + k` of `target.replica` (or `target.counter - k` when `reversed`, as
    /// produced by repeated backspace).
    Delete {
        /// Id of the first deletion.
        id: Dot,
        /// Number of deleted items (at least 1).
        len: u64,
        /// The first deleted item.
        target: Dot,
        /// Whether targets count down instead of up.
        reversed: bool,
    },
}

impl<C> SequenceOp<C> {
    /// The id of the operation's first event.
    pub fn id(&self) -> Dot {
        match self {
            SequenceOp::Insert { id, .. } | SequenceOp::Delete { id, .. } => *id,
        }
    }
}

/// A batch of operations, in an order where every operation comes after the ones it depends
/// on (when produced by `ops_since`; [`apply`](crate::list::Text::apply) accepts any order).
/// `C` is the content type: `String` for [`Text`](crate::list::Text), `Vec<T>` for
/// [`List<T>`](crate::list::List).
///
/// On the wire (see `docs/architecture.md`, "Remote operations") the batch is a replica table,
/// one varint stream of op heads and fields — ids that continue the previous op, origins
/// that repeat a neighbour's, are left out — and all content concatenated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SequenceOps<C = String> {
    /// The operations.
    pub ops: Vec<SequenceOp<C>>,
}

impl<C> Default for SequenceOps<C> {
    fn default() -> Self {
        SequenceOps { ops: Vec::new() }
    }
}

impl<C> SequenceOps<C> {
    /// Whether there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Number of events (items inserted plus items deleted) in the batch.
    pub fn event_count(&self) -> u64
    where
        C: ContentLen,
    {
        self.ops
            .iter()
            .map(|o| match o {
                SequenceOp::Insert { content, .. } => content.content_len() as u64,
                SequenceOp::Delete { len, .. } => *len,
            })
            .fold(0u64, u64::saturating_add)
    }
}

/// Number of items in an operation's content.
pub trait ContentLen {
    /// Items (chars for text, elements for lists).
    fn content_len(&self) -> usize;
}

impl ContentLen for String {
    fn content_len(&self) -> usize {
        self.chars().count()
    }
}

impl<T> ContentLen for Vec<T> {
    fn content_len(&self) -> usize {
        self.len()
    }
}

impl<C: WireContent> WireType for SequenceOps<C> {
    const TAG: TypeTag = TypeTag::SequenceOps;
    // Serializing packs the ops: do it once.
    const ONE_PASS: bool = true;
}

/// Content types that [`SequenceOps`] can carry on the wire: all operations' content goes
/// out as one concatenated value and is split back by the operations' lengths.
pub trait WireContent: ContentLen + Serialize + DeserializeOwned + Sized {
    /// Serializes `parts` concatenated, exactly as `Self` holding all of them would be.
    fn serialize_concat<'a, S, I>(parts: I, s: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        I: Iterator<Item = &'a Self> + Clone,
        Self: 'a;
    /// Splits off the last `n` items, or returns `None` if there are fewer.
    fn split_last(&mut self, n: usize) -> Option<Self>;
}

impl WireContent for String {
    fn serialize_concat<'a, S, I>(parts: I, s: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        I: Iterator<Item = &'a Self> + Clone,
    {
        let mut it = parts.clone();
        match (it.next(), it.next()) {
            (None, _) => s.serialize_str(""),
            (Some(one), None) => s.serialize_str(one),
            _ => {
                let mut all = String::with_capacity(parts.clone().map(String::len).sum());
                parts.for_each(|p| all.push_str(p));
                s.serialize_str(&all)
            }
        }
    }
    fn split_last(&mut self, n: usize) -> Option<Self> {
        let at = if n == 0 {
            self.len()
        } else {
            self.char_indices().rev().nth(n - 1)?.0
        };
        Some(self.split_off(at))
    }
}

impl<T: Serialize + DeserializeOwned> WireContent for Vec<T> {
    fn serialize_concat<'a, S, I>(parts: I, s: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        I: Iterator<Item = &'a Self> + Clone,
        T: 'a,
    {
        let mut seq = s.serialize_seq(Some(parts.clone().map(Vec::len).sum()))?;
        for x in parts.flat_map(|p| p.iter()) {
            seq.serialize_element(x)?;
        }
        seq.end()
    }
    fn split_last(&mut self, n: usize) -> Option<Self> {
        let at = self.len().checked_sub(n)?;
        Some(self.split_off(at))
    }
}

impl<C: WireContent> SequenceOps<C> {
    /// Whether `self` and `other` hold the same events (ids, origins, delete targets and
    /// content), however each splits them into operations. Two replicas resending one update
    /// may split it differently (a delete is cut where the target's insert runs end, and
    /// those differ between replicas); this compares what the update does.
    pub(crate) fn same_events(&self, other: &Self) -> bool
    where
        C: ContentCodec,
    {
        // Cheap first, and it bounds the expansion below by the size of `self`.
        if self.event_count() != other.event_count() {
            return false;
        }
        self.events() == other.events()
    }

    /// The events one by one, ordered by id: `(id, origin_left or delete target,
    /// origin_right, is_delete)`, and the content of all inserts in id order, serialized.
    #[allow(clippy::type_complexity)]
    fn events(&self) -> (Vec<(Dot, Option<Dot>, Option<Dot>, bool)>, Vec<u8>)
    where
        C: ContentCodec,
    {
        let mut ops: Vec<&SequenceOp<C>> = self.ops.iter().collect();
        sort_by_key(&mut ops, |o| o.id());
        let at = |d: Dot, k: u64| Dot::new(d.replica, d.counter.wrapping_add(k));
        let mut ev = Vec::new();
        for o in &ops {
            match o {
                SequenceOp::Insert {
                    id,
                    origin_left,
                    origin_right,
                    content,
                } => {
                    for i in 0..content.content_len() as u64 {
                        let left = if i == 0 {
                            *origin_left
                        } else {
                            Some(at(*id, i - 1))
                        };
                        ev.push((at(*id, i), left, *origin_right, false));
                    }
                }
                SequenceOp::Delete {
                    id,
                    len,
                    target,
                    reversed,
                } => {
                    for k in 0..*len {
                        let t = if *reversed {
                            Dot::new(target.replica, target.counter.wrapping_sub(k))
                        } else {
                            at(*target, k)
                        };
                        ev.push((at(*id, k), Some(t), None, true));
                    }
                }
            }
        }
        let mut content = Vec::new();
        C::encode_concat(
            ops.iter().filter_map(|o| match o {
                SequenceOp::Insert { content, .. } => Some(content),
                SequenceOp::Delete { .. } => None,
            }),
            &mut content,
        );
        (ev, content)
    }
}

// ------------------------------------------------------------------ the SequenceOps wire form
//
// `(replicas, meta, content)`: the replica table in order of first use, one stream of
// varints describing the ops, and every insert's content concatenated. Per op:
//
// * head `len << 6 | shape << 1 | implicit` (`len` 0 is an escape: the real length
//   follows). `implicit`: the id is the previous op's replica with the counter right after
//   that replica's last op in the batch; otherwise a dot follows. `shape` below 24 is an
//   insert with left-origin mode `shape / 6` (0 none, 1 the item before the op's first, 2 a
//   dot follows, 3 the previous insert's) and right-origin mode `shape % 6` (0 none, 1 a dot
//   follows, 2 the item after the left origin in its replica's numbering, 3 the previous
//   insert's first item: typing backwards, 4 the right origin of the earlier insert of this
//   batch that ended with the left origin, 5 the first item of the latest earlier insert of
//   this batch with the same left origin). Modes 2, 4 and 5 are where a local insert's right
//   neighbour comes from: the rest of the run it splits, the original neighbour of the item
//   it follows, or the item inserted after that one last. 24 to 27 are a delete: +1
//   reversed, +2 the target is the previous insert's first item (deleting what was just
//   typed), otherwise the target dot follows.
// * a dot is `counter * replicas + index + 1`, or `0, index, counter` if that overflows.

const W_IMPLICIT: u64 = 1;
const SHAPE_DELETE: u64 = 24;
const OR_MODES: u64 = 6;
const OL_NONE: u64 = 0;
const OL_PREV_ITEM: u64 = 1;
const OL_DOT: u64 = 2;
const OL_SAME: u64 = 3;
const OR_NONE: u64 = 0;
const OR_DOT: u64 = 1;
const OR_AFTER_LEFT: u64 = 2;
const OR_PREV_INSERT: u64 = 3;
const OR_LEFT_OR: u64 = 4;
const OR_SIBLING: u64 = 5;
const LEN_SHIFT: u32 = 6;
/// Up to this many replicas in a batch, the packer finds one by linear search.
const LINEAR_REPLICAS: usize = 8;

/// An insert's left origin and id (what the next insert's origins may repeat).
type Origins = (Option<Dot>, Dot);

/// The last item of an insert op and the op's right origin, when the counters fit.
fn last_item(id: Dot, len: u64, or: Option<Dot>) -> Option<(Dot, Option<Dot>)> {
    let last = id.counter.checked_add(len.checked_sub(1)?)?;
    Some((Dot::new(id.replica, last), or))
}

/// A vector that stays on the stack up to `N` elements: a small batch (one keystroke's ops)
/// is encoded without allocating, which matters because the envelope serializes twice
/// (once to size the buffer).
enum Buf<T, const N: usize> {
    Inline([T; N], usize),
    Heap(Vec<T>),
}

impl<T: Copy + Default, const N: usize> Buf<T, N> {
    fn with_capacity(n: usize) -> Self {
        if n <= N {
            Buf::Inline([T::default(); N], 0)
        } else {
            Buf::Heap(Vec::with_capacity(n))
        }
    }
    fn push(&mut self, v: T) {
        match self {
            Buf::Inline(a, n) if *n < N => {
                a[*n] = v;
                *n += 1;
            }
            Buf::Inline(a, n) => {
                let mut h = Vec::with_capacity(2 * N);
                h.extend_from_slice(&a[..*n]);
                h.push(v);
                *self = Buf::Heap(h);
            }
            Buf::Heap(h) => h.push(v),
        }
    }
    fn as_slice(&self) -> &[T] {
        match self {
            Buf::Inline(a, n) => &a[..*n],
            Buf::Heap(h) => h,
        }
    }
}

struct Packer {
    replicas: Buf<ReplicaId, 4>,
    index: hashbrown::HashMap<ReplicaId, u32>,
    meta: Buf<u64, 8>,
}

impl Packer {
    fn idx(&mut self, r: ReplicaId) -> u32 {
        let n = self.replicas.as_slice().len() as u32;
        if self.index.is_empty() {
            if let Some(i) = self.replicas.as_slice().iter().position(|&x| x == r) {
                return i as u32;
            }
            self.replicas.push(r);
            if n as usize + 1 > LINEAR_REPLICAS {
                let all = self.replicas.as_slice().iter().enumerate();
                self.index.extend(all.map(|(i, &x)| (x, i as u32)));
            }
            return n;
        }
        *self.index.entry(r).or_insert_with(|| {
            self.replicas.push(r);
            n
        })
    }
    /// The index of a replica already in the table.
    fn known(&self, r: ReplicaId) -> u64 {
        let i = if self.index.is_empty() {
            self.replicas.as_slice().iter().position(|&x| x == r)
        } else {
            self.index.get(&r).map(|&i| i as usize)
        };
        i.expect("collected in the first pass") as u64
    }
    fn len_head(&mut self, len: u64, bits: u64) {
        if len != 0 && len <= u64::MAX >> LEN_SHIFT {
            self.meta.push(len << LEN_SHIFT | bits);
        } else {
            self.meta.push(bits);
            self.meta.push(len);
        }
    }
}

/// Packs `ops` into the replica table and the meta stream (dots are packed once the table
/// is complete, so every op is visited twice: once to collect replicas).
fn pack_wire<C: ContentLen>(ops: &[SequenceOp<C>]) -> Packer {
    let mut p = Packer {
        replicas: Buf::with_capacity(0),
        index: hashbrown::HashMap::new(),
        meta: Buf::with_capacity(ops.len() * 2),
    };
    for op in ops {
        match op {
            SequenceOp::Insert {
                id,
                origin_left,
                origin_right,
                ..
            } => {
                p.idx(id.replica);
                origin_left.map(|d| p.idx(d.replica));
                origin_right.map(|d| p.idx(d.replica));
            }
            SequenceOp::Delete { id, target, .. } => {
                p.idx(id.replica);
                p.idx(target.replica);
            }
        }
    }
    let m = p.replicas.as_slice().len() as u64;
    let dot = |p: &mut Packer, d: Dot| {
        let i = p.known(d.replica);
        match d.counter.checked_mul(m).and_then(|v| v.checked_add(i + 1)) {
            Some(v) => p.meta.push(v),
            None => [0, i, d.counter].into_iter().for_each(|v| p.meta.push(v)),
        }
    };
    // Per replica index: the counter right after its last op so far (not needed for a
    // single op, and the maps below are only filled while more ops follow, so a batch of
    // one allocates only the meta stream).
    let mut next: Vec<u64> = if ops.len() > 1 {
        alloc::vec![0; m as usize]
    } else {
        Vec::new()
    };
    let mut prev_replica: Option<ReplicaId> = None;
    let mut prev_origins: Option<Origins> = None;
    // Last item of each insert so far → that insert's right origin.
    let mut ends: hashbrown::HashMap<Dot, Option<Dot>> = hashbrown::HashMap::new();
    // Left origin → first item of the latest insert so far with that left origin.
    let mut after: hashbrown::HashMap<Dot, Dot> = hashbrown::HashMap::new();
    for (k, op) in ops.iter().enumerate() {
        let more = k + 1 < ops.len();
        let id = op.id();
        let a = p.known(id.replica) as usize;
        let implicit = prev_replica == Some(id.replica) && next.get(a) == Some(&id.counter);
        let mut bits = if implicit { W_IMPLICIT } else { 0 };
        let len = match op {
            SequenceOp::Insert {
                origin_left,
                origin_right,
                content,
                ..
            } => {
                let same = prev_origins;
                let ol = match *origin_left {
                    None => OL_NONE,
                    Some(d)
                        if d.replica == id.replica
                            && d.counter.checked_add(1) == Some(id.counter) =>
                    {
                        OL_PREV_ITEM
                    }
                    l if same.is_some_and(|s| s.0 == l) => OL_SAME,
                    Some(_) => OL_DOT,
                };
                let or = match *origin_right {
                    None => OR_NONE,
                    r if same.is_some_and(|s| Some(s.1) == r) => OR_PREV_INSERT,
                    Some(d)
                        if origin_left.is_some_and(|l| {
                            l.replica == d.replica && l.counter.checked_add(1) == Some(d.counter)
                        }) =>
                    {
                        OR_AFTER_LEFT
                    }
                    r if origin_left.is_some_and(|l| ends.get(&l) == Some(&r)) => OR_LEFT_OR,
                    r if origin_left.is_some_and(|l| after.get(&l).copied() == r) => OR_SIBLING,
                    Some(_) => OR_DOT,
                };
                prev_origins = Some((*origin_left, id));
                bits |= (ol * OR_MODES + or) << 1;
                let n = content.content_len() as u64;
                if more {
                    if let Some(l) = *origin_left {
                        after.insert(l, id);
                    }
                    if let Some((k, v)) = last_item(id, n, *origin_right) {
                        ends.insert(k, v);
                    }
                }
                p.len_head(n, bits);
                if !implicit {
                    dot(&mut p, id);
                }
                if let (OL_DOT, Some(d)) = (ol, origin_left) {
                    dot(&mut p, *d);
                }
                if let (OR_DOT, Some(d)) = (or, origin_right) {
                    dot(&mut p, *d);
                }
                n
            }
            SequenceOp::Delete {
                len,
                target,
                reversed,
                ..
            } => {
                // Deleting what was just typed: the target is the previous insert's first item.
                let typed = prev_origins.is_some_and(|o| o.1 == *target);
                let shape = SHAPE_DELETE + u64::from(*reversed) + 2 * u64::from(typed);
                bits |= shape << 1;
                p.len_head(*len, bits);
                if !implicit {
                    dot(&mut p, id);
                }
                if !typed {
                    dot(&mut p, *target);
                }
                *len
            }
        };
        if let Some(x) = next.get_mut(a) {
            *x = id.counter.wrapping_add(len);
        }
        prev_replica = Some(id.replica);
    }
    p
}

/// Reads the meta stream of the wire form.
struct Reader<'a> {
    meta: &'a [u64],
    at: usize,
    replicas: &'a [ReplicaId],
}

impl Reader<'_> {
    fn next(&mut self) -> Result<u64, &'static str> {
        let v = *self.meta.get(self.at).ok_or("truncated ops")?;
        self.at += 1;
        Ok(v)
    }
    /// A dot and its replica's index in the table.
    fn dot(&mut self) -> Result<(u32, Dot), &'static str> {
        let m = self.replicas.len() as u64;
        let v = self.next()?;
        let (i, counter) = if v == 0 {
            (self.next()?, self.next()?)
        } else if m == 0 {
            return Err("no replicas");
        } else {
            ((v - 1) % m, (v - 1) / m)
        };
        let replica = *self.replicas.get(i as usize).ok_or("replica index")?;
        Ok((i as u32, Dot::new(replica, counter)))
    }
}

/// Inverse of [`pack_wire`]: the ops with empty content placeholders and each insert's
/// length. Never panics; allocates at most one op per meta value.
fn unpack_wire(
    replicas: &[ReplicaId],
    meta: &[u64],
) -> Result<Vec<(SequenceOp<()>, u64)>, &'static str> {
    let mut r = Reader {
        meta,
        at: 0,
        replicas,
    };
    let mut out = Vec::new();
    let mut next: Vec<u64> = alloc::vec![0; replicas.len()];
    let mut prev: Option<(u32, ReplicaId)> = None;
    let mut prev_origins: Option<Origins> = None;
    let mut ends: hashbrown::HashMap<Dot, Option<Dot>> = hashbrown::HashMap::new();
    let mut after: hashbrown::HashMap<Dot, Dot> = hashbrown::HashMap::new();
    while r.at < meta.len() {
        let head = r.next()?;
        let len = match head >> LEN_SHIFT {
            0 => r.next()?,
            n => n,
        };
        let (a, id) = if head & W_IMPLICIT != 0 {
            let (a, rep) = prev.ok_or("implicit id without a previous op")?;
            (a, Dot::new(rep, next[a as usize]))
        } else {
            r.dot()?
        };
        let shape = head >> 1 & 31;
        let op = if shape >= SHAPE_DELETE {
            let target = match shape - SHAPE_DELETE {
                0 | 1 => r.dot()?.1,
                2 | 3 => prev_origins.ok_or("no previous insert")?.1,
                _ => return Err("unknown op shape"),
            };
            SequenceOp::Delete {
                id,
                len,
                target,
                reversed: shape & 1 == 1,
            }
        } else {
            let prev_insert = prev_origins.ok_or("no previous insert");
            let origin_left = match shape / OR_MODES {
                OL_NONE => None,
                OL_PREV_ITEM => Some(Dot::new(
                    id.replica,
                    id.counter.checked_sub(1).ok_or("counter 0")?,
                )),
                OL_DOT => Some(r.dot()?.1),
                _ => prev_insert?.0,
            };
            let origin_right = match shape % OR_MODES {
                OR_NONE => None,
                OR_DOT => Some(r.dot()?.1),
                OR_AFTER_LEFT => {
                    let l = origin_left.ok_or("no left origin")?;
                    Some(Dot::new(
                        l.replica,
                        l.counter.checked_add(1).ok_or("counter overflow")?,
                    ))
                }
                OR_PREV_INSERT => Some(prev_insert?.1),
                OR_LEFT_OR => {
                    let l = origin_left.ok_or("no left origin")?;
                    *ends.get(&l).ok_or("left origin ends no insert")?
                }
                _ => {
                    let l = origin_left.ok_or("no left origin")?;
                    Some(*after.get(&l).ok_or("no insert after the left origin")?)
                }
            };
            prev_origins = Some((origin_left, id));
            if r.at < meta.len() {
                if let Some(l) = origin_left {
                    after.insert(l, id);
                }
                if let Some((k, v)) = last_item(id, len, origin_right) {
                    ends.insert(k, v);
                }
            }
            SequenceOp::Insert {
                id,
                origin_left,
                origin_right,
                content: (),
            }
        };
        next[a as usize] = id.counter.wrapping_add(len);
        prev = Some((a, id.replica));
        out.push((op, len));
    }
    Ok(out)
}

/// The wire form, borrowed for serializing.
#[derive(Serialize)]
struct WireOut<'a, C: WireContent> {
    replicas: &'a [ReplicaId],
    meta: &'a [u64],
    content: Concat<'a, C>,
}

/// The content of a batch's inserts, serialized as one value.
struct Concat<'a, C>(&'a [SequenceOp<C>]);

impl<C: WireContent> Serialize for Concat<'_, C> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        C::serialize_concat(
            self.0.iter().filter_map(|o| match o {
                SequenceOp::Insert { content, .. } => Some(content),
                SequenceOp::Delete { .. } => None,
            }),
            s,
        )
    }
}

/// The wire form, owned for deserializing.
#[derive(Deserialize)]
#[serde(bound = "C: WireContent")]
struct WireIn<C> {
    replicas: Vec<ReplicaId>,
    #[serde(deserialize_with = "meta_words")]
    meta: Vec<u64>,
    content: C,
}

/// One word of the meta stream as the decode meter sees it: read as a `u64`, but as large as
/// the memory one op of the batch may end up holding (every op has at least one word), so
/// `decode_with_budget` charges a `SequenceOps` at least what decoding it allocates.
struct MetaWord([u64; 18]);

// The meter charges an element 5/2 of its size; an op occupies a slot in the shape list and
// in the final list, each a `Vec` that may hold up to twice its length while growing.
const _: () = assert!(
    core::mem::size_of::<MetaWord>() * 5 / 2
        >= 2 * (core::mem::size_of::<SequenceOp<Vec<u8>>>()
            + core::mem::size_of::<(SequenceOp<()>, u64)>())
);

impl<'de> Deserialize<'de> for MetaWord {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut w = [0; 18];
        w[0] = u64::deserialize(d)?;
        Ok(MetaWord(w))
    }
}

fn meta_words<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    struct V;
    impl<'de> de::Visitor<'de> for V {
        type Value = Vec<u64>;
        fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("a sequence of varints")
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u64>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(MetaWord(w)) = seq.next_element()? {
                out.push(w[0]);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(V)
}

impl<C: WireContent> Serialize for SequenceOps<C> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = pack_wire(&self.ops);
        WireOut {
            replicas: p.replicas.as_slice(),
            meta: p.meta.as_slice(),
            content: Concat(&self.ops),
        }
        .serialize(s)
    }
}

impl<'de, C: WireContent> Deserialize<'de> for SequenceOps<C> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = WireIn::<C>::deserialize(d)?;
        SequenceOps::from_wire(&w.replicas, &w.meta, w.content).map_err(de::Error::custom)
    }
}

impl<C: WireContent> SequenceOps<C> {
    /// The batch the wire form's parts describe (the serde and the codec decoders share it).
    fn from_wire(
        replicas: &[ReplicaId],
        meta: &[u64],
        mut content: C,
    ) -> Result<Self, &'static str> {
        let shapes = unpack_wire(replicas, meta)?;
        let mut ops = Vec::with_capacity(shapes.len());
        // Content is split from the end, so each piece is one `split_off`.
        for (op, len) in shapes.into_iter().rev() {
            ops.push(match op {
                SequenceOp::Insert {
                    id,
                    origin_left,
                    origin_right,
                    ..
                } => {
                    let n = usize::try_from(len).map_err(|_| "length")?;
                    SequenceOp::Insert {
                        id,
                        origin_left,
                        origin_right,
                        content: content.split_last(n).ok_or("content too short")?,
                    }
                }
                SequenceOp::Delete {
                    id,
                    len,
                    target,
                    reversed,
                } => SequenceOp::Delete {
                    id,
                    len,
                    target,
                    reversed,
                },
            });
        }
        if content.content_len() != 0 {
            return Err("content left over");
        }
        ops.reverse();
        Ok(SequenceOps { ops })
    }
}

/// Content the hand-written codec carries in [`SequenceOps`]: written concatenated, as
/// [`WireContent::serialize_concat`] writes it, and read whole.
pub(crate) trait ContentCodec: WireContent + for<'a> Decode<'a> {
    /// Appends `parts` concatenated, exactly as `Self` holding all of them would be encoded.
    fn encode_concat<'a>(parts: impl Iterator<Item = &'a Self> + Clone, w: &mut Vec<u8>)
    where
        Self: 'a;
}

impl ContentCodec for String {
    fn encode_concat<'a>(parts: impl Iterator<Item = &'a Self> + Clone, w: &mut Vec<u8>) {
        put_len(w, parts.clone().map(String::len).sum());
        parts.for_each(|p| w.extend_from_slice(p.as_bytes()));
    }
}

impl<T: Serialize + DeserializeOwned + Encode + for<'a> Decode<'a>> ContentCodec for Vec<T> {
    fn encode_concat<'a>(parts: impl Iterator<Item = &'a Self> + Clone, w: &mut Vec<u8>)
    where
        T: 'a,
    {
        put_len(w, parts.clone().map(Vec::len).sum());
        parts.flat_map(|p| p.iter()).for_each(|x| x.encode(w));
    }
}

impl<C: ContentCodec> Encode for SequenceOps<C> {
    fn encode(&self, w: &mut Vec<u8>) {
        let p = pack_wire(&self.ops);
        p.replicas.as_slice().encode(w);
        p.meta.as_slice().encode(w);
        C::encode_concat(
            self.ops.iter().filter_map(|o| match o {
                SequenceOp::Insert { content, .. } => Some(content),
                SequenceOp::Delete { .. } => None,
            }),
            w,
        );
    }
}

impl<C: ContentCodec> Decode<'_> for SequenceOps<C> {
    /// Reads the parts as the `Deserialize` impl does (meta words charged as [`MetaWord`]s),
    /// then unpacks them.
    fn decode(r: &mut codec::Reader<'_>) -> Result<Self, DecodeError> {
        let replicas = Vec::<ReplicaId>::decode(r)?;
        let mut seq = r.seq(core::mem::size_of::<MetaWord>())?;
        let mut meta = Vec::with_capacity(seq.capacity());
        while seq.next() {
            meta.push(r.u64()?);
            seq.charge(r)?;
        }
        let content = C::decode(r)?;
        SequenceOps::from_wire(&replicas, &meta, content).map_err(|_| REJECTED)
    }
}

/// What [`apply`](crate::list::Text::apply) did with a batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApplyReport {
    /// Events (inserted or deleted items) newly applied.
    pub applied: u64,
    /// Events already known, ignored.
    pub duplicates: u64,
    /// First ids of operations not applied because something they depend on (an origin, a
    /// delete target, or an earlier counter of the same replica) is unknown. A document layer
    /// buffers these and retries later.
    pub missing: Vec<Dot>,
    /// Events left out because they lie beyond the target version of
    /// [`apply_until`](crate::list::Text::apply_until).
    pub beyond_target: u64,
    /// Operations rejected as malformed (empty content, counter 0, an origin that names a
    /// deletion, ...).
    pub invalid: usize,
}

impl ApplyReport {
    /// Whether every operation was applied or already known.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty() && self.invalid == 0 && self.beyond_target == 0
    }
}

/// One run of the full history, in local order; see [`SequenceHistory`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum HistOp {
    /// `len` inserted items. `left` is `0` for "document start", else the distance back from
    /// the first new item number to its left origin; `right` is `0` for "document end", else
    /// the right origin's item number plus one.
    Insert { len: u32, left: u32, right: u32 },
    /// `len` deletions of item numbers `target, target ± 1, ...`.
    Delete {
        len: u32,
        target: u32,
        reversed: bool,
    },
    /// `len` items typed at visible position `cursor + delta`, where `cursor` is where the
    /// previous positional op left off; the origins are the neighbours at that position.
    InsertAt { len: u32, delta: i64 },
    /// `len` visible items deleted at `cursor + delta` (forward), or backspaced from there
    /// (`reversed`: positions `p, p - 1, ...`).
    DeleteAt {
        len: u32,
        delta: i64,
        reversed: bool,
    },
}

/// The compact full history of a sequence: everything needed to rebuild it and keep merging.
///
/// Runs are stored in this replica's local order (a causal order). Items are referred to by
/// their number among inserted items, so references are small varints; replica ids appear
/// once, in `replicas`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SequenceHistory {
    /// The replica that wrote the encoding (restored as the local replica by `decode`).
    pub(crate) owner: ReplicaId,
    /// Every replica that contributed events.
    pub(crate) replicas: Vec<ReplicaId>,
    /// Which replica did each run of consecutive local-order events, packed by
    /// [`pack_ids`] (counters are implicit: each replica's events are numbered from 1 in
    /// local order).
    #[serde(with = "crate::encoding::byte_buf")]
    pub(crate) ids: Vec<u8>,
    /// The operations, in local order, packed by [`pack_ops`].
    #[serde(with = "crate::encoding::byte_buf")]
    pub(crate) ops: Vec<u8>,
    /// All inserted content in item-number order (deleted items included), as written by
    /// the store's `ContentCodec` (compressed UTF-8 for text).
    #[serde(with = "crate::encoding::byte_buf")]
    pub(crate) content: Vec<u8>,
}

/// Packs the replica of each run of consecutive local-order events as one varint per run:
/// `len * m + code`. The first run has `m = replicas` and `code` = its replica index; every
/// later run belongs to a different replica than the run before it (runs of one replica
/// merge), so `m = replicas - 1` and `code` skips the previous run's index. With two
/// replicas the replica costs nothing at all.
pub(crate) fn pack_ids(runs: &[(u32, u32)], replicas: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut prev: Option<u32> = None;
    for &(agent, len) in runs {
        let (m, code) = match prev {
            None => (replicas as u64, u64::from(agent)),
            Some(p) => {
                debug_assert_ne!(p, agent, "runs of one replica merge");
                (
                    (replicas as u64 - 1).max(1),
                    u64::from(if agent > p { agent - 1 } else { agent }),
                )
            }
        };
        put_varint(&mut out, u64::from(len) * m + code);
        prev = Some(agent);
    }
    out
}

/// Inverse of [`pack_ids`]: `(replica index, length)` runs. Never panics; allocates only for
/// runs actually present.
pub(crate) fn unpack_ids(bytes: &[u8], replicas: usize) -> Result<Vec<(u32, u32)>, DecodeError> {
    const BAD: DecodeError = DecodeError::Invalid("id runs");
    let mut out = Vec::new();
    let mut at = 0;
    let mut prev: Option<u32> = None;
    while at < bytes.len() {
        let v = get_varint(bytes, &mut at)?;
        let m = match prev {
            None => replicas as u64,
            Some(_) => replicas as u64 - 1,
        };
        if m == 0 {
            return Err(BAD);
        }
        let code = u32::try_from(v % m).map_err(|_| BAD)?;
        let len = u32::try_from(v / m).map_err(|_| BAD)?;
        let agent = match prev {
            Some(p) if code >= p => code + 1,
            _ => code,
        };
        if len == 0 {
            return Err(BAD);
        }
        out.push((agent, len));
        prev = Some(agent);
    }
    Ok(out)
}

impl WireType for SequenceHistory {
    const TAG: TypeTag = TypeTag::SequenceHistory;
}

impl Encode for SequenceHistory {
    fn encode(&self, w: &mut Vec<u8>) {
        self.owner.encode(w);
        self.replicas.encode(w);
        codec::put_bytes(w, &self.ids);
        codec::put_bytes(w, &self.ops);
        codec::put_bytes(w, &self.content);
    }
}

impl Decode<'_> for SequenceHistory {
    /// The fields in order, the three packed sections as byte strings (charged their length,
    /// as `byte_buf` reads them); nothing is checked here, as on the serde path: the sections
    /// are unpacked and validated by `from_history`.
    fn decode(r: &mut codec::Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SequenceHistory {
            owner: ReplicaId::decode(r)?,
            replicas: Vec::<ReplicaId>::decode(r)?,
            ids: r.bytes()?.to_vec(),
            ops: r.bytes()?.to_vec(),
            content: r.bytes()?.to_vec(),
        })
    }
}

/// `v` as an unsigned varint-friendly value: 0, -1, 1, -2, ... become 0, 1, 2, 3, ...
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
pub(crate) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

const K_INSERT: u64 = 0;
const K_DELETE: u64 = 1;
const K_INSERT_AT: u64 = 2;
const K_INSERT_HERE: u64 = 3;
const K_DELETE_AT: u64 = 4;
const K_BACKSPACE_AT: u64 = 5;
const K_DELETE_HERE: u64 = 6;
const K_BACKSPACE: u64 = 7;

/// Packs history ops as varints: a head `len << 3 | kind`, then the kind's fields (deltas
/// zigzag-encoded). The commonest cases get their own kinds with no field at all: typing at
/// the cursor (`delta == 0`), deleting forward at the cursor, and backspacing from just left
/// of it (`delta == -1`). Typing, moving the cursor and backspacing cost one or two bytes.
pub(crate) fn pack_ops(ops: &[HistOp]) -> Vec<u8> {
    let mut out = Vec::new();
    for op in ops {
        match *op {
            HistOp::Insert { len, left, right } => {
                put_varint(&mut out, u64::from(len) << 3 | K_INSERT);
                put_varint(&mut out, u64::from(left));
                put_varint(&mut out, u64::from(right));
            }
            HistOp::Delete {
                len,
                target,
                reversed,
            } => {
                put_varint(&mut out, u64::from(len) << 3 | K_DELETE);
                put_varint(&mut out, u64::from(target) << 1 | u64::from(reversed));
            }
            HistOp::InsertAt { len, delta } => {
                if delta == 0 {
                    put_varint(&mut out, u64::from(len) << 3 | K_INSERT_HERE);
                } else {
                    put_varint(&mut out, u64::from(len) << 3 | K_INSERT_AT);
                    put_varint(&mut out, zigzag(delta));
                }
            }
            HistOp::DeleteAt {
                len,
                delta,
                reversed,
            } => {
                // A single deletion is the same forwards and backwards.
                let reversed = reversed && len > 1;
                if delta == -1 && (reversed || len == 1) {
                    put_varint(&mut out, u64::from(len) << 3 | K_BACKSPACE);
                } else if delta == 0 && !reversed {
                    put_varint(&mut out, u64::from(len) << 3 | K_DELETE_HERE);
                } else {
                    let k = if reversed {
                        K_BACKSPACE_AT
                    } else {
                        K_DELETE_AT
                    };
                    put_varint(&mut out, u64::from(len) << 3 | k);
                    put_varint(&mut out, zigzag(delta));
                }
            }
        }
    }
    out
}

/// Inverse of [`pack_ops`]; never panics, allocates only for ops actually present.
pub(crate) fn unpack_ops(bytes: &[u8]) -> Result<Vec<HistOp>, DecodeError> {
    let mut ops = Vec::new();
    let mut at = 0;
    let small = |v: u64| u32::try_from(v).map_err(|_| DecodeError::Invalid("history field"));
    while at < bytes.len() {
        let head = get_varint(bytes, &mut at)?;
        let len = small(head >> 3)?;
        let op = match head & 7 {
            K_INSERT => HistOp::Insert {
                len,
                left: small(get_varint(bytes, &mut at)?)?,
                right: small(get_varint(bytes, &mut at)?)?,
            },
            K_DELETE => {
                let t = get_varint(bytes, &mut at)?;
                HistOp::Delete {
                    len,
                    target: small(t >> 1)?,
                    reversed: t & 1 == 1,
                }
            }
            K_INSERT_AT => HistOp::InsertAt {
                len,
                delta: unzigzag(get_varint(bytes, &mut at)?),
            },
            K_INSERT_HERE => HistOp::InsertAt { len, delta: 0 },
            k @ (K_DELETE_AT | K_BACKSPACE_AT) => HistOp::DeleteAt {
                len,
                delta: unzigzag(get_varint(bytes, &mut at)?),
                reversed: k == K_BACKSPACE_AT,
            },
            K_DELETE_HERE => HistOp::DeleteAt {
                len,
                delta: 0,
                reversed: false,
            },
            _ => HistOp::DeleteAt {
                len,
                delta: -1,
                reversed: len > 1,
            },
        };
        ops.push(op);
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs alternating between replicas in a pseudo-random pattern (never the same replica
    /// twice in a row, as the engine produces them).
    fn runs(replicas: u32, n: usize) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        let mut x = 0x9e37_79b9_u32;
        let mut prev = None;
        for _ in 0..n {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let mut a = x % replicas;
            if Some(a) == prev {
                a = (a + 1) % replicas;
            }
            out.push((a, 1 + (x >> 8) % 300));
            prev = Some(a);
        }
        out
    }

    #[test]
    fn id_runs_round_trip() {
        for (replicas, n) in [(1, 1), (2, 50), (3, 50), (12, 200), (300, 200)] {
            let r = runs(replicas, n);
            let bytes = pack_ids(&r, replicas as usize);
            assert_eq!(unpack_ids(&bytes, replicas as usize), Ok(r));
        }
        // Two replicas: the replica is implicit, a run costs its length varint only.
        let r = runs(2, 100);
        let small = r.iter().filter(|x| x.1 < 128).count();
        assert_eq!(pack_ids(&r, 2).len(), small + 2 * (r.len() - small));
    }

    #[test]
    fn malformed_id_runs_are_errors() {
        // A second run with a single replica would have to repeat it.
        assert!(unpack_ids(&[1, 1], 1).is_err());
        // No replicas at all, a zero-length run, a truncated varint.
        assert!(unpack_ids(&[1], 0).is_err());
        assert!(unpack_ids(&[0], 2).is_err());
        assert!(unpack_ids(&[0x80], 2).is_err());
        // A length beyond u32.
        assert!(unpack_ids(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 1).is_err());
        assert_eq!(unpack_ids(&[], 3), Ok(Vec::new()));
    }
}

#[cfg(test)]
mod codec_tests {
    use proptest::prelude::*;

    use super::*;
    use crate::encoding::codec::tests::{
        assert_decodes_same, assert_envelope_same_as_serde, assert_same_as_serde,
    };
    use crate::list::{List, Text};
    use crate::value::Item;
    use crate::value::tests::item;
    use crate::version::VersionVector;

    /// One edit: replica, insert (`true`) or delete, a position, and what to type.
    type Edit = (usize, bool, usize, String, bool);

    /// Three texts and three lists edited by `edits` (syncing all when an edit says so); the
    /// batches of everything each one has, and of what each typed since the last sync.
    fn batches(edits: &[Edit], items: &[Item]) -> (Vec<SequenceOps>, Vec<SequenceOps<Vec<Item>>>) {
        let (texts, lists, synced) = edited(edits, items);
        let t = texts
            .iter()
            .flat_map(|t| [t.ops_since(&VersionVector::new()), t.ops_since(&synced)]);
        let l = lists
            .iter()
            .flat_map(|l| [l.ops_since(&VersionVector::new()), l.ops_since(&synced)]);
        (t.collect(), l.collect())
    }

    /// The compact histories of the texts and lists `edits` leave (see [`batches`]).
    fn histories(edits: &[Edit], items: &[Item]) -> Vec<SequenceHistory> {
        let (texts, lists, _) = edited(edits, items);
        let t = texts.iter().map(|t| t.seq.history());
        t.chain(lists.iter().map(|l| l.seq.history())).collect()
    }

    /// The texts and lists of [`batches`], and the version of the last sync.
    fn edited(edits: &[Edit], items: &[Item]) -> (Vec<Text>, Vec<List<Item>>, VersionVector) {
        let mut texts: Vec<Text> = (1..=3).map(|r| Text::new(ReplicaId(r))).collect();
        let mut lists: Vec<List<Item>> = (1..=3).map(|r| List::new(ReplicaId(r))).collect();
        let mut synced = VersionVector::new();
        for (k, (who, ins, pos, typed, sync)) in edits.iter().enumerate() {
            let (t, l) = (&mut texts[*who], &mut lists[*who]);
            if *ins || t.is_empty() {
                t.insert(pos % (t.len() + 1), typed).unwrap();
                let it = items.get(k % items.len().max(1)).cloned();
                l.insert(
                    pos % (l.len() + 1),
                    it.unwrap_or(Item::Value(crate::value::Value::Null)),
                )
                .unwrap();
            } else {
                let at = pos % t.len();
                t.delete(at..(at + typed.len()).min(t.len())).unwrap();
                if !l.is_empty() {
                    let at = pos % l.len();
                    l.delete(at..at + 1).unwrap();
                }
            }
            if *sync {
                let all: Vec<_> = texts
                    .iter()
                    .map(|t| t.ops_since(&VersionVector::new()))
                    .collect();
                let all_l: Vec<_> = lists
                    .iter()
                    .map(|l| l.ops_since(&VersionVector::new()))
                    .collect();
                for (t, l) in texts.iter_mut().zip(&mut lists) {
                    all.iter().for_each(|o| drop(t.apply(o).unwrap()));
                    all_l.iter().for_each(|o| drop(l.apply(o).unwrap()));
                }
                synced = texts[0].version();
            }
        }
        (texts, lists, synced)
    }

    fn edit() -> impl Strategy<Value = Edit> {
        (
            0usize..3,
            any::<bool>(),
            any::<usize>(),
            "[a-zé🦀]{1,4}",
            proptest::bool::weighted(0.2),
        )
    }

    #[test]
    fn codec_matches_serde() {
        assert_same_as_serde(&SequenceOps::<String>::default());
        assert_same_as_serde(&SequenceOps::<Vec<Item>>::default());
        let edits: Vec<Edit> = (0..24)
            .map(|k| (k % 3, k % 4 != 3, k * 7, "añ🦀".into(), k % 5 == 4))
            .collect();
        let (texts, lists) = batches(&edits, &[]);
        for b in &texts {
            assert_same_as_serde(b);
        }
        for b in &lists {
            assert_same_as_serde(b);
        }
        // A huge meta length, an implicit id with no op before it, content left over.
        for bytes in [
            &[1, 1, 0xff, 0xff, 0xff, 0x0f][..],
            &[1, 1, 1, 0x41, 0][..],
            &[0, 0, 1, 0x61][..],
        ] {
            assert_decodes_same::<SequenceOps>(bytes, &[0, 100]);
            assert_decodes_same::<SequenceOps<Vec<Item>>>(bytes, &[0, 100]);
        }
    }

    #[test]
    fn history_codec_matches_serde() {
        let h = |owner: u64, replicas: &[u64], ids: &[u8], ops: &[u8], content: &[u8]| {
            SequenceHistory {
                owner: ReplicaId(owner),
                replicas: replicas.iter().copied().map(ReplicaId).collect(),
                ids: ids.to_vec(),
                ops: ops.to_vec(),
                content: content.to_vec(),
            }
        };
        assert_same_as_serde(&h(0, &[], &[], &[], &[]));
        assert_same_as_serde(&h(
            u64::MAX,
            &[u64::MAX, 0, 1 << 63],
            &[0xff],
            &[0x80],
            &[0],
        ));
        let long: Vec<u8> = (0..=255).cycle().take(300).collect();
        assert_same_as_serde(&h(1, &[1, 2], &long, &long[..128], &long[..127]));
        let edits: Vec<Edit> = (0..24)
            .map(|k| (k % 3, k % 4 != 3, k * 7, "añ🦀".into(), k % 5 == 4))
            .collect();
        for hist in histories(&edits, &[]) {
            assert_same_as_serde(&hist);
            assert_envelope_same_as_serde(&hist);
        }
        assert_envelope_same_as_serde(&h(0, &[], &[], &[], &[]));
        assert_envelope_same_as_serde(&h(7, &[7, 1 << 50], &long, &long, &long));
        // A replica table longer than the input, byte strings running past the end, a bad
        // varint owner, bytes left over.
        for bytes in [
            &[1, 0xff, 0xff, 0xff, 0x0f][..],
            &[1, 1, 1, 5, 1][..],
            &[1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01][..],
            &[0xff; 11][..],
            &[1, 0, 0, 0, 0, 0][..],
        ] {
            assert_decodes_same::<SequenceHistory>(bytes, &[0, 1, 8, 100]);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn history_codec_matches_serde_on_any_fields(
            owner in any::<u64>(),
            replicas in proptest::collection::vec(any::<u64>(), 0..6),
            ids in proptest::collection::vec(any::<u8>(), 0..40),
            ops in proptest::collection::vec(any::<u8>(), 0..40),
            content in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            assert_same_as_serde(&SequenceHistory {
                owner: ReplicaId(owner),
                replicas: replicas.into_iter().map(ReplicaId).collect(),
                ids,
                ops,
                content,
            });
        }

        #[test]
        fn history_codec_matches_serde_on_engine_histories(
            edits in proptest::collection::vec(edit(), 1..16),
            items in proptest::collection::vec(item(), 1..4),
        ) {
            for hist in histories(&edits, &items) {
                assert_same_as_serde(&hist);
                assert_envelope_same_as_serde(&hist);
            }
        }

        #[test]
        fn history_decodes_arbitrary_bytes_the_same(
            bytes in proptest::collection::vec(any::<u8>(), 0..32),
        ) {
            assert_decodes_same::<SequenceHistory>(&bytes, &[0, 3, 20, 60]);
        }

        #[test]
        fn codec_matches_serde_on_engine_batches(
            edits in proptest::collection::vec(edit(), 1..16),
            items in proptest::collection::vec(item(), 1..4),
        ) {
            let (texts, lists) = batches(&edits, &items);
            for b in &texts {
                assert_same_as_serde(b);
            }
            for b in &lists {
                assert_same_as_serde(b);
            }
        }
    }
}
