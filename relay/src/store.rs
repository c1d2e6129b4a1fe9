//! Durable storage of rooms in SQLite: per room an optional access token, the latest
//! compacted snapshot (`Doc::save`) and the updates accepted since, in the order they were
//! accepted.
//!
//! Invariant: loading a room's snapshot and applying its logged updates in order gives the
//! document as it was when the last update was acknowledged. An update is appended (and the
//! transaction committed with `synchronous = FULL`) before the relay acknowledges or forwards
//! it; compaction writes the new snapshot and deletes the updates it covers in one
//! transaction, so a crash at any point leaves either the old or the new pair.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

/// What is stored for one room.
#[derive(Debug, Default)]
pub struct StoredRoom {
    /// The token a client must present, if the room has one.
    pub token: Option<String>,
    /// The last compacted snapshot.
    pub snapshot: Option<Vec<u8>>,
    /// Updates accepted since the snapshot, oldest first, with their row ids.
    pub updates: Vec<(i64, Vec<u8>)>,
}

/// The relay's database (one SQLite connection behind a mutex; calls block, so the server
/// runs them on tokio's blocking pool).
pub struct Store {
    conn: Mutex<Connection>,
}

/// `Result` with SQLite's error.
pub type Result<T> = rusqlite::Result<T>;

impl Store {
    /// Opens (creating if needed) the database at `path`; `:memory:` keeps it in memory.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS rooms (
                 id TEXT PRIMARY KEY,
                 token TEXT,
                 snapshot BLOB
             );
             CREATE TABLE IF NOT EXISTS updates (
                 seq INTEGER PRIMARY KEY AUTOINCREMENT,
                 room TEXT NOT NULL REFERENCES rooms(id),
                 data BLOB NOT NULL
             );
             CREATE INDEX IF NOT EXISTS updates_room ON updates(room, seq);",
        )?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (it has its own
        // transactions), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The stored room `id`, if it exists.
    pub fn load(&self, id: &str) -> Result<Option<StoredRoom>> {
        let mut conn = self.conn();
        // Both reads in one transaction: another connection to the database (a second relay,
        // or one still shutting down) could compact between them, pairing the old snapshot
        // with none of the updates it did not cover.
        let tx = conn.transaction()?;
        let Some((token, snapshot)) = tx
            .query_row(
                "SELECT token, snapshot FROM rooms WHERE id = ?1",
                params![id],
                |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?,
                        r.get::<_, Option<Vec<u8>>>(1)?,
                    ))
                },
            )
            .optional()?
        else {
            return Ok(None);
        };
        let updates = {
            let mut stmt =
                tx.prepare_cached("SELECT seq, data FROM updates WHERE room = ?1 ORDER BY seq")?;
            stmt.query_map(params![id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<(i64, Vec<u8>)>>>()?
        };
        tx.commit()?;
        Ok(Some(StoredRoom {
            token,
            snapshot,
            updates,
        }))
    }

    /// The token of room `id`: `None` if the room does not exist, `Some(None)` if it is open.
    pub fn token(&self, id: &str) -> Result<Option<Option<String>>> {
        self.conn()
            .query_row("SELECT token FROM rooms WHERE id = ?1", params![id], |r| {
                r.get(0)
            })
            .optional()
    }

    /// How many rooms exist.
    pub fn room_count(&self) -> Result<usize> {
        self.conn()
            .query_row("SELECT COUNT(*) FROM rooms", [], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
    }

    /// Creates room `id` with `token` unless it exists; returns whether it was created.
    pub fn create(&self, id: &str, token: Option<&str>) -> Result<bool> {
        let n = self.conn().execute(
            "INSERT OR IGNORE INTO rooms (id, token) VALUES (?1, ?2)",
            params![id, token],
        )?;
        Ok(n == 1)
    }

    /// Appends an accepted update durably; returns its sequence number.
    pub fn append(&self, id: &str, update: &[u8]) -> Result<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO updates (room, data) VALUES (?1, ?2)",
            params![id, update],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Replaces room `id`'s snapshot with `snapshot`, which covers every update up to and
    /// including sequence number `upto`, and deletes those updates (one transaction).
    pub fn compact(&self, id: &str, snapshot: &[u8], upto: i64) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE rooms SET snapshot = ?2 WHERE id = ?1",
            params![id, snapshot],
        )?;
        tx.execute(
            "DELETE FROM updates WHERE room = ?1 AND seq <= ?2",
            params![id, upto],
        )?;
        tx.commit()
    }

    /// How many logged updates room `id` has beyond its snapshot.
    pub fn log_len(&self, id: &str) -> Result<usize> {
        self.conn()
            .query_row(
                "SELECT COUNT(*) FROM updates WHERE room = ?1",
                params![id],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as usize)
    }
}
