//! The relay server: rooms keyed by document id, each holding a `Doc`; the WebSocket session
//! that speaks [`crate::protocol`]; persistence through [`Store`]; limits.
//!
//! Per room, one lock orders everything: a HELLO is answered and the client joins the fan-out
//! under it (so no update falls between the WELCOME and the first forwarded UPDATE), and an
//! UPDATE is applied, appended to SQLite, acknowledged and forwarded under it, in that order.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use converge::ReplicaId;
use converge::doc::{Doc, DocError};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, mpsc, watch};

use crate::protocol::Frame;
use crate::store::Store;

/// The relay's settings; [`Config::default`] gives the documented defaults.
#[derive(Clone, Debug)]
pub struct Config {
    /// The SQLite database file (created if missing).
    pub db: PathBuf,
    /// A directory of static files served at `/` beside the relay (`--serve`).
    pub serve_dir: Option<PathBuf>,
    /// The largest frame accepted, in bytes; a larger one gets a `FRAME_TOO_LARGE` error.
    /// Frames above twice this size close the connection (the WebSocket layer refuses them).
    pub max_frame: usize,
    /// The most rooms that may exist (in the database); connecting to a new room beyond it
    /// is refused with HTTP 503.
    pub max_rooms: usize,
    /// The most simultaneous connections from one IP address (HTTP 429 beyond it).
    pub max_connections_per_ip: usize,
    /// Compact a room's logged updates into a snapshot after this many.
    pub compact_every: usize,
    /// Memory budget of each room's document (`Doc::with_memory_limit`).
    pub room_memory: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            db: PathBuf::from("converge-relay.sqlite3"),
            serve_dir: None,
            max_frame: 1 << 20,
            max_rooms: 1000,
            max_connections_per_ip: 64,
            compact_every: 256,
            room_memory: 256 << 20,
        }
    }
}

/// Why the relay could not start or a room could not be loaded.
#[derive(Debug)]
#[non_exhaustive]
pub enum RelayError {
    /// SQLite failed.
    Storage(rusqlite::Error),
    /// A stored snapshot could not be loaded.
    Doc(DocError),
    /// A background task failed.
    Task(String),
}

impl core::fmt::Display for RelayError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RelayError::Storage(e) => write!(f, "storage: {e}"),
            RelayError::Doc(e) => write!(f, "stored document: {e}"),
            RelayError::Task(e) => write!(f, "background task: {e}"),
        }
    }
}

impl std::error::Error for RelayError {}

impl From<rusqlite::Error> for RelayError {
    fn from(e: rusqlite::Error) -> Self {
        RelayError::Storage(e)
    }
}

/// A running relay's shared state; cheap to clone.
#[derive(Clone)]
pub struct Relay {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Arc<Store>,
    rooms: Mutex<HashMap<String, Arc<Room>>>,
    conns: std::sync::Mutex<HashMap<IpAddr, usize>>,
    next_client: AtomicU64,
    shutdown: watch::Sender<bool>,
}

struct Room {
    id: String,
    state: Mutex<RoomState>,
}

struct RoomState {
    doc: Doc,
    /// Clients that sent HELLO, by connection number.
    clients: HashMap<u64, mpsc::UnboundedSender<Vec<u8>>>,
    /// Sessions attached to the room (with or without HELLO).
    sessions: usize,
    /// Updates logged since the last snapshot, and the last one's sequence number.
    logged: usize,
    last_seq: i64,
    /// Set when storage failed: the document may hold an update the database lacks, so the
    /// room is dropped and its sessions closed; reconnecting loads it from the database.
    broken: bool,
}

/// Runs `f` on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RelayError> + Send + 'static,
) -> Result<T, RelayError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RelayError::Task(e.to_string()))?
}

fn valid_room_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// Compares without an early exit on the first differing byte.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Releases a connection slot of an IP address when dropped.
struct ConnSlot {
    relay: Relay,
    ip: IpAddr,
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        let mut conns = self
            .relay
            .inner
            .conns
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = conns.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                conns.remove(&self.ip);
            }
        }
    }
}

impl Relay {
    /// Opens the database and prepares an empty set of loaded rooms.
    pub fn open(config: Config) -> Result<Relay, RelayError> {
        let store = Arc::new(Store::open(&config.db)?);
        Ok(Relay {
            inner: Arc::new(Inner {
                config,
                store,
                rooms: Mutex::new(HashMap::new()),
                conns: std::sync::Mutex::new(HashMap::new()),
                next_client: AtomicU64::new(1),
                shutdown: watch::channel(false).0,
            }),
        })
    }

    /// The HTTP routes: `GET /sync/{room}` (WebSocket upgrade, `?token=` optional) and, with
    /// `serve_dir`, the static files.
    pub fn router(&self) -> Router {
        let app = Router::new()
            .route("/sync/{room}", get(upgrade))
            .with_state(self.clone());
        match &self.inner.config.serve_dir {
            Some(dir) => app.fallback_service(tower_http::services::ServeDir::new(dir)),
            None => app,
        }
    }

