//! Syncing a [`DocHandle`] in the browser: the relay over WebSocket, other tabs over a
//! `BroadcastChannel`, and a snapshot in IndexedDB.
//!
//! The WebSocket side speaks `converge_relay::protocol`: on open it sends HELLO with the
//! document's version; the WELCOME brings what the relay had that this tab lacked and the
//! relay's version, and the tab answers with an UPDATE of everything beyond it (so edits made
//! offline go out on reconnect). From then on each change not received from the relay is
//! sent as an UPDATE of what the relay has not been sent yet, and each ACK raises the version
//! the relay has confirmed storing. "Pending" means the document holds updates the relay has
//! not confirmed.
//!
//! Browsers keep WebSockets open when the network is declared lost, so the transport also
//! closes its socket on the window's `offline` event and reconnects on `online`. A closed
//! socket is reopened after 0.5 s, doubling up to 10 s between attempts.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use converge::VersionVector;
use converge_relay::protocol::Frame;
use js_sys::{ArrayBuffer, Uint8Array};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, BroadcastChannel, IdbDatabase, MessageEvent, WebSocket};

use crate::{DocHandle, Source, storage};

/// What the sync status shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncStatus {
    /// The relay answered our HELLO and the socket is open.
    pub connected: bool,
    /// The document holds updates the relay has not acknowledged storing.
    pub pending: bool,
}

/// The running sync of one document; its signals drive a status display.
#[derive(Clone)]
pub struct SyncHandle {
    status: Signal<SyncStatus>,
}

impl SyncHandle {
    /// Connected or not, and whether changes are pending.
    pub fn status(&self) -> Signal<SyncStatus> {
        self.status
    }
}

type Callback = Closure<dyn FnMut(JsValue)>;

struct Relay {
    doc: DocHandle,
    url: String,
    socket: RefCell<Option<WebSocket>>,
    /// The relay's WELCOME arrived on the current socket.
    ready: Cell<bool>,
    /// What the relay has or has been sent on the current socket.
    sent: RefCell<VersionVector>,
    confirmed: ArcRwSignal<VersionVector>,
    connected: ArcRwSignal<bool>,
    attempts: Cell<u32>,
    /// Closures of the current socket, kept alive while it is.
    callbacks: RefCell<Vec<Callback>>,
}

fn online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

fn bytes_of(data: &JsValue) -> Option<Vec<u8>> {
    if let Some(buf) = data.dyn_ref::<ArrayBuffer>() {
        return Some(Uint8Array::new(buf).to_vec());
    }
    data.dyn_ref::<Uint8Array>().map(Uint8Array::to_vec)
}

fn after(ms: i32, f: impl FnOnce() + 'static) {
    if let Some(w) = web_sys::window() {
        let cb = Closure::once_into_js(f);
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), ms);
    }
}

impl Relay {
    fn open(self: &Rc<Self>) {
        if self.socket.borrow().is_some() || !online() {
            return;
        }
        let Ok(ws) = WebSocket::new(&self.url) else {
            self.retry();
            return;
        };
        ws.set_binary_type(BinaryType::Arraybuffer);
        let me = self.clone();
        let on_open = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            let hello = Frame::Hello(me.doc.version()).encode();
            if let Some(ws) = me.socket.borrow().as_ref() {
                let _ = ws.send_with_u8_array(&hello);
            }
        });
        let me = self.clone();
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let e: MessageEvent = e.unchecked_into();
            if let Some(bytes) = bytes_of(&e.data()) {
                me.on_frame(&bytes);
            }
        });
        let me = self.clone();
        let socket = ws.clone();
        let on_close = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            // Only the current socket's close counts.
            let current = me.socket.borrow().as_ref().is_some_and(|s| *s == socket);
            if current {
                me.closed();
                me.retry();
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        *self.callbacks.borrow_mut() = vec![on_open, on_message, on_close];
        *self.socket.borrow_mut() = Some(ws);
    }

    fn closed(&self) {
        if let Some(ws) = self.socket.borrow_mut().take() {
            ws.set_onclose(None);
            let _ = ws.close();
        }
        self.ready.set(false);
        self.connected.set(false);
    }

    fn retry(self: &Rc<Self>) {
        let n = self.attempts.get();
        self.attempts.set(n.saturating_add(1));
        let delay = (500i32 << n.min(5)).min(10_000);
        let me = self.clone();
        after(delay, move || me.open());
    }

    fn send(&self, frame: &[u8]) {
        if let Some(ws) = self.socket.borrow().as_ref() {
            let _ = ws.send_with_u8_array(frame);
        }
    }

    /// Sends everything the relay has not been sent on this socket.
    fn flush(&self) {
        if !self.ready.get() {
            return;
        }
        let version = self.doc.version();
        if self.sent.borrow().dominates(&version) {
            return;
        }
        let updates = self.doc.encode_updates_since(&self.sent.borrow());
        self.send(&Frame::Update(&updates).encode());
        self.sent.borrow_mut().merge(&version);
    }

    fn confirm(&self, v: &VersionVector) {
        self.confirmed.update(|c| c.merge(v));
        self.sent.borrow_mut().merge(v);
    }

    fn on_frame(&self, bytes: &[u8]) {
        match Frame::decode(bytes) {
            Ok(Frame::Welcome { version, updates }) => {
                *self.sent.borrow_mut() = version.clone();
                let _ = self.doc.apply(updates, Source::Relay);
                self.confirm(&version);
                self.ready.set(true);
                self.attempts.set(0);
                self.connected.set(true);
                self.flush();
            }
            Ok(Frame::Update(updates)) => {
                let before = self.doc.version();
                if self.doc.apply(updates, Source::Relay).is_ok() {
                    // What these updates added, the relay has.
                    let after = self.doc.version();
                    let gained = VersionVector::from_entries(
                        after.iter().filter(|&(r, c)| c > before.get(r)),
                    );
                    self.confirm(&gained);
                }
            }
            Ok(Frame::Ack(version)) => self.confirm(&version),
            Ok(Frame::Error { code, message }) => {
                web_sys::console::warn_1(&format!("converge relay: {code}: {message}").into());
                // Send again what the relay did not confirm, on the next change or connection.
                *self.sent.borrow_mut() = self.confirmed.get_untracked();
            }
            Ok(Frame::Hello(_)) | Err(_) => {}
        }
    }
}

