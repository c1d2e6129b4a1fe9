//! Text state snapshots (`Text::snapshot`, `TextSnapshot`): the read-only view equals the
//! text, an editable replica loaded from a snapshot keeps merging, and truncated, corrupted or
//! forged snapshots are errors — never a panic, never an editable replica that disagrees with
//! the view. The trace round trips live in `list_traces.rs`.

use converge::list::{Text, TextSnapshot};
use converge::{DecodeError, ReplicaId, TypeTag, VersionVector, WireType, decode, encode};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

/// The snapshot payload as `docs/wire-format.md` describes it, written independently of the
/// kernel's own type so the layout is pinned and snapshots can be forged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Layout {
    text: String,
    version: VersionVector,
    history: Vec<u8>,
}

impl WireType for Layout {
    const TAG: TypeTag = TypeTag::TextSnapshot;
}

fn sample() -> Text {
    let mut a = Text::new(ReplicaId(1));
    let mut b = Text::new(ReplicaId(2));
    a.insert(0, "héllo wörld 😀").unwrap();
    b.apply(&a.ops_since(&b.version())).unwrap();
    a.delete(0..1).unwrap();
    b.insert(5, ", dear").unwrap();
    a.apply(&b.ops_since(&a.version())).unwrap();
    a.insert(0, "H").unwrap();
    a
}

#[test]
fn layout_is_text_version_then_history_message() {
    let t = sample();
    let bytes = t.snapshot();
    assert_eq!(&bytes[..5], b"CVG\x01\x22");
    let raw: Layout = decode(&bytes).unwrap();
    assert_eq!(raw.text, t.to_string());
    assert_eq!(raw.version, t.version());
    assert_eq!(raw.history, t.encode());
}

#[test]
fn view_matches_text() {
    let t = sample();
    let view = TextSnapshot::decode(&t.snapshot()).unwrap();
    assert_eq!(view.as_str(), t.to_string());
    assert_eq!(view.len(), t.len());
    assert_eq!(view.len_utf16(), t.len_utf16());
    assert_eq!(view.is_empty(), t.is_empty());
    assert_eq!(view.version(), &t.version());
    assert_eq!(view.history(), t.encode());
    assert_eq!(view.clone().into_string(), t.to_string());

    let empty = TextSnapshot::decode(&Text::new(ReplicaId(9)).snapshot()).unwrap();
    assert!(empty.is_empty());
    assert_eq!((empty.len(), empty.len_utf16()), (0, 0));
    let back = empty.into_text().unwrap();
    assert_eq!(back.to_string(), "");
    assert_eq!(back.replica(), ReplicaId(9));
}

#[test]
fn into_text_restores_an_editable_replica() {
    let t = sample();
    let bytes = t.snapshot();
    let back = Text::decode_snapshot(&bytes).unwrap();
    back.check_invariants();
    assert_eq!(back.to_string(), t.to_string());
    assert_eq!(back.version(), t.version());
    assert_eq!(back.replica(), t.replica());
    let other = Text::decode_snapshot_as(&bytes, ReplicaId(77)).unwrap();
    assert_eq!(other.replica(), ReplicaId(77));
    assert_eq!(other.to_string(), t.to_string());
}

/// Re-encodes `t`'s snapshot after `forge` changed its fields.
fn forged(t: &Text, forge: impl FnOnce(&mut Layout)) -> Vec<u8> {
    let mut raw: Layout = decode(&t.snapshot()).unwrap();
    forge(&mut raw);
    encode(&raw)
}

#[test]
fn forged_text_is_rejected_by_into_text() {
    let t = sample();
    for forge in [
        (|l: &mut Layout| l.text = l.text.replace('w', "W")) as fn(&mut Layout),
        |l| l.text.push('!'),
        |l| {
            l.text.pop();
        },
        |l| l.text.clear(),
        // Same chars, one more UTF-16 unit: still a different text.
        |l| l.text = l.text.replace('H', "😀"),
    ] {
        let bytes = forged(&t, forge);
        // The view only says what the snapshot states; the cheap checks pass.
        let view = TextSnapshot::decode(&bytes).unwrap();
        assert_ne!(view.as_str(), t.to_string());
        assert_eq!(view.len_utf16(), view.as_str().encode_utf16().count());
        assert!(matches!(view.into_text(), Err(DecodeError::Invalid(_))));
        assert!(matches!(
            Text::decode_snapshot(&bytes),
            Err(DecodeError::Invalid(_))
        ));
    }
}

