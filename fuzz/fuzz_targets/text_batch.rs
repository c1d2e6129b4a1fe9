//! A batch of text splices against the same splices one at a time. Random splices (mostly in
//! range, at most one out of range, which ends the list) go through one `text_splice_batch`
//! call, one `text_splice_batch_utf16` call (the same splices in UTF-16 units) and one
//! `text_splice` each inside a transaction. All three succeed with the same text, update,
//! history and change event, or all three fail (the first two with the same error) and leave
//! the document as it was.
#![no_main]

use arbitrary::Arbitrary;
use converge::doc::{ContainerId, ContainerKind, Doc};
use converge::{ReplicaId, VersionVector};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    start: String,
    patches: Vec<(u16, u8, String)>,
}

fn units(chars: &[char]) -> usize {
    chars.iter().map(|c| c.len_utf16()).sum()
}

fuzz_target!(|input: Input| {
    let t = ContainerId::root("text", ContainerKind::Text);
    let start: String = input.start.chars().take(32).collect();
    let mut text: Vec<char> = start.chars().collect();
    let (mut patches, mut patches16) = (Vec::new(), Vec::new());
    let mut valid = true;
    for (pos, del, s) in input.patches.into_iter().take(64) {
        let s: String = s.chars().take(8).collect();
        let len = text.len();
        // `len + 1` is out of range.
        let (pos, del) = (pos as usize % (len + 2), (del % 4) as usize);
        if pos + del <= len {
            patches16.push((units(&text[..pos]), units(&text[pos..pos + del]), s.clone()));
            text.splice(pos..pos + del, s.chars());
        } else {
            patches16.push((units(&text) + 1, del, s.clone()));
            valid = false;
        }
        patches.push((pos, del, s));
        if !valid {
            break;
        }
    }
    let make = || {
        let mut d = Doc::new(ReplicaId(1));
        d.text_insert(t, 0, &start).unwrap();
        d.queue_events(true);
        d
    };
    let (mut one, mut batch, mut batch16) = (make(), make(), make());
    let before = one.save_history().unwrap();
    one.begin().unwrap();
    let r1 = patches
        .iter()
        .try_for_each(|(p, d, s)| one.text_splice(t, *p, *d, s));
    if r1.is_ok() {
        one.commit().unwrap();
    } else {
        one.rollback();
    }
    let r2 = batch.text_splice_batch(t, patches.iter().map(|(p, d, s)| (*p, *d, s.as_str())));
    let r3 =
        batch16.text_splice_batch_utf16(t, patches16.iter().map(|(p, d, s)| (*p, *d, s.as_str())));
    assert_eq!(r1, r2);
    assert_eq!(r1.is_ok(), valid);
    assert_eq!(r3.is_ok(), valid);
    let empty = VersionVector::new();
    let (history, update) = (
        one.save_history().unwrap(),
        one.encode_updates_since(&empty),
    );
    let events = one.take_events();
    for d in [&mut batch, &mut batch16] {
        assert_eq!(d.text(t).unwrap(), one.text(t).unwrap());
        assert_eq!(d.save_history().unwrap(), history);
        assert_eq!(d.encode_updates_since(&empty), update);
        assert_eq!(d.take_events(), events);
    }
    if valid {
        assert_eq!(one.text(t).unwrap(), text.iter().collect::<String>());
    } else {
        assert_eq!(history, before);
        assert!(events.is_empty());
    }
});
