//! Change events and the foreign listener interface they are delivered through.

use converge::doc::{self as k};

use crate::value::ContainerId;

/// Where an event's changes came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum ChangeOrigin {
    /// A local edit or transaction was committed.
    Local,
    /// Remote updates were applied.
    Remote,
}

/// What changed inside one container.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Changed {
    /// These map keys now read differently, in ascending order.
    Keys {
        /// The keys.
        keys: Vec<String>,
    },
    /// In a list or text: positions `start .. start + removed` of the old content were
    /// replaced by `start .. start + inserted` of the new one (chars for text).
    Range {
        /// First changed position.
        start: i32,
        /// Old positions replaced.
        removed: i32,
        /// New positions in their place.
        inserted: i32,
    },
    /// A counter, register or set has a new value.
    NewValue,
    /// A kind of change this binding does not know yet: re-read the container.
    Other,
}

/// One container's change.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Change {
    /// The container that changed.
    pub container: ContainerId,
    /// Its root name, for a root this document has named.
    pub root_name: Option<String>,
    /// What changed in it.
    pub what: Changed,
}

/// Everything one committed edit, transaction or `applyUpdate` call changed.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ChangeEvent {
    /// Local or remote.
    pub origin: ChangeOrigin,
    /// One entry per changed container, in container-id order.
    pub changes: Vec<Change>,
}

impl ChangeEvent {
    /// The kernel's event, with the root names `doc` knows.
    pub(crate) fn from_kernel(doc: &k::Doc, e: k::ChangeEvent) -> Self {
        let origin = match e.origin {
            k::ChangeOrigin::Local => ChangeOrigin::Local,
            k::ChangeOrigin::Remote => ChangeOrigin::Remote,
        };
        let changes = e
            .changes
            .into_iter()
            .map(|c| Change {
                container: c.container.into(),
                root_name: doc.root_name(c.container).map(str::to_owned),
                what: match c.what {
                    k::Changed::Keys(keys) => Changed::Keys { keys },
                    k::Changed::Range {
                        start,
                        removed,
                        inserted,
                    } => Changed::Range {
                        start: crate::doc::to_i32(start),
                        removed: crate::doc::to_i32(removed),
                        inserted: crate::doc::to_i32(inserted),
                    },
                    k::Changed::Value => Changed::NewValue,
                    _ => Changed::Other,
                },
            })
            .collect();
        ChangeEvent { origin, changes }
    }
}

/// Receives a document's change events; implemented in Kotlin or Swift.
///
/// Called after the call that caused the change has finished its work and released the
/// document's lock, on the thread that made that call, so the listener may read or edit the
/// document. A listener must not throw.
#[uniffi::export(with_foreign)]
pub trait ChangeListener: Send + Sync {
    /// One committed edit, transaction or applied update.
    fn on_change(&self, event: ChangeEvent);
}
