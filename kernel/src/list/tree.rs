//! The order-statistic B-tree holding every item of a sequence in document order.
//!
//! The tree owns *spans*: runs of items with consecutive local versions (`lv`) that sit next to
//! each other in the document and share a deleted flag. Leaves hold up to [`LEAF_CAP`] spans in
//! a fixed array; internal nodes hold up to [`NODE_CAP`] children together with the [`Counts`]
//! of each child's subtree (visible items, all items including tombstones, visible width — the
//! UTF-16 length for text). All nodes live in two [`Arena`]s and refer to each other by index.
//!
//! Invariants (checked by [`Tree::check`]):
//! * every node's cached child counts equal the sums over the child's subtree;
//! * no span is empty; leaves other than a lone root leaf are non-empty;
//! * parent and `next` links are consistent with the child arrays;
//! * the lv index maps every item's lv to the leaf holding it.
//!
//! The lv index (one leaf number per item, indexed by lv) answers "where is item `lv`?" for
//! remote operations, whose positions are item ids rather than indexes.

use alloc::vec::Vec;

use super::content::reserve_frugal;

use converge_pool::{Arena, Idx};

/// "No item": the origin of an insert at the document start or end.
pub(crate) const NONE: u32 = u32::MAX;
/// Spans per leaf.
pub(crate) const LEAF_CAP: usize = 64;
/// Children per internal node.
pub(crate) const NODE_CAP: usize = 16;
const DELETED: u32 = 1 << 31;
/// Longest span (the top bit of the length is the deleted flag).
pub(crate) const MAX_SPAN: u32 = DELETED - 1;

/// The width of items: one per item, except that the items listed are two wide (UTF-16 units
/// for text: a char outside the Basic Multilingual Plane takes two; lists list none).
///
/// A concrete type rather than a trait over the content stores, so the tree compiles once for
/// text and lists alike (one copy in the `.wasm`); a list pays one `is_empty` test per width.
/// It refers to the store's `Vec` rather than holding a slice: making one is then an address
/// computation, not two loads, on every edit (`text_profile docauto:automerge-paper 5` under
/// callgrind: 0.1% fewer instructions than with a slice).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Widths<'a> {
    /// The lvs of the two-wide items, sorted.
    double: &'a Vec<u32>,
}

impl<'a> Widths<'a> {
    /// Items `double` (sorted lvs) are two wide, every other item one.
    pub(crate) fn new(double: &'a Vec<u32>) -> Self {
        Widths { double }
    }

    /// Every item one wide.
    pub(crate) fn one() -> Widths<'static> {
        static NONE_DOUBLE: Vec<u32> = Vec::new();
        Widths {
            double: &NONE_DOUBLE,
        }
    }

    /// Width of the items `lv..lv + len`.
    #[inline(always)]
    pub(crate) fn width(self, lv: u32, len: u32) -> usize {
        if self.double.is_empty() {
            return len as usize;
        }
        let a = self.double.partition_point(|&x| x < lv);
        let b = self.double.partition_point(|&x| x < lv + len);
        len as usize + (b - a)
    }

    /// The number of leading items of `lv..lv + len` whose width sums to exactly `w`, or
    /// `None` if `w` falls inside an item.
    pub(crate) fn items_in_width(self, lv: u32, len: u32, w: usize) -> Option<u32> {
        if self.double.is_empty() {
            return (w <= len as usize).then_some(w as u32);
        }
        // Largest k with width(lv, k) <= w; exact only if equal.
        let (mut lo, mut hi) = (0u32, len);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if self.width(lv, mid) <= w {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        (self.width(lv, lo) == w).then_some(lo)
    }
}

/// A run of items with consecutive lvs, adjacent in the document, all visible or all deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    /// The lv of the first item.
    pub(crate) lv: u32,
    len_flags: u32,
}

impl Span {
    pub(crate) fn new(lv: u32, len: u32, deleted: bool) -> Self {
        debug_assert!(len > 0 && len <= MAX_SPAN);
        Span {
            lv,
            len_flags: len | if deleted { DELETED } else { 0 },
        }
    }
    #[inline]
    pub(crate) fn len(self) -> u32 {
        self.len_flags & !DELETED
    }
    #[inline]
    pub(crate) fn deleted(self) -> bool {
        self.len_flags & DELETED != 0
    }
    #[inline]
    pub(crate) fn vis(self) -> u32 {
        if self.deleted() { 0 } else { self.len() }
    }
    #[inline]
    pub(crate) fn end(self) -> u32 {
        self.lv + self.len()
    }
    fn with(self, lv: u32, len: u32) -> Span {
        Span::new(lv, len, self.deleted())
    }
    fn can_append(self, next: Span) -> bool {
        self.end() == next.lv
            && self.deleted() == next.deleted()
            && self.len() + next.len() <= MAX_SPAN
    }
}

/// Which count a descent follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Metric {
    Vis,
    Wide,
}

impl Metric {
    #[inline(always)]
    fn of(self, c: &Counts) -> usize {
        match self {
            Metric::Vis => c.vis,
            Metric::Wide => c.wide,
        }
    }
}

