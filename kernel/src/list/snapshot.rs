//! State snapshots of a [`Text`]: the replica's state written as it is (document order with
//! tombstones, op log, ids, content), so loading one builds an editable replica without
//! replaying the history.
//!
//! The idea of storing state beside the history comes from Loro, whose snapshots keep the
//! document state next to the operation log. Here the state *is* the log plus the order, so
//! nothing is stored twice:
//!
//! * [`Text::snapshot`] writes one message (tag [`TypeTag::TextSnapshot`]): the writer's
//!   replica id, the replicas, the ids, all inserted text in item order (deleted items
//!   included, as plain UTF-8), the document order and the op log. The layout of the last
//!   three is in the engine's `state` module.
//! * [`Text::decode_snapshot`] and [`TextSnapshot::decode`] check every field — the envelope,
//!   UTF-8, each item placed exactly once, every origin and delete target naming an earlier
//!   item, tombstones exactly the deleted items, ids covering the log — then build the span
//!   tree from the stored order in one pass.
//! * What a load cannot check without replaying is that the stored order of *concurrent*
//!   inserts is the one FugueMax gives their origins (Loro, likewise, trusts its stored
//!   state). A forged order loads as a consistent replica that would merge deterministically
//!   but differ from its peers; [`Text::replays_to_same_order`] replays the log to rule that
//!   out for snapshots from untrusted sources.
//!
//! Invariants: decoding never panics and never allocates more than the input implies (the
//! order, log and ids are borrowed from the input and the content copied once, into the store;
//! the bit sets and logs are bounded by the content's item count and the input's length).

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::Text;
use super::content::TextStore;
use super::engine::{Seq, StateParts};
use crate::clock::ReplicaId;
use crate::encoding::{DecodeError, TypeTag, WireType, decode_payload, open_envelope};
use crate::version::VersionVector;

/// The wire form of a snapshot: the payload of a [`TypeTag::TextSnapshot`] envelope.
#[derive(Debug, Serialize, Deserialize)]
struct SnapshotWire {
    owner: ReplicaId,
    replicas: Vec<ReplicaId>,
    #[serde(with = "super::ops::byte_buf")]
    ids: Vec<u8>,
    content: String,
    #[serde(with = "super::ops::byte_buf")]
    order: Vec<u8>,
    #[serde(with = "super::ops::byte_buf")]
    log: Vec<u8>,
}

impl WireType for SnapshotWire {
    const TAG: TypeTag = TypeTag::TextSnapshot;
}

/// [`SnapshotWire`] as read: the same fields, borrowed from the input, so the order, log and
/// ids are never copied and the content is copied once, into the store.
#[derive(Deserialize)]
struct SnapshotWireRef<'a> {
    owner: ReplicaId,
    replicas: Vec<ReplicaId>,
    ids: &'a [u8],
    content: &'a str,
    order: &'a [u8],
    log: &'a [u8],
}

/// A decoded text state snapshot ([`Text::snapshot`]): the text as a `String` beside the
/// editable replica it was read from.
///
/// Decoding checks the snapshot completely (see [`Text::decode_snapshot`]), so the text shown
/// is the replica's text, and [`into_text`](Self::into_text) costs nothing more. Use it when a
/// document is shown before (or instead of) being edited; [`Text::decode_snapshot`] skips
/// building the string.
///
/// ```
/// use converge::ReplicaId;
/// use converge::list::{Text, TextSnapshot};
///
/// let mut t = Text::new(ReplicaId(1));
/// t.insert(0, "hello world")?;
/// let bytes = t.snapshot();
///
/// let view = TextSnapshot::decode(&bytes).unwrap();
/// assert_eq!(view.as_str(), "hello world");
/// assert_eq!(view.version(), &t.version());
///
/// // Editing it under another replica id: no further decoding.
/// let mut editable = view.into_text_as(ReplicaId(2));
/// editable.insert(5, ",")?;
/// assert_eq!(editable.to_string(), "hello, world");
/// # Ok::<(), converge::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TextSnapshot {
    text: Text,
    string: String,
    version: VersionVector,
}

impl TextSnapshot {
    /// Reads a snapshot written by [`Text::snapshot`], checking all of it
    /// ([`Text::decode_snapshot`]), and renders the text. Never panics.
    pub fn decode(bytes: &[u8]) -> Result<TextSnapshot, DecodeError> {
        let text = Text::decode_snapshot(bytes)?;
        Ok(TextSnapshot {
            string: text.render_string(),
            version: text.version(),
            text,
        })
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.string
    }

