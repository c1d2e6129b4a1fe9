//! The document's update log: every applied update, kept as its wire bytes.
//!
//! A document answers [`Doc::encode_updates_since`](super::Doc::encode_updates_since) and
//! [`Doc::save`](super::Doc::save) from its log, and compares a re-sent update with the one it
//! applied. All three need the update's canonical bytes, never its decoded form, so the log
//! keeps exactly those, back to back in one buffer: a keystroke's update takes its few dozen
//! encoded bytes instead of a tree of small allocations (version vector, operation list,
//! content), and sending or saving is copying.
//!
//! Invariant: entry `i` is the postcard encoding of the `i`th applied update, which
//! [`sync::encode_update_parts`](crate::sync::encode_update_parts) and
//! [`sync::encode_snapshot_parts`](crate::sync::encode_snapshot_parts) frame exactly as if the
//! updates themselves were serialized.

use alloc::vec::Vec;

use crate::sync::Update;

/// See the module docs.
#[derive(Default)]
pub(crate) struct UpdateLog {
    bytes: Vec<u8>,
    /// Per update: where its bytes end in `bytes`, and one past its author's last counter.
    entries: Vec<(usize, u64)>,
}

impl UpdateLog {
    /// Appends `u`'s bytes; returns their length.
    pub(crate) fn push(&mut self, u: &Update) -> usize {
        let start = self.bytes.len();
        // Serializing owned kernel values into a `Vec` cannot fail.
        self.bytes = postcard::to_extend(u, core::mem::take(&mut self.bytes)).unwrap_or_default();
        self.entries.push((self.bytes.len(), u.end()));
        self.bytes.len() - start
    }

    /// Forgets the last update (just pushed, then refused).
    pub(crate) fn pop(&mut self) {
        self.entries.pop();
        self.bytes.truncate(self.entries.last().map_or(0, |e| e.0));
    }

    /// How many updates are logged.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The bytes of update `i`.
    pub(crate) fn get(&self, i: usize) -> &[u8] {
        let start = i.checked_sub(1).map_or(0, |p| self.entries[p].0);
        &self.bytes[start..self.entries[i].0]
    }

    /// One past the last counter of update `i`'s author in it.
    pub(crate) fn end(&self, i: usize) -> u64 {
        self.entries[i].1
    }

    /// The bytes of every update, in the order applied.
    pub(crate) fn all(&self) -> &[u8] {
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use crate::clock::ReplicaId;
    use crate::doc::{ContainerId, ContainerKind, Doc, Value};
    use crate::sync::{self, Update};
    use crate::version::VersionVector;

    /// Messages framed from logged bytes are byte for byte the messages the decoded updates
    /// serialize to, for updates and for snapshots with buffered updates.
    #[test]
    fn framed_log_bytes_equal_serialized_updates() {
        let (t, m) = (
            ContainerId::root("t", ContainerKind::Text),
            ContainerId::root("m", ContainerKind::Map),
        );
        let (mut a, mut b, mut c) = (
            Doc::new(ReplicaId(1)),
            Doc::new(ReplicaId(2)),
            Doc::new(ReplicaId(3)),
        );
        for (i, d) in [&mut a, &mut b].into_iter().enumerate() {
            d.text_insert(t, 0, "héllo").unwrap();
            d.begin().unwrap();
            d.map_set(m, "k", Value::Int(i as i64)).unwrap();
            d.text_delete(t, 1..3).unwrap();
            d.commit().unwrap();
        }
        // `c` gets b's second update without its first: it stays buffered.
        let all = b.encode_updates_since(&VersionVector::new());
        let updates = sync::decode_updates(&all).unwrap();
        let late: Vec<&Update> = updates[1..].iter().collect();
        c.apply_update(&sync::encode_updates(&late)).unwrap();
        assert_eq!(c.pending_count(), 1);
        a.apply_update(&all).unwrap();

        let since = a.encode_updates_since(&VersionVector::new());
        let decoded = sync::decode_updates(&since).unwrap();
        assert_eq!(decoded.len(), 4);
        assert_eq!(
            sync::encode_updates(&decoded.iter().collect::<Vec<_>>()),
            since
        );
        for d in [&a, &c] {
            let saved = d.save().unwrap();
            let snapshot = sync::decode_snapshot(&saved).unwrap();
            let mut again = saved[..5].to_vec();
            again.extend(postcard::to_allocvec(&snapshot).unwrap());
            assert_eq!(again, saved);
        }
    }
}
