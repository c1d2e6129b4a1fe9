//! The wire format: golden fixtures, round trips, and decoding of hostile input.
//!
//! Golden files live in `kernel/tests/fixtures/<name>.hex` (hex bytes, whitespace ignored).
//! A format change makes `golden_*` fail; if the change is deliberate, regenerate them with
//! `CONVERGE_BLESS=1 cargo test -p converge --test integration wire::golden` and review the
//! diff (and bump `FORMAT_VERSION` if old bytes no longer decode the same way).

use std::fmt::Debug;
use std::path::PathBuf;

use converge::encoding::{
    EncodeError, FORMAT_VERSION, MAGIC, decode_with_budget, encode_to_slice, encoded_len,
    try_encode,
};
use converge::fixed::{BoundedVersionVector, FixedGCounter, FixedLwwRegister, FixedPNCounter};
use converge::{
    AwSet, AwSetDelta, Crdt, DecodeError, GCounter, LwwMap, LwwRegister, MvRegister, OrMap,
    OrMapDelta, PNCounter, ReplicaId, Timestamp, TypeTag, VersionVector, WireType, decode, encode,
};
use converge_pool::Budget;
use proptest::prelude::*;
use serde::{Deserialize, Serialize, Serializer};

// ---------------------------------------------------------------------------------------------
// Samples and strategies, one per wire type.

fn vv(pairs: &[(u64, u64)]) -> VersionVector {
    pairs.iter().map(|&(r, c)| (ReplicaId(r), c)).collect()
}

fn sample_gcounter() -> FixedGCounter<4> {
    let mut c = FixedGCounter::new();
    c.inc(ReplicaId(1), 3).unwrap();
    c.inc(ReplicaId(2), 200).unwrap();
    c
}

fn sample_pncounter() -> FixedPNCounter<4> {
    let mut c = FixedPNCounter::new();
    c.inc(ReplicaId(1), 5).unwrap();
    c.dec(ReplicaId(2), 7).unwrap();
    c
}

fn sample_register() -> FixedLwwRegister<u32> {
    let mut r = FixedLwwRegister::new(0);
    r.set(ReplicaId(7), 42).unwrap();
    r
}

fn sample_register_str() -> FixedLwwRegister<heapless::String<8>> {
    let mut r = FixedLwwRegister::new(heapless::String::new());
    r.set_at(
        Timestamp::new(300, ReplicaId(1)),
        heapless::String::try_from("hi").unwrap(),
    );
    r
}

fn sample_bvv() -> BoundedVersionVector<4> {
    let mut v = BoundedVersionVector::new();
    v.advance(ReplicaId(1), 5).unwrap();
    v.advance(ReplicaId(2), 3).unwrap();
    v
}

fn replica() -> impl Strategy<Value = ReplicaId> {
    prop_oneof![4 => 0u64..8, 1 => any::<u64>()].prop_map(ReplicaId)
}

fn counter() -> impl Strategy<Value = u64> {
    prop_oneof![4 => 0u64..300, 1 => any::<u64>()]
}

fn version_vector() -> impl Strategy<Value = VersionVector> {
    prop::collection::vec((replica(), counter()), 0..40).prop_map(|p| p.into_iter().collect())
}

fn gcounter() -> impl Strategy<Value = FixedGCounter<8>> {
    prop::collection::vec((replica(), counter()), 0..12).prop_map(|ops| {
        let mut c = FixedGCounter::new();
        for (r, by) in ops {
            let _ = c.inc(r, by);
        }
        c
    })
}

fn pncounter() -> impl Strategy<Value = FixedPNCounter<8>> {
    (gcounter(), gcounter()).prop_map(|(p, n)| {
        let mut c = FixedPNCounter::new();
        for (r, by) in p.iter() {
            c.inc(r, by).unwrap();
        }
        for (r, by) in n.iter() {
            c.dec(r, by).unwrap();
        }
        c
    })
}

fn register() -> impl Strategy<Value = FixedLwwRegister<i64>> {
    (any::<i64>(), counter(), replica())
        .prop_map(|(v, l, r)| FixedLwwRegister::with_stamp(v, Timestamp::new(l, r)))
}

fn bvv() -> impl Strategy<Value = BoundedVersionVector<8>> {
    prop::collection::vec((replica(), counter()), 0..12).prop_map(|ops| {
        let mut v = BoundedVersionVector::new();
        for (r, c) in ops {
            let _ = v.advance(r, c);
        }
        v
    })
}

// The heap-backed state CRDTs: deterministic samples built through their public operations.

const R1: ReplicaId = ReplicaId(1);
const R2: ReplicaId = ReplicaId(2);

fn sample_g() -> GCounter {
    let mut c = GCounter::new();
    c.inc(R1, 3);
    c.inc(R2, 200);
    c
}

fn sample_pn() -> PNCounter {
    let mut c = PNCounter::new();
    c.inc(R1, 5);
    c.dec(R2, 7);
    c
}

