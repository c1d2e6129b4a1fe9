//! Integration: placing remote inserts and deletions in the span tree.
//!
//! A remote insert run goes where FugueMax puts it, as formulated by diamond-types' `YjsMod`
//! (see `docs/architecture.md`): scan right from the left origin, comparing each concurrent
//! item's left and right origins with the new item's, ties broken by replica id, and stop at
//! the right origin. A remote deletion marks its targets deleted wherever they are. Both log
//! their events (ids and op log) and drop the local-typing caches, since the tree changed
//! under them.
//!
//! Invariant: the result depends only on the set of integrated events, not on the order they
//! arrive in (as long as each arrives after its origins), which is what makes replicas
//! converge. Integrating a replica's own op log into an empty replica in local order
//! reproduces its tree (`replays_to_same_order` checks this for a loaded snapshot).

use super::super::tree::{Cursor, NONE, Span, Widths};
use super::Core;
use crate::clock::ReplicaId;

/// Up to this many leaves, integration locates items by walking the leaves rather than
/// building the item index.
const UNINDEXED_LEAVES: usize = 16;

/// A remote insert run just integrated: its origins, its replica and its last item.
#[derive(Clone, Copy, Debug)]
pub(super) struct Sibling {
    ol: u32,
    or: u32,
    replica: ReplicaId,
    last: u32,
}

impl Core {
    fn raw_pos(&self, ilv: u32) -> usize {
        self.tree.raw_pos(ilv).expect("every item is in the tree")
    }

    /// Finds where a remote run with origins `ol`/`or` goes (FugueMax / YjsMod).
    fn integrate_cursor(&self, replica: ReplicaId, ol: u32, or: u32) -> Cursor {
        let after = (self.sibling).filter(|s| s.ol == ol && s.or == or && s.replica < replica);
        let start = if let Some(s) = after {
            // The last run integrated has these origins and a lower replica id, and nothing
            // changed since: the scan from `ol` would reach it without stopping (it went
            // where this scan has made the same decisions so far, and every sibling it
            // passed has a lower id still), pass it and its own items, and leave `scanning`
            // off. Start after it: m concurrent inserts at one spot, arriving in ascending
            // replica order, cost m steps instead of m² / 2.
            let c = self.tree.locate(s.last).expect("the run is in the tree");
            Cursor {
                off: c.off + 1,
                ..c
            }
        } else if ol == NONE {
            self.tree.start()
        } else {
            let c = self.tree.locate(ol).expect("origin is in the tree");
            Cursor {
                off: c.off + 1,
                ..c
            }
        };
        let Some(mut cur) = self.tree.normalize(start) else {
            return start;
        };
        let mut left_pos: Option<isize> = None;
        let mut right_pos: Option<usize> = None;
        let mut scanning = false;
        let mut scan_start = cur;
        // The scan mostly meets items in item-number order (one run after the next), so the
        // run lookups start from the previous hit before falling back to a binary search.
        let mut run_hint = 0;
        let mut lv_hint = 0;
        loop {
            let span = self.tree.span(cur);
            let other = span.lv + cur.off;
            if other == or {
                break;
            }
            let run = *self.log.ins_near(other, &mut run_hint);
            let o_ol = if other == run.ilv { run.ol } else { other - 1 };
            // Length of the piece sharing `other`'s origins: to the end of the span or run.
            let mut piece_end = (span.end()).min(run.ilv + run.len);
            if or != NONE && or > other && or < piece_end {
                // Malformed input only: the right origin sits inside this run.
                cur.off = or - span.lv;
                break;
            }
            if o_ol == ol {
                // Same left origin: decide by right origins, then replica ids.
                if run.or == or {
                    let mine = replica;
                    let theirs = self
                        .ids
                        .replica_near(run.lv + (other - run.ilv), &mut lv_hint);
                    if mine < theirs {
                        break;
                    }
                    scanning = false;
                    // Siblings with the same origins that follow in this span (m replicas
                    // inserting at one place, integrated one at a time) get the same
                    // decision: skip those with lower replica ids in a tight loop over the
                    // op log instead of a tree step each.
                    while piece_end < span.end() {
                        let Some(&r) = self.log.ins.get(run_hint + 1) else {
                            break;
                        };
                        if r.ilv != piece_end
                            || r.ol != ol
                            || r.or != or
                            || (or >= r.ilv && or < r.ilv + r.len)
                            || replica < self.ids.replica_near(r.lv, &mut lv_hint)
                        {
                            break;
                        }
                        run_hint += 1;
                        piece_end = span.end().min(r.ilv + r.len);
                    }
                } else {
                    let rp = *right_pos.get_or_insert_with(|| {
                        if or == NONE {
                            usize::MAX
                        } else {
                            self.raw_pos(or)
                        }
                    });
                    let orp = if run.or == NONE {
                        usize::MAX
                    } else {
                        self.raw_pos(run.or)
                    };
                    if orp < rp {
                        if !scanning {
                            scanning = true;
                            scan_start = cur;
                        }
                    } else {
                        scanning = false;
                    }
                }
            } else if !(cur.off > 0 && o_ol == other - 1) {
                // The other item's left origin is elsewhere: compare positions.
                let lp = *left_pos.get_or_insert_with(|| {
                    if ol == NONE {
                        -1
                    } else {
                        self.raw_pos(ol) as isize
                    }
                });
                let olp = if o_ol == NONE {
                    -1
                } else {
                    self.raw_pos(o_ol) as isize
                };
                if olp < lp {
                    break;
                }
                // olp > lp: the other item is inside a subtree right of ours; keep going.
            }
            let next = Cursor {
                off: piece_end - span.lv,
                ..cur
            };
            match self.tree.normalize(next) {
                Some(c) => cur = c,
                None => {
                    if scanning {
                        return scan_start;
                    }
                    return next;
                }
            }
        }
        if scanning { scan_start } else { cur }
    }