/// Aggregates of a subtree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Visible items.
    pub(crate) vis: usize,
    /// All items, tombstones included.
    pub(crate) raw: usize,
    /// Width of the visible items.
    pub(crate) wide: usize,
}

impl Counts {
    #[inline(always)]
    fn of(s: Span, m: Widths<'_>) -> Counts {
        Counts {
            vis: s.vis() as usize,
            raw: s.len() as usize,
            // The width of the visible items, 0 for a tombstone: no branch on which it is
            // (a leaf's spans alternate unpredictably).
            wide: m.width(s.lv, s.vis()),
        }
    }
    #[inline(always)]
    fn add(&mut self, o: Counts) {
        self.vis = self.vis.wrapping_add(o.vis);
        self.raw = self.raw.wrapping_add(o.raw);
        self.wide = self.wide.wrapping_add(o.wide);
    }
    #[inline(always)]
    fn sub(&mut self, o: Counts) {
        self.vis = self.vis.wrapping_sub(o.vis);
        self.raw = self.raw.wrapping_sub(o.raw);
        self.wide = self.wide.wrapping_sub(o.wide);
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Leaf {
    spans: [Span; LEAF_CAP],
    n: u8,
    parent: Option<Idx<Node>>,
    /// Index of this leaf in its parent's child array.
    slot: u8,
    next: Option<Idx<Leaf>>,
}

#[derive(Clone, Debug)]
pub(crate) struct Node {
    child: [u32; NODE_CAP],
    counts: [Counts; NODE_CAP],
    n: u8,
    parent: Option<Idx<Node>>,
    /// Index of this node in its parent's child array.
    slot: u8,
}

impl Leaf {
    fn empty() -> Self {
        Leaf {
            spans: [Span::default(); LEAF_CAP],
            n: 0,
            parent: None,
            slot: 0,
            next: None,
        }
    }
    #[inline]
    pub(crate) fn spans(&self) -> &[Span] {
        &self.spans[..self.n as usize]
    }
}

/// The result of a descent: the item's cursor, the counts of everything before its span, and
/// the counts of everything before its leaf. `before` is only exact after a width descent
/// (a visible-position descent leaves it equal to `leaf_start`, to keep the hot path short);
/// use [`Tree::width_before`] for the width before a visible position.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Found {
    pub(crate) cur: Cursor,
    pub(crate) before: Counts,
    pub(crate) leaf_start: Counts,
}

/// A position in the tree: span `idx` of `leaf`, `off` items into it. `off` may equal the
/// span's length only transiently; `idx == n` means "end of leaf".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub(crate) leaf: Idx<Leaf>,
    pub(crate) idx: usize,
    pub(crate) off: u32,
}

/// The span tree. See the module docs.
#[derive(Clone, Debug)]
pub(crate) struct Tree {
    leaves: Arena<Leaf>,
    nodes: Arena<Node>,
    root: u32,
    height: u32,
    total: Counts,
    first: Idx<Leaf>,
    /// The arena index of the leaf holding each item, by lv (4 bytes per item, only while
    /// `indexed`). A flat array rather than a map of runs: concurrent editing leaves many
    /// short runs, and then a map costs more memory and much more time (every leaf split
    /// re-indexes the spans it moves).
    index: Vec<u32>,
    /// Whether the index is maintained. A replica that only ever edits locally never needs
    /// it, so it is built on the first remote operation ([`Tree::ensure_index`]) and kept up
    /// to date from then on.
    indexed: bool,
}

impl Default for Tree {
    fn default() -> Self {
        Self::new()
    }
}

impl Tree {
    pub(crate) fn new() -> Self {
        let mut leaves = Arena::new();
        let first = leaves.alloc(Leaf::empty());
        Tree {
            leaves,
            nodes: Arena::new(),
            root: first.index() as u32,
            height: 0,
            total: Counts::default(),
            first,
            index: Vec::new(),
            indexed: false,
        }
    }

    #[inline]
    pub(crate) fn total(&self) -> Counts {
        self.total
    }

    /// Number of leaves (changes exactly when a leaf splits).
    #[inline]
    pub(crate) fn leaf_count(&self) -> usize {
        self.leaves.len()
    }

    /// The spans of `leaf`.
    pub(crate) fn leaf_spans(&self, leaf: Idx<Leaf>) -> &[Span] {
        self.leaves[leaf].spans()
    }

    /// The span at a cursor (the cursor must point at a span).
    #[inline(always)]
    pub(crate) fn span(&self, c: Cursor) -> Span {
        self.leaves[c.leaf].spans[c.idx]
    }

    /// Moves a cursor with `off == len` or `idx == n` forward to the next real item, or
    /// returns `None` at the end of the document.
    pub(crate) fn normalize(&self, mut c: Cursor) -> Option<Cursor> {
        loop {
            let leaf = &self.leaves[c.leaf];
            if c.idx < leaf.n as usize {
                if c.off < leaf.spans[c.idx].len() {
                    return Some(c);
                }
                c.idx += 1;
                c.off = 0;
            } else {
                c = Cursor {
                    leaf: leaf.next?,
                    idx: 0,
                    off: 0,
                };
            }
        }
    }