fn sample_lww() -> LwwRegister<String> {
    let mut r = LwwRegister::new();
    r.set(ReplicaId(7), "hi".to_string());
    r
}

/// Two concurrent writes, both kept.
fn sample_mv() -> MvRegister<String> {
    let mut a = MvRegister::new();
    let mut b = MvRegister::new();
    a.set(R1, "a".to_string());
    b.set(R2, "b".to_string());
    a.merge(&b);
    a
}

/// "milk" added by two replicas (two dots), "eggs" by one.
fn sample_aw() -> AwSet<String> {
    let mut x = AwSet::new();
    x.insert(R1, "eggs".to_string());
    x.insert(R1, "milk".to_string());
    let mut y = AwSet::new();
    y.insert(R2, "milk".to_string());
    x.merge(&y);
    x
}

/// A set that has seen replica 2's second event but not its first: a gap in the context.
fn sample_aw_gap() -> AwSet<String> {
    let mut y = AwSet::new();
    y.insert(R2, "x".to_string());
    let second = y.insert(R2, "y".to_string());
    let mut x = AwSet::new();
    x.merge_delta(&second);
    x
}

fn sample_aw_delta() -> AwSetDelta<String> {
    let mut x = sample_aw();
    x.remove(&"eggs".to_string())
}

/// A live key and a tombstone.
fn sample_lww_map() -> LwwMap<String, u32> {
    let mut m = LwwMap::new();
    m.insert(R1, "a".to_string(), 1);
    m.insert(R1, "b".to_string(), 2);
    m.remove(R2, &"a".to_string());
    m
}

fn sample_or_map() -> OrMap<String, PNCounter> {
    let mut x: OrMap<String, PNCounter> = OrMap::new();
    let mut y: OrMap<String, PNCounter> = OrMap::new();
    x.update(R1, "likes".to_string(), |c| c.clone().inc(R1, 2));
    let dy = y.update(R2, "likes".to_string(), |c| c.clone().dec(R2, 1));
    x.merge_delta(&dy);
    x
}

fn sample_or_map_delta() -> OrMapDelta<String, PNCounter> {
    let mut x: OrMap<String, PNCounter> = OrMap::new();
    x.update(R1, "likes".to_string(), |c| c.clone().inc(R1, 2))
}

/// One step of a three-replica run: a local operation, a delta delivered (in any order, so
/// contexts get gaps), or a full-state sync.
#[derive(Clone, Debug)]
enum Step {
    Local(usize, u8),
    Deliver(usize, usize),
    Sync(usize, usize),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            4 => (0usize..3, any::<u8>()).prop_map(|(r, a)| Step::Local(r, a)),
            2 => (0usize..3, any::<usize>()).prop_map(|(r, k)| Step::Deliver(r, k)),
            1 => (0usize..3, 0usize..3).prop_map(|(a, b)| Step::Sync(a, b)),
        ],
        0..14,
    )
}

/// Runs `steps`, applying `local(state, replica, arg)` for local operations; returns replica
/// 0's state and every delta produced.
fn run<C: Crdt>(
    steps: &[Step],
    local: impl Fn(&mut C, ReplicaId, u8) -> C::Delta,
) -> (C, Vec<C::Delta>) {
    let mut reps: Vec<C> = vec![C::default(); 3];
    let mut deltas = Vec::new();
    for step in steps {
        match *step {
            Step::Local(r, a) => deltas.push(local(&mut reps[r], ReplicaId(r as u64 + 1), a)),
            Step::Deliver(r, k) => {
                if !deltas.is_empty() {
                    let d = deltas[k % deltas.len()].clone();
                    reps[r].merge_delta(&d);
                }
            }
            Step::Sync(a, b) => {
                let other = reps[b].clone();
                reps[a].merge(&other);
            }
        }
    }
    (reps.swap_remove(0), deltas)
}

/// Replica 0's final state.
fn state_of<C: Crdt + Debug>(
    local: fn(&mut C, ReplicaId, u8) -> C::Delta,
) -> impl Strategy<Value = C> {
    steps().prop_map(move |s| run(&s, local).0)
}

/// The last delta produced (or the empty one).
fn delta_of<C: Crdt + Debug>(
    local: fn(&mut C, ReplicaId, u8) -> C::Delta,
) -> impl Strategy<Value = C::Delta>
where
    C::Delta: Default + Debug,
{
    steps().prop_map(move |s| run(&s, local).1.pop().unwrap_or_default())
}

fn op_g(c: &mut GCounter, r: ReplicaId, a: u8) -> GCounter {
    c.inc(r, u64::from(a) * 1000)
}

fn op_pn(c: &mut PNCounter, r: ReplicaId, a: u8) -> PNCounter {
    if a % 2 == 0 {
        c.inc(r, u64::from(a))
    } else {
        c.dec(r, u64::from(a))
    }
}

