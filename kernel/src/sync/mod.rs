//! Updates, their wire framing, and the causal-delivery rules a document applies them by.
//!
//! An **update** is what one committed local transaction produces: its author, the author's
//! counters `start .. start + ops.len()` (one per operation, so operation `i` has the id
//! `Dot(author, start + i)`), a Lamport time for the first operation (operation `i` is
//! stamped `lamport + i`, which orders last-writer-wins writes), the **dependencies** (the
//! document's version vector when the transaction began), and the operations.
//!
//! Invariants the document keeps with these rules:
//!
//! * an update is applied at most once, and only when it is **ready**: the document has seen
//!   everything in `deps` and exactly the author's counters before `start`. Updates that are
//!   not ready are buffered and retried whenever something new is applied;
//! * so every replica applies every update after everything it depends on, and the version
//!   vector is always contiguous ("all counters `1..=n` of each replica").
//!
//! Wire framing (until the envelope gets its own tags; byte by byte in `docs/wire-format.md`
//! §5): 3 bytes `"CVD"`, a format byte ([`DOC_FORMAT`]), a kind byte ([`KIND_UPDATES`],
//! [`KIND_SNAPSHOT`] or [`KIND_HISTORY`]), then a postcard payload that must end exactly at the
//! end of the input.
//!
//! This module knows no document: a relay can decode, check and merge updates with it alone.

use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::clock::{Dot, ReplicaId, Timestamp};
use crate::encoding::DecodeError;
use crate::encoding::codec::{Decode, Encode, decode_all};
use crate::list::SequenceOps;
use crate::set::AwSetDelta;
use crate::sort::sort_by_key;
use crate::value::{ContainerId, ContainerKind, Item, Value};
use crate::version::VersionVector;

/// Magic bytes of document updates and snapshots.
pub const DOC_MAGIC: [u8; 3] = *b"CVD";
/// The document format version this build writes and reads.
pub const DOC_FORMAT: u8 = 2;
/// Kind byte of a set of updates ([`Doc::encode_updates_since`](crate::doc::Doc::encode_updates_since)).
pub const KIND_UPDATES: u8 = 1;
/// Kind byte of a state snapshot ([`Doc::save`](crate::doc::Doc::save)).
pub const KIND_SNAPSHOT: u8 = 2;
/// Kind byte of a history export ([`Doc::save_history`](crate::doc::Doc::save_history)).
pub const KIND_HISTORY: u8 = 3;

/// The largest counter or Lamport time an update may use (2^62).
pub const MAX_COUNTER: u64 = 1 << 62;

/// What is wrong with update bytes, found without a document.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncError {
    /// The bytes are not a well-formed updates message.
    Decode(DecodeError),
    /// An update breaks the protocol.
    Invalid(InvalidUpdate),
    /// Two different updates share one id.
    Conflict {
        /// The author of both updates.
        author: ReplicaId,
        /// Their first counter.
        start: u64,
    },
}

impl From<DecodeError> for SyncError {
    fn from(e: DecodeError) -> Self {
        SyncError::Decode(e)
    }
}

impl core::fmt::Display for SyncError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SyncError::Decode(e) => write!(f, "bad update bytes: {e}"),
            SyncError::Invalid(why) => write!(f, "invalid update: {why}"),
            SyncError::Conflict { author, start } => write!(
                f,
                "update {}:{start} conflicts with another update of the same id",
                author.0
            ),
        }
    }
}

impl core::error::Error for SyncError {}

/// Why an update (or a saved document's history) was refused: the reason inside
/// [`SyncError::Invalid`] and `DocError::InvalidUpdate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InvalidUpdate {
    /// An update holds no operations.
    NoOperations,
    /// A counter is 0 or would pass [`MAX_COUNTER`].
    CounterOutOfRange,
    /// A Lamport time is 0 or would pass [`MAX_COUNTER`].
    LamportOutOfRange,
    /// The dependencies do not end right before the update's first counter.
    DependencyMismatch,
    /// The update overlaps counters already applied or buffered without being one of those
    /// updates.
    OverlapsKnownCounters,
    /// An operation, a list or text event or a set insertion is attributed to a replica other
    /// than the update's author.
    ForeignAuthor,
    /// A root container appears as a value inside another container.
    NestedRoot,
    /// A container is created twice.
    CreatedTwice,
    /// List or text operations refer to items the document does not have.
    UnknownItems,
    /// List or text operations are malformed, repeat known events or exceed the engine's
    /// capacity.
    SequenceRejected,
    /// A saved document's history is not a causal order.
    NotCausal,
}

