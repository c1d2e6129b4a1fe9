//! Change events: what a committed local batch or an applied remote update changed, in the
//! shape a UI subscribes to (a container, and the keys or range inside it).
//!
//! Events describe the visible difference between the state before and after, not the
//! operations: a write that loses to a newer one, or a delete of something already gone,
//! produces no change.

use alloc::string::String;
use alloc::vec::Vec;

use crate::value::ContainerId;

/// Where the changes of an event came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeOrigin {
    /// A local transaction (or single edit) was committed.
    Local,
    /// Remote updates were applied.
    Remote,
}

/// What changed inside one container.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Changed {
    /// These map keys now read differently (set, overwritten or removed), in ascending order.
    Keys(Vec<String>),
    /// In a list or text: one range that covers the edit. Positions
    /// `start .. start + removed` of the old content were replaced by
    /// `start .. start + inserted` of the new one (chars for text, elements for lists);
    /// everything before and after it is unchanged. It spans from the first item the batch
    /// inserted or deleted to the last, so unchanged items between two edits are inside it,
    /// and an item deleted again by a concurrent update widens it to that item's place.
    Range {
        /// First changed position.
        start: usize,
        /// Old positions replaced.
        removed: usize,
        /// New positions in their place.
        inserted: usize,
    },
    /// A counter, register or set has a new value.
    Value,
}

/// One container's change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The container that changed.
    pub container: ContainerId,
    /// What changed in it.
    pub what: Changed,
}

/// Everything one committed batch or one `apply_update` call changed, one entry per changed
/// container, in container-id order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeEvent {
    /// Local or remote.
    pub origin: ChangeOrigin,
    /// The changed containers.
    pub changes: Vec<Change>,
}

impl ChangeEvent {
    /// Whether nothing visible changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The change to `container`, if it changed.
    pub fn get(&self, container: ContainerId) -> Option<&Changed> {
        self.changes
            .iter()
            .find(|c| c.container == container)
            .map(|c| &c.what)
    }
}