    /// Integrates a remote run whose content is already in the store at `ilv..ilv + len`
    /// (which has widths `w`).
    // The run's id, place and origins are all needed; a struct for them would only be built
    // to be taken apart.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn integrate(
        &mut self,
        agent: u32,
        counter: u64,
        ilv: u32,
        len: u32,
        ol: u32,
        or: u32,
        w: Widths<'_>,
    ) {
        self.typing = None;
        // The scan compares item positions, and without the index every position is a walk
        // over all leaves: one integration could cost `O(scanned × document)`. Building the
        // flat index is one pass over the leaves; below a few leaves the walks are cheaper
        // than the index's 4 bytes per item (a decoded history whose few explicit ops sit in
        // long runs).
        if self.tree.leaf_count() > UNINDEXED_LEAVES {
            self.tree.ensure_index();
        }
        let replica = self.ids.replica(agent);
        let at = self.integrate_cursor(replica, ol, or);
        let lv = self.ids.push(agent, counter, len);
        self.log.push_ins(lv, ilv, len, ol, or);
        self.tree.insert(at, Span::new(ilv, len, false), w);
        self.cache = None;
        self.sibling = Some(Sibling {
            ol,
            or,
            replica,
            last: ilv + len - 1,
        });
    }

    /// Marks items `ilv..ilv + len` deleted (already deleted ones stay deleted). Returns how
    /// many were visible.
    pub(super) fn mark_deleted(&mut self, ilv: u32, len: u32, w: Widths<'_>) -> u32 {
        self.typing = None;
        self.sibling = None;
        let end = ilv + len;
        let mut t = ilv;
        let mut vis = 0;
        while t < end {
            let c = self.tree.locate(t).expect("target is in the tree");
            let (_, k, was) = self.tree.delete_at(c, end - t, w);
            if was {
                vis += k;
            }
            t += k;
        }
        self.cache = None;
        vis
    }
}
