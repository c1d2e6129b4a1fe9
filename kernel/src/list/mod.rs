//! The sequence CRDT: collaborative [`Text`] and a generic [`List<T>`].
//!
//! Both are the same engine: a non-interleaving sequence CRDT (FugueMax, integrated the way
//! diamond-types' `YjsMod` does it) stored as run-length spans in an arena-backed
//! order-statistic B-tree. See `docs/architecture.md` for the algorithm, the data layout and
//! the sources credited.
//!
//! * Local edits take positions (Unicode scalar values for text, or UTF-16 units through the
//!   `_utf16` methods) and never panic on bad input: out-of-range positions are
//!   [`Error::OutOfBounds`].
//! * Replicas exchange [`SequenceOps`]: [`Text::ops_since`] a peer's
//!   [`version`](Text::version), then [`Text::apply`] on the peer. Applying is idempotent and
//!   accepts any order; operations whose dependencies are missing are reported in
//!   [`ApplyReport::missing`] and left for a later call. [`Text::ops_between`] sends only what
//!   brings the peer to a given version (for replaying a history at its recorded versions).
//! * [`Text::encode`] writes the compact full history; [`Text::decode`] restores a replica
//!   that can keep merging.
//! * [`Text::snapshot`] writes the replica's state as it is (document order, op log, content)
//!   beside the text as shown: [`Text::decode_snapshot`] checks every field and loads an
//!   editable replica without a replay; [`TextSnapshot`] reads only the shown text (and the
//!   version) and loads the replica when asked. [`Text::replays_to_same_order`] verifies the
//!   one thing a load trusts, the stored order of concurrent inserts.
//!
//! ```
//! use converge::ReplicaId;
//! use converge::list::Text;
//!
//! let mut alice = Text::new(ReplicaId(1));
//! let mut bob = Text::new(ReplicaId(2));
//! alice.insert(0, "hello")?;
//! bob.apply(&alice.ops_since(&bob.version()))?;
//! alice.insert(5, " world")?;
//! bob.insert(0, "oh, ")?;
//! let (a, b) = (alice.ops_since(&bob.version()), bob.ops_since(&alice.version()));
//! alice.apply(&b)?;
//! bob.apply(&a)?;
//! assert_eq!(alice.to_string(), "oh, hello world");
//! assert_eq!(bob.to_string(), alice.to_string());
//! # Ok::<(), converge::Error>(())
//! ```

mod batch;
mod content;
mod engine;
mod lz;
mod ops;
mod snapshot;
mod tree;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) use self::batch::Units;
use self::content::{COPY_BLOCK, Store, TextStore, VecStore};
pub(crate) use self::engine::Checkpoint;
use self::engine::Seq;
use self::ops::SequenceHistory;
use crate::clock::ReplicaId;
use crate::encoding::DecodeError;
use crate::error::{Error, Result};
use crate::value::Item;
use crate::version::VersionVector;

pub use self::ops::{ApplyReport, ContentLen, SequenceOp, SequenceOps, WireContent};
pub use self::snapshot::TextSnapshot;

fn check_range(r: &Range<usize>, len: usize) -> Result<()> {
    if r.start > r.end || r.end > len {
        return Err(Error::OutOfBounds {
            index: r.end.max(r.start),
            len,
        });
    }
    Ok(())
}

/// The versions between which `ops_between` finds exactly `author`'s events
/// `first .. first + len`.
fn author_range(author: ReplicaId, first: u64, len: u64) -> (VersionVector, VersionVector) {
    let mut since = VersionVector::new();
    since.advance(author, first.saturating_sub(1));
    let mut until = VersionVector::new();
    until.advance(author, (first + len).saturating_sub(1));
    (since, until)
}

impl<S: Store> Seq<S> {
    /// Calls `f(item number, count)` for the visible runs covering visible items `range`.
    fn visit(&self, range: Range<usize>, mut f: impl FnMut(u32, u32)) {
        if range.start >= range.end {
            return;
        }
        let Some(found) = self.tree().find_visible(range.start, self.store.widths()) else {
            return;
        };
        let mut remaining = range.end - range.start;
        let mut cur = Some(found.cur);
        while let (Some(c), true) = (cur, remaining > 0) {
            let s = self.tree().span(c);
            if !s.deleted() {
                let k = ((s.len() - c.off) as usize).min(remaining) as u32;
                f(s.lv + c.off, k);
                remaining -= k as usize;
            }
            cur = self.tree().normalize(tree::Cursor { off: s.len(), ..c });
        }
    }
}

