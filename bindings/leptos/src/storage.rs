//! IndexedDB persistence: one `save()` snapshot per document id in the object store `docs`
//! of the database `converge`.

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbOpenDbRequest, IdbRequest, IdbTransactionMode};

const STORE: &str = "docs";

/// A promise settled by an IndexedDB request's success (its result) or error.
fn settle(req: &IdbRequest) -> Promise {
    let req = req.clone();
    Promise::new(&mut |resolve, reject| {
        let r = req.clone();
        let ok = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::NULL, &r.result().unwrap_or(JsValue::UNDEFINED));
        });
        let fail = Closure::once_into_js(move || {
            let _ = reject.call1(
                &JsValue::NULL,
                &JsValue::from_str("IndexedDB request failed"),
            );
        });
        req.set_onsuccess(Some(ok.unchecked_ref()));
        req.set_onerror(Some(fail.unchecked_ref()));
    })
}

/// Opens (creating on first use) the database.
pub(crate) async fn open() -> Result<IdbDatabase, JsValue> {
    let factory = web_sys::window()
        .ok_or("no window")?
        .indexed_db()?
        .ok_or("IndexedDB is not available")?;
    let req: IdbOpenDbRequest = factory.open_with_u32("converge", 1)?;
    let upgrade = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
        let target: IdbOpenDbRequest = e.target().expect("a request").unchecked_into();
        if let Ok(result) = target.result() {
            let db: IdbDatabase = result.unchecked_into();
            if !db.object_store_names().contains(STORE) {
                let _ = db.create_object_store(STORE);
            }
        }
    });
    req.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let db = JsFuture::from(settle(&req)).await?;
    drop(upgrade);
    Ok(db.unchecked_into())
}

/// The snapshot stored under `key`, if any.
pub(crate) async fn get(db: &IdbDatabase, key: &str) -> Result<Option<Vec<u8>>, JsValue> {
    let tx = db.transaction_with_str(STORE)?;
    let req = tx.object_store(STORE)?.get(&JsValue::from_str(key))?;
    let value = JsFuture::from(settle(&req)).await?;
    Ok(value.dyn_into::<Uint8Array>().ok().map(|a| a.to_vec()))
}

/// Stores `bytes` under `key` (the write completes in the background).
pub(crate) fn put(db: &IdbDatabase, key: &str, bytes: &[u8]) -> Result<(), JsValue> {
    let tx = db.transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite)?;
    tx.object_store(STORE)?
        .put_with_key(&Uint8Array::from(bytes), &JsValue::from_str(key))?;
    Ok(())
}