#[test]
fn forged_version_is_rejected_by_into_text() {
    let t = sample();
    for forge in [
        (|l: &mut Layout| l.version.advance(ReplicaId(1), 1_000)) as fn(&mut Layout),
        |l| l.version.advance(ReplicaId(3), 1),
        |l| l.version = VersionVector::new(),
        |l| l.version = l.version.iter().take(1).collect(),
    ] {
        let bytes = forged(&t, forge);
        let view = TextSnapshot::decode(&bytes).unwrap();
        assert_ne!(view.version(), &t.version());
        assert!(matches!(
            view.into_text_as(ReplicaId(5)),
            Err(DecodeError::Invalid(_))
        ));
    }
}

#[test]
fn bad_history_sections_are_errors() {
    let t = sample();
    // Not a history message at all, the wrong tag, a truncated one: caught by the cheap checks.
    let other_tag = encode(&t.version());
    for history in [Vec::new(), b"CVG".to_vec(), other_tag] {
        let bytes = forged(&t, |l| l.history = history.clone());
        assert!(TextSnapshot::decode(&bytes).is_err());
    }
    let hist = t.encode();
    let bytes = forged(&t, |l| l.history = hist[..hist.len() - 1].to_vec());
    assert!(TextSnapshot::decode(&bytes).is_err());
    // A well-framed history of another document: caught by `into_text`.
    let mut unrelated = Text::new(ReplicaId(1));
    unrelated.insert(0, "something else").unwrap();
    let bytes = forged(&t, |l| l.history = unrelated.encode());
    let view = TextSnapshot::decode(&bytes).unwrap();
    assert_eq!(view.as_str(), t.to_string());
    assert!(view.into_text().is_err());
    // A well-framed but garbled history payload.
    let mut garbled = t.encode();
    let n = garbled.len();
    garbled[n - 3] ^= 0xff;
    let bytes = forged(&t, |l| l.history = garbled.clone());
    if let Ok(back) = Text::decode_snapshot(&bytes) {
        assert_eq!(back.to_string(), t.to_string());
    }
}

#[test]
fn other_messages_and_invalid_utf8_are_errors() {
    let t = sample();
    assert!(matches!(
        TextSnapshot::decode(&t.encode()),
        Err(DecodeError::WrongType { .. })
    ));
    assert!(matches!(
        Text::decode(&t.snapshot()),
        Err(DecodeError::WrongType { .. })
    ));
    // The text's first byte (after the envelope and the payload's and the text's one-byte
    // length varints) made a lone continuation byte.
    let mut small = Text::new(ReplicaId(1));
    small.insert(0, "abc").unwrap();
    let mut bytes = small.snapshot();
    assert_eq!(&bytes[6..10], b"\x03abc");
    bytes[7] = 0x80;
    assert!(TextSnapshot::decode(&bytes).is_err());
}

/// A local edit with positions reduced modulo the current length, so every action is valid.
#[derive(Clone, Debug)]
enum Edit {
    Insert(usize, String),
    Delete(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), "[a-c\u{e9}\u{1F600}]{1,6}").prop_map(|(p, s)| Edit::Insert(p, s)),
        2 => (any::<usize>(), 1usize..5).prop_map(|(p, n)| Edit::Delete(p, n)),
    ]
}

fn apply_edit(t: &mut Text, e: &Edit) {
    match e {
        Edit::Insert(pos, s) => t.insert(pos % (t.len() + 1), s).unwrap(),
        Edit::Delete(pos, n) => {
            if !t.is_empty() {
                let pos = pos % t.len();
                t.delete(pos..(pos + n).min(t.len())).unwrap();
            }
        }
    }
}