    /// The cursor at the very start of the document (before every item).
    pub(crate) fn start(&self) -> Cursor {
        Cursor {
            leaf: self.first,
            idx: 0,
            off: 0,
        }
    }

    fn child_counts_sum(&self, l: Idx<Leaf>, m: Widths<'_>) -> Counts {
        let mut c = Counts::default();
        for s in self.leaves[l].spans() {
            c.add(Counts::of(*s, m));
        }
        c
    }

    /// Descends to the item where the running total of `metric` first exceeds `target`.
    /// Returns the cursor (span and offset of the item) and the counts before that span.
    /// `target` must be below the total of `metric`.
    fn descend(&self, target: usize, metric: Metric, m: Widths<'_>) -> Option<Found> {
        let mut before = Counts::default();
        let mut rem = target;
        let mut node = self.root;
        for _ in 0..self.height {
            let nd = &self.nodes[Idx::<Node>::from_index(node as usize)];
            let mut found = None;
            for i in 0..nd.n as usize {
                let w = metric.of(&nd.counts[i]);
                if rem < w {
                    found = Some(nd.child[i]);
                    break;
                }
                rem -= w;
                before.add(nd.counts[i]);
            }
            node = found?;
        }
        let leaf = Idx::<Leaf>::from_index(node as usize);
        self.scan_leaf(leaf, rem, metric, m, before)
    }

    fn scan_leaf(
        &self,
        leaf: Idx<Leaf>,
        mut rem: usize,
        metric: Metric,
        m: Widths<'_>,
        leaf_start: Counts,
    ) -> Option<Found> {
        let spans = self.leaves[leaf].spans();
        if metric == Metric::Vis {
            // The hot path of every local edit: only visible counts are needed.
            for (i, s) in spans.iter().enumerate() {
                let v = s.vis() as usize;
                if rem < v {
                    return Some(Found {
                        cur: Cursor {
                            leaf,
                            idx: i,
                            off: rem as u32,
                        },
                        before: leaf_start,
                        leaf_start,
                    });
                }
                rem -= v;
            }
            return None;
        }
        let mut before = leaf_start;
        for (i, s) in spans.iter().enumerate() {
            // Widths cost a lookup in the content store: only a width descent needs them.
            let c = if metric == Metric::Wide {
                Counts::of(*s, m)
            } else {
                Counts {
                    vis: s.vis() as usize,
                    raw: s.len() as usize,
                    wide: 0,
                }
            };
            let w = metric.of(&c);
            if rem < w {
                // Offset of the item inside the span.
                let off = if metric == Metric::Vis {
                    rem as u32
                } else {
                    // Width: the item containing width offset `rem`.
                    let mut lo = 0u32;
                    let mut hi = s.len();
                    // Largest k with width(lv, k) <= rem.
                    while lo < hi {
                        let mid = (lo + hi).div_ceil(2);
                        if m.width(s.lv, mid) <= rem {
                            lo = mid;
                        } else {
                            hi = mid - 1;
                        }
                    }
                    lo
                };
                return Some(Found {
                    cur: Cursor { leaf, idx: i, off },
                    before,
                    leaf_start,
                });
            }
            rem -= w;
            before.add(c);
        }
        None
    }

    /// Width of all visible items before the item at `f.cur`.
    pub(crate) fn width_before(&self, f: &Found, m: Widths<'_>) -> usize {
        let mut w = f.leaf_start.wide;
        let spans = self.leaves[f.cur.leaf].spans();
        for s in &spans[..f.cur.idx] {
            if !s.deleted() {
                w += m.width(s.lv, s.len());
            }
        }
        let s = spans[f.cur.idx];
        w + m.width(s.lv, f.cur.off)
    }

    /// The visible item at visible position `pos` (`pos < total().vis`).
    pub(crate) fn find_visible(&self, pos: usize, m: Widths<'_>) -> Option<Found> {
        if pos >= self.total.vis {
            return None;
        }
        self.descend(pos, Metric::Vis, m)
    }

    /// Like [`find_visible`](Self::find_visible) but scanning only `leaf`, whose first visible
    /// item is at `leaf_start` (the typing fast path).
    pub(crate) fn find_visible_in(
        &self,
        leaf: Idx<Leaf>,
        leaf_start: Counts,
        pos: usize,
        m: Widths<'_>,
    ) -> Option<Found> {
        if pos < leaf_start.vis {
            return None;
        }
        self.scan_leaf(leaf, pos - leaf_start.vis, Metric::Vis, m, leaf_start)
    }

    /// The visible item covering width position `w` (`w < total().wide`).
    pub(crate) fn find_width(&self, w: usize, m: Widths<'_>) -> Option<Found> {
        if w >= self.total.wide {
            return None;
        }
        self.descend(w, Metric::Wide, m)
    }

