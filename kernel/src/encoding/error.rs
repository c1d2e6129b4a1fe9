//! Errors from decoding untrusted bytes.

use core::fmt;

use super::TypeTag;

/// Why a byte string could not be decoded. Decoding never panics and never changes the
/// value being decoded into: any of these means "nothing happened".
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before the value was complete (truncated message).
    UnexpectedEnd,
    /// The input does not start with the converge magic bytes.
    BadMagic,
    /// The envelope's format version is not one this build understands.
    UnknownVersion {
        /// The version found in the input.
        found: u8,
    },
    /// The envelope holds a different kind of value than the one asked for.
    WrongType {
        /// The tag the caller asked to decode.
        expected: TypeTag,
        /// The raw tag found in the input.
        found: u8,
    },
    /// A length prefix claims more bytes (or elements) than the input has left.
    LengthTooLarge {
        /// The declared length.
        declared: u64,
        /// What was actually left.
        remaining: u64,
    },
    /// Decoding would allocate more than the memory budget allows.
    BudgetExceeded,
    /// The bytes are well-formed postcard but break an invariant of the value (unsorted
    /// entries, zero counters, an id pointing at nothing, ...).
    Invalid(&'static str),
    /// The bytes are not a valid encoding of the expected value.
    Malformed,
    /// Bytes were left over after the value.
    TrailingBytes {
        /// How many bytes were left.
        count: usize,
    },
}

/// What decoding reports for an unknown enum variant or a value whose own checks fail: serde
/// routes both through `Error::custom`, and postcard keeps no message, so the serde path and
/// the hand-written codec (`codec`) both give this one value.
pub(crate) const REJECTED: DecodeError = DecodeError::Invalid("rejected by the value's own checks");

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnexpectedEnd => f.write_str("input ended unexpectedly (truncated)"),
            DecodeError::BadMagic => f.write_str("not converge data (bad magic bytes)"),
            DecodeError::UnknownVersion { found } => {
                write!(f, "unknown wire format version {found}")
            }
            DecodeError::WrongType { expected, found } => {
                write!(f, "expected a {expected:?} but found type tag {found}")
            }
            DecodeError::LengthTooLarge {
                declared,
                remaining,
            } => write!(
                f,
                "length prefix {declared} exceeds the {remaining} bytes remaining"
            ),
            DecodeError::BudgetExceeded => f.write_str("decoding would exceed the memory budget"),
            DecodeError::Invalid(why) => write!(f, "invalid value: {why}"),
            DecodeError::Malformed => f.write_str("malformed encoding"),
            DecodeError::TrailingBytes { count } => {
                write!(f, "{count} unexpected byte(s) after the value")
            }
        }
    }
}

impl core::error::Error for DecodeError {}

/// Why a value could not be encoded. Encoding into a caller's buffer never panics: a buffer
/// that is too small is reported here, and the buffer's contents are then unspecified.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The output buffer cannot hold the message.
    BufferTooSmall {
        /// Bytes the whole message (envelope and payload) needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
    /// The payload is longer than the envelope's `u32` length field can describe.
    PayloadTooLarge {
        /// The payload's length in bytes.
        len: usize,
    },
    /// The value's `Serialize` impl failed (for example, a sequence of unknown length, which
    /// postcard cannot write). Never happens for the kernel's own types.
    Unserializable,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::BufferTooSmall { needed, available } => write!(
                f,
                "output buffer too small: message needs {needed} bytes, buffer has {available}"
            ),
            EncodeError::PayloadTooLarge { len } => {
                write!(f, "payload of {len} bytes exceeds the format's 4 GiB limit")
            }
            EncodeError::Unserializable => f.write_str("the value could not be serialized"),
        }
    }
}

impl core::error::Error for EncodeError {}
