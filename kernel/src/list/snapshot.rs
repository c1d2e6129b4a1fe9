//! State snapshots of a [`Text`]: the replica's state written as it is (document order with
//! tombstones, op log, ids, content), so loading one builds an editable replica without
//! replaying the history, beside the text itself, so showing one builds nothing.
//!
//! The idea of storing state beside the history comes from Loro, whose snapshots keep the
//! document state next to the operation log and decode the log only when it is needed.
//!
//! * [`Text::snapshot`] writes one message (tag [`TypeTag::TextSnapshot`]): the writer's
//!   replica id, the replicas, the ids, the text as shown (the visible chars in document
//!   order), all inserted text in item order (deleted items included, as plain UTF-8), the
//!   document order and the op log. The layout of the last three is in the engine's `state`
//!   module. The visible text is stored twice, as Loro stores it in its state and its log.
//! * [`Text::decode_snapshot`] checks every field the replica is built from — the envelope,
//!   UTF-8, each item placed exactly once, every origin and delete target naming an earlier
//!   item, tombstones exactly the deleted items, ids covering the log — then builds the span
//!   tree from the stored order in one pass. It does not read the shown text.
//! * [`TextSnapshot::decode`] reads only what a viewer shows: it checks the envelope, the
//!   shown text's UTF-8 and the ids (for the version), and keeps the bytes.
//!   [`TextSnapshot::to_text`] later loads the replica as [`Text::decode_snapshot`] does and
//!   also checks that its text is the one shown, so a snapshot whose shown text was forged is
//!   an error there, not a replica that differs from what was on screen.
//! * What a load cannot check without replaying is that the stored order of *concurrent*
//!   inserts is the one FugueMax gives their origins (Loro, likewise, trusts its stored
//!   state). A forged order loads as a consistent replica that would merge deterministically
//!   but differ from its peers; [`Text::replays_to_same_order`] replays the log to rule that
//!   out for snapshots from untrusted sources.
//!
//! Invariants: decoding never panics and never allocates more than the input implies (the
//! order, log and ids are borrowed from the input and the content copied once, into the store;
//! the bit sets and logs are bounded by the content's item count and the input's length; the
//! view copies the input once and the shown text once).

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use super::Text;
use super::content::TextStore;
use super::engine::{Seq, StateParts, snapshot_version};
use crate::clock::ReplicaId;
use crate::encoding::{DecodeError, TypeTag, WireType, decode_payload, open_envelope};
use crate::version::VersionVector;

/// The wire form of a snapshot: the payload of a [`TypeTag::TextSnapshot`] envelope.
#[derive(Debug, Serialize, Deserialize)]
struct SnapshotWire {
    owner: ReplicaId,
    replicas: Vec<ReplicaId>,
    #[serde(with = "crate::encoding::byte_buf")]
    ids: Vec<u8>,
    /// The visible text in document order.
    text: String,
    /// Every inserted char in item order.
    content: String,
    #[serde(with = "crate::encoding::byte_buf")]
    order: Vec<u8>,
    #[serde(with = "crate::encoding::byte_buf")]
    log: Vec<u8>,
}

impl WireType for SnapshotWire {
    const TAG: TypeTag = TypeTag::TextSnapshot;
}

/// [`SnapshotWire`] as read: the same fields, borrowed from the input, so the order, log and
/// ids are never copied. The shown text and the content are each `&str` where the reader uses
/// it and `&[u8]` where it skips it: both are a postcard byte string, and skipping one as
/// bytes spares its UTF-8 check.
#[derive(Deserialize)]
struct SnapshotWireRef<'a, Shown, Content> {
    owner: ReplicaId,
    replicas: Vec<ReplicaId>,
    ids: &'a [u8],
    text: Shown,
    content: Content,
    order: &'a [u8],
    log: &'a [u8],
}

/// [`SnapshotWireRef`] as a replica is loaded from it: the shown text skipped (the content is
/// copied once, into the store).
type LoadWire<'a> = SnapshotWireRef<'a, &'a [u8], &'a str>;

/// [`SnapshotWireRef`] as a viewer reads it: the replica's content skipped.
type ViewWire<'a> = SnapshotWireRef<'a, &'a str, &'a [u8]>;

