//! Where the history lives in this browser: IndexedDB, where adding a result is one small
//! transaction however many are kept.
//!
//! Database `heartbeat` (version 1) has two object stores, keyed by entry id:
//! - `summaries`: each entry's [`Summary`] as JSON, a few hundred bytes, all read when the app
//!   starts: the History list and the Analytics page need nothing else;
//! - `entries`: each entry as the exported document spells it ([`Entry::to_json`], about 22 KB
//!   with its charts' data), read when the entry is opened or the history exported.
//!
//! Both are written in one transaction, so they never disagree, and a failed write (storage
//! full, refused) changes nothing already stored. Entries are kept as text rather than as
//! objects because the export is then the stored texts joined, byte for byte the document
//! earlier builds wrote, without the page parsing or copying them.
//!
//! Earlier builds kept the whole history as one document in localStorage: [`Store::migrate`]
//! moves it here on the first start and removes it only once the transaction has committed,
//! written to disk (strict durability), so a failed or interrupted migration loses nothing and is
//! simply tried again at the next start.

use std::collections::HashMap;

use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DomException, IdbDatabase, IdbObjectStore, IdbOpenDbRequest, IdbRequest, IdbTransaction,
};

use crate::browser::{self, describe};
use crate::error::AppError;
use crate::history::{self, Entry, Index, Summary};

/// The database's name.
pub const DATABASE: &str = "heartbeat";
/// Its schema version: a later one upgrades the stores in `upgrade`.
const VERSION: u32 = 1;
/// Each entry's summary, as JSON.
pub const SUMMARIES: &str = "summaries";
/// Each entry, as JSON.
pub const ENTRIES: &str = "entries";

/// How hard a write insists on reaching the disk before it counts as done.
#[derive(Clone, Copy)]
enum Durability {
    /// The browser's default: done once the browser holds it (it survives the tab and the
    /// browser crashing, not the machine losing power).
    Default,
    /// Done once it is on disk: for writes after which another copy is deleted.
    Strict,
}

/// The history's storage. Cheap to clone: every clone shares one connection, opened once.
#[derive(Clone)]
pub struct Store {
    /// Resolves to the open `IDBDatabase`, or rejects with why it cannot be opened.
    database: Promise,
}

impl Store {
    /// Starts opening the database (creating it on first use); operations wait for it.
    pub fn open() -> Self {
        Self::named(DATABASE)
    }

    fn named(name: &'static str) -> Self {
        Self {
            database: wasm_bindgen_futures::future_to_promise(async move {
                open_database(name).await.map(JsValue::from)
            }),
        }
    }

    async fn database(&self) -> Result<IdbDatabase, AppError> {
        JsFuture::from(self.database.clone())
            .await
            .map(JsCast::unchecked_into)
            .map_err(|e| storage_error(&e))
    }

    /// Moves the history earlier builds kept in localStorage into the database, then removes
    /// it from localStorage. Returns how many entries were moved (0 when there was none).
    pub async fn migrate(&self) -> Result<usize, AppError> {
        let Some(old) = browser::old_history()? else {
            return Ok(0);
        };
        let entries = old.into_entries();
        self.write(Durability::Strict, |summaries, texts| {
            put(summaries, texts, &entries)
        })
        .await?;
        browser::forget_old_history();
        Ok(entries.len())
    }

    /// Every entry's summary. A summary that cannot be read (written by a later version, say)
    /// is left out of the list, not deleted: its entry still exports.
    pub async fn index(&self) -> Result<Index, AppError> {
        let all: Array = self
            .read(SUMMARIES, IdbObjectStore::get_all)
            .await?
            .unchecked_into();
        Ok(Index::new(read_summaries(&all)))
    }

    /// One entry with its charts' data; `None` when there is none with this id.
    pub async fn entry(&self, id: &str) -> Result<Option<Entry>, AppError> {
        self.read(ENTRIES, |entries| entries.get(&JsValue::from_str(id)))
            .await?
            .as_string()
            .map(|json| Entry::from_json(&json))
            .transpose()
    }

    /// The result of one request on one store, in a read-only transaction.
    async fn read(
        &self,
        store: &str,
        request: impl FnOnce(&IdbObjectStore) -> Result<IdbRequest, JsValue>,
    ) -> Result<JsValue, AppError> {
        let db = self.database().await?;
        let issued = db
            .transaction_with_str(store)
            .and_then(|tx| request(&tx.object_store(store)?))
            .map_err(|e| storage_error(&e))?;
        settle(&issued).await
    }