/// Collaborative plain text. Positions count Unicode scalar values (`char`s) unless a method
/// says UTF-16.
#[derive(Clone)]
pub struct Text {
    seq: Seq<TextStore>,
}

impl Text {
    /// An empty text whose local edits are attributed to `replica`.
    pub fn new(replica: ReplicaId) -> Self {
        Text {
            seq: Seq::new(replica),
        }
    }

    /// The replica local edits are attributed to.
    pub fn replica(&self) -> ReplicaId {
        self.seq.replica()
    }

    /// Length in chars.
    pub fn len(&self) -> usize {
        self.seq.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Length in UTF-16 code units (kept in the tree; no scan).
    pub fn len_utf16(&self) -> usize {
        self.seq.width()
    }

    /// Inserts `s` before char `pos` (`pos == len()` appends).
    pub fn insert(&mut self, pos: usize, s: &str) -> Result<()> {
        self.insert_counted(pos, s, s.chars().count())
    }

    /// [`insert`](Self::insert) of `s` holding `chars` chars, counted by the caller.
    fn insert_counted(&mut self, pos: usize, s: &str, chars: usize) -> Result<()> {
        self.seq
            .insert_local(pos, chars, |st| st.push_str(s, chars))
    }

    /// Deletes the chars in `range`.
    pub fn delete(&mut self, range: Range<usize>) -> Result<()> {
        self.seq.delete_local(range.start, range.end)
    }

    /// Deletes `del` chars at `pos`, then inserts `s` there.
    pub fn splice(&mut self, pos: usize, del: usize, s: &str) -> Result<()> {
        self.splice_counted(pos, del, s, s.chars().count())
    }

    /// [`splice`](Self::splice) with the inserted chars counted by the caller (`chars` is
    /// `s.chars().count()`), for callers that need the count themselves.
    pub(crate) fn splice_counted(
        &mut self,
        pos: usize,
        del: usize,
        s: &str,
        chars: usize,
    ) -> Result<()> {
        let end = pos.checked_add(del).ok_or(Error::OutOfBounds {
            index: usize::MAX,
            len: self.len(),
        })?;
        check_range(&(pos..end), self.len())?;
        self.seq.delete_local(pos, end)?;
        self.insert_counted(pos, s, chars)
    }

    /// The chars in `range` as a `String`.
    pub fn slice(&self, range: Range<usize>) -> Result<String> {
        check_range(&range, self.len())?;
        let mut out = String::new();
        self.seq
            .visit(range, |ilv, k| out.push_str(self.seq.store.str(ilv, k)));
        Ok(out)
    }

    /// The char index at UTF-16 offset `pos16`. Errors if `pos16` is past the end
    /// ([`Error::OutOfBounds`]) or splits a surrogate pair ([`Error::InvalidOperation`]).
    #[inline(always)]
    pub fn utf16_to_char(&self, pos16: usize) -> Result<usize> {
        if self.seq.store.all_bmp() {
            // No surrogate pairs anywhere: the offset is the position (no tree descent).
            return match self.len() {
                len if pos16 > len => Err(Error::OutOfBounds { index: pos16, len }),
                _ => Ok(pos16),
            };
        }
        self.utf16_to_char_wide(pos16)
    }

    /// [`utf16_to_char`](Self::utf16_to_char) in a text holding chars outside the BMP: a
    /// descent by width.
    fn utf16_to_char_wide(&self, pos16: usize) -> Result<usize> {
        let w = self.len_utf16();
        if pos16 > w {
            return Err(Error::OutOfBounds {
                index: pos16,
                len: w,
            });
        }
        if pos16 == w {
            return Ok(self.len());
        }
        let f = self
            .seq
            .tree()
            .find_width(pos16, self.seq.store.widths())
            .ok_or(Error::InvalidOperation)?;
        let s = self.seq.tree().span(f.cur);
        let rem = pos16 - f.before.wide;
        let k = self
            .seq
            .store
            .widths()
            .items_in_width(s.lv, s.len(), rem)
            .ok_or(Error::InvalidOperation)?;
        Ok(f.before.vis + k as usize)
    }

    /// The UTF-16 offset of char index `pos`.
    pub fn char_to_utf16(&self, pos: usize) -> Result<usize> {
        let len = self.len();
        if pos > len {
            return Err(Error::OutOfBounds { index: pos, len });
        }
        if self.seq.store.all_bmp() {
            return Ok(pos);
        }
        if pos == len {
            return Ok(self.len_utf16());
        }
        let f = self
            .seq
            .tree()
            .find_visible(pos, self.seq.store.widths())
            .ok_or(Error::InvalidOperation)?;
        Ok(self.seq.tree().width_before(&f, self.seq.store.widths()))
    }

    /// [`insert`](Self::insert) at a UTF-16 offset.
    pub fn insert_utf16(&mut self, pos16: usize, s: &str) -> Result<()> {
        let pos = self.utf16_to_char(pos16)?;
        self.insert(pos, s)
    }

    /// [`delete`](Self::delete) of a UTF-16 range.
    pub fn delete_utf16(&mut self, range16: Range<usize>) -> Result<()> {
        if range16.start > range16.end {
            return Err(Error::OutOfBounds {
                index: range16.start,
                len: self.len_utf16(),
            });
        }
        let a = self.utf16_to_char(range16.start)?;
        let b = self.utf16_to_char(range16.end)?;
        self.delete(a..b)
    }

    /// Everything this replica has seen.
    pub fn version(&self) -> VersionVector {
        self.seq.version()
    }

    /// The operations this replica has and a replica at `since` lacks, in causal order.
    pub fn ops_since(&self, since: &VersionVector) -> SequenceOps<String> {
        self.seq.ops_between(since, None)
    }

    /// The operations this replica has that a replica at `since` lacks and `until` holds, in
    /// causal order: what brings a replica at `since` up to `until` (exactly `until` when
    /// `since` is within it and this replica has seen all of `until`; otherwise the other
    /// sources hold the rest). When `since` and `until` are versions replicas have had, the
    /// result applies to a replica at `since` with nothing missing.
    pub fn ops_between(&self, since: &VersionVector, until: &VersionVector) -> SequenceOps<String> {
        self.seq.ops_between(since, Some(until))
    }

    /// Applies remote operations (idempotent, any order). Operations whose dependencies are
    /// missing are skipped and listed in [`ApplyReport::missing`]; malformed ones, and ones
    /// that would exceed this replica's capacity (2³¹ − 1 items per run, 2³² − 2 events in
    /// all), are counted in [`ApplyReport::invalid`]. The `Result` is reserved for errors
    /// that stop the whole batch; none exist today.
    pub fn apply(&mut self, ops: &SequenceOps<String>) -> Result<ApplyReport> {
        self.seq.apply(ops, None)
    }

    /// Like [`apply`](Self::apply) but applies only events inside `target` (for replaying a
    /// history up to a given version); the rest is counted in
    /// [`ApplyReport::beyond_target`].
    pub fn apply_until(
        &mut self,
        ops: &SequenceOps<String>,
        target: &VersionVector,
    ) -> Result<ApplyReport> {
        self.seq.apply(ops, Some(target))
    }

    /// The compact full history (wire type `SequenceHistory`), from which
    /// [`decode`](Self::decode) rebuilds this replica.
    pub fn encode(&self) -> Vec<u8> {
        crate::encoding::encode_codec(&self.seq.history())
    }

    /// Rebuilds a text from [`encode`](Self::encode) output, keeping the encoder's replica id.
    /// Never panics; any malformed input is a [`DecodeError`].
    pub fn decode(bytes: &[u8]) -> core::result::Result<Text, DecodeError> {
        Self::decode_inner(bytes, None)
    }

    /// Like [`decode`](Self::decode) but future local edits are attributed to `replica`
    /// (use this when loading a document on another device).
    pub fn decode_as(bytes: &[u8], replica: ReplicaId) -> core::result::Result<Text, DecodeError> {
        Self::decode_inner(bytes, Some(replica))
    }

    fn decode_inner(
        bytes: &[u8],
        replica: Option<ReplicaId>,
    ) -> core::result::Result<Text, DecodeError> {
        let h: SequenceHistory = crate::encoding::decode_codec(bytes)?;
        Ok(Text {
            seq: Seq::from_history(&h, replica)?,
        })
    }

    /// Sizes of the internal structures, for profiling (format not stable).
    #[doc(hidden)]
    pub fn debug_stats(&self) -> String {
        self.seq.debug_stats()
    }

    /// Sizes of the sections of the encoded history, for profiling (format not stable).
    #[doc(hidden)]
    pub fn debug_history(&self) -> String {
        self.seq.debug_history()
    }

    /// Checks the internal invariants; panics with a description if one is broken. For tests
    /// and fuzzers.
    pub fn check_invariants(&self) {
        self.seq.check_invariants();
    }

    /// The current point of this replica's history, for [`rollback`](Self::rollback).
    pub(crate) fn checkpoint(&self) -> Checkpoint {
        self.seq.checkpoint()
    }

    /// The visible change since `cp` was taken from this replica, as `(start, removed,
    /// inserted)` positions (see the engine's `checkpoint` module).
    pub(crate) fn change_since(&mut self, cp: Checkpoint) -> Option<(usize, usize, usize)> {
        self.seq.change_since(cp)
    }

    /// The operations of `author`'s events `first .. first + len` (all known to this replica).
    pub(crate) fn ops_of(&self, author: ReplicaId, first: u64, len: u64) -> SequenceOps<String> {
        let (since, until) = author_range(author, first, len);
        self.ops_between(&since, &until)
    }

    /// The first event learnt since `cp` was taken from this replica and how many were
    /// learnt, if any.
    pub(crate) fn events_after(&self, cp: Checkpoint) -> Option<(crate::clock::Dot, u64)> {
        self.seq.events_after(cp)
    }

    /// Forgets every operation, local or remote, applied since `cp` was taken from this
    /// replica: the document's uncommitted transactions. Nothing learnt since may have been
    /// sent to another replica.
    pub(crate) fn rollback(&mut self, cp: Checkpoint) {
        self.seq.rollback(cp);
    }
}

impl Text {
    /// The text's UTF-8, rendered into one buffer allocated once at the right size.
    fn render(&self) -> Vec<u8> {
        let store = &self.seq.store;
        let mut out = Vec::with_capacity(store.bytes_bound(self.seq.len()) + COPY_BLOCK);
        let mut render = store.render(&mut out);
        self.seq
            .tree()
            .for_each_span(|s| render.span(s.lv, s.len(), !s.deleted()));
        out
    }