fn listen(target: &web_sys::EventTarget, event: &str, f: impl FnMut(JsValue) + 'static) {
    let cb = Closure::<dyn FnMut(JsValue)>::new(f);
    let _ = target.add_event_listener_with_callback(event, cb.as_ref().unchecked_ref());
    cb.forget(); // lives as long as the page
}

/// Starts syncing `doc` as room `room`: loads the IndexedDB snapshot first, then joins the
/// other tabs and connects to the relay at `url` (for example
/// `ws://127.0.0.1:8787/sync/todo`, with `?token=` if the room has one).
pub fn connect(doc: &DocHandle, url: &str, room: &str) -> SyncHandle {
    let relay = Rc::new(Relay {
        doc: doc.clone(),
        url: url.to_owned(),
        socket: RefCell::new(None),
        ready: Cell::new(false),
        sent: RefCell::new(VersionVector::new()),
        confirmed: ArcRwSignal::new(VersionVector::new()),
        connected: ArcRwSignal::new(false),
        attempts: Cell::new(0),
        callbacks: RefCell::new(Vec::new()),
    });
    let status = {
        let (doc, confirmed, connected) = (
            doc.clone(),
            relay.confirmed.clone(),
            relay.connected.clone(),
        );
        Signal::derive(move || {
            doc.track_any();
            SyncStatus {
                connected: connected.get(),
                pending: !confirmed.with(|c| c.dominates(&doc.version())),
            }
        })
    };
    let doc = doc.clone();
    let room = room.to_owned();
    let start = SendWrapper::new(relay);
    wasm_bindgen_futures::spawn_local(async move {
        let relay = start.take();
        let db: Option<IdbDatabase> = storage::open().await.ok();
        if let Some(db) = &db
            && let Ok(Some(snapshot)) = storage::get(db, &room).await
            && let Err(e) = doc.merge_snapshot(&snapshot, Source::Storage)
        {
            web_sys::console::warn_1(&format!("converge: stored snapshot: {e}").into());
        }
        let channel = BroadcastChannel::new(&format!("converge:{room}")).ok();
        if let Some(ch) = &channel {
            let d = doc.clone();
            let on_message = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
                let e: MessageEvent = e.unchecked_into();
                if let Some(bytes) = bytes_of(&e.data()) {
                    let _ = d.apply(&bytes, Source::Tab);
                }
            });
            ch.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            on_message.forget();
        }
        let save_due = Rc::new(Cell::new(false));
        let (r, d) = (relay.clone(), doc.clone());
        doc.subscribe(move |update| {
            if update.source == Source::Local
                && let Some(ch) = &channel
            {
                let _ = ch.post_message(&Uint8Array::from(&update.bytes[..]));
            }
            if update.source != Source::Relay {
                r.flush();
            }
            if let Some(db) = db.clone()
                && !save_due.replace(true)
            {
                let (d, due, room) = (d.clone(), save_due.clone(), room.clone());
                after(30, move || {
                    due.set(false);
                    if let Ok(snapshot) = d.save() {
                        let _ = storage::put(&db, &room, &snapshot);
                    }
                });
            }
        });
        if let Some(w) = web_sys::window() {
            let r = relay.clone();
            listen(&w, "offline", move |_| r.closed());
            let r = relay.clone();
            listen(&w, "online", move |_| {
                r.attempts.set(0);
                r.open();
            });
        }
        relay.open();
    });
    SyncHandle { status }
}