fn op_lww(c: &mut LwwRegister<String>, r: ReplicaId, a: u8) -> LwwRegister<String> {
    c.set(r, "v".repeat(usize::from(a % 4)))
}

fn op_mv(c: &mut MvRegister<u16>, r: ReplicaId, a: u8) -> MvRegister<u16> {
    if a % 7 == 0 {
        c.clear()
    } else {
        c.set(r, u16::from(a) * 250)
    }
}

fn op_aw(s: &mut AwSet<u8>, r: ReplicaId, a: u8) -> AwSetDelta<u8> {
    match a % 8 {
        0 => s.clear(),
        1..=3 => s.remove(&(a >> 5)),
        _ => s.insert(r, a >> 5),
    }
}

fn op_lww_map(m: &mut LwwMap<u8, String>, r: ReplicaId, a: u8) -> LwwMap<u8, String> {
    if a % 3 == 0 {
        m.remove(r, &(a >> 5))
    } else {
        m.insert(r, a >> 5, format!("{a}"))
    }
}

fn op_or_map(m: &mut OrMap<u8, PNCounter>, r: ReplicaId, a: u8) -> OrMapDelta<u8, PNCounter> {
    if a % 4 == 0 {
        m.remove(&(a >> 5))
    } else {
        m.update(r, a >> 5, |c| c.clone().inc(r, u64::from(a)))
    }
}

// ---------------------------------------------------------------------------------------------
// Golden fixtures.

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.hex"))
}

fn to_hex(bytes: &[u8]) -> String {
    let mut s: String = bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    s.push('\n');
    s
}

fn from_hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len() % 2 == 0, "odd number of hex digits");
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).expect("hex digit"))
        .collect()
}

/// `encode(sample) == fixture` and `decode(fixture) == sample`, through every encoder.
fn golden<T: WireType + PartialEq + Debug>(name: &str, sample: &T) {
    let bytes = encode(sample);
    let path = fixture_path(name);
    if std::env::var_os("CONVERGE_BLESS").is_some() {
        std::fs::write(&path, to_hex(&bytes)).unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with CONVERGE_BLESS=1 to create it",
            path.display()
        )
    });
    let fixture = from_hex(&text);
    assert_eq!(
        to_hex(&bytes),
        to_hex(&fixture),
        "{name}: encoding changed (CONVERGE_BLESS=1 to accept)"
    );
    let decoded = decode::<T>(&fixture);
    assert_eq!(decoded.as_ref(), Ok(sample), "{name}: decode");
    let mut buf = vec![0u8; fixture.len()];
    assert_eq!(encode_to_slice(sample, &mut buf), Ok(fixture.len()));
    assert_eq!(
        buf, fixture,
        "{name}: encode_to_slice disagrees with encode"
    );
    assert_eq!(encoded_len(sample), Ok(fixture.len()));
}

#[test]
fn golden_version_vector() {
    golden("version_vector", &vv(&[(1, 5), (2, 3), (300, 1)]));
    golden("version_vector_empty", &VersionVector::new());
}

#[test]
fn golden_fixed() {
    golden("fixed_gcounter", &sample_gcounter());
    golden("fixed_pncounter", &sample_pncounter());
    golden("fixed_lww_register_u32", &sample_register());
    golden("fixed_lww_register_str", &sample_register_str());
    golden("fixed_version_vector", &sample_bvv());
}

#[test]
fn golden_state_crdts() {
    golden("g_counter", &sample_g());
    golden("pn_counter", &sample_pn());
    golden("lww_register", &sample_lww());
    golden("lww_register_empty", &LwwRegister::<String>::new());
    golden("mv_register", &sample_mv());
    golden("aw_set", &sample_aw());
    golden("aw_set_gap", &sample_aw_gap());
    golden("aw_set_delta", &sample_aw_delta());
    golden("lww_map", &sample_lww_map());
    golden("or_map", &sample_or_map());
    golden("or_map_delta", &sample_or_map_delta());
}

/// The worked examples in `docs/wire-format.md` are the fixtures: each heading that names
/// `.hex` files (before its first colon) is followed by a text block with one line of hex per
/// named file.
#[test]
fn spec_examples_match_fixtures() {
    let spec_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/wire-format.md");
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    let mut lines = spec.lines();
    let mut checked = 0;
    while let Some(line) = lines.next() {
        if !line.starts_with("### ") {
            continue;
        }
        // Names come before the first "`:"; the description after it may mention others.
        let names: Vec<&str> = line
            .split("`:")
            .next()
            .unwrap()
            .split('`')
            .filter(|part| part.ends_with(".hex"))
            .map(|part| part.trim_end_matches(".hex"))
            .collect();
        if names.is_empty() {
            continue;
        }
        let block: Vec<&str> = lines
            .by_ref()
            .skip_while(|l| !l.starts_with("```text"))
            .skip(1)
            .take_while(|l| !l.starts_with("```"))
            .collect();
        assert_eq!(block.len(), names.len(), "example block for {names:?}");
        for (name, hex) in names.iter().zip(block) {
            let fixture = std::fs::read_to_string(fixture_path(name)).unwrap();
            assert_eq!(from_hex(hex), from_hex(&fixture), "spec example {name}");
            checked += 1;
        }
    }
    let fixtures = std::fs::read_dir(fixture_path("x").parent().unwrap())
        .unwrap()
        .count();
    assert_eq!(checked, fixtures, "every fixture has a worked example");
}