    /// Counts of everything before the first item of `leaf`.
    pub(crate) fn leaf_start(&self, leaf: Idx<Leaf>) -> Counts {
        let mut acc = Counts::default();
        let mut slot = self.leaves[leaf].slot as usize;
        let mut parent = self.leaves[leaf].parent;
        while let Some(p) = parent {
            let nd = &self.nodes[p];
            for c in &nd.counts[..slot] {
                acc.add(*c);
            }
            slot = nd.slot as usize;
            parent = nd.parent;
        }
        acc
    }

    /// Where the item `lv` is: its leaf, span index and offset.
    pub(crate) fn locate(&self, lv: u32) -> Option<Cursor> {
        if !self.indexed {
            // No index yet: scan the leaves (fine for the odd lookup while decoding).
            let mut leaf = Some(self.first);
            while let Some(l) = leaf {
                for (i, s) in self.leaves[l].spans().iter().enumerate() {
                    if lv >= s.lv && lv < s.end() {
                        return Some(Cursor {
                            leaf: l,
                            idx: i,
                            off: lv - s.lv,
                        });
                    }
                }
                leaf = self.leaves[l].next;
            }
            return None;
        }
        let leaf = Idx::<Leaf>::try_from_index(*self.index.get(lv as usize)? as usize)?;
        for (i, s) in self.leaves.get(leaf)?.spans().iter().enumerate() {
            if lv >= s.lv && lv < s.end() {
                return Some(Cursor {
                    leaf,
                    idx: i,
                    off: lv - s.lv,
                });
            }
        }
        None
    }

    /// How many visible items come before the item at `c`: its visible position if it is
    /// visible.
    pub(crate) fn vis_before(&self, c: Cursor) -> usize {
        let spans = self.leaves[c.leaf].spans();
        let before: usize = spans[..c.idx].iter().map(|s| s.vis() as usize).sum();
        // A tombstone's own items are not visible: `vis()` is 0.
        self.leaf_start(c.leaf).vis + before + spans[c.idx].vis().min(c.off) as usize
    }

    /// Absolute position of item `lv` among all items (tombstones included).
    pub(crate) fn raw_pos(&self, lv: u32) -> Option<usize> {
        let c = self.locate(lv)?;
        let mut p = self.leaf_start(c.leaf).raw;
        for s in &self.leaves[c.leaf].spans()[..c.idx] {
            p += s.len() as usize;
        }
        Some(p + c.off as usize)
    }

    /// Builds the item → leaf index if it is not maintained yet.
    pub(crate) fn ensure_index(&mut self) {
        if self.indexed {
            return;
        }
        self.indexed = true;
        let mut leaf = Some(self.first);
        while let Some(l) = leaf {
            for i in 0..self.leaves[l].n as usize {
                let s = self.leaves[l].spans[i];
                self.index_set(s.lv, s.end(), l);
            }
            leaf = self.leaves[l].next;
        }
    }

    #[inline]
    fn index_set(&mut self, lv: u32, end: u32, leaf: Idx<Leaf>) {
        if self.indexed {
            let (lv, end) = (lv as usize, end as usize);
            if self.index.len() < end {
                let more = end - self.index.len();
                reserve_frugal(&mut self.index, more);
                self.index.resize(end, NONE);
            }
            self.index[lv..end].fill(leaf.index() as u32);
        }
    }

    /// Propagates a change of `leaf`'s counts from `old` to `new` up to the root.
    #[inline]
    fn propagate(&mut self, leaf: Idx<Leaf>, old: Counts, new: Counts) {
        if old == new {
            return;
        }
        let mut slot = self.leaves[leaf].slot as usize;
        let mut parent = self.leaves[leaf].parent;
        while let Some(p) = parent {
            let nd = &mut self.nodes[p];
            nd.counts[slot].sub(old);
            nd.counts[slot].add(new);
            slot = nd.slot as usize;
            parent = nd.parent;
        }
        self.total.sub(old);
        self.total.add(new);
    }

