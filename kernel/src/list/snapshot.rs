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
use crate::encoding::codec::{Decode, Encode, Reader, decode_all, put_bytes};
use crate::encoding::{DecodeError, TypeTag, WireType, open_envelope};
use crate::version::VersionVector;

/// The wire form of a snapshot: the payload of a [`TypeTag::TextSnapshot`] envelope.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(test, derive(PartialEq))]
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
#[cfg_attr(test, derive(Debug, PartialEq))]
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

// The codec's form of the serde impls above: the fields in order; the three `byte_buf` fields,
// the strings and the borrowed `&str` / `&[u8]` fields are all one length-prefixed byte string
// each (read by `Reader::bytes` / `Reader::str`, charged their length, as the meter charges).

impl Encode for SnapshotWire {
    fn encode(&self, w: &mut Vec<u8>) {
        self.owner.encode(w);
        self.replicas.encode(w);
        put_bytes(w, &self.ids);
        self.text.encode(w);
        self.content.encode(w);
        put_bytes(w, &self.order);
        put_bytes(w, &self.log);
    }
}

impl Decode<'_> for SnapshotWire {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SnapshotWire {
            owner: Decode::decode(r)?,
            replicas: Decode::decode(r)?,
            ids: r.bytes()?.to_vec(),
            text: Decode::decode(r)?,
            content: Decode::decode(r)?,
            order: r.bytes()?.to_vec(),
            log: r.bytes()?.to_vec(),
        })
    }
}

/// Writes what [`SnapshotWire`] writes for the same fields (a `&str` and a `&[u8]` are the
/// same byte string), so a snapshot can be written without copying its parts.
impl<Shown: AsRef<[u8]>, Content: AsRef<[u8]>> Encode for SnapshotWireRef<'_, Shown, Content> {
    fn encode(&self, w: &mut Vec<u8>) {
        self.owner.encode(w);
        self.replicas.encode(w);
        put_bytes(w, self.ids);
        put_bytes(w, self.text.as_ref());
        put_bytes(w, self.content.as_ref());
        put_bytes(w, self.order);
        put_bytes(w, self.log);
    }
}

