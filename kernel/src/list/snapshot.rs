//! State snapshots of a [`Text`]: the visible text stored beside the full history, so a reader
//! that only shows the document never replays the history.
//!
//! The idea is Loro's: its snapshots keep the document *state* next to the operation history
//! and parse the history only when something needs it (an edit, a merge). Here the split is
//! explicit in the types:
//!
//! * [`Text::snapshot`] writes one message (tag [`TypeTag::TextSnapshot`]) holding the visible
//!   text (UTF-8, document order), the [`VersionVector`], and the history exactly as
//!   [`Text::encode`] writes it (a complete `SequenceHistory` message, envelope included).
//! * [`TextSnapshot::decode`] does only cheap checks — the envelope, UTF-8, the version
//!   vector's invariants, the history section's envelope header — and gives a read-only view:
//!   [`as_str`](TextSnapshot::as_str), [`len`](TextSnapshot::len),
//!   [`len_utf16`](TextSnapshot::len_utf16), [`version`](TextSnapshot::version). Nothing in it
//!   has been checked against the history yet.
//! * [`TextSnapshot::into_text`] decodes the history into an editable replica and **checks**
//!   that its text and version equal the snapshot's, so a forged snapshot (text or version
//!   changed, history intact) can never produce an editable replica that disagrees with what
//!   the read-only view showed: any mismatch is a [`DecodeError`].
//!
//! Invariants: decoding never panics and never allocates more than the input holds (the text
//! and the history are byte strings copied once; the version vector grows as entries arrive).

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::Text;
use crate::clock::ReplicaId;
use crate::encoding::{DecodeError, TypeTag, WireType, open_envelope};
use crate::version::VersionVector;

/// The wire form of a snapshot: the payload of a [`TypeTag::TextSnapshot`] envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct SnapshotWire {
    /// The visible text in document order.
    text: String,
    /// Everything the history contains.
    version: VersionVector,
    /// A complete `SequenceHistory` message (envelope included), as [`Text::encode`] writes
    /// it.
    #[serde(with = "super::ops::byte_buf")]
    history: Vec<u8>,
}

impl WireType for SnapshotWire {
    const TAG: TypeTag = TypeTag::TextSnapshot;
}

/// A decoded text state snapshot ([`Text::snapshot`]): a read-only view of the text, plus the
/// history to build an editable [`Text`] from.
///
/// The snapshot stores the visible text and version beside the full history (the idea comes
/// from Loro, whose snapshots keep the document state next to the history and parse the
/// history only when needed). [`decode`](Self::decode) checks only what is cheap, so the view
/// shows what the snapshot *states*; [`into_text`](Self::into_text) replays the history and
/// rejects a snapshot whose stated text or version disagrees with it, so an editable replica
/// always matches the view it came from.
///
/// ```
/// use converge::ReplicaId;
/// use converge::list::{Text, TextSnapshot};
///
/// let mut t = Text::new(ReplicaId(1));
/// t.insert(0, "hello world")?;
/// let bytes = t.snapshot();
///
/// // Showing the document: no history replay.
/// let view = TextSnapshot::decode(&bytes).unwrap();
/// assert_eq!(view.as_str(), "hello world");
/// assert_eq!(view.version(), &t.version());
///
/// // Editing it: the history is decoded and checked against the view.
/// let mut editable = view.into_text_as(ReplicaId(2)).unwrap();
/// editable.insert(5, ",")?;
/// assert_eq!(editable.to_string(), "hello, world");
/// # Ok::<(), converge::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextSnapshot {
    text: String,
    chars: usize,
    utf16: usize,
    version: VersionVector,
    history: Vec<u8>,
}

/// `(chars, UTF-16 units)` of `s`: every byte that is not a continuation byte starts a char,
/// and every 4-byte lead byte starts one that takes two UTF-16 units.
fn lengths(s: &str) -> (usize, usize) {
    let chars = s.chars().count();
    let astral = s.bytes().filter(|&b| b >= 0xf0).count();
    (chars, chars + astral)
}

