//! A collaborative todo list: a title (text) and items (each a map holding its text and a
//! done flag, ordered in a list so positions survive concurrent edits), synced through
//! `converge-relay`, other tabs and IndexedDB by `converge-leptos`.
//!
//! The page syncs room `todo`, or the `?room=` of its URL (`&token=` is passed on to the
//! relay).

use converge::doc::{ContainerId, ContainerKind, Doc, DocError, Item, Value};
use converge_leptos::{DocHandle, diff_text};
use leptos::prelude::*;

/// The document's shape: a title and a list of items.
#[derive(Clone, Copy)]
pub struct Todo {
    /// The list title.
    pub title: ContainerId,
    /// The items, each a map with `text` (a text container) and `done` (a bool).
    pub items: ContainerId,
}

impl Todo {
    /// The roots of `doc`.
    pub fn new(doc: &DocHandle) -> Self {
        Todo {
            title: doc.root("title", ContainerKind::Text),
            items: doc.root("items", ContainerKind::List),
        }
    }

    /// Inserts an item at `index`.
    pub fn insert(
        &self,
        d: &mut Doc,
        index: usize,
        text: &str,
        done: bool,
    ) -> Result<(), DocError> {
        let item = d.list_insert_container(self.items, index, ContainerKind::Map)?;
        let t = d.map_insert_container(item, "text", ContainerKind::Text)?;
        d.text_insert(t, 0, text)?;
        d.map_set(item, "done", Value::Bool(done))
    }

    /// Moves the item at `from` to `to`. The list has no move operation, so this deletes the
    /// item and inserts a copy: an edit another replica makes to the moved item's text at the
    /// same time is lost with the old copy.
    pub fn move_item(&self, d: &mut Doc, from: usize, to: usize) -> Result<(), DocError> {
        let Some(Item::Container(item)) = d.list_get(self.items, from)? else {
            return Ok(());
        };
        let text = item_text(d, item)
            .map(|t| d.text(t))
            .transpose()?
            .unwrap_or_default();
        let done = is_done(d, item);
        d.list_delete(self.items, from..from + 1)?;
        self.insert(d, to, &text, done)
    }
}

fn item_text(d: &Doc, item: ContainerId) -> Option<ContainerId> {
    d.map_get(item, "text")
        .ok()
        .flatten()
        .and_then(|i| i.as_container())
}

fn is_done(d: &Doc, item: ContainerId) -> bool {
    matches!(
        d.map_get(item, "done"),
        Ok(Some(Item::Value(Value::Bool(true))))
    )
}

fn report(result: Result<(), DocError>) {
    if let Err(e) = result {
        leptos::logging::warn!("edit refused: {} ({})", e, e.code());
    }
}

/// One item row.
#[component]
fn Row(doc: DocHandle, todo: Todo, item: ContainerId, index: usize, count: usize) -> impl IntoView {
    let text_id = doc.with(|d| item_text(d, item));
    let done = doc.map_value(item, "done");
    let done = Signal::derive(move || matches!(done.get(), Some(Value::Bool(true))));
    let text = text_id.map(|t| doc.text(t));
    let (d1, d2, d3, d4, d5) = (
        doc.clone(),
        doc.clone(),
        doc.clone(),
        doc.clone(),
        doc.clone(),
    );
    view! {
        <li class="item" class:done=move || done.get()>
            <input type="checkbox" class="toggle" prop:checked=move || done.get()
                on:change=move |_| report(d1.edit(|d| {
                    let now = is_done(d, item);
                    d.map_set(item, "done", Value::Bool(!now))
                })) />
            <input class="item-text" prop:value=move || text.map(|t| t.get()).unwrap_or_default()
                on:input=move |ev| {
                    let value = event_target_value(&ev);
                    if let Some(t) = text_id {
                        report(d2.edit(|d| diff_text(d, t, &value)));
                    }
                } />
            <button class="up" title="Move up" disabled={index == 0}
                on:click=move |_| report(d3.edit(|d| todo.move_item(d, index, index - 1)))>"↑"</button>
            <button class="down" title="Move down" disabled={index + 1 >= count}
                on:click=move |_| report(d4.edit(|d| todo.move_item(d, index, index + 1)))>"↓"</button>
            <button class="delete" title="Delete"
                on:click=move |_| report(d5.edit(|d| d.list_delete(todo.items, index..index + 1)))>"✕"</button>
        </li>
    }
}

/// The app: title, status, new-item form and the list.
#[component]
pub fn App(
    /// The shared document.
    doc: DocHandle,
    /// Whether the relay is connected, and whether changes are pending.
    status: Signal<(bool, bool)>,
) -> impl IntoView {
    let todo = Todo::new(&doc);
    let title = doc.text(todo.title);
    let items = doc.list_items(todo.items);
    let new_text = RwSignal::new(String::new());
    let (d1, d2, d3) = (doc.clone(), doc.clone(), doc.clone());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = new_text.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        report(d2.edit(|d| {
            let end = d.list_len(todo.items)?;
            todo.insert(d, end, text.trim(), false)
        }));
        new_text.set(String::new());
    };
    let label = move || match status.get() {
        (true, false) => "Connected · all changes saved",
        (true, true) => "Connected · sending changes…",
        (false, true) => "Offline · changes pending",
        (false, false) => "Offline",
    };
    view! {
        <main>
            <input class="title" placeholder="List title" prop:value=move || title.get()
                on:input=move |ev| {
                    let value = event_target_value(&ev);
                    report(d1.edit(|d| diff_text(d, todo.title, &value)));
                } />
            <p class="status" data-connected=move || status.get().0.to_string()
                data-pending=move || status.get().1.to_string()>{label}</p>
            <form class="add" on:submit=add>
                <input class="new" placeholder="Something to do" prop:value=move || new_text.get()
                    on:input=move |ev| new_text.set(event_target_value(&ev)) />
                <button type="submit">"Add"</button>
            </form>
            <ul class="items">
                {move || {
                    let list = items.get();
                    let count = list.len();
                    list.into_iter()
                        .enumerate()
                        .filter_map(|(index, it)| it.as_container().map(|item| (index, item)))
                        .map(|(index, item)| view! { <Row doc=d3.clone() todo=todo item=item index=index count=count /> })
                        .collect_view()
                }}
            </ul>
        </main>
    }
}

/// The wasm entry point: mounts the app and starts syncing.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    let location = web_sys::window().expect("a window").location();
    let query = web_sys::UrlSearchParams::new_with_str(&location.search().unwrap_or_default())
        .expect("a query string");
    let room = query.get("room").unwrap_or_else(|| "todo".into());
    let scheme = if location.protocol().ok().as_deref() == Some("https:") {
        "wss"
    } else {
        "ws"
    };
    let host = location.host().unwrap_or_default();
    let mut url = format!("{scheme}://{host}/sync/{room}");
    if let Some(token) = query.get("token") {
        url.push_str(&format!("?token={token}"));
    }
    let doc = DocHandle::new_random();
    let sync = converge_leptos::connect(&doc, &url, &room);
    let status = sync.status();
    let status = Signal::derive(move || {
        let s = status.get();
        (s.connected, s.pending)
    });
    leptos::mount::mount_to_body(move || view! { <App doc=doc.clone() status=status /> });
}
