//! Export: the operations a peer lacks, rebuilt from the op log and the ids.
//!
//! Nothing is kept in wire form: an op is made on demand from an insert run (with its
//! origins turned back into ids) or a delete run (with its targets), cut so that each op
//! holds consecutive counters of one replica.
//!
//! Invariant: the ops come out in local order, which is causal, so a peer can apply them as
//! they come; applying them to a replica that holds `since` gives it every exported event.

use alloc::vec::Vec;

use super::super::content::Store;
use super::super::ops::{SequenceOp, SequenceOps};
use super::super::tree::NONE;
use super::{Core, Seq};
use crate::clock::Dot;
use crate::version::VersionVector;

impl<S: Store> Seq<S> {
    /// The ops of the events this replica has that `since` lacks and (when given) `until`
    /// holds, in local (causal) order.
    pub(crate) fn ops_between(
        &self,
        since: &VersionVector,
        until: Option<&VersionVector>,
    ) -> SequenceOps<S::Chunk> {
        let ranges = self.core.ids.lv_ranges_between(since, until);
        self.ops_of_lvs(&ranges)
    }

    /// The ops of the events in the sorted, disjoint lv ranges `ranges`, in local order.
    pub(super) fn ops_of_lvs(&self, ranges: &[(u32, u32)]) -> SequenceOps<S::Chunk> {
        let mut out = Vec::new();
        for &(a, b) in ranges {
            let mut lv = a;
            while lv < b {
                if let Some(r) = self.core.log.ins_by_lv(lv) {
                    let k = (r.lv + r.len).min(b) - lv;
                    // Keep each op inside one replica's contiguous counters.
                    let lr = self.core.ids.lv_run(lv);
                    let k = k.min(lr.lv + lr.len - lv);
                    let ilv = r.ilv + (lv - r.lv);
                    let ol = if lv == r.lv { r.ol } else { ilv - 1 };
                    out.push(SequenceOp::Insert {
                        id: self.core.ids.dot(lv),
                        origin_left: self.core.dot_of_ilv(ol),
                        origin_right: self.core.dot_of_ilv(r.or),
                        content: self.store.chunk(ilv, k),
                    });
                    lv += k;
                } else {
                    let r = *self
                        .core
                        .log
                        .del_by_lv(lv)
                        .expect("every lv is an insert or a delete");
                    let lr = self.core.ids.lv_run(lv);
                    let mut k = (r.lv + r.len).min(b).min(lr.lv + lr.len) - lv;
                    let off = lv - r.lv;
                    let mut t = if r.rev {
                        r.target - off
                    } else {
                        r.target + off
                    };
                    while k > 0 {
                        let ir = *self.core.log.ins_by_ilv(t);
                        let tlv = ir.lv + (t - ir.ilv);
                        let tr = self.core.ids.lv_run(tlv);
                        let piece = if r.rev {
                            k.min(t - ir.ilv + 1).min(tlv - tr.lv + 1)
                        } else {
                            k.min(ir.ilv + ir.len - t).min(tr.lv + tr.len - tlv)
                        };
                        out.push(SequenceOp::Delete {
                            id: self.core.ids.dot(lv),
                            len: u64::from(piece),
                            target: self.core.ids.dot(tlv),
                            reversed: r.rev && piece > 1,
                        });
                        lv += piece;
                        k -= piece;
                        t = if r.rev {
                            t.wrapping_sub(piece)
                        } else {
                            t + piece
                        };
                    }
                }
            }
        }
        SequenceOps { ops: out }
    }
}

impl Core {
    /// The id of the event that inserted item `ilv` (`None` for [`NONE`]).
    fn dot_of_ilv(&self, ilv: u32) -> Option<Dot> {
        (ilv != NONE).then(|| self.ids.dot(self.log.ilv_to_lv(ilv)))
    }
}