impl TextSnapshot {
    /// Reads a snapshot written by [`Text::snapshot`], checking only what is cheap: the
    /// envelope, that the text is UTF-8, the version vector's invariants, and the envelope
    /// header of the history section. The history is not decoded; the text has not been
    /// checked against it (that is [`into_text`](Self::into_text)'s job). Never panics.
    pub fn decode(bytes: &[u8]) -> Result<TextSnapshot, DecodeError> {
        let w: SnapshotWire = crate::encoding::decode(bytes)?;
        open_envelope(&w.history, TypeTag::SequenceHistory)?;
        let (chars, utf16) = lengths(&w.text);
        Ok(TextSnapshot {
            text: w.text,
            chars,
            utf16,
            version: w.version,
            history: w.history,
        })
    }

    /// The text, as the snapshot states it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Length in chars (Unicode scalar values).
    pub fn len(&self) -> usize {
        self.chars
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.chars == 0
    }

    /// Length in UTF-16 code units.
    pub fn len_utf16(&self) -> usize {
        self.utf16
    }

    /// The version the snapshot states it was taken at.
    pub fn version(&self) -> &VersionVector {
        &self.version
    }

    /// The stated text, moved out without a copy (for a viewer that only needs the string).
    pub fn into_string(self) -> String {
        self.text
    }

    /// The history section: a `SequenceHistory` message as [`Text::encode`] writes it, for
    /// [`Text::decode`]. Only its envelope header has been checked so far.
    pub fn history(&self) -> &[u8] {
        &self.history
    }

    /// Decodes the history into an editable replica (keeping the encoder's replica id) and
    /// checks that its text and version equal the snapshot's; a mismatch is a
    /// [`DecodeError::Invalid`]. Costs a full [`Text::decode`].
    pub fn into_text(self) -> Result<Text, DecodeError> {
        self.build(None)
    }

    /// Like [`into_text`](Self::into_text) but future local edits are attributed to
    /// `replica`.
    pub fn into_text_as(self, replica: ReplicaId) -> Result<Text, DecodeError> {
        self.build(Some(replica))
    }

    fn build(self, replica: Option<ReplicaId>) -> Result<Text, DecodeError> {
        let text = Text::decode_inner(&self.history, replica)?;
        if text.version() != self.version {
            return Err(DecodeError::Invalid(
                "snapshot version differs from its history",
            ));
        }
        if text.len() != self.chars || !text.eq_str(&self.text) {
            return Err(DecodeError::Invalid(
                "snapshot text differs from its history",
            ));
        }
        Ok(text)
    }
}

impl Text {
    /// A state snapshot (wire type [`TypeTag::TextSnapshot`]): the visible text and version
    /// beside the full history, so [`TextSnapshot::decode`] can show the text without
    /// replaying anything. About the history's size plus the text's.
    pub fn snapshot(&self) -> Vec<u8> {
        crate::encoding::encode(&SnapshotWire {
            text: alloc::string::ToString::to_string(self),
            version: self.version(),
            history: self.encode(),
        })
    }

    /// Decodes a [`snapshot`](Self::snapshot) into an editable replica:
    /// [`TextSnapshot::decode`] then [`TextSnapshot::into_text`] (the history is decoded and
    /// checked against the stated text and version). Never panics.
    pub fn decode_snapshot(bytes: &[u8]) -> Result<Text, DecodeError> {
        TextSnapshot::decode(bytes)?.into_text()
    }

    /// Like [`decode_snapshot`](Self::decode_snapshot) but future local edits are attributed
    /// to `replica`.
    pub fn decode_snapshot_as(bytes: &[u8], replica: ReplicaId) -> Result<Text, DecodeError> {
        TextSnapshot::decode(bytes)?.into_text_as(replica)
    }

    /// Whether the visible text equals `s`, without building a `String`.
    fn eq_str(&self, s: &str) -> bool {
        let mut rest = s.as_bytes();
        let mut same = true;
        self.seq.tree.for_each_span(|sp| {
            if same && !sp.deleted() {
                let part = self.seq.store.str(sp.lv, sp.len()).as_bytes();
                match rest.split_at_checked(part.len()) {
                    Some((head, tail)) if head == part => rest = tail,
                    _ => same = false,
                }
            }
        });
        same && rest.is_empty()
    }
}
