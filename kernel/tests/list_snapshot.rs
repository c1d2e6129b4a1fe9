//! Text state snapshots (`Text::snapshot`, `Text::decode_snapshot`, `TextSnapshot`): the
//! layout is pinned, a loaded replica equals the original (same text, version, op log) and
//! keeps merging, inconsistent state is rejected, a forged order of concurrent inserts loads
//! but fails the replay check, and truncated or corrupted snapshots are errors or working
//! replicas — never a panic. The trace round trips live in `list_traces.rs`.

use converge::list::{Text, TextSnapshot};
use converge::{DecodeError, ReplicaId, TypeTag, WireType, decode, encode};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

/// The snapshot payload as `docs/wire-format.md` describes it, written independently of the
/// kernel's own type so the layout is pinned and snapshots can be forged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Layout {
    owner: ReplicaId,
    replicas: Vec<ReplicaId>,
    #[serde(with = "serde_bytes")]
    ids: Vec<u8>,
    text: String,
    content: String,
    #[serde(with = "serde_bytes")]
    order: Vec<u8>,
    #[serde(with = "serde_bytes")]
    log: Vec<u8>,
}

impl WireType for Layout {
    const TAG: TypeTag = TypeTag::TextSnapshot;
}

/// Postcard byte strings (a length varint, then the bytes), as the layout uses them.
mod serde_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        <&[u8]>::deserialize(d).map(<[u8]>::to_vec)
    }
}

