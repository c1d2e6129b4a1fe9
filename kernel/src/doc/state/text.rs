//! Text containers: a string edited by char position (or UTF-16 offset), on the sequence
//! engine ([`Text`]); see `sequence` for what texts share with lists.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use core::ops::Range;

use super::sequence::{Span, check_authors, check_report, compose_range, rejected};
use super::{Stamp, State, StateWire};
use crate::clock::ReplicaId;
use crate::doc::event::Changed;
use crate::doc::{ContainerId, ContainerKind, Doc, Node, Result, check_kind};
use crate::list::{SequenceOps, Text, TextSnapshot, Units};

pub(super) fn apply(t: &mut Text, at: Stamp, ops: &SequenceOps) -> Result<()> {
    check_authors(ops.ops.iter().map(|o| o.id()), at.dot.replica)?;
    let report = t.apply(ops).map_err(|_| rejected())?;
    check_report(&report)
}

/// The smallest single range of chars covering the difference between `old` and `new`.
pub(super) fn diff(old: Option<&Text>, new: &Text) -> Option<Changed> {
    let before = old.map(|o| o.to_string()).unwrap_or_default();
    text_diff(&before, &new.to_string())
}

pub(super) fn node(t: &Text) -> Node {
    Node::Text(t.to_string())
}

/// A text is saved as its state snapshot (`snapshot`) or as its compact history.
pub(super) fn to_wire(t: &Text, snapshot: bool) -> StateWire {
    if snapshot {
        StateWire::TextSnapshot(t.snapshot())
    } else {
        StateWire::TextHistory(t.encode())
    }
}

pub(super) fn from_wire(wire: &StateWire, replica: ReplicaId) -> Result<State> {
    let t = match wire {
        StateWire::TextSnapshot(b) => Text::decode_snapshot_as(b, replica)?,
        StateWire::TextHistory(b) => Text::decode_as(b, replica)?,
        _ => {
            return Err(crate::doc::DocError::BadSnapshot(
                crate::doc::BadSnapshot::ContainerKind,
            ));
        }
    };
    Ok(State::Text(Box::new(t)))
}

/// The content of a saved text: a state snapshot is read as shown, without its op log.
pub(super) fn view(wire: &StateWire) -> Result<String> {
    match wire {
        StateWire::TextSnapshot(b) => Ok(TextSnapshot::decode(b)?.into_string()),
        StateWire::TextHistory(b) => Ok(Text::decode(b)?.render_string()),
        _ => Err(crate::doc::DocError::BadSnapshot(
            crate::doc::BadSnapshot::ContainerKind,
        )),
    }
}

/// Applies every splice to `t`, positions and lengths counted in `units`; the range covering them.
fn splice_all<'a>(
    t: &mut Text,
    patches: impl IntoIterator<Item = (usize, usize, &'a str)>,
    units: Units,
) -> crate::Result<Span> {
    let mut cover = None;
    t.splice_batch(patches, units, |(pos, del, ins)| {
        cover = Some(compose_range(cover, pos, del, ins));
    })?;
    let (pos, del, ins) = cover.unwrap_or_default();
    Ok(Span {
        pos,
        del,
        ins: Some(ins),
    })
}

impl Doc {
    /// Runs a local edit of `text`; `f` returns `(pos, del)` in chars.
    fn text_edit<S: Into<Span>>(
        &mut self,
        text: ContainerId,
        f: impl FnOnce(&mut Text) -> crate::Result<S>,
    ) -> Result<()> {
        check_kind(text, ContainerKind::Text)?;
        self.seq_edit(text, |st| match st {
            State::Text(t) => f(t),
            _ => Err(crate::Error::InvalidOperation),
        })
    }

    /// Inserts `s` at char position `pos` of `text`.
    pub fn text_insert(&mut self, text: ContainerId, pos: usize, s: &str) -> Result<()> {
        self.text_edit(text, |t| {
            t.insert(pos, s)?;
            Ok((pos, 0))
        })
    }

    /// Deletes the chars of `text` in `range`.
    pub fn text_delete(&mut self, text: ContainerId, range: Range<usize>) -> Result<()> {
        self.text_edit(text, |t| {
            let span = (range.start, range.end.saturating_sub(range.start));
            t.delete(range)?;
            Ok(span)
        })
    }

    /// Replaces `del` chars at `pos` of `text` with `s`.
    pub fn text_splice(
        &mut self,
        text: ContainerId,
        pos: usize,
        del: usize,
        s: &str,
    ) -> Result<()> {
        self.text_edit(text, |t| {
            t.splice(pos, del, s)?;
            Ok((pos, del))
        })
    }