impl InvalidUpdate {
    /// What the reason says, in words.
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidUpdate::NoOperations => "an update has no operations",
            InvalidUpdate::CounterOutOfRange => "counters out of range",
            InvalidUpdate::LamportOutOfRange => "Lamport time out of range",
            InvalidUpdate::DependencyMismatch => {
                "dependencies do not end right before the first counter"
            }
            InvalidUpdate::OverlapsKnownCounters => "overlaps known counters",
            InvalidUpdate::ForeignAuthor => "operation attributed to another replica",
            InvalidUpdate::NestedRoot => "a root container cannot be nested",
            InvalidUpdate::CreatedTwice => "container created twice",
            InvalidUpdate::UnknownItems => "sequence operation refers to unknown items",
            InvalidUpdate::SequenceRejected => "sequence operations rejected",
            InvalidUpdate::NotCausal => "history is not causal",
        }
    }
}

impl core::fmt::Display for InvalidUpdate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One operation inside an update. Its id is its position in the update (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Op {
    /// Creates a container of `kind` whose id is this operation's dot.
    Create { kind: ContainerKind },
    /// Writes `key` of a map.
    MapSet {
        map: ContainerId,
        key: alloc::string::String,
        value: Item,
    },
    /// Removes `key` of a map.
    MapDelete {
        map: ContainerId,
        key: alloc::string::String,
    },
    /// Sequence operations on a list.
    List {
        list: ContainerId,
        ops: SequenceOps<Vec<Item>>,
    },
    /// Sequence operations on a text.
    Text {
        text: ContainerId,
        ops: SequenceOps<alloc::string::String>,
    },
    /// Adds to a counter.
    Counter { counter: ContainerId, amount: i64 },
    /// Writes a register.
    Register { register: ContainerId, value: Value },
    /// Adds and removes set elements.
    Set {
        set: ContainerId,
        delta: AwSetDelta<Value>,
    },
}

impl Op {
    /// The container the operation edits (`None` for [`Op::Create`]).
    pub(crate) fn container(&self) -> Option<ContainerId> {
        match self {
            Op::Create { .. } => None,
            Op::MapSet { map, .. } | Op::MapDelete { map, .. } => Some(*map),
            Op::List { list, .. } => Some(*list),
            Op::Text { text, .. } => Some(*text),
            Op::Counter { counter, .. } => Some(*counter),
            Op::Register { register, .. } => Some(*register),
            Op::Set { set, .. } => Some(*set),
        }
    }
}

/// One committed transaction; see the module docs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Update {
    pub(crate) author: ReplicaId,
    pub(crate) start: u64,
    pub(crate) lamport: u64,
    pub(crate) deps: VersionVector,
    /// Names of root containers this update is the first (as far as its author knew) to
    /// touch, so every replica can show roots by name.
    pub(crate) names: Vec<alloc::string::String>,
    pub(crate) ops: Vec<Op>,
}

impl Update {
    /// One past the author's last counter in this update.
    pub(crate) fn end(&self) -> u64 {
        self.start + self.ops.len() as u64
    }

    /// The id of operation `i`.
    pub(crate) fn dot(&self, i: usize) -> Dot {
        Dot::new(self.author, self.start + i as u64)
    }

    /// The Lamport timestamp of operation `i`.
    pub(crate) fn stamp(&self, i: usize) -> Timestamp {
        Timestamp::new(self.lamport + i as u64, self.author)
    }

    /// Checks what can be checked without the document: a non-empty run of operations whose
    /// counters and Lamport times stay at most [`MAX_COUNTER`], starting at counter 1 or later, and deps
    /// that name exactly the author's earlier counters.
    pub(crate) fn check_shape(&self) -> Result<(), SyncError> {
        if self.ops.is_empty() {
            return Err(SyncError::Invalid(InvalidUpdate::NoOperations));
        }
        let n = self.ops.len() as u64;
        // Counters and Lamport times stay below 2^62, so no later local edit can overflow.
        if self.start == 0 || self.start.saturating_add(n) > MAX_COUNTER {
            return Err(SyncError::Invalid(InvalidUpdate::CounterOutOfRange));
        }
        if self.lamport == 0 || self.lamport.saturating_add(n) > MAX_COUNTER {
            return Err(SyncError::Invalid(InvalidUpdate::LamportOutOfRange));
        }
        if self.deps.get(self.author) != self.start - 1 {
            return Err(SyncError::Invalid(InvalidUpdate::DependencyMismatch));
        }
        Ok(())
    }

