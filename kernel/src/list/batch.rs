//! A batch of splices handed to the engine as runs.
//!
//! A batch of `(pos, del, insert)` splices, the way editors record them, is mostly runs: a
//! keystroke after the one before it, backspace after backspace, delete after delete. The
//! engine logs such a run as one event run either way (typing extends the last insert run,
//! deletions of neighbouring items extend the last delete run), so handing it the whole run
//! at once makes the same events, origins and targets as the splices one by one, and does
//! the position lookup, the tree update and the bookkeeping once per run instead of once per
//! splice. The automerge-paper trace's 259,778 splices reach the engine as 10,731 edits.
//!
//! Exactness: a splice joins the pending run only when its positions need no conversion
//! (char positions, or UTF-16 offsets in a text and a run without chars outside the BMP) and
//! it is certainly in range; anything else flushes the run and goes through
//! [`Text::splice_counted`] as before, so errors are those of the splices one by one. The
//! deletions in a run are the events the splices make one by one: forward deletion takes
//! the items upwards as one `delete_local` would; backspace, one char per splice, takes them
//! downwards as the engine's backspace run does.

use alloc::vec::Vec;

use super::Text;
use crate::error::{Error, Result};

/// What a batch's positions and lengths count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Units {
    /// Unicode scalar values (`char`s).
    Chars,
    /// UTF-16 code units.
    Utf16,
}

/// Splices joined but not yet applied. Positions in chars, as of the text before the run.
#[derive(Clone, Copy, Debug)]
enum Run {
    /// Typing: `chars` chars (the batch's buffer) inserted at `pos`, one splice after another.
    Insert { pos: usize, chars: usize },
    /// Deletion at one position: `n` chars from `pos`, first to last, of the `room` chars
    /// that were at `pos` and after it.
    Forward { pos: usize, n: usize, room: usize },
    /// Backspace: the `n` chars ending at `last`, `last` first.
    Back { last: usize, n: usize },
}

impl Run {
    /// The run extended by splice `(pos, del, s)` (of `chars` chars), if the splice continues
    /// it and is in range.
    #[inline(always)]
    fn extend(self, pos: usize, del: usize, chars: usize) -> Option<Run> {
        match (self, del, chars) {
            (Run::Insert { pos: p, chars: c }, 0, 1..) if pos == p + c => Some(Run::Insert {
                pos: p,
                chars: c + chars,
            }),
            (Run::Forward { pos: p, n, room }, 1.., 0) if pos == p && del <= room - n => {
                Some(Run::Forward {
                    pos: p,
                    n: n + del,
                    room,
                })
            }
            // One deletion at `p`, then backspace over the char before it.
            (Run::Forward { pos: p, n: 1, .. }, 1, 0) if pos.checked_add(1) == Some(p) => {
                Some(Run::Back { last: p, n: 2 })
            }
            (Run::Back { last, n }, 1, 0) if pos.checked_add(n) == Some(last) => {
                Some(Run::Back { last, n: n + 1 })
            }
            _ => None,
        }
    }

    /// A run starting with splice `(pos, del, s)` (of `chars` chars), if the splice is a
    /// pure insertion or deletion in range (`len`: the text's length in chars).
    #[inline(always)]
    fn start(pos: usize, del: usize, chars: usize, len: usize) -> Option<Run> {
        match (del, chars) {
            (0, 1..) if pos <= len => Some(Run::Insert { pos, chars }),
            (1.., 0) if pos.checked_add(del).is_some_and(|end| end <= len) => Some(Run::Forward {
                pos,
                n: del,
                room: len - pos,
            }),
            _ => None,
        }
    }
}

/// The splices of a batch, joined into runs and applied in order (see the module docs).
struct Batch {
    run: Option<Run>,
    /// The pending insert run's text.
    /// (Bytes, not a `String`: `Vec::push` of one byte inlines, `String::push` calls
    /// `reserve` every time, which the npm build's inlining budget leaves a call.)
    buf: Vec<u8>,
    /// Whether the pending run's text is all in the BMP (UTF-16 offsets stay char positions).
    bmp: bool,
}

