//! Inputs shared by the state-CRDT benchmarks (criterion's `state` bench and the S rows of
//! `compare`): the same state built in converge and in the `crdts` crate, and `crdts`'
//! idiomatic LWW-map merge.
//!
//! `crdts` has no LWW map type; its equivalent is a `BTreeMap` of `LWWReg`s merged key by key.

use std::collections::BTreeMap;

use converge::{AwSet, LwwMap, ReplicaId, Timestamp};
use crdts::{CmRDT, CvRDT};

/// `crdts`' LWW map: registers keyed in a `BTreeMap`, marked `(lamport, replica)`.
pub type CrdtsLwwMap = BTreeMap<u64, crdts::LWWReg<u64, (u64, u64)>>;

/// Keys `start..start + n`, each set to `k * 10 + replica` by `replica` at Lamport time
/// `lamport`, in converge and in `crdts`.
pub fn lww_pair(replica: u64, lamport: u64, start: u64, n: u64) -> (LwwMap<u64, u64>, CrdtsLwwMap) {
    let mut ours = LwwMap::new();
    let mut theirs = CrdtsLwwMap::new();
    let ts = Timestamp::new(lamport, ReplicaId(replica));
    for k in start..start + n {
        let v = k * 10 + replica;
        ours.insert_at(ts, k, v);
        theirs.insert(
            k,
            crdts::LWWReg {
                val: v,
                marker: (lamport, replica),
            },
        );
    }
    (ours, theirs)
}

/// Merges `b` into `a` key by key (consumes `b`, as `crdts`' own merges do).
pub fn crdts_lww_merge(a: &mut CrdtsLwwMap, b: CrdtsLwwMap) {
    for (k, reg) in b {
        match a.get_mut(&k) {
            Some(mine) => mine.merge(reg),
            None => {
                a.insert(k, reg);
            }
        }
    }
}

/// Values `start..start + n` added by `replica`, in converge's add-wins set and `crdts`' Orswot.
pub fn set_pair(replica: u64, start: u64, n: u64) -> (AwSet<u64>, crdts::Orswot<u64, u64>) {
    let mut ours = AwSet::new();
    let mut theirs = crdts::Orswot::new();
    let values: Vec<u64> = (start..start + n).collect();
    ours.insert_batch(ReplicaId(replica), &values);
    for v in values {
        let ctx = theirs.read_ctx().derive_add_ctx(replica);
        theirs.apply(theirs.add(v, ctx));
    }
    (ours, theirs)
}

/// Removes `values` from both sets of a [`set_pair`].
pub fn set_remove(ours: &mut AwSet<u64>, theirs: &mut crdts::Orswot<u64, u64>, values: &[u64]) {
    ours.remove_batch(values);
    for v in values {
        let ctx = theirs.contains(v).derive_rm_ctx();
        theirs.apply(theirs.rm(*v, ctx));
    }
}