fn sync(a: &mut Text, b: &mut Text) {
    let (to_b, to_a) = (a.ops_since(&b.version()), b.ops_since(&a.version()));
    assert!(b.apply(&to_b).unwrap().is_complete());
    assert!(a.apply(&to_a).unwrap().is_complete());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Two replicas edit concurrently with occasional syncs; one is replaced by the editable
    /// replica loaded from its snapshot (under its own or a new replica id). The view equals
    /// the text, and the loaded replica keeps merging: after more concurrent edits and a sync
    /// both replicas agree, exactly as when the original had been kept.
    #[test]
    fn snapshot_replicas_keep_merging(
        before in proptest::collection::vec((any::<bool>(), edit()), 0..40),
        after in proptest::collection::vec((any::<bool>(), edit()), 1..30),
        sync_every in 1usize..6,
        rename in any::<bool>(),
    ) {
        let mut a = Text::new(ReplicaId(10));
        let mut b = Text::new(ReplicaId(20));
        for (k, (on_a, e)) in before.iter().enumerate() {
            apply_edit(if *on_a { &mut a } else { &mut b }, e);
            if k % sync_every == 0 {
                sync(&mut a, &mut b);
            }
        }
        let bytes = a.snapshot();
        let view = TextSnapshot::decode(&bytes).unwrap();
        prop_assert_eq!(view.as_str(), a.to_string());
        prop_assert_eq!(view.len(), a.len());
        prop_assert_eq!(view.len_utf16(), a.len_utf16());
        prop_assert_eq!(view.version(), &a.version());
        let mut loaded = if rename {
            view.into_text_as(ReplicaId(30)).unwrap()
        } else {
            view.into_text().unwrap()
        };
        loaded.check_invariants();
        prop_assert_eq!(loaded.to_string(), a.to_string());
        let (mut a2, mut b2) = (b.clone(), b);
        for (on_a, e) in &after {
            if *on_a {
                apply_edit(&mut a, e);
                apply_edit(&mut loaded, e);
            } else {
                apply_edit(&mut a2, e);
                apply_edit(&mut b2, e);
            }
        }
        sync(&mut a, &mut a2);
        sync(&mut loaded, &mut b2);
        loaded.check_invariants();
        prop_assert_eq!(a.to_string(), a2.to_string());
        prop_assert_eq!(loaded.to_string(), b2.to_string());
        // Under its own id the loaded replica is the original: same final text.
        if !rename {
            prop_assert_eq!(loaded.to_string(), a.to_string());
            prop_assert_eq!(loaded.version(), a.version());
        }
    }

    /// Arbitrary bytes, bare or behind a valid snapshot header: an error or a snapshot whose
    /// editable replica matches its view, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut framed = b"CVG\x01\x22".to_vec();
        framed.push(bytes.len().min(127) as u8);
        framed.extend_from_slice(&bytes[..bytes.len().min(127)]);
        for input in [&bytes, &framed] {
            if let Ok(view) = TextSnapshot::decode(input) {
                prop_assert_eq!(view.len(), view.as_str().chars().count());
                let (text, version) = (view.as_str().to_owned(), view.version().clone());
                if let Ok(t) = view.into_text() {
                    t.check_invariants();
                    prop_assert_eq!(t.to_string(), text);
                    prop_assert_eq!(t.version(), version);
                }
            }
            let _ = Text::decode_snapshot(input);
        }
    }

    /// A real snapshot with one byte changed, or cut short: an error, or an editable replica
    /// that equals the (possibly changed) view — never one that disagrees with it.
    #[test]
    fn corrupted_snapshots_never_disagree(
        edits in proptest::collection::vec(edit(), 1..30),
        at in any::<usize>(),
        val in any::<u8>(),
    ) {
        let mut t = Text::new(ReplicaId(5));
        for e in &edits {
            apply_edit(&mut t, e);
        }
        let mut bytes = t.snapshot();
        let cut = at % bytes.len();
        prop_assert!(TextSnapshot::decode(&bytes[..cut]).is_err());
        let i = at % bytes.len();
        let changed = bytes[i] != val;
        bytes[i] = val;
        if let Ok(view) = TextSnapshot::decode(&bytes) {
            let (text, version) = (view.as_str().to_owned(), view.version().clone());
            match view.into_text() {
                Ok(back) => {
                    back.check_invariants();
                    prop_assert_eq!(back.to_string(), text);
                    prop_assert_eq!(back.version(), version);
                }
                // A change to the text or version alone is always caught.
                Err(_) => prop_assert!(changed),
            }
        }
    }
}
