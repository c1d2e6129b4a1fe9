//! The relay over real sockets on 127.0.0.1: a tokio-tungstenite client per peer, each with
//! its own `Doc`, speaking the relay protocol.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use converge::doc::{ContainerId, ContainerKind, Doc};
use converge::{ReplicaId, VersionVector};
use converge_relay::protocol::{Frame, HELLO, UPDATE};
use converge_relay::store::Store;
use converge_relay::{Config, Relay};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

const WAIT: Duration = Duration::from_secs(10);

fn notes() -> ContainerId {
    ContainerId::root("notes", ContainerKind::Text)
}

struct Server {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

async fn start(config: Config) -> Server {
    let relay = Relay::open(config).expect("relay opens");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        relay
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    Server { addr, stop, task }
}

impl Server {
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("relay stops")
            .unwrap();
    }
}

fn config(db: &Path) -> Config {
    Config {
        db: db.to_path_buf(),
        ..Config::default()
    }
}

struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    doc: Doc,
}

async fn open(addr: SocketAddr, path: &str, replica: u64) -> Result<Client, tungstenite::Error> {
    let (ws, _) = connect_async(format!("ws://{addr}/sync/{path}")).await?;
    Ok(Client {
        ws,
        doc: Doc::new(ReplicaId(replica)),
    })
}

impl Client {
    async fn send(&mut self, bytes: Vec<u8>) {
        self.ws.send(Message::Binary(bytes.into())).await.unwrap();
    }

    /// The next binary frame's bytes.
    async fn next(&mut self) -> Vec<u8> {
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a frame in time")
                .expect("connection open")
                .expect("no socket error");
            match msg {
                Message::Binary(b) => return b.to_vec(),
                Message::Close(c) => panic!("closed: {c:?}"),
                _ => {}
            }
        }
    }

    /// HELLO, apply the WELCOME, send what the relay lacks; returns the relay's version.
    async fn hello(&mut self) -> VersionVector {
        self.send(Frame::Hello(self.doc.version()).encode()).await;
        let bytes = self.next().await;
        let Frame::Welcome { version, updates } = Frame::decode(&bytes).unwrap() else {
            panic!("expected WELCOME, got {bytes:?}");
        };
        self.doc.apply_update(updates).unwrap();
        if !version.dominates(&self.doc.version()) {
            let missing = self.doc.encode_updates_since(&version);
            self.send(Frame::Update(&missing).encode()).await;
            self.ack().await;
        }
        version
    }

    /// Waits for the ACK of the last UPDATE, applying forwarded updates meanwhile.
    async fn ack(&mut self) -> VersionVector {
        loop {
            let bytes = self.next().await;
            match Frame::decode(&bytes).unwrap() {
                Frame::Ack(v) => return v,
                Frame::Update(u) => {
                    self.doc.apply_update(u).unwrap();
                }
                other => panic!("expected ACK, got {other:?}"),
            }
        }
    }

    /// Types `s` at the end of the text and sends it; returns the ACK's version.
    async fn type_text(&mut self, s: &str) -> VersionVector {
        let before = self.doc.version();
        let end = self.doc.text_len(notes()).unwrap();
        self.doc.text_insert(notes(), end, s).unwrap();
        self.send(Frame::Update(&self.doc.encode_updates_since(&before)).encode())
            .await;
        self.ack().await
    }

    /// Applies forwarded updates until this doc's version reaches `target`.
    async fn catch_up(&mut self, target: &VersionVector) {
        while !self.doc.version().dominates(target) {
            let bytes = self.next().await;
            match Frame::decode(&bytes).unwrap() {
                Frame::Update(u) => {
                    self.doc.apply_update(u).unwrap();
                }
                other => panic!("expected UPDATE, got {other:?}"),
            }
        }
    }

    async fn expect_error(&mut self) -> String {
        let bytes = self.next().await;
        match Frame::decode(&bytes).unwrap() {
            Frame::Error { code, .. } => code.to_owned(),
            other => panic!("expected ERROR, got {other:?}"),
        }
    }

    fn text(&self) -> String {
        self.doc.text(notes()).unwrap()
    }
}