    /// Replaces `remove` spans at `idx` in `leaf` with `ins`, splitting the leaf if needed, and
    /// keeps all counts and the index up to date. `fresh` spans (new lvs) are indexed; moved
    /// spans are re-indexed. Returns the cursor of the first inserted span.
    pub(crate) fn splice(
        &mut self,
        leaf: Idx<Leaf>,
        idx: usize,
        remove: usize,
        ins: &[Span],
        fresh: Option<Span>,
        m: Widths<'_>,
    ) -> Cursor {
        // Counts change by (inserted - removed); only a split needs whole-leaf sums.
        let mut removed = Counts::default();
        for s in &self.leaves[leaf].spans[idx..idx + remove] {
            removed.add(Counts::of(*s, m));
        }
        let mut added = Counts::default();
        for s in ins {
            added.add(Counts::of(*s, m));
        }
        let l = &mut self.leaves[leaf];
        let n = l.n as usize;
        if n - remove + ins.len() <= LEAF_CAP {
            // Common case: one shift of the tail, then overwrite.
            l.spans.copy_within(idx + remove..n, idx + ins.len());
            l.spans[idx..idx + ins.len()].copy_from_slice(ins);
            l.n = (n - remove + ins.len()) as u8;
            if let Some(f) = fresh {
                self.index_set(f.lv, f.end(), leaf);
            }
            self.propagate(leaf, removed, added);
            return Cursor { leaf, idx, off: 0 };
        }
        l.spans.copy_within(idx + remove..n, idx);
        let n = n - remove;
        l.n = n as u8;
        let (target, at) = if n + ins.len() > LEAF_CAP {
            // Split: move the upper half to a new leaf.
            let mid = n / 2;
            let mut right = Leaf::empty();
            right.spans[..n - mid].copy_from_slice(&l.spans[mid..n]);
            right.n = (n - mid) as u8;
            right.parent = l.parent;
            right.next = l.next;
            l.n = mid as u8;
            let new_leaf = self.leaves.alloc(right);
            self.leaves[leaf].next = Some(new_leaf);
            for i in 0..n - mid {
                let s = self.leaves[new_leaf].spans[i];
                self.index_set(s.lv, s.end(), new_leaf);
            }
            let right_counts = self.child_counts_sum(new_leaf, m);
            let mut gone = removed;
            gone.add(right_counts);
            self.propagate(leaf, gone, Counts::default());
            removed = Counts::default();
            self.insert_child(
                self.leaves[leaf].parent,
                leaf.index() as u32,
                new_leaf.index() as u32,
                right_counts,
                true,
            );
            if idx <= mid {
                (leaf, idx)
            } else {
                (new_leaf, idx - mid)
            }
        } else {
            (leaf, idx)
        };
        let t = &mut self.leaves[target];
        let tn = t.n as usize;
        t.spans.copy_within(at..tn, at + ins.len());
        t.spans[at..at + ins.len()].copy_from_slice(ins);
        t.n = (tn + ins.len()) as u8;
        if target != leaf {
            // Pieces of spans that lived in `leaf` moved with the split.
            for s in ins {
                self.index_set(s.lv, s.end(), target);
            }
        } else if let Some(f) = fresh {
            self.index_set(f.lv, f.end(), target);
        }
        self.propagate(target, removed, added);
        Cursor {
            leaf: target,
            idx: at,
            off: 0,
        }
    }

    /// Appends `len` items to the span at `c` in place (typing fast path). The caller checked
    /// that the new lvs continue the span and it is visible.
    pub(crate) fn extend_span(&mut self, c: Cursor, len: u32, m: Widths<'_>) {
        let s = self.leaves[c.leaf].spans[c.idx];
        let added = Counts::of(Span::new(s.end(), len, false), m);
        self.leaves[c.leaf].spans[c.idx] = s.with(s.lv, s.len() + len);
        self.index_set(s.end(), s.end() + len, c.leaf);
        let mut new = Counts::default();
        new.add(added);
        self.propagate(c.leaf, Counts::default(), new);
    }

    /// Inserts the new span `s` at cursor `c` (before the item at `c`; `off` may be inside a
    /// span, which is then split). Returns the cursor of the inserted span.
    pub(crate) fn insert(&mut self, c: Cursor, s: Span, m: Widths<'_>) -> Cursor {
        let leaf = &self.leaves[c.leaf];
        let n = leaf.n as usize;
        if c.off == 0 || c.idx >= n {
            // Between spans: try to extend the previous span.
            if c.idx > 0 {
                let prev = leaf.spans[c.idx - 1];
                if prev.can_append(s) {
                    let pc = Cursor {
                        leaf: c.leaf,
                        idx: c.idx - 1,
                        off: 0,
                    };
                    self.extend_span(pc, s.len(), m);
                    return pc;
                }
            }
            self.splice(c.leaf, c.idx.min(n), 0, &[s], Some(s), m)
        } else {
            let cur = leaf.spans[c.idx];
            if c.off >= cur.len() {
                let prev = cur;
                if prev.can_append(s) {
                    let pc = Cursor { off: 0, ..c };
                    self.extend_span(pc, s.len(), m);
                    return pc;
                }
                return self.splice(c.leaf, c.idx + 1, 0, &[s], Some(s), m);
            }
            let a = cur.with(cur.lv, c.off);
            let b = cur.with(cur.lv + c.off, cur.len() - c.off);
            let r = self.splice(c.leaf, c.idx, 1, &[a, s, b], Some(s), m);
            Cursor {
                idx: r.idx + 1,
                ..r
            }
        }
    }