    /// Whether a document at `version` can apply this update now.
    pub(crate) fn is_ready(&self, version: &VersionVector) -> bool {
        version.get(self.author) == self.start - 1 && version.dominates(&self.deps)
    }

    /// [`is_ready`](Self::is_ready) against `base` with each replica's counter raised to its
    /// counter in `ahead` (what a plan applied so far, kept apart from a long `base`).
    pub(crate) fn is_ready_over(&self, base: &VersionVector, ahead: &VersionVector) -> bool {
        base.get_over(ahead, self.author) == self.start - 1
            && (self.deps.iter()).all(|(r, c)| base.get_over(ahead, r) >= c)
    }

    /// Encoded size in bytes (what the memory budget charges for keeping it).
    pub(crate) fn encoded_len(&self) -> usize {
        let mut scratch = Vec::new();
        self.encode(&mut scratch);
        scratch.len()
    }

    /// Whether `other`, an update with the same id, does the same: equal in every field, with
    /// list and text operations compared by their events (two honest replicas resending one
    /// update may split its sequence operations differently; see `SequenceOps::same_events`).
    pub(crate) fn same_as(&self, other: &Update) -> bool {
        self.author == other.author
            && self.start == other.start
            && self.lamport == other.lamport
            && self.deps == other.deps
            && self.names == other.names
            && self.ops.len() == other.ops.len()
            && self.ops.iter().zip(&other.ops).all(|(a, b)| match (a, b) {
                (Op::Text { text: x, ops: p }, Op::Text { text: y, ops: q }) => {
                    x == y && p.same_events(q)
                }
                (Op::List { list: x, ops: p }, Op::List { list: y, ops: q }) => {
                    x == y && p.same_events(q)
                }
                _ => a == b,
            })
    }
}

pub(crate) fn frame<T: Encode + ?Sized>(kind: u8, value: &T) -> Vec<u8> {
    let mut out = frame_head(kind);
    value.encode(&mut out);
    out
}

/// The bytes before a framed value: magic, format, kind, in a buffer with room for a small
/// message (one keystroke's update is about 40 bytes), so the common case grows it never.
fn frame_head(kind: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&DOC_MAGIC);
    out.push(DOC_FORMAT);
    out.push(kind);
    out
}

pub(crate) fn unframe<T: for<'a> Decode<'a>>(bytes: &[u8], kind: u8) -> Result<T, DecodeError> {
    // The codec's reader caps every length prefix's preallocation at the bytes left, so a
    // hostile message cannot make decoding allocate more than a small multiple of its size.
    let (value, _charged) = decode_all::<T>(open_frame(bytes, kind)?, usize::MAX)?;
    Ok(value)
}

/// Checks the framing (magic, format, `kind`) and returns the payload after it.
fn open_frame(bytes: &[u8], kind: u8) -> Result<&[u8], DecodeError> {
    if bytes.len() < DOC_MAGIC.len() {
        return if DOC_MAGIC.starts_with(bytes) {
            Err(DecodeError::UnexpectedEnd)
        } else {
            Err(DecodeError::BadMagic)
        };
    }
    if bytes[..3] != DOC_MAGIC {
        return Err(DecodeError::BadMagic);
    }
    let version = *bytes.get(3).ok_or(DecodeError::UnexpectedEnd)?;
    if version != DOC_FORMAT {
        return Err(DecodeError::UnknownVersion { found: version });
    }
    let found = *bytes.get(4).ok_or(DecodeError::UnexpectedEnd)?;
    if found != kind {
        return Err(DecodeError::Invalid("wrong kind of document message"));
    }
    Ok(&bytes[5..])
}

/// An updates message holding `updates`.
pub(crate) fn encode_updates(updates: &[Update]) -> Vec<u8> {
    let mut out = frame_head(KIND_UPDATES);
    updates.encode(&mut out);
    out
}

pub(crate) fn decode_updates(bytes: &[u8]) -> Result<Vec<Update>, DecodeError> {
    // The codec reads as the metered serde path does: no length prefix buys more
    // preallocation than the bytes left.
    let (updates, _charged) = decode_all(open_frame(bytes, KIND_UPDATES)?, usize::MAX)?;
    Ok(updates)
}