    /// Adds entries (replacing any with the same id), all or none.
    pub async fn add(&self, entries: &[Entry]) -> Result<(), AppError> {
        self.write(Durability::Default, |summaries, texts| {
            put(summaries, texts, entries)
        })
        .await
    }

    /// Deletes one entry.
    pub async fn remove(&self, id: &str) -> Result<(), AppError> {
        let key = JsValue::from_str(id);
        self.write(Durability::Default, |summaries, texts| {
            summaries.delete(&key)?;
            texts.delete(&key).map(drop)
        })
        .await
    }

    /// Deletes every entry.
    pub async fn clear(&self) -> Result<(), AppError> {
        self.write(Durability::Default, |summaries, texts| {
            summaries.clear()?;
            texts.clear().map(drop)
        })
        .await
    }

    /// The exported document, as the pieces of a file ([`browser::download_parts`]): the
    /// stored entries newest first, in one consistent reading of the database. The entries stay
    /// JavaScript strings; the page never holds the whole document.
    pub async fn export(&self) -> Result<Array, AppError> {
        let db = self.database().await?;
        let fail = |e: JsValue| storage_error(&e);
        let stores = Array::of2(&SUMMARIES.into(), &ENTRIES.into());
        let tx = db.transaction_with_str_sequence(&stores).map_err(fail)?;
        let summaries = tx
            .object_store(SUMMARIES)
            .map_err(fail)?
            .get_all()
            .map_err(fail)?;
        let entries = tx.object_store(ENTRIES).map_err(fail)?;
        let keys = entries.get_all_keys().map_err(fail)?;
        let texts = entries.get_all().map_err(fail)?;
        let summaries: Array = settle(&summaries).await?.unchecked_into();
        let keys: Array = settle(&keys).await?.unchecked_into();
        let texts: Array = settle(&texts).await?.unchecked_into();

        let mut at: HashMap<String, u32> = (0..keys.length())
            .filter_map(|i| Some((keys.get(i).as_string()?, i)))
            .collect();
        let index = Index::new(read_summaries(&summaries));
        let mut order: Vec<u32> = index
            .summaries()
            .iter()
            .filter_map(|s| at.remove(&s.id))
            .collect();
        // Entries whose summary could not be read still go, last, in key order.
        let mut rest: Vec<u32> = at.into_values().collect();
        rest.sort_unstable();
        order.extend(rest);
        let parts = Array::of1(&history::document_head().into());
        for (n, i) in order.into_iter().enumerate() {
            if n > 0 {
                parts.push(&history::ENTRY_SEPARATOR.into());
            }
            parts.push(&texts.get(i));
        }
        parts.push(&history::DOCUMENT_TAIL.into());
        Ok(parts)
    }

    /// One read-write transaction over both stores: `requests` issues its requests, and the
    /// write is done once the transaction has committed (all of them, or none).
    async fn write(
        &self,
        durability: Durability,
        requests: impl FnOnce(&IdbObjectStore, &IdbObjectStore) -> Result<(), JsValue>,
    ) -> Result<(), AppError> {
        let db = self.database().await?;
        let fail = |e: JsValue| storage_error(&e);
        let options = Object::new();
        let durability = match durability {
            Durability::Default => "default",
            Durability::Strict => "strict",
        };
        Reflect::set(&options, &"durability".into(), &durability.into()).map_err(fail)?;
        let stores = Array::of2(&SUMMARIES.into(), &ENTRIES.into());
        let tx = db
            .unchecked_ref::<DatabaseWithOptions>()
            .transaction(&stores, "readwrite", &options)
            .map_err(fail)?;
        let committed = committed(&tx);
        let issued = tx.object_store(SUMMARIES).and_then(|summaries| {
            let texts = tx.object_store(ENTRIES)?;
            requests(&summaries, &texts)
        });
        if let Err(e) = issued {
            let _ = tx.abort();
            return Err(fail(e));
        }
        committed.await
    }
}

/// Puts each entry and its summary.
fn put(
    summaries: &IdbObjectStore,
    texts: &IdbObjectStore,
    entries: &[Entry],
) -> Result<(), JsValue> {
    for entry in entries {
        let key = JsValue::from_str(&entry.id);
        let summary = serde_json::to_string(&entry.summary()).unwrap_or_default();
        summaries.put_with_key(&summary.into(), &key)?;
        texts.put_with_key(&entry.to_json().into(), &key)?;
    }
    Ok(())
}