    /// Marks up to `max` items deleted starting at cursor `c` (which points at an item), within
    /// one span. Returns `(first lv, count, was_visible)`.
    pub(crate) fn delete_at(&mut self, c: Cursor, max: u32, m: Widths<'_>) -> (u32, u32, bool) {
        let cur = self.leaves[c.leaf].spans[c.idx];
        let k = max.min(cur.len() - c.off);
        let lv = cur.lv + c.off;
        if cur.deleted() {
            return (lv, k, false);
        }
        // Backspace / forward-delete fast paths: the deleted piece joins a deleted neighbour
        // whose item numbers it continues, so two spans change in place and nothing moves.
        let leaf = &mut self.leaves[c.leaf];
        let n = leaf.n as usize;
        let gone = Counts {
            vis: k as usize,
            raw: k as usize,
            wide: m.width(lv, k),
        };
        let tomb = Counts {
            vis: 0,
            raw: k as usize,
            wide: 0,
        };
        if c.off > 0 && c.off + k == cur.len() && c.idx + 1 < n {
            let next = leaf.spans[c.idx + 1];
            if next.deleted() && next.lv == cur.end() && next.len() + k <= MAX_SPAN {
                leaf.spans[c.idx] = cur.with(cur.lv, c.off);
                leaf.spans[c.idx + 1] = Span::new(lv, k + next.len(), true);
                self.propagate(c.leaf, gone, tomb);
                return (lv, k, true);
            }
        }
        if c.off == 0 && k < cur.len() && c.idx > 0 {
            let prev = leaf.spans[c.idx - 1];
            if prev.deleted() && prev.end() == cur.lv && prev.len() + k <= MAX_SPAN {
                leaf.spans[c.idx - 1] = prev.with(prev.lv, prev.len() + k);
                leaf.spans[c.idx] = cur.with(cur.lv + k, cur.len() - k);
                self.propagate(c.leaf, gone, tomb);
                return (lv, k, true);
            }
        }
        let mut pieces = [Span::default(); 3];
        let mut np = 0;
        if c.off > 0 {
            pieces[np] = cur.with(cur.lv, c.off);
            np += 1;
        }
        pieces[np] = Span::new(lv, k, true);
        np += 1;
        if c.off + k < cur.len() {
            pieces[np] = cur.with(lv + k, cur.len() - c.off - k);
            np += 1;
        }
        // Merge the deleted piece with deleted neighbours when lvs continue.
        let leaf = &self.leaves[c.leaf];
        let mut idx = c.idx;
        let mut remove = 1;
        if c.off == 0 && idx > 0 && leaf.spans[idx - 1].can_append(pieces[0]) {
            let p = leaf.spans[idx - 1];
            pieces[0] = p.with(p.lv, p.len() + pieces[0].len());
            idx -= 1;
            remove += 1;
        }
        let last = pieces[np - 1];
        if last.deleted() && c.idx + 1 < leaf.n as usize && last.can_append(leaf.spans[c.idx + 1]) {
            let nx = leaf.spans[c.idx + 1];
            pieces[np - 1] = last.with(last.lv, last.len() + nx.len());
            remove += 1;
        }
        self.splice(c.leaf, idx, remove, &pieces[..np], None, m);
        (lv, k, true)
    }

    /// Subtracts `counts` from the entry of `node` in its parent and every entry above, and
    /// from the total.
    fn unaccount(&mut self, node: Idx<Node>, counts: Counts) {
        let mut slot = self.nodes[node].slot as usize;
        let mut par = self.nodes[node].parent;
        while let Some(pp) = par {
            let nd = &mut self.nodes[pp];
            nd.counts[slot].sub(counts);
            slot = nd.slot as usize;
            par = nd.parent;
        }
        self.total.sub(counts);
    }

    /// Adds `child` (with `counts`, not yet counted anywhere) right after `after` under
    /// `parent`, splitting full nodes upwards, and adds the counts to every ancestor and the
    /// total.
    fn insert_child(
        &mut self,
        parent: Option<Idx<Node>>,
        after: u32,
        child: u32,
        counts: Counts,
        leaf_children: bool,
    ) {
        let Some(p) = parent else {
            // `after` was the root: grow a new root above it.
            let after_counts = self.total;
            self.total.add(counts);
            let mut nd = Node {
                child: [0; NODE_CAP],
                counts: [Counts::default(); NODE_CAP],
                n: 2,
                parent: None,
                slot: 0,
            };
            nd.child[0] = after;
            nd.child[1] = child;
            nd.counts[0] = after_counts;
            nd.counts[1] = counts;
            let r = self.nodes.alloc(nd);
            self.set_parent(after, Some(r), 0, leaf_children);
            self.set_parent(child, Some(r), 1, leaf_children);
            self.root = r.index() as u32;
            self.height += 1;
            return;
        };
        let nd = &mut self.nodes[p];
        let n = nd.n as usize;
        let slot = nd.child[..n]
            .iter()
            .position(|&c| c == after)
            .expect("child is listed in its parent")
            + 1;
        let (target, tslot) = if n < NODE_CAP {
            (p, slot)
        } else {
            // Split the full node; the right half becomes a new sibling.
            let mid = n / 2;
            let mut right = Node {
                child: [0; NODE_CAP],
                counts: [Counts::default(); NODE_CAP],
                n: (n - mid) as u8,
                parent: nd.parent,
                slot: 0,
            };
            right.child[..n - mid].copy_from_slice(&nd.child[mid..n]);
            right.counts[..n - mid].copy_from_slice(&nd.counts[mid..n]);
            nd.n = mid as u8;
            let grand = nd.parent;
            let mut moved = Counts::default();
            for c in &right.counts[..n - mid] {
                moved.add(*c);
            }
            let r = self.nodes.alloc(right);
            for i in 0..n - mid {
                let c = self.nodes[r].child[i];
                self.set_parent(c, Some(r), i, leaf_children);
            }
            // Take the moved subtrees out of every count above `p`, then hang `r` (which
            // holds them) next to `p`, which adds them back along its own path.
            self.unaccount(p, moved);
            self.insert_child(grand, p.index() as u32, r.index() as u32, moved, false);
            if slot <= mid {
                (p, slot)
            } else {
                (r, slot - mid)
            }
        };
        let t = &mut self.nodes[target];
        let tn = t.n as usize;
        t.child.copy_within(tslot..tn, tslot + 1);
        t.counts.copy_within(tslot..tn, tslot + 1);
        t.child[tslot] = child;
        t.counts[tslot] = counts;
        t.n += 1;
        for i in tslot..=tn {
            let c = self.nodes[target].child[i];
            self.set_parent(c, Some(target), i, leaf_children);
        }
        let mut slot = self.nodes[target].slot as usize;
        let mut par = self.nodes[target].parent;
        while let Some(pp) = par {
            let nd = &mut self.nodes[pp];
            nd.counts[slot].add(counts);
            slot = nd.slot as usize;
            par = nd.parent;
        }
        self.total.add(counts);
    }

