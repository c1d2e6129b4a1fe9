//! `converge-relay`: a WebSocket relay for converge documents.
//!
//! Rooms are keyed by document id; each holds a [`converge::Doc`]. A client connects to
//! `/sync/{room}` (optionally `?token=...`), sends its version vector, receives what it lacks
//! and the relay's version vector, sends what the relay lacks, and from then on exchanges
//! updates; the relay forwards every accepted update to the room's other clients. Every
//! accepted update is appended to SQLite before it is acknowledged or forwarded, and a room's
//! log is compacted into a snapshot (`Doc::save`) every so many updates and when its last
//! client leaves. The frames are in [`protocol`]; the exchange is described in
//! `docs/sync.md`, "Relay protocol".
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use converge_relay::{Config, Relay};
//! let relay = Relay::open(Config::default())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8787").await?;
//! relay.serve(listener, std::future::pending()).await?;
//! # Ok(()) }
//! ```
//!
//! With the `server` feature off, only [`protocol`] is built (no tokio, no SQLite), for
//! clients such as the browser binding.

pub mod protocol;
#[cfg(feature = "server")]
mod server;
#[cfg(feature = "server")]
pub mod store;

#[cfg(feature = "server")]
pub use server::{Config, Relay, RelayError};
