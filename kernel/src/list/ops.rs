//! The owned, serializable forms of sequence history: operations exchanged between replicas
//! ([`SequenceOps`]) and the compact full history ([`SequenceHistory`]).
//!
//! Operations name items by [`Dot`] (replica, counter), never by local indexes. Every inserted
//! item and every deleted item consumes one counter of the replica that did it, so a
//! [`VersionVector`](crate::VersionVector) says exactly which operations a replica has seen.

use crate::encoding::varint::{get_varint, put_varint};
use alloc::string::String;
use alloc::vec::Vec;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::clock::{Dot, ReplicaId};
use crate::encoding::{DecodeError, TypeTag, WireType};

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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

impl<C: Serialize + DeserializeOwned> WireType for SequenceOps<C> {
    const TAG: TypeTag = TypeTag::SequenceOps;
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
    #[serde(with = "byte_buf")]
    pub(crate) ids: Vec<u8>,
    /// The operations, in local order, packed by [`pack_ops`].
    #[serde(with = "byte_buf")]
    pub(crate) ops: Vec<u8>,
    /// All inserted content in item-number order (deleted items included), as written by
    /// the store's `ContentCodec` (compressed UTF-8 for text).
    #[serde(with = "byte_buf")]
    pub(crate) content: Vec<u8>,
}

/// `Vec<u8>` fields as serde byte strings: the same postcard bytes as a sequence of `u8`
/// (length varint, then the bytes), but read in one copy instead of element by element.
mod byte_buf {
    use alloc::vec::Vec;
    use core::fmt;

    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        d.deserialize_byte_buf(V)
    }
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

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
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