/// The summaries that can be read, warning in the console about any that cannot.
fn read_summaries(all: &Array) -> Vec<Summary> {
    let mut unreadable = 0;
    let summaries = all
        .iter()
        .filter_map(|text| {
            let summary = serde_json::from_str(&text.as_string()?).ok();
            unreadable += usize::from(summary.is_none());
            summary
        })
        .collect();
    if unreadable > 0 {
        web_sys::console::warn_1(
            &format!(
                "HeartBeat: {unreadable} history summaries cannot be read; left out of the list"
            )
            .into(),
        );
    }
    summaries
}

async fn open_database(name: &str) -> Result<IdbDatabase, JsValue> {
    let factory = web_sys::window()
        .ok_or("no window")?
        .indexed_db()?
        .ok_or("IndexedDB is disabled")?;
    let request = factory.open_with_u32(name, VERSION)?;
    let on_upgrade = Closure::<dyn FnMut()>::new({
        let request = request.clone();
        move || upgrade(&request)
    });
    request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let db: IdbDatabase = outcome(&request).await?.unchecked_into();
    request.set_onupgradeneeded(None);
    drop(on_upgrade);
    // A later version opening the database in another tab asks this one to step aside;
    // staying open would block its upgrade until this tab closes.
    let on_version_change = Closure::<dyn FnMut()>::new({
        let db = db.clone();
        move || db.close()
    });
    db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
    on_version_change.forget();
    Ok(db)
}

/// Creates what is missing (the first start, or a version without these stores).
fn upgrade(request: &IdbOpenDbRequest) {
    let Ok(db) = request.result().map(JsCast::unchecked_into::<IdbDatabase>) else {
        return;
    };
    let names = db.object_store_names();
    for store in [SUMMARIES, ENTRIES] {
        if !names.contains(store) {
            // A failure aborts the upgrade, which fails the open with its error.
            let _ = db.create_object_store(store);
        }
    }
}

/// A request's result once it succeeds.
async fn settle(request: &IdbRequest) -> Result<JsValue, AppError> {
    outcome(request).await.map_err(|e| storage_error(&e))
}

/// A request's result, or its error as the browser gave it.
async fn outcome(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let done = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    if JsFuture::from(done).await.is_err() {
        return Err(request.error()?.map_or(JsValue::NULL, JsValue::from));
    }
    request.result()
}

/// Resolves once the transaction has committed; fails with why it was aborted.
fn committed(tx: &IdbTransaction) -> impl std::future::Future<Output = Result<(), AppError>> {
    let done = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onabort(Some(&reject));
    });
    let tx = tx.clone();
    async move {
        match JsFuture::from(done).await {
            Ok(_) => Ok(()),
            Err(_) => Err(tx.error().map_or_else(
                || AppError::StorageUnavailable("the browser cancelled the write".into()),
                |e| storage_error(&e.into()),
            )),
        }
    }
}

/// A storage failure in the user's terms: full, or refused.
fn storage_error(e: &JsValue) -> AppError {
    let name = e
        .dyn_ref::<DomException>()
        .map(DomException::name)
        .or_else(|| e.dyn_ref::<js_sys::Error>().map(|e| e.name().into()));
    if name.as_deref() == Some("QuotaExceededError") {
        AppError::StorageFull
    } else {
        AppError::StorageUnavailable(describe(e))
    }
}

#[wasm_bindgen]
extern "C" {
    /// An `IDBDatabase` whose `transaction` takes its options (durability), which web-sys
    /// offers only behind its unstable APIs; browsers without them ignore the argument.
    #[wasm_bindgen(js_name = IDBDatabase)]
    type DatabaseWithOptions;
    #[wasm_bindgen(method, catch)]
    fn transaction(
        this: &DatabaseWithOptions,
        stores: &Array,
        mode: &str,
        options: &Object,
    ) -> Result<IdbTransaction, JsValue>;
}

