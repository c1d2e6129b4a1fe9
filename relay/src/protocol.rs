//! The relay protocol's frames: what a client and the relay say to each other over one
//! WebSocket (binary messages only). Shared by the relay and by every client (the browser
//! binding links this module with the `server` feature off).
//!
//! Every frame is one binary WebSocket message: a one-byte tag, then the payload.
//!
//! | tag  | name    | direction      | payload                                                        |
//! |------|---------|----------------|----------------------------------------------------------------|
//! | 0x01 | HELLO   | client → relay | the client's version vector (`converge::encode`)                 |
//! | 0x02 | UPDATE  | both           | an update message (`encode_updates_since` / `apply_update`)    |
//! | 0x03 | WELCOME | relay → client | `u32` LE length `n`, `n` bytes of the relay's version vector, then the updates the client lacks |
//! | 0x04 | ACK     | relay → client | the relay's version vector once the client's UPDATE is stored    |
//! | 0x05 | ERROR   | relay → client | UTF-8 text `CODE: message`                                      |
//!
//! Every UPDATE a client sends is answered by exactly one ACK or one ERROR, in the order sent.
//! See `docs/sync.md`, "Relay protocol", for the whole exchange.

use converge::VersionVector;

/// Tag of HELLO: the client's version vector.
pub const HELLO: u8 = 0x01;
/// Tag of UPDATE: an update message.
pub const UPDATE: u8 = 0x02;
/// Tag of WELCOME: the relay's version vector and what the client lacks.
pub const WELCOME: u8 = 0x03;
/// Tag of ACK: the relay's version vector after storing an update.
pub const ACK: u8 = 0x04;
/// Tag of ERROR: a refused frame.
pub const ERROR: u8 = 0x05;

/// One decoded frame. Payloads are borrowed from the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// Client → relay: the client's version vector.
    Hello(VersionVector),
    /// Both ways: an update message.
    Update(&'a [u8]),
    /// Relay → client: the relay's version vector and the updates the client lacks.
    Welcome {
        /// What the relay has; the client answers with the updates beyond it.
        version: VersionVector,
        /// An update message with what the client's HELLO lacked.
        updates: &'a [u8],
    },
    /// Relay → client: an UPDATE was stored durably; the relay's version vector after it.
    Ack(VersionVector),
    /// Relay → client: a frame was refused.
    Error {
        /// A stable code (`FRAME_TOO_LARGE`, `BAD_FRAME`, or a `DocError::code()`).
        code: &'a str,
        /// A human-readable message.
        message: &'a str,
    },
}

/// Why a frame could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// The message has no tag byte.
    Empty,
    /// The tag is not one of this protocol's.
    UnknownTag(u8),
    /// A version vector or length prefix is malformed.
    BadPayload,
}

impl FrameError {
    /// A stable code for ERROR frames.
    pub fn code(self) -> &'static str {
        "BAD_FRAME"
    }
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FrameError::Empty => f.write_str("empty frame"),
            FrameError::UnknownTag(t) => write!(f, "unknown frame tag 0x{t:02x}"),
            FrameError::BadPayload => f.write_str("malformed frame payload"),
        }
    }
}

impl std::error::Error for FrameError {}

impl<'a> Frame<'a> {
    /// Decodes one binary message.
    pub fn decode(bytes: &'a [u8]) -> Result<Frame<'a>, FrameError> {
        let (&tag, payload) = bytes.split_first().ok_or(FrameError::Empty)?;
        let vv =
            |b: &[u8]| converge::decode::<VersionVector>(b).map_err(|_| FrameError::BadPayload);
        match tag {
            HELLO => Ok(Frame::Hello(vv(payload)?)),
            UPDATE => Ok(Frame::Update(payload)),
            WELCOME => {
                let (len, rest) = payload.split_at_checked(4).ok_or(FrameError::BadPayload)?;
                let n = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
                let (version, updates) = rest.split_at_checked(n).ok_or(FrameError::BadPayload)?;
                Ok(Frame::Welcome {
                    version: vv(version)?,
                    updates,
                })
            }
            ACK => Ok(Frame::Ack(vv(payload)?)),
            ERROR => {
                let text = core::str::from_utf8(payload).map_err(|_| FrameError::BadPayload)?;
                let (code, message) = text.split_once(": ").unwrap_or((text, ""));
                Ok(Frame::Error { code, message })
            }
            other => Err(FrameError::UnknownTag(other)),
        }
    }

    /// Encodes the frame as one binary message.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Frame::Hello(v) => tagged(HELLO, &[&converge::encode(v)]),
            Frame::Update(u) => tagged(UPDATE, &[u]),
            Frame::Welcome { version, updates } => {
                let v = converge::encode(version);
                let len = u32::try_from(v.len()).expect("a version vector under 4 GiB");
                tagged(WELCOME, &[&len.to_le_bytes(), &v, updates])
            }
            Frame::Ack(v) => tagged(ACK, &[&converge::encode(v)]),
            Frame::Error { code, message } => {
                tagged(ERROR, &[code.as_bytes(), b": ", message.as_bytes()])
            }
        }
    }
}

fn tagged(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + parts.iter().map(|p| p.len()).sum::<usize>());
    out.push(tag);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use converge::ReplicaId;

    #[test]
    fn frames_round_trip() {
        let v = VersionVector::from_entries([(ReplicaId(3), 7), (ReplicaId(9), 1)]);
        let frames = [
            Frame::Hello(v.clone()),
            Frame::Update(b"abc"),
            Frame::Welcome {
                version: v.clone(),
                updates: b"xyz",
            },
            Frame::Ack(v),
            Frame::Error {
                code: "BAD_FRAME",
                message: "unknown frame tag 0x09",
            },
        ];
        for f in frames {
            assert_eq!(Frame::decode(&f.encode()), Ok(f.clone()));
        }
    }

    #[test]
    fn malformed_frames_are_errors() {
        assert_eq!(Frame::decode(&[]), Err(FrameError::Empty));
        assert_eq!(Frame::decode(&[0x42, 1]), Err(FrameError::UnknownTag(0x42)));
        assert_eq!(
            Frame::decode(&[WELCOME, 9, 0, 0, 0, 1]),
            Err(FrameError::BadPayload)
        );
        assert_eq!(
            Frame::decode(&[HELLO, 0xff, 0xff]),
            Err(FrameError::BadPayload)
        );
    }
}