#[test]
fn fixed_and_heap_counters_share_a_payload() {
    // Same state, same payload bytes; only the tag (byte 4) differs.
    let heap = encode(&sample_g());
    let fixed = encode(&sample_gcounter());
    assert_eq!(heap[5..], fixed[5..]);
    assert_eq!(
        (heap[4], fixed[4]),
        (TypeTag::GCounter.as_u8(), TypeTag::FixedGCounter.as_u8())
    );
    assert_eq!(encode(&sample_pn())[5..], encode(&sample_pncounter())[5..]);
}

#[test]
fn tags_are_pinned() {
    // These numbers are on the wire: changing one is a format break.
    let expected: [(TypeTag, u8); 17] = [
        (TypeTag::VersionVector, 1),
        (TypeTag::GCounter, 2),
        (TypeTag::PNCounter, 3),
        (TypeTag::LwwRegister, 4),
        (TypeTag::MvRegister, 5),
        (TypeTag::AwSet, 6),
        (TypeTag::AwSetDelta, 7),
        (TypeTag::LwwMap, 8),
        (TypeTag::OrMap, 9),
        (TypeTag::OrMapDelta, 10),
        (TypeTag::FixedGCounter, 16),
        (TypeTag::FixedPNCounter, 17),
        (TypeTag::FixedLwwRegister, 18),
        (TypeTag::FixedVersionVector, 19),
        (TypeTag::SequenceHistory, 32),
        (TypeTag::SequenceOps, 33),
        (TypeTag::TextSnapshot, 34),
    ];
    for (tag, raw) in expected {
        assert_eq!(tag.as_u8(), raw);
        assert_eq!(TypeTag::from_u8(raw), Some(tag));
    }
    assert_eq!(TypeTag::ALL.len(), expected.len());
    for raw in 0..=u8::MAX {
        if !expected.iter().any(|&(_, r)| r == raw) {
            assert_eq!(TypeTag::from_u8(raw), None);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Round trips and hostile input, for every type.

/// Every check that must hold for one valid value of `T`.
fn round_trip<T: WireType + PartialEq + Debug>(value: &T) -> Result<(), TestCaseError> {
    let bytes = encode(value);
    let decoded = decode::<T>(&bytes);
    prop_assert_eq!(decoded.as_ref(), Ok(value));
    prop_assert_eq!(try_encode(value), Ok(bytes.clone()));
    prop_assert_eq!(encoded_len(value), Ok(bytes.len()));
    // Every strict prefix is an error (and never a panic).
    for cut in 0..bytes.len() {
        prop_assert!(
            decode::<T>(&bytes[..cut]).is_err(),
            "prefix of {} bytes decoded",
            cut
        );
    }
    // Any extra byte is reported.
    let mut longer = bytes.clone();
    longer.push(0);
    prop_assert_eq!(
        decode::<T>(&longer),
        Err(DecodeError::TrailingBytes { count: 1 })
    );
    // Too-small buffers are errors that say how much is needed.
    let mut buf = vec![0u8; bytes.len()];
    for size in 0..bytes.len() {
        prop_assert_eq!(
            encode_to_slice(value, &mut buf[..size]),
            Err(EncodeError::BufferTooSmall {
                needed: bytes.len(),
                available: size
            })
        );
    }
    Ok(())
}

/// Decoding any bytes gives an error or a value that re-encodes to a message which decodes to
/// the same value (so every accepted input is a real value, not garbage that happened to parse).
fn hostile<T: WireType + PartialEq + Debug>(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(v) = decode::<T>(bytes) {
        prop_assert_eq!(decode::<T>(&encode(&v)), Ok(v));
    }
    Ok(())
}

/// `decode_with_budget` gives `decode`'s answer or `BudgetExceeded`; it charges nothing on
/// error and never more than the limit on success.
fn budgeted<T: WireType + PartialEq + Debug>(
    bytes: &[u8],
    limit: usize,
) -> Result<(), TestCaseError> {
    let mut budget = Budget::new(limit);
    let plain = decode::<T>(bytes);
    match decode_with_budget::<T>(bytes, &mut budget) {
        Ok(v) => {
            prop_assert_eq!(plain, Ok(v));
            prop_assert!(budget.used() <= limit);
        }
        Err(DecodeError::BudgetExceeded) => prop_assert_eq!(budget.used(), 0),
        Err(e) => {
            prop_assert_eq!(plain, Err(e));
            prop_assert_eq!(budget.used(), 0);
        }
    }
    Ok(())
}

/// Wraps an arbitrary payload in a valid envelope for `T`, so the payload decoder (not just the
/// envelope check) sees hostile input.
fn enveloped<T: WireType>(payload: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.push(FORMAT_VERSION);
    out.push(T::TAG.as_u8());
    let mut len = payload.len();
    while len >= 0x80 {
        out.push((len as u8) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(payload);
    out
}

/// Flips each bit of a valid encoding in turn; decoding must never panic, and whatever it
/// accepts must be a valid value.
fn bit_flips<T: WireType + PartialEq + Debug>(value: &T) -> Result<(), TestCaseError> {
    let bytes = encode(value);
    for i in 0..bytes.len() * 8 {
        let mut b = bytes.clone();
        b[i / 8] ^= 1 << (i % 8);
        hostile::<T>(&b)?;
    }
    Ok(())
}

macro_rules! wire_props {
    ($($name:ident: $ty:ty = $strategy:expr;)*) => {$(
        mod $name {
            use super::*;
            proptest! {
                #[test]
                fn round_trips(v in $strategy) {
                    round_trip::<$ty>(&v)?;
                }

                #[test]
                fn bit_flips_never_panic(v in $strategy) {
                    bit_flips::<$ty>(&v)?;
                }

                #[test]
                fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..64)) {
                    hostile::<$ty>(&b)?;
                }

                #[test]
                fn arbitrary_payloads_never_panic(p in prop::collection::vec(any::<u8>(), 0..64)) {
                    hostile::<$ty>(&enveloped::<$ty>(&p))?;
                }

                #[test]
                fn budgeted_decode_agrees_with_decode(
                    p in prop::collection::vec(any::<u8>(), 0..64),
                    limit in 0usize..4096,
                ) {
                    budgeted::<$ty>(&enveloped::<$ty>(&p), limit)?;
                }

                #[test]
                fn budgeted_decode_of_valid_values(v in $strategy, limit in 0usize..4096) {
                    budgeted::<$ty>(&encode(&v), limit)?;
                }
            }
        }
    )*};
}

wire_props! {
    version_vector: VersionVector = version_vector();
    fixed_gcounter: FixedGCounter<8> = gcounter();
    fixed_pncounter: FixedPNCounter<8> = pncounter();
    fixed_lww_register: FixedLwwRegister<i64> = register();
    fixed_version_vector: BoundedVersionVector<8> = bvv();
    g_counter: GCounter = state_of(op_g);
    pn_counter: PNCounter = state_of(op_pn);
    lww_register: LwwRegister<String> = state_of(op_lww);
    mv_register: MvRegister<u16> = state_of(op_mv);
    aw_set: AwSet<u8> = state_of(op_aw);
    aw_set_delta: AwSetDelta<u8> = delta_of::<AwSet<u8>>(op_aw);
    lww_map: LwwMap<u8, String> = state_of(op_lww_map);
    or_map: OrMap<u8, PNCounter> = state_of(op_or_map);
    or_map_delta: OrMapDelta<u8, PNCounter> = delta_of::<OrMap<u8, PNCounter>>(op_or_map);
}

// ---------------------------------------------------------------------------------------------
// Each error path, by name.

#[test]
fn error_unexpected_end() {
    for input in [&b""[..], b"C", b"CV", b"CVG", b"CVG\x01", b"CVG\x01\x01"] {
        assert_eq!(
            decode::<VersionVector>(input),
            Err(DecodeError::UnexpectedEnd),
            "{input:?}"
        );
    }
    // The length varint itself cut short.
    assert_eq!(
        decode::<VersionVector>(b"CVG\x01\x01\x80"),
        Err(DecodeError::UnexpectedEnd)
    );
    // The envelope is whole but the payload's own length prefix promises more elements than
    // there are: postcard runs out of input.
    assert_eq!(
        decode::<VersionVector>(&enveloped::<VersionVector>(&[2, 1, 1])),
        Err(DecodeError::UnexpectedEnd)
    );
}

#[test]
fn error_bad_magic() {
    for input in [
        &b"X"[..],
        b"CVX\x01\x01\x00",
        b"cvg\x01\x01\x00",
        b"\x00\x00\x00",
    ] {
        assert_eq!(
            decode::<VersionVector>(input),
            Err(DecodeError::BadMagic),
            "{input:?}"
        );
    }
}

#[test]
fn error_unknown_version() {
    for v in [0u8, 2, 255] {
        let input = [b'C', b'V', b'G', v, 1, 0];
        assert_eq!(
            decode::<VersionVector>(&input),
            Err(DecodeError::UnknownVersion { found: v })
        );
    }
}

#[test]
fn error_wrong_type() {
    let bytes = encode(&sample_gcounter());
    assert_eq!(
        decode::<BoundedVersionVector<4>>(&bytes),
        Err(DecodeError::WrongType {
            expected: TypeTag::FixedVersionVector,
            found: TypeTag::FixedGCounter.as_u8(),
        })
    );
    // Same payload layout, different tag: the tag alone keeps them apart.
    assert_eq!(
        decode::<VersionVector>(&encode(&sample_bvv())),
        Err(DecodeError::WrongType {
            expected: TypeTag::VersionVector,
            found: TypeTag::FixedVersionVector.as_u8(),
        })
    );
}

#[test]
fn error_length_too_large() {
    // A length of u32::MAX in front of 2 bytes.
    let input = b"CVG\x01\x01\xff\xff\xff\xff\x0f\x00\x00";
    assert_eq!(
        decode::<VersionVector>(input),
        Err(DecodeError::LengthTooLarge {
            declared: u64::from(u32::MAX),
            remaining: 2
        })
    );
    // Through the budgeted decoder too (an inline type reserves nothing, so the envelope
    // error is what shows).
    let mut none = Budget::new(0);
    let input = b"CVG\x01\x10\xff\xff\xff\xff\x0f\x00";
    assert_eq!(
        decode_with_budget::<FixedGCounter<4>>(input, &mut none),
        Err(DecodeError::LengthTooLarge {
            declared: u64::from(u32::MAX),
            remaining: 1
        })
    );
}

#[test]
fn huge_length_prefix_inside_payload_is_an_error() {
    // A sequence length of u32::MAX with one byte behind it, for every sequence-shaped type.
    // postcard withholds the size hint when the length exceeds the input, and the kernel's
    // impls cap preallocation anyway, so this fails after reading 1 byte, allocating nothing
    // proportional to the claim (a 4-billion-entry preallocation would abort the test run).
    let payload = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x01];
    assert_eq!(
        decode::<VersionVector>(&enveloped::<VersionVector>(&payload)),
        Err(DecodeError::UnexpectedEnd)
    );
    // The fixed types reject the claimed length against their capacity.
    assert!(matches!(
        decode::<FixedGCounter<4>>(&enveloped::<FixedGCounter<4>>(&payload)),
        Err(DecodeError::UnexpectedEnd | DecodeError::Invalid(_))
    ));
    // A string length of u32::MAX in a register.
    let mut reg = vec![1, 1]; // timestamp (1, r1)
    reg.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f, b'h']);
    assert_eq!(
        decode::<FixedLwwRegister<heapless::String<8>>>(&enveloped::<
            FixedLwwRegister<heapless::String<8>>,
        >(&reg)),
        Err(DecodeError::UnexpectedEnd)
    );
}