fn http_status(err: tungstenite::Error) -> u16 {
    match err {
        tungstenite::Error::Http(resp) => resp.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

#[tokio::test]
async fn handshake_exchanges_what_each_side_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(config(&dir.path().join("db"))).await;

    // A edited before connecting: the relay is empty, so A sends everything.
    let mut a = open(server.addr, "doc1", 1).await.unwrap();
    a.doc.text_insert(notes(), 0, "hello").unwrap();
    let relay_had = a.hello().await;
    assert!(relay_had.is_empty());

    // B also edited offline: the WELCOME brings A's text, B sends its own, A receives it.
    let mut b = open(server.addr, "doc1", 2).await.unwrap();
    b.doc.text_insert(notes(), 0, "world").unwrap();
    let relay_had = b.hello().await;
    assert_eq!(relay_had, a.doc.version());
    a.catch_up(&b.doc.version()).await;
    assert_eq!(a.text(), b.text());
    assert_eq!(a.text().len(), "helloworld".len());
    server.stop().await;
}

#[tokio::test]
async fn updates_fan_out_to_the_other_clients_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(config(&dir.path().join("db"))).await;
    let mut clients = Vec::new();
    for r in 1..=3 {
        let mut c = open(server.addr, "room", r).await.unwrap();
        c.hello().await;
        clients.push(c);
    }
    let v = clients[0].type_text("abc").await;
    assert_eq!(v, clients[0].doc.version());
    for c in &mut clients[1..] {
        c.catch_up(&v).await;
        assert_eq!(c.text(), "abc");
    }
    // The sender's next frame is B's edit, not an echo of its own.
    let v = clients[1].type_text("def").await;
    let bytes = clients[0].next().await;
    let Frame::Update(u) = Frame::decode(&bytes).unwrap() else {
        panic!("expected UPDATE");
    };
    let report = clients[0].doc.apply_update(u).unwrap();
    assert_eq!((report.applied, report.duplicates), (1, 0));
    assert_eq!(clients[0].doc.version(), v);
    assert_eq!(clients[0].text(), "abcdef");
    server.stop().await;
}

#[tokio::test]
async fn acknowledged_updates_are_durable_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let server = start(Config {
        compact_every: 3,
        ..config(&db)
    })
    .await;
    let mut a = open(server.addr, "keep", 1).await.unwrap();
    a.hello().await;
    for word in ["one ", "two ", "three ", "four ", "five"] {
        let acked = a.type_text(word).await;
        // Acknowledged means on disk: a second connection to the database sees it now.
        let stored = Store::open(&db).unwrap().load("keep").unwrap().unwrap();
        let mut doc = match &stored.snapshot {
            Some(s) => Doc::load(s).unwrap(),
            None => Doc::new(ReplicaId(9)),
        };
        for (_, u) in &stored.updates {
            doc.apply_update(u).unwrap();
        }
        assert_eq!(doc.version(), acked);
    }
    // Five updates with compaction every three: a snapshot plus a log.
    let stored = Store::open(&db).unwrap().load("keep").unwrap().unwrap();
    assert!(stored.snapshot.is_some());
    assert_eq!(stored.updates.len(), 2);
    let expected = a.text();
    server.stop().await;

    let server = start(config(&db)).await;
    let mut b = open(server.addr, "keep", 2).await.unwrap();
    b.hello().await;
    assert_eq!(b.text(), expected);
    assert_eq!(b.text(), "one two three four five");
    server.stop().await;
}