    /// The text as a `String` moved out of the rendering buffer (what `to_string` gives,
    /// without its copy through the formatter). Spans end on char boundaries, so the lossy
    /// branch is never taken.
    pub(crate) fn render_string(&self) -> String {
        String::from_utf8(self.render()).unwrap_or_else(|e| {
            debug_assert!(false, "a span split a char");
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        })
    }
}

impl fmt::Display for Text {
    /// Renders the text into one buffer and writes it once, so `to_string` allocates its
    /// `String` once at the right size instead of growing it span by span (and width and
    /// precision flags apply to the whole text).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(core::str::from_utf8(&self.render()).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Text")
            .field("replica", &self.replica())
            .field("text", &alloc::format!("{self}"))
            .finish()
    }
}

/// A collaborative list of `T`.
#[derive(Clone)]
pub struct List<T> {
    seq: Seq<VecStore<T>>,
}

impl<T: Clone> List<T> {
    /// An empty list whose local edits are attributed to `replica`.
    pub fn new(replica: ReplicaId) -> Self {
        List {
            seq: Seq::new(replica),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.seq.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Inserts `value` before index `pos`.
    pub fn insert(&mut self, pos: usize, value: T) -> Result<()> {
        self.seq.insert_local(pos, 1, |st| st.items.push(value))
    }

    /// Inserts `values` before index `pos`, as one run.
    pub fn insert_batch(&mut self, pos: usize, values: &[T]) -> Result<()> {
        self.seq.insert_local(pos, values.len(), |st| {
            content::reserve_frugal(&mut st.items, values.len());
            st.items.extend_from_slice(values)
        })
    }

    /// Deletes the elements in `range`.
    pub fn delete(&mut self, range: Range<usize>) -> Result<()> {
        self.seq.delete_local(range.start, range.end)
    }

    /// The element at `index`.
    pub fn get(&self, index: usize) -> Option<&T> {
        let f = self
            .seq
            .tree()
            .find_visible(index, self.seq.store.widths())?;
        let s = self.seq.tree().span(f.cur);
        self.seq.store.items.get((s.lv + f.cur.off) as usize)
    }

    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        let mut runs = Vec::new();
        self.seq.visit(0..self.len(), |ilv, k| runs.push((ilv, k)));
        runs.into_iter()
            .flat_map(move |(ilv, k)| self.seq.store.items[ilv as usize..(ilv + k) as usize].iter())
    }

    /// The elements as a `Vec`.
    pub fn to_vec(&self) -> Vec<T> {
        self.iter().cloned().collect()
    }

    /// Everything this replica has seen.
    pub fn version(&self) -> VersionVector {
        self.seq.version()
    }

    /// The operations this replica has and a replica at `since` lacks.
    pub fn ops_since(&self, since: &VersionVector) -> SequenceOps<Vec<T>> {
        self.seq.ops_between(since, None)
    }

    /// The operations this replica has inside `until` and not `since`; see
    /// [`Text::ops_between`].
    pub fn ops_between(&self, since: &VersionVector, until: &VersionVector) -> SequenceOps<Vec<T>> {
        self.seq.ops_between(since, Some(until))
    }

    /// Applies remote operations; see [`Text::apply`].
    pub fn apply(&mut self, ops: &SequenceOps<Vec<T>>) -> Result<ApplyReport> {
        self.seq.apply(ops, None)
    }

    /// Applies only the events inside `target`; see [`Text::apply_until`].
    pub fn apply_until(
        &mut self,
        ops: &SequenceOps<Vec<T>>,
        target: &VersionVector,
    ) -> Result<ApplyReport> {
        self.seq.apply(ops, Some(target))
    }

    /// Checks the internal invariants; panics with a description if one is broken.
    pub fn check_invariants(&self) {
        self.seq.check_invariants();
    }

    /// The current point of this replica's history, for [`rollback`](Self::rollback).
    pub(crate) fn checkpoint(&self) -> Checkpoint {
        self.seq.checkpoint()
    }

    /// The visible change since `cp` was taken from this replica, as `(start, removed,
    /// inserted)` positions (see the engine's `checkpoint` module).
    pub(crate) fn change_since(&mut self, cp: Checkpoint) -> Option<(usize, usize, usize)> {
        self.seq.change_since(cp)
    }

    /// The operations of `author`'s events `first .. first + len` (all known to this replica).
    pub(crate) fn ops_of(&self, author: ReplicaId, first: u64, len: u64) -> SequenceOps<Vec<T>> {
        let (since, until) = author_range(author, first, len);
        self.ops_between(&since, &until)
    }

    /// The first event learnt since `cp` was taken from this replica and how many were
    /// learnt, if any.
    pub(crate) fn events_after(&self, cp: Checkpoint) -> Option<(crate::clock::Dot, u64)> {
        self.seq.events_after(cp)
    }

    /// Forgets every operation, local or remote, applied since `cp` was taken from this
    /// replica: the document's uncommitted transactions. Nothing learnt since may have been
    /// sent to another replica.
    pub(crate) fn rollback(&mut self, cp: Checkpoint) {
        self.seq.rollback(cp);
    }
}

impl<T: Clone + Serialize + DeserializeOwned> List<T> {
    /// The compact full history; see [`Text::encode`].
    pub fn encode(&self) -> Vec<u8> {
        crate::encoding::encode(&self.seq.history())
    }