/// The documented charge per container element of `size` bytes (see `decode_with_budget`).
fn element_cost(size: usize) -> usize {
    size * 5 / 2 + 2
}

#[test]
fn error_budget_exceeded() {
    let value = vv(&[(1, 5), (2, 3)]);
    let bytes = encode(&value);
    // Two 16-byte entries, both announced by the length prefix.
    let expected = 2 * element_cost(16);
    let mut roomy = Budget::new(10_000);
    assert_eq!(
        decode_with_budget::<VersionVector>(&bytes, &mut roomy),
        Ok(value.clone())
    );
    assert_eq!(roomy.used(), expected);
    // One byte less is refused, and nothing stays charged.
    let mut tight = Budget::new(expected - 1);
    assert_eq!(
        decode_with_budget::<VersionVector>(&bytes, &mut tight),
        Err(DecodeError::BudgetExceeded)
    );
    assert_eq!(tight.used(), 0);
    // Any other failure leaves the budget unchanged too.
    let mut roomy = Budget::new(10_000);
    assert!(decode_with_budget::<VersionVector>(&bytes[..bytes.len() - 1], &mut roomy).is_err());
    assert_eq!(roomy.used(), 0);
    // The meter cannot tell a heapless vector from a heap one, so a fixed counter is charged
    // like a VersionVector (an over-estimate); a value with no container is charged nothing.
    let mut b = Budget::new(10_000);
    assert_eq!(
        decode_with_budget::<FixedGCounter<4>>(&encode(&sample_gcounter()), &mut b),
        Ok(sample_gcounter())
    );
    assert_eq!(b.used(), expected);
    let mut none = Budget::new(0);
    assert_eq!(
        decode_with_budget::<FixedLwwRegister<u32>>(&encode(&sample_register()), &mut none),
        Ok(sample_register())
    );
}

