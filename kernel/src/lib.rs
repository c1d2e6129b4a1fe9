#![doc = include_str!("../../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod clock;
pub mod encoding;
mod error;
pub mod fixed;

#[cfg(feature = "alloc")]
mod causal;
#[cfg(feature = "alloc")]
pub mod counter;
#[cfg(feature = "alloc")]
pub mod crdt;
#[cfg(feature = "alloc")]
pub mod doc;
#[cfg(feature = "alloc")]
pub mod list;
#[cfg(feature = "alloc")]
pub mod map;
#[cfg(feature = "alloc")]
pub mod register;
#[cfg(feature = "alloc")]
pub mod set;
#[cfg(feature = "alloc")]
mod sort;
#[cfg(feature = "alloc")]
pub mod sync;
#[cfg(feature = "alloc")]
pub mod value;
#[cfg(feature = "alloc")]
pub mod version;

pub use clock::{Dot, Lamport, ReplicaId, Timestamp};
pub use encoding::{DecodeError, EncodeError, TypeTag, WireType, decode, encode_to_slice};
#[cfg(feature = "alloc")]
pub use encoding::{decode_with_budget, encode, try_encode};
pub use error::{Error, Result};

#[cfg(feature = "alloc")]
pub use causal::*;
#[cfg(feature = "alloc")]
pub use counter::*;
#[cfg(feature = "alloc")]
pub use crdt::*;
#[cfg(feature = "alloc")]
pub use doc::Doc;
#[cfg(feature = "alloc")]
pub use map::{LwwMap, OrMap, OrMapDelta};
#[cfg(feature = "alloc")]
pub use register::*;
#[cfg(feature = "alloc")]
pub use set::*;
#[cfg(feature = "alloc")]
pub use version::{DotRange, VersionVector};