    /// Serves on `listener` until `shutdown` resolves, then closes every session.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let stop = self.inner.shutdown.clone();
        let app = self
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                shutdown.await;
                // Upgraded connections are not the server's any more: tell each session.
                let _ = stop.send(true);
            })
            .await
    }

    fn take_slot(&self, ip: IpAddr) -> Option<ConnSlot> {
        let mut conns = self.inner.conns.lock().unwrap_or_else(|e| e.into_inner());
        let n = conns.entry(ip).or_default();
        if *n >= self.inner.config.max_connections_per_ip {
            return None;
        }
        *n += 1;
        Some(ConnSlot {
            relay: self.clone(),
            ip,
        })
    }

    /// Checks the token of room `id`, creating the room (with `token`) if it does not exist.
    async fn admit(&self, id: &str, token: Option<String>) -> Result<(), (StatusCode, String)> {
        let store = self.inner.store.clone();
        let max_rooms = self.inner.config.max_rooms;
        let room = id.to_owned();
        let internal = |e: RelayError| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
        // Room creation is serialized by the registry lock so the count cannot overshoot.
        let _rooms = self.inner.rooms.lock().await;
        blocking(move || {
            Ok(match store.token(&room)? {
                Some(Some(expected)) => match token {
                    Some(t) if same_token(&t, &expected) => Ok(()),
                    _ => Err((StatusCode::FORBIDDEN, "a valid token is required".into())),
                },
                Some(None) => Ok(()),
                None if store.room_count()? >= max_rooms => Err((
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the relay holds its maximum number of rooms".into(),
                )),
                None => {
                    store.create(&room, token.as_deref())?;
                    Ok(())
                }
            })
        })
        .await
        .map_err(internal)?
    }

    /// The loaded room `id` (loading it from the database if needed), with one more session.
    async fn join(&self, id: &str) -> Result<Arc<Room>, RelayError> {
        let mut rooms = self.inner.rooms.lock().await;
        if let Some(room) = rooms.get(id) {
            room.state.lock().await.sessions += 1;
            return Ok(room.clone());
        }
        let store = self.inner.store.clone();
        let limit = self.inner.config.room_memory;
        let rid = id.to_owned();
        let state = blocking(move || {
            let stored = store.load(&rid)?.unwrap_or_default();
            let mut doc = match &stored.snapshot {
                Some(s) => Doc::load_with_memory_limit(s, limit).map_err(RelayError::Doc)?,
                None => Doc::with_memory_limit(ReplicaId(0), limit),
            };
            let mut last_seq = 0;
            for (seq, update) in &stored.updates {
                // Every logged update was applied once before it was logged.
                doc.apply_update(update).map_err(RelayError::Doc)?;
                last_seq = *seq;
            }
            Ok(RoomState {
                doc,
                clients: HashMap::new(),
                sessions: 1,
                logged: stored.updates.len(),
                last_seq,
                broken: false,
            })
        })
        .await?;
        let room = Arc::new(Room {
            id: id.to_owned(),
            state: Mutex::new(state),
        });
        rooms.insert(id.to_owned(), room.clone());
        Ok(room)
    }

    /// One session less on `room`; the last one compacts the room and unloads it.
    async fn leave(&self, room: &Arc<Room>, client: u64) {
        let mut rooms = self.inner.rooms.lock().await;
        let mut state = room.state.lock().await;
        state.clients.remove(&client);
        state.sessions -= 1;
        if state.sessions > 0 {
            return;
        }
        if !state.broken && state.logged > 0 {
            if let Err(e) = self.compact(room, &mut state).await {
                eprintln!("converge-relay: compacting room {}: {e}", room.id);
            }
        }
        if rooms.get(&room.id).is_some_and(|r| Arc::ptr_eq(r, room)) {
            rooms.remove(&room.id);
        }
    }

    async fn compact(&self, room: &Room, state: &mut RoomState) -> Result<(), RelayError> {
        let snapshot = state.doc.save().map_err(RelayError::Doc)?;
        let store = self.inner.store.clone();
        let (id, upto) = (room.id.clone(), state.last_seq);
        blocking(move || Ok(store.compact(&id, &snapshot, upto)?)).await?;
        state.logged = 0;
        Ok(())
    }

    /// Drops a room whose storage failed, so the next session reloads it from the database.
    async fn evict(&self, room: &Arc<Room>) {
        let mut rooms = self.inner.rooms.lock().await;
        if rooms.get(&room.id).is_some_and(|r| Arc::ptr_eq(r, room)) {
            rooms.remove(&room.id);
        }
    }

    async fn session(self, socket: WebSocket, room_id: String, _slot: ConnSlot) {
        let (mut sink, mut stream) = socket.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
        let writer = tokio::spawn(async move {
            while let Some(frame) = rx.recv().await {
                if sink.send(Message::Binary(frame.into())).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        let client = self.inner.next_client.fetch_add(1, Ordering::Relaxed);
        let room = match self.join(&room_id).await {
            Ok(room) => room,
            Err(e) => {
                let _ = tx.send(error("STORAGE", &e.to_string()));
                drop(tx);
                let _ = writer.await;
                return;
            }
        };
        let mut stop = self.inner.shutdown.subscribe();
        loop {
            let msg = tokio::select! {
                msg = stream.next() => msg,
                _ = stop.wait_for(|s| *s) => break,
            };
            match msg {
                Some(Ok(Message::Binary(bytes))) => {
                    if !self.on_frame(&room, client, &tx, &bytes).await {
                        break;
                    }
                }
                Some(Ok(Message::Text(_))) => {
                    let _ = tx.send(error(
                        "BAD_FRAME",
                        "text frames are not part of the protocol",
                    ));
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {} // ping and pong
            }
        }
        self.leave(&room, client).await;
        drop(tx);
        let _ = writer.await;
    }

    /// Handles one binary frame; returns false when the session must end.
    async fn on_frame(
        &self,
        room: &Arc<Room>,
        client: u64,
        tx: &mpsc::UnboundedSender<Vec<u8>>,
        bytes: &[u8],
    ) -> bool {
        let max = self.inner.config.max_frame;
        if bytes.len() > max {
            let msg = format!("frame of {} bytes exceeds the limit of {max}", bytes.len());
            let _ = tx.send(error("FRAME_TOO_LARGE", &msg));
            return true;
        }
        let frame = match Frame::decode(bytes) {
            Ok(f) => f,
            Err(e) => {
                let _ = tx.send(error(e.code(), &e.to_string()));
                return true;
            }
        };
        let mut state = room.state.lock().await;
        if state.broken {
            return false;
        }
        match frame {
            Frame::Hello(theirs) => {
                let updates = state.doc.encode_updates_since(&theirs);
                let welcome = Frame::Welcome {
                    version: state.doc.version(),
                    updates: &updates,
                };
                let _ = tx.send(welcome.encode());
                state.clients.insert(client, tx.clone());
            }
            Frame::Update(update) => {
                let before = state.doc.version();
                let report = match state.doc.apply_update(update) {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = tx.send(error(e.code(), &e.to_string()));
                        return true;
                    }
                };
                if report.applied + report.pending > 0 {
                    let store = self.inner.store.clone();
                    let (id, data) = (room.id.clone(), update.to_vec());
                    match blocking(move || Ok(store.append(&id, &data)?)).await {
                        Ok(seq) => {
                            state.last_seq = seq;
                            state.logged += 1;
                        }
                        Err(e) => {
                            let _ = tx.send(error("STORAGE", &e.to_string()));
                            state.broken = true;
                            drop(state);
                            self.evict(room).await;
                            return false;
                        }
                    }
                }
                let _ = tx.send(Frame::Ack(state.doc.version()).encode());
                if report.applied > 0 {
                    forward(&state, client, &state.doc.encode_updates_since(&before));
                }
                if state.logged >= self.inner.config.compact_every {
                    if let Err(e) = self.compact(room, &mut state).await {
                        eprintln!("converge-relay: compacting room {}: {e}", room.id);
                    }
                }
            }
            Frame::Welcome { .. } | Frame::Ack(_) | Frame::Error { .. } => {
                let _ = tx.send(error("BAD_FRAME", "only the relay sends this frame"));
            }
        }
        true
    }
}

/// Sends `updates` to every client of the room but `from`.
fn forward(state: &RoomState, from: u64, updates: &[u8]) {
    let frame = Frame::Update(updates).encode();
    for (&id, tx) in &state.clients {
        if id != from {
            let _ = tx.send(frame.clone());
        }
    }
}

fn error(code: &str, message: &str) -> Vec<u8> {
    Frame::Error { code, message }.encode()
}

async fn upgrade(
    State(relay): State<Relay>,
    Path(room): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ws: WebSocketUpgrade,
) -> Response {
    if !valid_room_id(&room) {
        return (
            StatusCode::BAD_REQUEST,
            "room ids are 1-128 of [A-Za-z0-9._-]",
        )
            .into_response();
    }
    let Some(slot) = relay.take_slot(addr.ip()) else {
        return (StatusCode::TOO_MANY_REQUESTS, "too many connections").into_response();
    };
    if let Err(refused) = relay.admit(&room, query.get("token").cloned()).await {
        return refused.into_response();
    }
    let max = relay.inner.config.max_frame;
    ws.max_message_size(max.saturating_mul(2))
        .max_frame_size(max.saturating_mul(2))
        .on_upgrade(move |socket| relay.session(socket, room, slot))
}