/// An application payload type: strings inside a vector, so both kinds of charge show.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Notes(Vec<String>);

impl WireType for Notes {
    const TAG: TypeTag = TypeTag::SequenceOps;
}

#[test]
fn budget_charges_elements_and_string_bytes() {
    let notes = Notes(vec!["hello".into(), "world!".into(), String::new()]);
    let bytes = encode(&notes);
    let expected = 3 * element_cost(std::mem::size_of::<String>()) + 5 + 6;
    let mut b = Budget::new(expected);
    assert_eq!(decode_with_budget::<Notes>(&bytes, &mut b), Ok(notes));
    assert_eq!(b.used(), expected);
    let mut b = Budget::new(expected - 1);
    assert_eq!(
        decode_with_budget::<Notes>(&bytes, &mut b),
        Err(DecodeError::BudgetExceeded)
    );
}

use std::sync::atomic::{AtomicUsize, Ordering};

/// Records the largest size hint its visitor is given, then reads nothing. Stands in for any
/// `Deserialize` impl that preallocates what a length prefix claims.
#[derive(Debug, PartialEq, Serialize)]
struct HintProbe;

static SEEN_HINT: AtomicUsize = AtomicUsize::new(0);

impl<'de> Deserialize<'de> for HintProbe {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = HintProbe;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<HintProbe, A::Error> {
                SEEN_HINT.fetch_max(m.size_hint().unwrap_or(0), Ordering::SeqCst);
                Ok(HintProbe)
            }
        }
        d.deserialize_map(V)
    }
}