impl<'a, Shown: Decode<'a>, Content: Decode<'a>> Decode<'a>
    for SnapshotWireRef<'a, Shown, Content>
{
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(SnapshotWireRef {
            owner: Decode::decode(r)?,
            replicas: Decode::decode(r)?,
            ids: r.bytes()?,
            text: Shown::decode(r)?,
            content: Content::decode(r)?,
            order: r.bytes()?,
            log: r.bytes()?,
        })
    }
}

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
        let (w, _) = decode_all::<ViewWire<'_>>(payload, usize::MAX)?;
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
        crate::encoding::encode_codec(&SnapshotWire {
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
        let (w, _) = decode_all::<LoadWire<'_>>(payload, usize::MAX)?;
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

#[cfg(test)]
mod codec_tests {
    use core::fmt::Debug;

    use proptest::prelude::*;

    use super::*;
    use crate::encoding::codec::tests::{assert_decodes_same, assert_same_as_serde};
    use crate::encoding::codec::to_vec;
    use crate::encoding::decode_payload;

    /// Asserts that the codec and the serde path decode `bytes` alike as `T`.
    fn same<'a, T>(bytes: &'a [u8], limit: usize)
    where
        T: Deserialize<'a> + Decode<'a> + PartialEq + Debug,
    {
        let serde = decode_payload::<T>(bytes, limit);
        let codec = decode_all::<T>(bytes, limit);
        assert_eq!(codec, serde, "bytes {bytes:02x?}, limit {limit}");
    }

    /// Every form the snapshot is read in agrees with serde on `bytes`: the owned wire, the
    /// loader's and the viewer's borrowed ones, and the two other borrowed combinations.
    fn all_agree(bytes: &[u8], limits: &[usize]) {
        assert_decodes_same::<SnapshotWire>(bytes, limits);
        for &limit in [usize::MAX].iter().chain(limits) {
            same::<LoadWire<'_>>(bytes, limit);
            same::<ViewWire<'_>>(bytes, limit);
            same::<SnapshotWireRef<'_, &[u8], &[u8]>>(bytes, limit);
            same::<SnapshotWireRef<'_, &str, &str>>(bytes, limit);
        }
    }

    /// The proof for one text's snapshot: the codec writes its payload, every form reads it
    /// as serde does (value and charge), and so on every truncation, with a trailing byte,
    /// with single-byte corruptions and under budgets around the charge.
    fn prove(t: &Text) {
        let bytes = t.snapshot();
        let payload = open_envelope(&bytes, TypeTag::TextSnapshot).unwrap();
        let (wire, charged) = decode_payload::<SnapshotWire>(payload, usize::MAX).unwrap();
        assert_eq!(wire.text, t.to_string());
        assert_eq!(to_vec(&wire), payload);
        assert_same_as_serde(&wire);

        let (view, _) = decode_all::<ViewWire<'_>>(payload, usize::MAX).unwrap();
        assert_eq!(view.text, wire.text);
        assert_eq!(to_vec(&view), payload);
        let (load, _) = decode_all::<LoadWire<'_>>(payload, usize::MAX).unwrap();
        assert_eq!(load.content, wire.content);
        assert_eq!(to_vec(&load), payload);

        all_agree(
            payload,
            &[0, charged / 2, charged.saturating_sub(1), charged],
        );
        for cut in 0..payload.len() {
            all_agree(&payload[..cut], &[]);
        }
        let mut longer = payload.to_vec();
        longer.push(0);
        all_agree(&longer, &[]);
        let step = (payload.len() / 64).max(1);
        for at in (0..payload.len()).step_by(step) {
            for v in [
                0x00,
                0x01,
                0x7f,
                0x80,
                0xff,
                payload[at] ^ 0x01,
                payload[at] ^ 0x40,
            ] {
                let mut bad = payload.to_vec();
                bad[at] = v;
                all_agree(&bad, &[charged / 2]);
            }
        }
    }

    /// Texts whose snapshots cover the wire's cases: empty, ASCII, chars outside the BMP,
    /// deleted content (some and all of it), several replicas with extreme ids.
    fn texts() -> Vec<Text> {
        let mut out = Vec::new();
        out.push(Text::new(ReplicaId(0)));

        let mut ascii = Text::new(ReplicaId(1));
        ascii.insert(0, "hello world").unwrap();
        out.push(ascii);

        let mut wide = Text::new(ReplicaId(u64::MAX));
        wide.insert(0, "héllo 🦀 wörld 𝄞").unwrap();
        wide.insert(6, "✓😀").unwrap();
        out.push(wide);

        let mut deleted = Text::new(ReplicaId(128));
        deleted.insert(0, "abc🦀def").unwrap();
        deleted.delete(1..4).unwrap();
        out.push(deleted.clone());
        deleted.delete(0..deleted.len()).unwrap();
        assert!(deleted.is_empty());
        out.push(deleted);

        // Concurrent typing by three replicas, merged, then edited and partly deleted.
        let ids = [ReplicaId(2), ReplicaId(1 << 62), ReplicaId(u64::MAX - 1)];
        let mut rs: Vec<Text> = ids.iter().map(|&r| Text::new(r)).collect();
        for (k, r) in rs.iter_mut().enumerate() {
            for (i, c) in ["a", "ü", "𝄞", "z"].iter().enumerate() {
                r.insert((i * k) % (r.len() + 1), c).unwrap();
            }
        }
        let all: Vec<_> = rs
            .iter()
            .map(|r| r.ops_since(&VersionVector::new()))
            .collect();
        for r in &mut rs {
            for ops in &all {
                r.apply(ops).unwrap();
            }
        }
        let mut merged = rs.swap_remove(1);
        merged.delete(2..5).unwrap();
        merged.insert(1, "🦀 ok").unwrap();
        out.push(merged.clone());
        // The same replica loaded from its snapshot under another id, and edited.
        let mut loaded = Text::decode_snapshot_as(&merged.snapshot(), ReplicaId(9)).unwrap();
        loaded.insert(0, "x").unwrap();
        loaded.delete(3..4).unwrap();
        out.push(loaded);
        out
    }

    #[test]
    fn codec_matches_serde_on_snapshots() {
        for t in texts() {
            prove(&t);
        }
    }

    #[test]
    fn codec_matches_serde_on_hostile_bytes() {
        // A wire whose shown text and content are given as raw bytes (the codec's encoding of
        // it is proven equal to serde's above).
        let wire = |text: &'static [u8], content: &'static [u8]| {
            to_vec(&SnapshotWireRef::<'_, &[u8], &[u8]> {
                owner: ReplicaId(7),
                replicas: alloc::vec![ReplicaId(1), ReplicaId(u64::MAX)],
                ids: &[1, 2, 3],
                text,
                content,
                order: &[0x80, 0x01],
                log: &[],
            })
        };
        let bad_text = wire(b"\xff\xfe", b"ok");
        let cut_crab = wire(b"ok", b"\xf0\x9f\xa6");
        let fine = wire("🦀".as_bytes(), "a🦀".as_bytes());
        // The loader skips the shown text and the viewer the content, unread.
        assert!(decode_all::<LoadWire<'_>>(&bad_text, usize::MAX).is_ok());
        assert_eq!(
            decode_all::<ViewWire<'_>>(&bad_text, usize::MAX).map(|_| ()),
            Err(DecodeError::Malformed)
        );
        assert!(decode_all::<ViewWire<'_>>(&cut_crab, usize::MAX).is_ok());
        assert_eq!(
            decode_all::<LoadWire<'_>>(&cut_crab, usize::MAX).map(|_| ()),
            Err(DecodeError::Malformed)
        );
        for bytes in [&bad_text, &cut_crab, &fine] {
            for cut in 0..=bytes.len() {
                all_agree(&bytes[..cut], &[0, 3, 10, 20]);
            }
        }
        let cases: &[&[u8]] = &[
            &[],
            &[0],
            &[0x80],
            &[0xff; 10],
            // An owner that overflows u64.
            &[
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0,
            ],
            // Replicas: a huge count, a count past the input, an overlong one.
            &[1, 0xff, 0xff, 0xff, 0xff, 0x0f, 1],
            &[1, 3, 1, 2],
            &[1, 0x81, 0x00, 5, 0, 0, 0, 0, 0],
            // Ids, text, content, order, log: each a length past the input in turn.
            &[1, 0, 0xff, 0xff, 0x03, 0],
            &[1, 0, 0, 9, b'a'],
            &[1, 0, 0, 0, 9, b'a'],
            &[1, 0, 0, 0, 0, 200, 1],
            &[1, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff],
            // Complete, and with a byte left over.
            &[1, 0, 0, 0, 0, 0, 0],
            &[1, 0, 0, 0, 0, 0, 0, 0],
            // Bad UTF-8 in the text, then in the content.
            &[1, 0, 0, 1, 0xc3, 0, 0, 0],
            &[1, 0, 0, 0, 2, 0xc3, 0x28, 0, 0],
        ];
        for bytes in cases {
            all_agree(bytes, &[0, 1, 8, 20, 100]);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn arbitrary_bytes_decode_the_same(bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
            all_agree(&bytes, &[0, 7, 30]);
        }

        #[test]
        fn codec_matches_serde_on_edited_texts(
            edits in proptest::collection::vec((0usize..2, any::<bool>(), any::<usize>(), "[a-zé🦀𝄞]{1,4}", proptest::bool::weighted(0.3)), 0..12),
        ) {
            let mut rs = [Text::new(ReplicaId(3)), Text::new(ReplicaId(300))];
            for (who, ins, pos, typed, sync) in edits {
                let t = &mut rs[who];
                if ins || t.is_empty() {
                    t.insert(pos % (t.len() + 1), &typed).unwrap();
                } else {
                    let at = pos % t.len();
                    t.delete(at..(at + typed.len()).min(t.len())).unwrap();
                }
                if sync {
                    let ops = rs[1 - who].ops_since(&rs[who].version());
                    rs[who].apply(&ops).unwrap();
                }
            }
            for t in &rs {
                prove(t);
            }
        }
    }
}