fn varints(values: &[u64]) -> Vec<u8> {
    let mut out = Vec::new();
    for &v in values {
        let mut v = v;
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    out
}

/// A bit-packed column of at most one block (128 values): its byte length, the width byte,
/// then the values in `width` bits each, least significant bit first.
fn column(values: &[u64]) -> Vec<u8> {
    assert!(values.len() <= 128);
    let width = values
        .iter()
        .map(|v| 64 - v.leading_zeros())
        .max()
        .unwrap_or(0);
    let mut body = vec![width as u8];
    let mut bits: Vec<bool> = Vec::new();
    for &v in values {
        bits.extend((0..width).map(|i| v >> i & 1 == 1));
    }
    for byte in bits.chunks(8) {
        body.push(byte.iter().rev().fold(0, |b, &bit| b << 1 | u8::from(bit)));
    }
    if values.is_empty() {
        body.clear();
    }
    let mut out = varints(&[body.len() as u64]);
    out.extend(body);
    out
}

/// The order section: the span count, then the columns of `len << 1 | deleted` and of
/// zigzag start distances.
fn order(heads: &[u64], starts: &[u64]) -> Vec<u8> {
    let mut out = varints(&[heads.len() as u64]);
    out.extend(column(heads));
    out.extend(column(starts));
    out
}

/// A run of the op log.
#[derive(Clone, Copy)]
enum Run {
    /// An insert of this many items.
    Ins(u64),
    /// A delete of this many items, targets ascending.
    Del(u64),
    /// A delete of this many items, targets descending (backspacing).
    DelBack(u64),
}

/// The log section: the run count and the insert count (`lefts.len()`), the kinds bit set (one
/// bit per run, set for an insert), then the columns of insert lengths, of left and right
/// origin distances, of delete `len << 1 | descending`, and of zigzag delete target distances.
fn log(runs: &[Run], lefts: &[u64], rights: &[u64], targets: &[u64]) -> Vec<u8> {
    let mut out = varints(&[runs.len() as u64, lefts.len() as u64]);
    let mut kinds = vec![0u8; runs.len().div_ceil(8)];
    let (mut lens, mut dels) = (Vec::new(), Vec::new());
    for (i, run) in runs.iter().enumerate() {
        match *run {
            Run::Ins(n) => {
                kinds[i / 8] |= 1 << (i % 8);
                lens.push(n);
            }
            Run::Del(n) => dels.push(n << 1),
            Run::DelBack(n) => dels.push(n << 1 | 1),
        }
    }
    out.extend(kinds);
    for c in [&lens[..], lefts, rights, &dels, targets] {
        out.extend(column(c));
    }
    out
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
fn layout_is_pinned() {
    // Replica 1 types "abc", then deletes "b".
    let mut t = Text::new(ReplicaId(1));
    t.insert(0, "abc").unwrap();
    t.delete(1..2).unwrap();
    let bytes = t.snapshot();
    assert_eq!(&bytes[..5], b"CVG\x01\x22");
    let raw: Layout = decode(&bytes).unwrap();
    let want = Layout {
        owner: ReplicaId(1),
        replicas: vec![ReplicaId(1)],
        // One run of four events by replica index 0: `len * replicas + index`.
        ids: varints(&[4]),
        // The text as shown, then all inserted text in item order.
        text: "ac".into(),
        content: "abc".into(),
        // Three spans `a` (visible), `b` (deleted), `c` (visible): `len << 1 | deleted` is
        // 2, 3, 2 (two bits each: 0b10_11_10), every start right after the previous span
        // (zigzag 0: a block of width 0, no data bytes).
        order: vec![3, 2, 2, 0b10_11_10, 1, 0],
        // Two runs, one insert: kinds 0b01 (the first run inserts), the insert's length 3
        // (two bits), its origins none (width 0), the delete's `1 << 1 | 0` and its target
        // at zigzag distance +1 from 0 (two bits each).
        log: vec![2, 1, 0b01, 2, 2, 3, 1, 0, 1, 0, 2, 2, 2, 2, 2, 2],
    };
    assert_eq!(raw, want);
    assert_eq!(want.order, order(&[2, 3, 2], &[0, 0, 0]));
    assert_eq!(want.log, log(&[Run::Ins(3), Run::Del(1)], &[0], &[0], &[2]));
    assert_eq!(encode(&want), bytes);

    let raw: Layout = decode(&sample().snapshot()).unwrap();
    assert_eq!(raw.owner, ReplicaId(1));
    assert_eq!(raw.replicas, [ReplicaId(1), ReplicaId(2)]);
    assert_eq!(raw.text, "Héllo, dear wörld 😀");
    // All inserted text in item order, the deleted "h" included.
    assert_eq!(raw.content, "héllo wörld 😀, dearH");
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
    assert_eq!(view.clone().into_string(), t.to_string());

    let empty = TextSnapshot::decode(&Text::new(ReplicaId(9)).snapshot()).unwrap();
    assert!(empty.is_empty());
    assert_eq!((empty.len(), empty.len_utf16()), (0, 0));
    let back = empty.to_text().unwrap();
    assert_eq!(back.to_string(), "");
    assert_eq!(back.replica(), ReplicaId(9));
}

#[test]
fn decode_snapshot_restores_the_replica() {
    let t = sample();
    let bytes = t.snapshot();
    let back = Text::decode_snapshot(&bytes).unwrap();
    back.check_invariants();
    assert_eq!(back.to_string(), t.to_string());
    assert_eq!(back.version(), t.version());
    assert_eq!(back.replica(), t.replica());
    // Same op log: same history, same snapshot, same order on replay.
    assert_eq!(back.encode(), t.encode());
    assert_eq!(back.snapshot(), bytes);
    assert!(back.replays_to_same_order());
    let other = Text::decode_snapshot_as(&bytes, ReplicaId(77)).unwrap();
    assert_eq!(other.replica(), ReplicaId(77));
    assert_eq!(other.to_string(), t.to_string());
    let mut renamed = TextSnapshot::decode(&bytes)
        .unwrap()
        .to_text_as(ReplicaId(78))
        .unwrap();
    renamed.insert(0, "!").unwrap();
    let ops = renamed.ops_since(&t.version());
    assert_eq!(ops.ops[0].id().replica, ReplicaId(78));
}

/// Re-encodes `t`'s snapshot after `forge` changed its fields.
fn forged(t: &Text, forge: impl FnOnce(&mut Layout)) -> Vec<u8> {
    let mut raw: Layout = decode(&t.snapshot()).unwrap();
    forge(&mut raw);
    encode(&raw)
}

/// The snapshot of replica 1 typing "abc" then deleting "b" (see `layout_is_pinned`), with
/// its order and log sections replaced.
fn abc(order: Vec<u8>, log: Vec<u8>) -> Vec<u8> {
    let mut t = Text::new(ReplicaId(1));
    t.insert(0, "abc").unwrap();
    t.delete(1..2).unwrap();
    forged(&t, |l| {
        l.order = order;
        l.log = log;
    })
}

/// A log for [`log`]: runs, left and right origin distances, delete targets.
type LogCase = (
    &'static [Run],
    &'static [u64],
    &'static [u64],
    &'static [u64],
);

#[test]
fn inconsistent_state_is_rejected() {
    let good_order = || order(&[2, 3, 2], &[0, 0, 0]);
    let good_log = || log(&[Run::Ins(3), Run::Del(1)], &[0], &[0], &[2]);
    assert_eq!(
        Text::decode_snapshot(&abc(good_order(), good_log()))
            .unwrap()
            .to_string(),
        "ac"
    );
    let mut cut_order = good_order();
    cut_order.pop();
    let mut long_order = good_order();
    long_order.push(0);
    let mut rejected = vec![
        // Order: an item missing, an item twice, a span past the content, an empty span, a
        // tombstone that no delete made, a deleted item shown, a truncated section, bytes
        // after it, more spans than items.
        abc(order(&[2, 3], &[0, 0]), good_log()),
        abc(order(&[2, 3, 2, 2], &[0, 0, 0, 3]), good_log()),
        abc(order(&[2, 3, 4], &[0, 0, 0]), good_log()),
        abc(order(&[2, 0, 3, 2], &[0, 0, 0, 0]), good_log()),
        abc(order(&[3, 3, 2], &[0, 0, 0]), good_log()),
        abc(order(&[2, 2, 2], &[0, 0, 0]), good_log()),
        abc(cut_order, good_log()),
        abc(long_order, good_log()),
        abc(order(&[2; 4], &[0; 4]), good_log()),
    ];
    // Log: a delete before its target exists, a target past the content, a descending delete
    // reaching before the first item, an origin before the first item, more events than ids,
    // fewer, an empty insert, an empty delete (either way), an insert longer than the content,
    // more inserts than the insert count says; then a kinds bit past the last run.
    #[rustfmt::skip]
    let bad_logs: [LogCase; 11] = [
        (&[Run::Del(1), Run::Ins(3)], &[0], &[0], &[2]),
        (&[Run::Ins(3), Run::Del(1)], &[0], &[0], &[8]),
        (&[Run::Ins(3), Run::DelBack(3)], &[0], &[0], &[2]),
        (&[Run::Ins(3), Run::Del(1)], &[1], &[0], &[2]),
        (&[Run::Ins(3), Run::Del(1), Run::Del(1)], &[0], &[0], &[2, 0]),
        (&[Run::Ins(3)], &[0], &[0], &[]),
        (&[Run::Ins(3), Run::Ins(0), Run::Del(1)], &[0, 0], &[0, 0], &[2]),
        (&[Run::Ins(3), Run::Del(0), Run::Del(1)], &[0], &[0], &[2, 0]),
        // (An empty descending delete at target -1 once overflowed a `u32`: found by fuzzing.)
        (&[Run::Ins(3), Run::DelBack(0), Run::Del(1)], &[0], &[0], &[1, 4]),
        (&[Run::Ins(4)], &[0], &[0], &[]),
        (&[Run::Ins(2), Run::Ins(1)], &[0], &[0], &[0]),
    ];
    let logs = bad_logs.iter().map(|&(runs, l, o, t)| log(runs, l, o, t));
    rejected.extend(logs.map(|l| abc(good_order(), l)));
    rejected.push(abc(good_order(), {
        let mut l = good_log();
        l[2] |= 0b100;
        l
    }));
    for (i, bytes) in rejected.iter().enumerate() {
        assert!(Text::decode_snapshot(bytes).is_err(), "case {i} loaded");
        // The view shows the (intact) text; loading its replica finds the flaw.
        let view = TextSnapshot::decode(bytes).unwrap();
        assert_eq!(view.as_str(), "ac");
        assert!(view.to_text().is_err(), "case {i} loaded from the view");
    }

    let t = sample();
    for forge in [
        // Content one char short or long, ids for an unknown replica or for too few events,
        // a replica listed twice.
        (|l: &mut Layout| {
            l.content.pop();
        }) as fn(&mut Layout),
        |l| l.content.push('!'),
        |l| l.ids.push(0x05),
        |l| l.ids.truncate(l.ids.len() - 1),
        |l| l.replicas.push(ReplicaId(1)),
        |l| l.replicas.truncate(1),
    ] {
        let bytes = forged(&t, forge);
        assert!(Text::decode_snapshot(&bytes).is_err());
        assert!(
            TextSnapshot::decode(&bytes)
                .and_then(|v| v.to_text())
                .is_err()
        );
    }
}

#[test]
fn a_forged_concurrent_order_loads_but_fails_the_replay_check() {
    // Replicas 1 and 2 type "x" and "y" at the start of an empty text: FugueMax puts the
    // lower replica id first.
    let mut a = Text::new(ReplicaId(1));
    let mut b = Text::new(ReplicaId(2));
    a.insert(0, "x").unwrap();
    b.insert(0, "y").unwrap();
    a.apply(&b.ops_since(&a.version())).unwrap();
    assert_eq!(a.to_string(), "xy");
    assert!(a.replays_to_same_order());
    // Items 0 (x) and 1 (y) stored in the other order: structurally sound, so it loads (the
    // order of concurrent inserts is trusted), but a replay of its log disagrees.
    let bytes = forged(&a, |l| l.order = order(&[2, 2], &[2, 3]));
    let loaded = Text::decode_snapshot(&bytes).unwrap();
    loaded.check_invariants();
    assert_eq!(loaded.to_string(), "yx");
    assert!(!loaded.replays_to_same_order());
    // Its history replays to the FugueMax order.
    assert_eq!(Text::decode(&loaded.encode()).unwrap().to_string(), "xy");
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
    // The first byte of the shown text, then of the content, made a lone continuation
    // byte: each reader rejects the part it reads.
    let mut small = Text::new(ReplicaId(1));
    small.insert(0, "abc").unwrap();
    let good = small.snapshot();
    let at: Vec<usize> = (good.windows(4).enumerate())
        .filter(|(_, w)| w == b"\x03abc")
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(at.len(), 2, "text, then content");
    let mut bytes = good.clone();
    bytes[at[0]] = 0x80;
    assert!(TextSnapshot::decode(&bytes).is_err());
    assert_eq!(Text::decode_snapshot(&bytes).unwrap().to_string(), "abc");
    let mut bytes = good;
    bytes[at[1]] = 0x80;
    let view = TextSnapshot::decode(&bytes).unwrap();
    assert!(view.to_text().is_err());
    assert!(Text::decode_snapshot(&bytes).is_err());
}

#[test]
fn a_forged_shown_text_is_an_error_when_the_replica_is_loaded() {
    let t = sample();
    for text in ["Héllo, dear wörld 😁", "Héllo, dear wörld", ""] {
        let bytes = forged(&t, |l| l.text = text.into());
        let view = TextSnapshot::decode(&bytes).unwrap();
        assert_eq!(view.as_str(), text);
        assert!(matches!(view.to_text(), Err(DecodeError::Invalid(_))));
        // The replica's own load does not read the shown text.
        assert_eq!(
            Text::decode_snapshot(&bytes).unwrap().to_string(),
            t.to_string()
        );
    }
    let view = TextSnapshot::decode(&t.snapshot()).unwrap();
    assert_eq!(view.to_text().unwrap().to_string(), t.to_string());
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
            view.to_text_as(ReplicaId(30)).unwrap()
        } else {
            view.to_text().unwrap()
        };
        loaded.check_invariants();
        prop_assert!(loaded.replays_to_same_order());
        if !rename {
            prop_assert_eq!(loaded.encode(), a.encode());
        }
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

    /// Arbitrary bytes, bare or behind a valid snapshot header: an error or a replica that
    /// keeps its invariants and can edit, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut framed = b"CVG\x01\x22".to_vec();
        framed.push(bytes.len().min(127) as u8);
        framed.extend_from_slice(&bytes[..bytes.len().min(127)]);
        for input in [&bytes, &framed] {
            if let Ok(mut t) = Text::decode_snapshot(input) {
                t.check_invariants();
                let _ = t.replays_to_same_order();
                t.insert(t.len() / 2, "q").unwrap();
                t.check_invariants();
            }
            if let Ok(view) = TextSnapshot::decode(input) {
                prop_assert_eq!(view.len(), view.as_str().chars().count());
                if let Ok(t) = view.to_text() {
                    prop_assert_eq!(t.to_string(), view.as_str());
                }
            }
        }
    }

    /// A real snapshot with one byte changed, or cut short: an error, or a replica that keeps
    /// its invariants, edits and merges with the original — never a panic.
    #[test]
    fn corrupted_snapshots_never_panic(
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
        prop_assert!(Text::decode_snapshot(&bytes[..cut]).is_err());
        prop_assert!(TextSnapshot::decode(&bytes[..cut]).is_err());
        let i = at % bytes.len();
        bytes[i] = val;
        if let Ok(mut back) = Text::decode_snapshot_as(&bytes, ReplicaId(6)) {
            back.check_invariants();
            apply_edit(&mut back, &edits[0]);
            let mut orig = t.clone();
            let _ = orig.apply(&back.ops_since(&orig.version()));
            let _ = back.apply(&t.ops_since(&back.version()));
            back.check_invariants();
            orig.check_invariants();
        }
        if let Ok(view) = TextSnapshot::decode(&bytes) {
            if let Ok(back) = view.to_text() {
                back.check_invariants();
                prop_assert_eq!(back.to_string(), view.as_str());
            }
        }
    }
}