/// Asks the browser to keep this site's storage when the disk runs low, instead of evicting it
/// with the history in it. Once per page, after a result is saved: Chromium decides by itself,
/// Firefox asks the user.
pub fn ask_to_persist() {
    thread_local! {
        static ASKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if ASKED.with(|asked| asked.replace(true)) {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Ok(promise) = window.navigator().storage().persist() {
        // Awaited so that a refusal is not an unhandled rejection.
        wasm_bindgen_futures::spawn_local(async move {
            let _ = JsFuture::from(promise).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::batch::tests::analysis;
    use crate::history::History;

    fn entry(id: &str, at: f64, p: f32) -> Entry {
        Entry {
            id: id.into(),
            file: format!("{id}.wav"),
            analysed_at_ms: at,
            total_ms: Some(50.0),
            analysis: (*analysis(p, 72.0, 6.0)).clone(),
        }
    }

    fn history(entries: &[Entry]) -> History {
        let mut history = History::default();
        for e in entries {
            history.add(e.clone());
        }
        history
    }

    async fn exported(store: &Store) -> String {
        store.export().await.expect("exports").join("").into()
    }

    fn local_storage() -> web_sys::Storage {
        web_sys::window()
            .and_then(|w| w.local_storage().ok().flatten())
            .expect("localStorage")
    }

    /// A store whose database cannot be opened, as in a refusing browser.
    fn refused(name: &str) -> Store {
        let e = DomException::new_with_message_and_name("no room", name).expect("exception");
        Store {
            database: Promise::reject(&e),
        }
    }

    #[test]
    async fn entries_are_added_listed_opened_and_deleted() {
        let store = Store::named("test-round-trip");
        store.clear().await.expect("clears");
        let (a, b) = (entry("a", 1.0e12, 0.9), entry("b", 2.0e12, 0.1));
        store.add(std::slice::from_ref(&a)).await.expect("adds");
        store.add(std::slice::from_ref(&b)).await.expect("adds");
        let index = store.index().await.expect("lists");
        let ids: Vec<&str> = index.summaries().iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["b", "a"]);
        assert_eq!(index.summaries()[1], a.summary());
        assert_eq!(store.entry("a").await.expect("reads"), Some(a.clone()));
        assert_eq!(store.entry("zz").await.expect("reads"), None);
        // The export is what the document format writes for these entries, byte for byte.
        assert_eq!(exported(&store).await, history(&[a.clone(), b]).to_json());
        store.remove("b").await.expect("deletes");
        assert_eq!(store.index().await.expect("lists").len(), 1);
        assert_eq!(store.entry("b").await.expect("reads"), None);
        store.clear().await.expect("clears");
        assert!(store.index().await.expect("lists").is_empty());
        assert_eq!(exported(&store).await, History::default().to_json());
    }

    #[test]
    async fn a_failed_write_changes_nothing() {
        let store = Store::named("test-atomic");
        store.clear().await.expect("clears");
        let kept = entry("kept", 1.0e12, 0.2);
        store.add(std::slice::from_ref(&kept)).await.expect("adds");
        let failed = store
            .write(Durability::Default, |summaries, texts| {
                put(summaries, texts, &[entry("new", 2.0e12, 0.3)])?;
                texts.delete(&"kept".into())?;
                Err(
                    DomException::new_with_message_and_name("no room", "QuotaExceededError")?
                        .into(),
                )
            })
            .await;
        assert_eq!(failed, Err(AppError::StorageFull));
        let index = store.index().await.expect("lists");
        assert_eq!(index.summaries(), [kept.summary()]);
        assert_eq!(store.entry("kept").await.expect("reads"), Some(kept));
    }

    #[test]
    async fn the_old_localstorage_history_moves_in_whole_and_exports_as_it_was() {
        let old = history(&[entry("old-1", 1.0e12, 0.9), entry("old-2", 1.1e12, 0.1)]).to_json();
        local_storage()
            .set_item("heartbeat.history", &old)
            .expect("seeds");

        // A browser that refuses storage keeps the old history where it was.
        for name in ["QuotaExceededError", "InvalidStateError"] {
            assert!(refused(name).migrate().await.is_err());
            let left = local_storage()
                .get_item("heartbeat.history")
                .expect("reads");
            assert_eq!(left.as_deref(), Some(old.as_str()));
        }
        assert_eq!(
            refused("QuotaExceededError").add(&[]).await,
            Err(AppError::StorageFull)
        );

        let store = Store::named("test-migration");
        store.clear().await.expect("clears");
        assert_eq!(store.migrate().await, Ok(2));
        assert_eq!(local_storage().get_item("heartbeat.history"), Ok(None));
        assert_eq!(store.index().await.expect("lists").len(), 2);
        assert_eq!(exported(&store).await, old, "byte for byte");
        assert_eq!(store.migrate().await, Ok(0), "once");
    }
}