/// Combines several update messages into one holding each distinct update once, ordered by
/// Lamport time (a causal order), so applying the result equals applying all the inputs.
///
/// Errors if any input is malformed, or if two inputs hold different updates under one id.
pub fn merge_updates(messages: &[&[u8]]) -> Result<Vec<u8>, SyncError> {
    let mut all: Vec<Update> = Vec::new();
    for m in messages {
        for u in decode_updates(m)? {
            u.check_shape()?;
            all.push(u);
        }
    }
    let key = |u: &Update| (u.lamport, u.author, u.start);
    sort_by_key(&mut all, key);
    let mut kept: Vec<Update> = Vec::with_capacity(all.len());
    for u in all {
        // Sorted by that key, copies of one update are neighbours.
        if let Some(k) = kept.last().filter(|k| key(k) == key(&u)) {
            if !k.same_as(&u) {
                return Err(SyncError::Conflict {
                    author: u.author,
                    start: u.start,
                });
            }
            continue;
        }
        kept.push(u);
    }
    Ok(encode_updates(&kept))
}

// ------------------------------------------------------------------ the hand-written codec

mod codec {
    use alloc::vec::Vec;

    use super::{Op, Update};
    use crate::encoding::codec::{Decode, Encode, Reader, put_bytes, put_i64, put_varint};
    use crate::encoding::{DecodeError, REJECTED};
    use crate::value::{ContainerId, ContainerKind, Item, Value};
    use crate::version::VersionVector;

    impl Encode for Op {
        fn encode(&self, w: &mut Vec<u8>) {
            match self {
                Op::Create { kind } => {
                    w.push(0);
                    kind.encode(w);
                }
                Op::MapSet { map, key, value } => {
                    w.push(1);
                    map.encode(w);
                    put_bytes(w, key.as_bytes());
                    value.encode(w);
                }
                Op::MapDelete { map, key } => {
                    w.push(2);
                    map.encode(w);
                    put_bytes(w, key.as_bytes());
                }
                Op::List { list, ops } => {
                    w.push(3);
                    list.encode(w);
                    ops.encode(w);
                }
                Op::Text { text, ops } => {
                    w.push(4);
                    text.encode(w);
                    ops.encode(w);
                }
                Op::Counter { counter, amount } => {
                    w.push(5);
                    counter.encode(w);
                    put_i64(w, *amount);
                }
                Op::Register { register, value } => {
                    w.push(6);
                    register.encode(w);
                    value.encode(w);
                }
                Op::Set { set, delta } => {
                    w.push(7);
                    set.encode(w);
                    delta.encode(w);
                }
            }
        }
    }

    impl Decode<'_> for Op {
        fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            Ok(match r.variant()? {
                0 => Op::Create {
                    kind: ContainerKind::decode(r)?,
                },
                1 => Op::MapSet {
                    map: ContainerId::decode(r)?,
                    key: r.str()?.into(),
                    value: Item::decode(r)?,
                },
                2 => Op::MapDelete {
                    map: ContainerId::decode(r)?,
                    key: r.str()?.into(),
                },
                3 => Op::List {
                    list: ContainerId::decode(r)?,
                    ops: Decode::decode(r)?,
                },
                4 => Op::Text {
                    text: ContainerId::decode(r)?,
                    ops: Decode::decode(r)?,
                },
                5 => Op::Counter {
                    counter: ContainerId::decode(r)?,
                    amount: r.i64()?,
                },
                6 => Op::Register {
                    register: ContainerId::decode(r)?,
                    value: Value::decode(r)?,
                },
                7 => Op::Set {
                    set: ContainerId::decode(r)?,
                    delta: Decode::decode(r)?,
                },
                _ => return Err(REJECTED),
            })
        }
    }

    impl Encode for Update {
        fn encode(&self, w: &mut Vec<u8>) {
            self.author.encode(w);
            put_varint(w, self.start);
            put_varint(w, self.lamport);
            self.deps.encode(w);
            self.names.encode(w);
            self.ops.encode(w);
        }
    }

    impl Decode<'_> for Update {
        fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            Ok(Update {
                author: Decode::decode(r)?,
                start: r.u64()?,
                lamport: r.u64()?,
                deps: VersionVector::decode(r)?,
                names: Decode::decode(r)?,
                ops: Decode::decode(r)?,
            })
        }
    }
}