/// The probe behind an option and inside a tuple, to check the metering reaches nested values.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Probed(u8, Option<HintProbe>);

impl WireType for Probed {
    const TAG: TypeTag = TypeTag::SequenceHistory;
}

#[test]
fn map_length_prefix_cannot_buy_preallocation() {
    // postcard hands a map's declared length to the impl unchecked (unlike a sequence's);
    // serde's HashMap would preallocate up to 1 MiB from it, hashbrown's up to 4096 entries.
    // Through converge's decoder the hint never exceeds the input left.
    let payload = [7, 1, 0xff, 0xff, 0xff, 0xff, 0x0f];
    SEEN_HINT.store(0, Ordering::SeqCst);
    let got = decode::<Probed>(&enveloped::<Probed>(&payload));
    assert_eq!(got, Ok(Probed(7, Some(HintProbe))));
    assert_eq!(SEEN_HINT.load(Ordering::SeqCst), 0, "hint not clamped");
    // Plain postcard, for contrast, passes the claim through.
    let _: (Probed, _) = postcard::take_from_bytes(&payload).unwrap();
    assert_eq!(SEEN_HINT.load(Ordering::SeqCst), u32::MAX as usize);
}

#[test]
fn map_preallocation_is_charged_against_the_budget() {
    // A real hash map whose prefix claims 1000 entries but whose input holds 3: the clamped
    // hint (bytes left) is charged up front, so a small budget stops it.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Table(std::collections::HashMap<u64, u64>);
    impl WireType for Table {
        const TAG: TypeTag = TypeTag::LwwMap;
    }
    let mut payload = vec![0xe8, 0x07]; // 1000
    payload.extend_from_slice(&[1, 1, 2, 2, 3, 3]);
    let bytes = enveloped::<Table>(&payload);
    assert_eq!(decode::<Table>(&bytes), Err(DecodeError::UnexpectedEnd));
    let mut b = Budget::new(100);
    assert_eq!(
        decode_with_budget::<Table>(&bytes, &mut b),
        Err(DecodeError::BudgetExceeded)
    );
    assert_eq!(b.used(), 0);
    // An honest table decodes and is charged per key and value.
    let table = Table([(1, 10), (2, 20)].into_iter().collect());
    let mut b = Budget::new(10_000);
    assert_eq!(
        decode_with_budget::<Table>(&encode(&table), &mut b),
        Ok(table)
    );
    assert_eq!(b.used(), 4 * element_cost(8));
}

#[test]
fn error_invalid() {
    let cases: [(&str, &[u8]); 3] = [
        ("unsorted", &[2, 2, 1, 1, 1]),
        ("duplicate replica", &[2, 1, 1, 1, 2]),
        ("zero counter", &[1, 1, 0]),
    ];
    for (why, payload) in cases {
        assert!(
            matches!(
                decode::<VersionVector>(&enveloped::<VersionVector>(payload)),
                Err(DecodeError::Invalid(_))
            ),
            "VersionVector: {why}"
        );
        assert!(
            matches!(
                decode::<BoundedVersionVector<4>>(&enveloped::<BoundedVersionVector<4>>(payload)),
                Err(DecodeError::Invalid(_))
            ),
            "BoundedVersionVector: {why}"
        );
        assert!(
            matches!(
                decode::<FixedGCounter<4>>(&enveloped::<FixedGCounter<4>>(payload)),
                Err(DecodeError::Invalid(_))
            ),
            "FixedGCounter: {why}"
        );
    }
    // A string longer than the register's inline capacity.
    type Short = FixedLwwRegister<heapless::String<8>>;
    let mut payload = vec![1, 1, 11];
    payload.extend_from_slice(b"hello world");
    assert!(matches!(
        decode::<Short>(&enveloped::<Short>(&payload)),
        Err(DecodeError::Invalid(_))
    ));
    // Three entries do not fit a capacity of 2.
    let three = encode(&vv(&[(1, 1), (2, 1), (3, 1)]));
    let payload = &three[6..];
    assert!(matches!(
        decode::<BoundedVersionVector<2>>(&enveloped::<BoundedVersionVector<2>>(payload)),
        Err(DecodeError::Invalid(_))
    ));
    assert_eq!(
        decode::<BoundedVersionVector<3>>(&enveloped::<BoundedVersionVector<3>>(payload))
            .map(|v| v.len()),
        Ok(3)
    );
}