    /// Rebuilds a list from [`encode`](Self::encode) output; never panics.
    pub fn decode(bytes: &[u8]) -> core::result::Result<Self, DecodeError> {
        let h: SequenceHistory = crate::encoding::decode(bytes)?;
        Ok(List {
            seq: Seq::from_history(&h, None)?,
        })
    }

    /// Like [`decode`](Self::decode) but future local edits are attributed to `replica`.
    pub fn decode_as(bytes: &[u8], replica: ReplicaId) -> core::result::Result<Self, DecodeError> {
        let h: SequenceHistory = crate::encoding::decode(bytes)?;
        Ok(List {
            seq: Seq::from_history(&h, Some(replica))?,
        })
    }
}

impl List<Item> {
    /// [`encode`](Self::encode) through the hand-written codec (the same bytes): what the
    /// document saves, so that it compiles no serde code.
    pub(crate) fn encode_wire(&self) -> Vec<u8> {
        crate::encoding::encode_codec(&self.seq.history_packed(VecStore::pack_codec))
    }

    /// [`decode`](Self::decode) / [`decode_as`](Self::decode_as) through the hand-written
    /// codec: the same list or error.
    pub(crate) fn decode_wire(
        bytes: &[u8],
        replica: Option<ReplicaId>,
    ) -> core::result::Result<Self, DecodeError> {
        let h: SequenceHistory = crate::encoding::decode_codec(bytes)?;
        Ok(List {
            seq: Seq::from_history_unpacked(&h, replica, VecStore::unpack_codec)?,
        })
    }
}

impl<T: Clone + fmt::Debug> fmt::Debug for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