    /// Length in chars (Unicode scalar values).
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Length in UTF-16 code units.
    pub fn len_utf16(&self) -> usize {
        self.text.len_utf16()
    }

    /// The version the snapshot was taken at.
    pub fn version(&self) -> &VersionVector {
        &self.version
    }

    /// The text, moved out without a copy (for a viewer that only needs the string).
    pub fn into_string(self) -> String {
        self.string
    }

    /// The editable replica (keeping the writer's replica id).
    pub fn into_text(self) -> Text {
        self.text
    }

    /// The editable replica, with future local edits attributed to `replica`.
    pub fn into_text_as(self, replica: ReplicaId) -> Text {
        let mut text = self.text;
        text.seq.set_replica(replica);
        text
    }
}

impl Text {
    /// A state snapshot (wire type [`TypeTag::TextSnapshot`]): the document order, op log and
    /// content as they are, so [`decode_snapshot`](Self::decode_snapshot) loads an editable
    /// replica without replaying the history. Larger than [`encode`](Self::encode) (the
    /// content is not compressed and origins and targets are explicit) and much cheaper to
    /// write and to load.
    pub fn snapshot(&self) -> Vec<u8> {
        let StateParts {
            owner,
            replicas,
            ids,
            order,
            log,
        } = self.seq.state_parts();
        crate::encoding::encode(&SnapshotWire {
            owner,
            replicas: replicas.into_owned(),
            ids: ids.into_owned(),
            content: String::from(self.seq.store.as_str()),
            order: order.into_owned(),
            log: log.into_owned(),
        })
    }

    /// Loads a [`snapshot`](Self::snapshot) into an editable replica, keeping the writer's
    /// replica id. Every field is checked (see the module docs of `list::snapshot`): malformed
    /// input is a [`DecodeError`], never a panic. The stored order of concurrent inserts is
    /// trusted; [`replays_to_same_order`](Self::replays_to_same_order) verifies it.
    pub fn decode_snapshot(bytes: &[u8]) -> Result<Text, DecodeError> {
        Self::load_snapshot(bytes, None)
    }

    /// Like [`decode_snapshot`](Self::decode_snapshot) but future local edits are attributed
    /// to `replica`.
    pub fn decode_snapshot_as(bytes: &[u8], replica: ReplicaId) -> Result<Text, DecodeError> {
        Self::load_snapshot(bytes, Some(replica))
    }

    fn load_snapshot(bytes: &[u8], replica: Option<ReplicaId>) -> Result<Text, DecodeError> {
        Self::load_snapshot_until(bytes, replica, u8::MAX)
    }

    /// [`decode_snapshot`](Self::decode_snapshot) stopping after `stages` stages (0: the wire
    /// message, 1: + the content store and ids, 2: + the log, 3: + the order and the tree),
    /// for profiling the load (format not stable).
    #[doc(hidden)]
    pub fn debug_decode_snapshot_until(bytes: &[u8], stages: u8) -> Result<Text, DecodeError> {
        Self::load_snapshot_until(bytes, None, stages)
    }

    fn load_snapshot_until(
        bytes: &[u8],
        replica: Option<ReplicaId>,
        stages: u8,
    ) -> Result<Text, DecodeError> {
        let payload = open_envelope(bytes, TypeTag::TextSnapshot)?;
        let (w, _) = decode_payload::<SnapshotWireRef<'_>>(payload, usize::MAX)?;
        if stages == 0 {
            return Ok(Text::new(w.owner));
        }
        let parts = StateParts {
            owner: w.owner,
            replicas: Cow::Owned(w.replicas),
            ids: Cow::Borrowed(w.ids),
            order: Cow::Borrowed(w.order),
            log: Cow::Borrowed(w.log),
        };
        let store = TextStore::from_string(String::from(w.content));
        Ok(Text {
            seq: Seq::from_state_until(&parts, replica, store, stages)?,
        })
    }

    /// Whether replaying this replica's op log — every insert integrated at its origins, every
    /// delete applied, in the order this replica learnt of them — gives exactly its current
    /// document order.
    ///
    /// Always true for a replica built by edits, merges or [`decode`](Self::decode). A replica
    /// loaded from a [`snapshot`](Self::snapshot) trusts the snapshot's order of concurrent
    /// inserts; call this on snapshots from untrusted sources (it costs about as much as
    /// loading the full history).
    pub fn replays_to_same_order(&self) -> bool {
        self.seq.replays_to_same_order()
    }
}