    fn set_parent(&mut self, child: u32, p: Option<Idx<Node>>, slot: usize, leaf: bool) {
        if leaf {
            let l = &mut self.leaves[Idx::<Leaf>::from_index(child as usize)];
            l.parent = p;
            l.slot = slot as u8;
        } else {
            let nd = &mut self.nodes[Idx::<Node>::from_index(child as usize)];
            nd.parent = p;
            nd.slot = slot as u8;
        }
    }

    pub(crate) fn debug_stats(&self) -> alloc::string::String {
        let spans: usize = self.leaves.iter().map(|(_, l)| l.n as usize).sum();
        alloc::format!(
            "leaves {} (cap {}, {} B each), nodes {}, spans {}, index {}, height {}",
            self.leaves.len(),
            self.leaves.capacity(),
            core::mem::size_of::<Leaf>(),
            self.nodes.len(),
            spans,
            self.index.len(),
            self.height
        )
    }

    /// Checks every invariant listed in the module docs; panics with a message on violation.
    pub(crate) fn check(&self, m: Widths<'_>) {
        let mut leaves_in_order = Vec::new();
        let total = self.check_node(self.root, self.height, None, m, &mut leaves_in_order);
        assert_eq!(total, self.total, "root counts");
        assert_eq!(
            leaves_in_order.first().copied(),
            Some(self.first),
            "first leaf"
        );
        for w in leaves_in_order.windows(2) {
            assert_eq!(self.leaves[w[0]].next, Some(w[1]), "leaf next links");
        }
        let last = *leaves_in_order.last().expect("at least one leaf");
        assert_eq!(self.leaves[last].next, None, "last leaf has no next");
        if !self.indexed {
            assert!(self.index.is_empty(), "no stale index");
        }
        let mut items = 0usize;
        for &l in &leaves_in_order {
            let leaf = &self.leaves[l];
            assert!(
                leaf.n > 0 || leaves_in_order.len() == 1,
                "empty leaf in a multi-leaf tree"
            );
            for s in leaf.spans() {
                assert!(s.len() > 0, "empty span");
                // Every item of the span maps to this leaf.
                if self.indexed {
                    let got = self.index.get(s.lv as usize..s.end() as usize);
                    assert!(
                        got.is_some_and(|g| g.iter().all(|&x| x == l.index() as u32)),
                        "index points at the span's leaf"
                    );
                }
                items += s.len() as usize;
            }
        }
        if self.indexed {
            assert_eq!(self.index.len(), items, "index covers exactly the items");
        }
    }

    fn check_node(
        &self,
        node: u32,
        height: u32,
        parent: Option<Idx<Node>>,
        m: Widths<'_>,
        out: &mut Vec<Idx<Leaf>>,
    ) -> Counts {
        if height == 0 {
            let l = Idx::<Leaf>::from_index(node as usize);
            assert_eq!(self.leaves[l].parent, parent, "leaf parent link");
            if let Some(p) = parent {
                let slot = self.leaves[l].slot as usize;
                assert_eq!(self.nodes[p].child[slot], node, "leaf slot");
            }
            out.push(l);
            return self.child_counts_sum(l, m);
        }
        let p = Idx::<Node>::from_index(node as usize);
        let nd = &self.nodes[p];
        assert_eq!(nd.parent, parent, "node parent link");
        if let Some(pp) = parent {
            assert_eq!(self.nodes[pp].child[nd.slot as usize], node, "node slot");
        }
        assert!(nd.n >= 1, "internal node has children");
        let mut sum = Counts::default();
        for i in 0..nd.n as usize {
            let c = self.check_node(nd.child[i], height - 1, Some(p), m, out);
            assert_eq!(c, nd.counts[i], "cached child counts");
            sum.add(c);
        }
        sum
    }
}