#[test]
fn error_malformed() {
    // Overlong envelope length (0 written in two bytes).
    assert_eq!(
        decode::<VersionVector>(b"CVG\x01\x01\x80\x00"),
        Err(DecodeError::Malformed)
    );
    // Envelope length above u32::MAX.
    assert_eq!(
        decode::<VersionVector>(b"CVG\x01\x01\xff\xff\xff\xff\x1f"),
        Err(DecodeError::Malformed)
    );
    // A payload varint longer than any u64.
    let payload = [
        1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ];
    assert_eq!(
        decode::<VersionVector>(&enveloped::<VersionVector>(&payload)),
        Err(DecodeError::Malformed)
    );
    // Not a bool.
    assert_eq!(
        decode::<FixedLwwRegister<bool>>(&enveloped::<FixedLwwRegister<bool>>(&[1, 1, 2])),
        Err(DecodeError::Malformed)
    );
    // Not UTF-8.
    assert_eq!(
        decode::<FixedLwwRegister<heapless::String<8>>>(&enveloped::<
            FixedLwwRegister<heapless::String<8>>,
        >(&[1, 1, 1, 0xff])),
        Err(DecodeError::Malformed)
    );
}

#[test]
fn error_trailing_bytes() {
    let mut bytes = encode(&sample_bvv());
    bytes.extend_from_slice(&[0, 0, 0]);
    assert_eq!(
        decode::<BoundedVersionVector<4>>(&bytes),
        Err(DecodeError::TrailingBytes { count: 3 })
    );
    // Inside the envelope: a payload that holds a whole value and then one more byte.
    let mut payload = encode(&sample_bvv())[6..].to_vec();
    payload.push(9);
    assert_eq!(
        decode::<BoundedVersionVector<4>>(&enveloped::<BoundedVersionVector<4>>(&payload)),
        Err(DecodeError::TrailingBytes { count: 1 })
    );
}

/// A value whose `Serialize` impl postcard cannot write (a sequence of unknown length).
#[derive(Debug, PartialEq, Deserialize)]
struct Unwritable;

impl Serialize for Unwritable {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(std::iter::from_fn(|| None::<u8>).filter(|_| true))
    }
}

impl WireType for Unwritable {
    const TAG: TypeTag = TypeTag::SequenceOps;
}

#[test]
fn encode_errors_are_values_not_panics() {
    let mut buf = [0u8; 64];
    assert_eq!(
        encode_to_slice(&Unwritable, &mut buf),
        Err(EncodeError::Unserializable)
    );
    assert_eq!(try_encode(&Unwritable), Err(EncodeError::Unserializable));
    assert_eq!(encoded_len(&Unwritable), Err(EncodeError::Unserializable));
}

#[test]
fn envelope_length_varint_boundaries() {
    // Payload lengths that need 1, 2 and 3 varint bytes encode and decode, and the length
    // field has the documented size.
    for entries in [1u64, 60, 63, 64, 6000] {
        let v: VersionVector = (1..=entries).map(|r| (ReplicaId(r), 1)).collect();
        let bytes = encode(&v);
        let payload = postcard::to_allocvec(&v).unwrap().len();
        let field = match payload {
            0..128 => 1,
            128..16384 => 2,
            _ => 3,
        };
        assert_eq!(bytes.len(), 5 + field + payload, "{entries} entries");
        assert_eq!(decode::<VersionVector>(&bytes), Ok(v));
    }
}

/// `SequenceOps` is a one-pass type (`WireType::ONE_PASS`): `encode` writes it in a single
/// serialization and moves the payload under the header. Its bytes must equal the two-pass
/// path (`encode_to_slice`) at every length-field width: payloads under 128 bytes, under
/// 16 KiB, and over.
#[test]
fn one_pass_encoding_matches_the_two_pass_bytes() {
    use converge::list::Text;
    for chars in [0usize, 3, 100, 200, 5_000, 40_000] {
        let mut t = Text::new(ReplicaId(7));
        let s: String = (0..chars)
            .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
            .collect();
        t.insert(0, &s).unwrap();
        if chars > 10 {
            t.delete(2..chars / 2).unwrap();
        }
        let ops = t.ops_since(&VersionVector::new());
        let one = converge::encode(&ops);
        let mut buf = vec![0u8; one.len() + 16];
        let n = converge::encode_to_slice(&ops, &mut buf).unwrap();
        assert_eq!(one, &buf[..n], "{chars} chars");
        let back: converge::list::SequenceOps<String> = converge::decode(&one).unwrap();
        assert_eq!(back, ops);
    }
}