/// What one applied piece of a batch did: `del` chars at `pos` replaced by `ins` chars.
type Applied = (usize, usize, usize);

impl Batch {
    /// Applies the pending run; tells `applied` what it did.
    fn flush(&mut self, t: &mut Text, applied: &mut impl FnMut(Applied)) -> Result<()> {
        let Some(run) = self.run.take() else {
            return Ok(());
        };
        let (pos, del, ins) = match run {
            Run::Insert { pos, chars } => {
                // Whole strs one after another: valid UTF-8 (checked, not assumed).
                let s = core::str::from_utf8(&self.buf).map_err(|_| Error::InvalidOperation)?;
                t.insert_counted(pos, s, chars)?;
                self.buf.clear();
                (pos, 0, chars)
            }
            Run::Forward { pos, n, .. } => {
                t.seq.delete_local(pos, pos + n)?;
                (pos, n, 0)
            }
            Run::Back { last, n } => {
                t.seq.delete_back_local(last, n)?;
                (last + 1 - n, n, 0)
            }
        };
        self.bmp = true;
        applied((pos, del, ins));
        Ok(())
    }

    /// Joins `(pos, del, s)`, counted in `units`, to the pending run, or applies the run and
    /// then the splice.
    #[inline(always)]
    fn push(
        &mut self,
        t: &mut Text,
        units: Units,
        (pos, del, s): (usize, usize, &str),
        applied: &mut impl FnMut(Applied),
    ) -> Result<()> {
        // One byte is one ASCII char (most splices of typed text).
        let chars = if s.len() <= 1 {
            s.len()
        } else {
            s.chars().count()
        };
        let plain = |b: &Batch, t: &Text| units == Units::Chars || (b.bmp && t.seq.store.all_bmp());
        if plain(self, t) {
            if let Some(run) = self.run {
                if let Some(longer) = run.extend(pos, del, chars) {
                    self.join(longer, s, chars, units);
                    return Ok(());
                }
            }
        }
        self.flush(t, applied)?;
        if plain(self, t) {
            if let Some(run) = Run::start(pos, del, chars, t.len()) {
                self.join(run, s, chars, units);
                return Ok(());
            }
        }
        let (pos, del) = match units {
            Units::Chars => (pos, del),
            Units::Utf16 => {
                let start = t.utf16_to_char(pos)?;
                let end = t.utf16_to_char(pos.saturating_add(del))?;
                (start, end - start)
            }
        };
        t.splice_counted(pos, del, s, chars)?;
        // A splice that changes nothing (checked all the same) covers nothing.
        if del > 0 || chars > 0 {
            applied((pos, del, chars));
        }
        Ok(())
    }

    /// Makes `run`, just extended by or started with `s` (`chars` chars), the pending run.
    #[inline(always)]
    fn join(&mut self, run: Run, s: &str, chars: usize, units: Units) {
        match s.as_bytes() {
            // A deletion; typing: one ASCII char.
            [] => {}
            &[b] => self.buf.push(b),
            bytes => self.buf.extend_from_slice(bytes),
        }
        // A char outside the BMP is two UTF-16 units (four UTF-8 bytes).
        if units == Units::Utf16 && s.len() != chars && s.bytes().any(|b| b >= 0xf0) {
            self.bmp = false;
        }
        self.run = Some(run);
    }
}

impl Text {
    /// Applies `(pos, del, insert)` splices in order, positions and lengths counted in
    /// `units` as of the splices before, and tells `applied` what each piece applied did (in
    /// chars, in order: a run of splices is one piece). On an error the splices before it
    /// stay applied (the caller rolls back). Makes exactly the events the splices one at a
    /// time make (see the module docs).
    pub(crate) fn splice_batch<'a>(
        &mut self,
        patches: impl IntoIterator<Item = (usize, usize, &'a str)>,
        units: Units,
        mut applied: impl FnMut(Applied),
    ) -> Result<()> {
        let mut b = Batch {
            run: None,
            buf: Vec::new(),
            bmp: true,
        };
        for p in patches {
            b.push(self, units, p, &mut applied)?;
        }
        b.flush(self, &mut applied)
    }
}