/// A text state snapshot ([`Text::snapshot`]) read for showing: the text and its version,
/// with the editable replica loaded only when asked for.
///
/// [`decode`](Self::decode) checks the envelope, the text and the ids, and keeps a copy of the
/// bytes; it costs what reading the text costs, however much history and how many tombstones
/// the snapshot holds. [`to_text`](Self::to_text) loads and checks the replica, as
/// [`Text::decode_snapshot`] does, and checks that its text is the one shown. Use it when a
/// document is shown before (or instead of) being edited.
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
/// // Editing it under another replica id: the replica is loaded now.
/// let mut editable = view.to_text_as(ReplicaId(2)).unwrap();
/// editable.insert(5, ",")?;
/// assert_eq!(editable.to_string(), "hello, world");
/// # Ok::<(), converge::Error>(())
/// ```
#[derive(Clone)]
pub struct TextSnapshot {
    string: String,
    version: VersionVector,
    /// The whole snapshot, for [`to_text`](Self::to_text).
    bytes: Vec<u8>,
}

impl fmt::Debug for TextSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TextSnapshot")
            .field("string", &self.string)
            .field("version", &self.version)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl TextSnapshot {
    /// Reads the text and version of a snapshot written by [`Text::snapshot`], checking the
    /// envelope, the text's UTF-8 and the ids; the replica's parts are checked by
    /// [`to_text`](Self::to_text). Never panics.
    pub fn decode(bytes: &[u8]) -> Result<TextSnapshot, DecodeError> {
        let payload = open_envelope(bytes, TypeTag::TextSnapshot)?;
        let (w, _) = decode_payload::<ViewWire<'_>>(payload, usize::MAX)?;
        Ok(TextSnapshot {
            string: String::from(w.text),
            version: snapshot_version(&w.replicas, w.ids)?,
            bytes: bytes.to_vec(),
        })
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.string
    }

    /// Length in chars (Unicode scalar values), counted in the string.
    pub fn len(&self) -> usize {
        self.string.chars().count()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.string.is_empty()
    }

    /// Length in UTF-16 code units, counted in the string.
    pub fn len_utf16(&self) -> usize {
        self.string.chars().map(char::len_utf16).sum()
    }

    /// The version the snapshot was taken at.
    pub fn version(&self) -> &VersionVector {
        &self.version
    }

    /// The text, moved out without a copy (for a viewer that only needs the string).
    pub fn into_string(self) -> String {
        self.string
    }

    /// The editable replica (keeping the writer's replica id), loaded and checked as
    /// [`Text::decode_snapshot`] does. Also an error if its text is not the one shown.
    pub fn to_text(&self) -> Result<Text, DecodeError> {
        self.load(None)
    }

    /// Like [`to_text`](Self::to_text), with future local edits attributed to `replica`.
    pub fn to_text_as(&self, replica: ReplicaId) -> Result<Text, DecodeError> {
        self.load(Some(replica))
    }

    fn load(&self, replica: Option<ReplicaId>) -> Result<Text, DecodeError> {
        let text = Text::load_snapshot(&self.bytes, replica)?;
        if text.render() != self.string.as_bytes() {
            return Err(DecodeError::Invalid(
                "shown text differs from the replica's",
            ));
        }
        Ok(text)
    }
}

impl Text {
    /// A state snapshot (wire type [`TypeTag::TextSnapshot`]): the document order, op log and
    /// content as they are, so [`decode_snapshot`](Self::decode_snapshot) loads an editable
    /// replica without replaying the history, and the text as shown, so
    /// [`TextSnapshot::decode`] reads it without loading the rest. Larger than
    /// [`encode`](Self::encode) (the content is not compressed, the visible text is stored
    /// twice, origins and targets are explicit) and much cheaper to write and to load.
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
            text: self.render_string(),
            content: String::from(self.seq.store.as_str()),
            order: order.into_owned(),
            log: log.into_owned(),
        })
    }

    /// Loads a [`snapshot`](Self::snapshot) into an editable replica, keeping the writer's
    /// replica id. Every field the replica is built from is checked (see the module docs of
    /// `list::snapshot`): malformed input is a [`DecodeError`], never a panic. The shown text
    /// is skipped unread ([`TextSnapshot::to_text`] compares it with the replica's). The
    /// stored order of concurrent inserts is trusted;
    /// [`replays_to_same_order`](Self::replays_to_same_order) verifies it.
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
        let (w, _) = decode_payload::<LoadWire<'_>>(payload, usize::MAX)?;
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