#[tokio::test]
async fn malformed_frames_get_errors_and_the_room_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(Config {
        max_frame: 4096,
        ..config(&dir.path().join("db"))
    })
    .await;
    let mut a = open(server.addr, "room", 1).await.unwrap();
    let mut b = open(server.addr, "room", 2).await.unwrap();
    a.hello().await;
    b.hello().await;
    b.type_text("safe").await;
    a.catch_up(&b.doc.version()).await;
    let before = Store::open(&dir.path().join("db"))
        .unwrap()
        .log_len("room")
        .unwrap();

    a.ws.send(Message::Text("hello".into())).await.unwrap();
    assert_eq!(a.expect_error().await, "BAD_FRAME");
    a.send(vec![]).await;
    assert_eq!(a.expect_error().await, "BAD_FRAME");
    a.send(vec![0x42, 1, 2]).await;
    assert_eq!(a.expect_error().await, "BAD_FRAME");
    a.send(vec![HELLO, 0xff, 0xff, 0xff]).await;
    assert_eq!(a.expect_error().await, "BAD_FRAME");
    a.send(vec![UPDATE, 1, 2, 3, 4, 5]).await;
    assert_eq!(a.expect_error().await, "DECODE");
    let mut big = vec![UPDATE];
    big.resize(5000, 7);
    a.send(big).await;
    assert_eq!(a.expect_error().await, "FRAME_TOO_LARGE");
    // A frame tag only the relay sends.
    a.send(Frame::Ack(VersionVector::new()).encode()).await;
    assert_eq!(a.expect_error().await, "BAD_FRAME");

    // Nothing bad was stored, and both clients go on editing.
    let after = Store::open(&dir.path().join("db"))
        .unwrap()
        .log_len("room")
        .unwrap();
    assert_eq!(before, after);
    a.type_text(" and sound").await;
    b.catch_up(&a.doc.version()).await;
    assert_eq!(b.text(), "safe and sound");
    assert_eq!(a.text(), b.text());
    server.stop().await;
}

#[tokio::test]
async fn many_clients_converge() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(config(&dir.path().join("db"))).await;
    let n = 24;
    let mut clients = Vec::new();
    for r in 0..n {
        let mut c = open(server.addr, "crowd", 100 + r).await.unwrap();
        c.hello().await;
        clients.push(c);
    }
    // Everyone types concurrently.
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            tokio::spawn(async move {
                c.type_text(&format!("<{i}>")).await;
                c
            })
        })
        .collect();
    let mut clients = Vec::new();
    for t in tasks {
        clients.push(t.await.unwrap());
    }
    let mut all = VersionVector::new();
    for c in &clients {
        all.merge(&c.doc.version());
    }
    assert_eq!(all.len(), n as usize);
    for c in &mut clients {
        c.catch_up(&all).await;
    }
    let text = clients[0].text();
    for i in 0..n {
        assert!(text.contains(&format!("<{i}>")), "{text}");
    }
    for c in &clients {
        assert_eq!(c.text(), text);
    }
    // A late joiner gets the same.
    let mut late = open(server.addr, "crowd", 999).await.unwrap();
    late.hello().await;
    assert_eq!(late.text(), text);
    server.stop().await;
}

#[tokio::test]
async fn a_room_token_keeps_other_clients_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(config(&dir.path().join("db"))).await;
    let mut owner = open(server.addr, "secret?token=s3cret", 1).await.unwrap();
    owner.hello().await;
    owner.type_text("private").await;

    let no_token = open(server.addr, "secret", 2).await.err().expect("refused");
    assert_eq!(http_status(no_token), 403);
    let wrong = open(server.addr, "secret?token=guess", 3)
        .await
        .err()
        .expect("refused");
    assert_eq!(http_status(wrong), 403);

    let mut friend = open(server.addr, "secret?token=s3cret", 4).await.unwrap();
    friend.hello().await;
    assert_eq!(friend.text(), "private");
    // A room created without a token stays open.
    let mut open_room = open(server.addr, "public", 5).await.unwrap();
    open_room.hello().await;
    server.stop().await;
}

#[tokio::test]
async fn limits_on_rooms_and_connections() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(Config {
        max_rooms: 2,
        max_connections_per_ip: 3,
        ..config(&dir.path().join("db"))
    })
    .await;
    let a = open(server.addr, "r1", 1).await.unwrap();
    let b = open(server.addr, "r2", 2).await.unwrap();
    assert_eq!(
        http_status(open(server.addr, "r3", 3).await.err().unwrap()),
        503
    );
    let c = open(server.addr, "r1", 4).await.unwrap();
    assert_eq!(
        http_status(open(server.addr, "r1", 5).await.err().unwrap()),
        429
    );
    drop((a, b, c));
    assert_eq!(
        http_status(open(server.addr, "bad!id", 6).await.err().unwrap()),
        400
    );
    server.stop().await;
}