/// [`Tree::from_spans`] a span at a time: a caller that produces spans (a snapshot load)
/// needs no list of them. Spans gather in a leaf-sized buffer, copied into a new leaf when full.
pub(crate) struct TreeBuilder {
    tree: Tree,
    /// The spans of the next leaf: `buf[..n]`.
    buf: [Span; Tree::BUILD_LEAF],
    n: usize,
    /// The last leaf filled, if any.
    prev: Option<Idx<Leaf>>,
    /// Each filled leaf's arena index and counts.
    level: Vec<(u32, Counts)>,
}

impl TreeBuilder {
    pub(crate) fn new() -> Self {
        TreeBuilder {
            tree: Tree::new(),
            buf: [Span::default(); Tree::BUILD_LEAF],
            n: 0,
            prev: None,
            level: Vec::new(),
        }
    }

    /// Appends `s` (not empty) after every span pushed so far, merged into the last one if it
    /// continues it.
    #[inline]
    pub(crate) fn push(&mut self, s: Span, m: Widths<'_>) {
        debug_assert!(s.len() > 0, "no empty spans");
        if let Some(last) = self.n.checked_sub(1).and_then(|i| self.buf.get_mut(i))
            && last.can_append(s)
        {
            *last = last.with(last.lv, last.len() + s.len());
            return;
        }
        if self.n == Tree::BUILD_LEAF {
            self.flush(m);
        }
        if let Some(slot) = self.buf.get_mut(self.n) {
            *slot = s;
            self.n += 1;
        }
    }

    /// Moves the buffered spans into a new leaf linked after the last one.
    #[inline(never)]
    fn flush(&mut self, m: Widths<'_>) {
        let idx = match self.prev {
            None => self.tree.first,
            Some(_) => self.tree.leaves.alloc(Leaf::empty()),
        };
        let leaf = &mut self.tree.leaves[idx];
        leaf.spans[..self.n].copy_from_slice(&self.buf[..self.n]);
        leaf.n = self.n as u8;
        if let Some(p) = self.prev {
            self.tree.leaves[p].next = Some(idx);
        }
        self.prev = Some(idx);
        self.n = 0;
        let counts = self.tree.child_counts_sum(idx, m);
        self.tree.total.add(counts);
        self.level.push((idx.index() as u32, counts));
    }

    /// The tree: internal levels are built over the leaves, bottom-up.
    pub(crate) fn finish(mut self, m: Widths<'_>) -> Tree {
        if self.n > 0 {
            self.flush(m);
        }
        if self.level.is_empty() {
            return self.tree;
        }
        let (mut tree, mut level) = (self.tree, self.level);
        // Internal levels until one child is left: the root.
        let mut height = 0;
        while level.len() > 1 {
            let mut up = Vec::with_capacity(level.len() / Tree::BUILD_NODE + 1);
            for group in level.chunks(Tree::BUILD_NODE) {
                let mut nd = Node {
                    child: [0; NODE_CAP],
                    counts: [Counts::default(); NODE_CAP],
                    n: group.len() as u8,
                    parent: None,
                    slot: 0,
                };
                let mut sum = Counts::default();
                for (i, &(c, counts)) in group.iter().enumerate() {
                    nd.child[i] = c;
                    nd.counts[i] = counts;
                    sum.add(counts);
                }
                let p = tree.nodes.alloc(nd);
                for (i, &(c, _)) in group.iter().enumerate() {
                    tree.set_parent(c, Some(p), i, height == 0);
                }
                up.push((p.index() as u32, sum));
            }
            level = up;
            height += 1;
        }
        tree.root = level[0].0;
        tree.height = height;
        tree
    }
}

/// Building a whole tree in one pass (history decoding replays into a flat span list first; a
/// snapshot load pushes each span into a [`TreeBuilder`] as it checks it).
impl Tree {
    /// Spans per leaf in a tree built by [`from_spans`](Self::from_spans): room is left for a
    /// few edits before a leaf splits.
    const BUILD_LEAF: usize = LEAF_CAP * 3 / 4;
    /// Children per node in a tree built by [`from_spans`](Self::from_spans).
    const BUILD_NODE: usize = NODE_CAP * 3 / 4;

    /// A tree holding `spans` in document order (no empty span), with neighbours that
    /// continue each other merged; leaves and nodes are filled to three quarters, bottom-up.
    /// The item index is not built (as after any local editing: [`ensure_index`] builds it
    /// when needed).
    ///
    /// [`ensure_index`]: Self::ensure_index
    pub(crate) fn from_spans(spans: impl IntoIterator<Item = Span>, m: Widths<'_>) -> Tree {
        let mut b = TreeBuilder::new();
        for s in spans {
            b.push(s, m);
        }
        b.finish(m)
    }

    /// Calls `f` with every span in document order (tombstones included), walking the leaf
    /// links: no descent, no cursor.
    pub(crate) fn for_each_span(&self, mut f: impl FnMut(Span)) {
        let mut leaf = Some(self.first);
        while let Some(l) = leaf {
            let lf = &self.leaves[l];
            for &s in lf.spans() {
                f(s);
            }
            leaf = lf.next;
        }
    }
}