#[cfg(test)]
mod codec_tests {
    use alloc::string::String;
    use alloc::vec;

    use proptest::prelude::*;

    use super::*;
    use crate::doc::Doc;
    use crate::encoding::codec::tests::{assert_decodes_same, assert_same_as_serde};
    use crate::value::tests::value;

    /// One edit of a document: which replica, which kind of container, a number and a value.
    type Edit = (usize, u8, u16, Value);

    /// The updates two documents make with `edits` (syncing after every fifth), as each
    /// sends them all.
    fn updates(edits: &[Edit]) -> Vec<Vec<Update>> {
        let mut docs = [Doc::new(ReplicaId(1)), Doc::new(ReplicaId(u64::MAX))];
        for (k, (who, kind, n, v)) in edits.iter().enumerate() {
            let d = &mut docs[*who];
            let kinds = [
                ContainerKind::Map,
                ContainerKind::List,
                ContainerKind::Text,
                ContainerKind::Counter,
                ContainerKind::Register,
                ContainerKind::Set,
            ];
            let kind = kinds[usize::from(*kind) % 6];
            let root = d.root(["m", "l", "t", "c", "r", "s"][kind as usize], kind);
            let n = usize::from(*n);
            let _ = match kind {
                ContainerKind::Map if n % 3 == 0 => d.map_delete(root, "k"),
                ContainerKind::Map if n % 3 == 1 => d
                    .map_insert_container(root, "n", ContainerKind::Set)
                    .map(drop),
                ContainerKind::Map => d.map_set(root, &n.to_string(), v.clone()),
                ContainerKind::List => {
                    let len = d.list_len(root).unwrap_or(0);
                    if n % 4 == 0 && len > 0 {
                        d.list_delete(root, n % len..n % len + 1)
                    } else {
                        d.list_insert(root, n % (len + 1), v.clone())
                    }
                }
                ContainerKind::Text => {
                    let len = d.text_len(root).unwrap_or(0);
                    if n % 4 == 0 && len > 0 {
                        d.text_delete(root, n % len..len)
                    } else {
                        d.text_insert(root, n % (len + 1), "añ🦀")
                    }
                }
                ContainerKind::Counter => d.counter_add(root, i64::from(n as i16)),
                ContainerKind::Register => d.register_set(root, v.clone()),
                ContainerKind::Set if n % 2 == 0 => d.set_remove(root, v),
                ContainerKind::Set => d.set_add(root, v.clone()),
            };
            if k % 5 == 4 {
                let (a, b) = (
                    docs[0].encode_updates_since(&VersionVector::new()),
                    docs[1].encode_updates_since(&VersionVector::new()),
                );
                docs[0].apply_update(&b).unwrap();
                docs[1].apply_update(&a).unwrap();
            }
        }
        docs.iter()
            .map(|d| decode_updates(&d.encode_updates_since(&VersionVector::new())).unwrap())
            .collect()
    }

    fn edit() -> impl Strategy<Value = Edit> {
        (0usize..2, 0u8..6, any::<u16>(), value())
    }

    #[test]
    fn codec_matches_serde() {
        let edits: Vec<Edit> = (0..40u16)
            .map(|k| {
                (
                    usize::from(k % 3 == 0),
                    (k % 6) as u8,
                    k * 13,
                    Value::Int(i64::from(k) - 20),
                )
            })
            .collect();
        for sent in updates(&edits) {
            assert!(!sent.is_empty());
            assert_same_as_serde(&sent);
            for u in &sent {
                assert_same_as_serde(u);
                for op in &u.ops {
                    assert_same_as_serde(op);
                }
            }
        }
        let names = Update {
            author: ReplicaId(0),
            start: u64::MAX,
            lamport: 0,
            deps: VersionVector::new(),
            names: vec![String::new(), "ünïcode 🦀".into()],
            ops: vec![Op::Create {
                kind: ContainerKind::Text,
            }],
        };
        assert_same_as_serde(&names);
        // Unknown op variant, unknown kind, a cut-off key.
        for bytes in [&[8][..], &[0, 6], &[2, 0, 0, 1, 5, b'a']] {
            assert_decodes_same::<Op>(bytes, &[0]);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn codec_matches_serde_on_document_updates(edits in proptest::collection::vec(edit(), 1..24)) {
            for sent in updates(&edits) {
                assert_same_as_serde(&sent);
            }
        }
    }
}