    /// Applies `(pos, del, insert)` splices of `text` in order, char positions each as of the
    /// splices before it, as one edit: one transaction's worth of events, one change event
    /// covering them all, and all or nothing (a failing splice undoes the ones before it).
    /// The batch entry point of the bindings: one call, one commit, no per-splice bookkeeping
    /// beyond the engine's.
    pub fn text_splice_batch<'a>(
        &mut self,
        text: ContainerId,
        patches: impl IntoIterator<Item = (usize, usize, &'a str)>,
    ) -> Result<()> {
        self.text_edit(text, |t| splice_all(t, patches, Units::Chars))
    }

    /// [`text_splice_batch`](Doc::text_splice_batch) with UTF-16 offsets and lengths (what
    /// JavaScript, Kotlin and Swift strings count).
    pub fn text_splice_batch_utf16<'a>(
        &mut self,
        text: ContainerId,
        patches: impl IntoIterator<Item = (usize, usize, &'a str)>,
    ) -> Result<()> {
        self.text_edit(text, |t| splice_all(t, patches, Units::Utf16))
    }

    /// [`text_insert`](Doc::text_insert) at a UTF-16 offset (what JavaScript strings count).
    /// An offset inside a surrogate pair is [`DocError::InvalidPosition`].
    ///
    /// [`DocError::InvalidPosition`]: crate::doc::DocError::InvalidPosition
    pub fn text_insert_utf16(&mut self, text: ContainerId, pos16: usize, s: &str) -> Result<()> {
        self.text_edit(text, |t| {
            let pos = t.utf16_to_char(pos16)?;
            t.insert(pos, s)?;
            Ok((pos, 0))
        })
    }

    /// [`text_delete`](Doc::text_delete) of a UTF-16 range.
    pub fn text_delete_utf16(&mut self, text: ContainerId, range16: Range<usize>) -> Result<()> {
        self.text_edit(text, |t| {
            let start = t.utf16_to_char(range16.start)?;
            let end = t.utf16_to_char(range16.end)?;
            t.delete(start..end)?;
            Ok((start, end.saturating_sub(start)))
        })
    }

    /// The content of `text`.
    pub fn text(&self, text: ContainerId) -> Result<String> {
        Ok(match self.read(text, ContainerKind::Text)? {
            Some(State::Text(t)) => t.to_string(),
            _ => String::new(),
        })
    }

    /// Length of `text` in chars.
    pub fn text_len(&self, text: ContainerId) -> Result<usize> {
        Ok(match self.read(text, ContainerKind::Text)? {
            Some(State::Text(t)) => t.len(),
            _ => 0,
        })
    }

    /// Length of `text` in UTF-16 code units.
    pub fn text_len_utf16(&self, text: ContainerId) -> Result<usize> {
        Ok(match self.read(text, ContainerKind::Text)? {
            Some(State::Text(t)) => t.len_utf16(),
            _ => 0,
        })
    }
}

/// Length of the common prefix of `a` and `b`: 64-byte blocks compared with `memcmp` first.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let blocks = a
        .chunks_exact(64)
        .zip(b.chunks_exact(64))
        .take_while(|(x, y)| x == y)
        .count();
    let skip = blocks * 64;
    skip + a[skip..]
        .iter()
        .zip(&b[skip..])
        .take_while(|(x, y)| x == y)
        .count()
}

/// Length of the common suffix of `a` and `b`.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    let blocks = a
        .rchunks_exact(64)
        .zip(b.rchunks_exact(64))
        .take_while(|(x, y)| x == y)
        .count();
    let skip = blocks * 64;
    skip + a[..a.len() - skip]
        .iter()
        .rev()
        .zip(b[..b.len() - skip].iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// The smallest range of chars covering the difference between `a` and `b`, comparing bytes
/// (a byte-identical prefix or suffix of two strings is cut back to a char boundary, which
/// is then one in both).
fn text_diff(a: &str, b: &str) -> Option<Changed> {
    let mut prefix = common_prefix(a.as_bytes(), b.as_bytes());
    while !a.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    let mut suffix = common_suffix(ra.as_bytes(), rb.as_bytes());
    while !ra.is_char_boundary(ra.len() - suffix) || !rb.is_char_boundary(rb.len() - suffix) {
        suffix -= 1;
    }
    let removed = ra[..ra.len() - suffix].chars().count();
    let inserted = rb[..rb.len() - suffix].chars().count();
    (removed > 0 || inserted > 0).then(|| Changed::Range {
        start: a[..prefix].chars().count(),
        removed,
        inserted,
    })
}
