//! The browser calls the app makes (files, Web Audio, storage, downloads, clocks), kept out of
//! the components so those read as layout and state.

use js_sys::{Date, Float32Array, Promise, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AudioBuffer, Blob, BlobPropertyBag, File, HtmlAnchorElement, OfflineAudioContext, Storage, Url,
};

use crate::engine::Recording;
use crate::error::{check_size, AppError};
use crate::history::History;
use crate::patient::{self, References};

/// The rate Web Audio decodes to. The model listens below 400 Hz; every browser must support
/// 8 kHz contexts (the spec's floor), and the core then resamples 8 kHz → 2 kHz exactly as it
/// does for any other file. Decoding at the browser's usual 44.1/48 kHz would only move six
/// times more samples to the worker.
const DECODE_RATE: f32 = 8000.0;
/// Enough of a file's start to tell WAV and FLAC from the rest.
const SNIFF_BYTES: u32 = 12;

/// localStorage key of the history document earlier builds kept (now in IndexedDB: `store.rs`).
const HISTORY_KEY: &str = "heartbeat.history";
/// Where a stored history that could not be read is kept.
const UNREADABLE_KEY: &str = "heartbeat.history.unreadable";
/// localStorage key of recent model load times in this browser (ms, JSON array).
const LOAD_TIMES_KEY: &str = "heartbeat.model-load-ms";
/// How many model load times are remembered.
const LOAD_TIMES_KEPT: usize = 50;

/// Reads a picked file's bytes into JavaScript memory, refusing empty files and files too large
/// to be a recording. They stay there: the worker gets the buffer itself.
pub async fn read_file(file: &File) -> Result<Uint8Array, AppError> {
    check_size(file.size() as u64)?;
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| AppError::Read(describe(&e)))?;
    Ok(Uint8Array::new(&buffer))
}

/// Turns a file's bytes into what the worker analyses: WAV and FLAC go to the core as they are
/// (decoded exactly as the CLI decodes them; Chromium also refuses FLAC below 3 kHz, the data
/// set's format); anything else is decoded by the browser (`decodeAudioData` exists on the main
/// thread only) and mixed down to mono.
pub async fn decode(bytes: Uint8Array) -> Result<Recording, AppError> {
    use heartbeat_core::audio::{looks_like_flac, looks_like_wav};
    let head = bytes.subarray(0, bytes.length().min(SNIFF_BYTES)).to_vec();
    if looks_like_wav(&head) || looks_like_flac(&head) {
        return Ok(Recording::Encoded(bytes));
    }
    let context = OfflineAudioContext::new_with_number_of_channels_and_length_and_sample_rate(
        1,
        1,
        DECODE_RATE,
    )
    .map_err(|e| AppError::Undecodable(describe(&e)))?;
    // decodeAudioData detaches the buffer it is given: hand it a copy when `bytes` is a view.
    let buffer = if bytes.byte_offset() == 0 && bytes.byte_length() == bytes.buffer().byte_length()
    {
        bytes.buffer()
    } else {
        bytes.slice(0, bytes.length()).buffer()
    };
    let promise = context
        .decode_audio_data(&buffer)
        .map_err(|e| AppError::Undecodable(describe(&e)))?;
    let audio: AudioBuffer = JsFuture::from(promise)
        .await
        .map_err(|e| AppError::Undecodable(describe(&e)))?
        .unchecked_into();
    let sample_rate = audio.sample_rate().round() as u32;
    let channels = audio.number_of_channels();
    let first = audio
        .unchecked_ref::<SharedChannels>()
        .channel(0)
        .map_err(|e| AppError::Undecodable(describe(&e)))?;
    if channels == 1 {
        return Ok(Recording::Pcm {
            samples: first,
            sample_rate,
        });
    }
    let mut mono = vec![0.0f32; audio.length() as usize];
    for channel in 0..channels {
        let data = audio
            .get_channel_data(channel)
            .map_err(|e| AppError::Undecodable(describe(&e)))?;
        for (m, v) in mono.iter_mut().zip(data) {
            *m += v / channels as f32;
        }
    }
    Ok(Recording::Pcm {
        samples: Float32Array::from(mono.as_slice()),
        sample_rate,
    })
}

#[wasm_bindgen]
extern "C" {
    /// An `AudioBuffer` whose channels are read as the browser's own Float32Arrays (web-sys's
    /// `get_channel_data` copies them into a Vec).
    #[wasm_bindgen(js_name = AudioBuffer)]
    type SharedChannels;
    #[wasm_bindgen(method, catch, js_name = getChannelData)]
    fn channel(this: &SharedChannels, channel: u32) -> Result<Float32Array, JsValue>;
}

/// Milliseconds on the page's monotonic clock.
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// Milliseconds since 1970 (UTC), for timestamps that outlive the page.
pub fn epoch_ms() -> f64 {
    Date::now()
}

/// The local calendar day of a timestamp, `YYYY-MM-DD`.
pub fn local_day(epoch_ms: f64) -> String {
    let d = Date::new(&JsValue::from_f64(epoch_ms));
    format!(
        "{:04}-{:02}-{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date()
    )
}

/// A timestamp as the user's locale writes date and time.
pub fn local_date_time(epoch_ms: f64) -> String {
    String::from(
        Date::new(&JsValue::from_f64(epoch_ms)).to_locale_string("default", &JsValue::UNDEFINED),
    )
}

/// An id unique across devices, for history entries that may be merged from exports.
pub fn new_id() -> String {
    format!(
        "{:x}-{:08x}",
        epoch_ms() as u64,
        (js_sys::Math::random() * f64::from(u32::MAX)) as u32
    )
}

/// Offers `contents` as a file download (nothing leaves the device: the file is built here).
pub fn download(file_name: &str, mime: &str, contents: &str) -> Result<(), AppError> {
    download_parts(
        file_name,
        mime,
        &js_sys::Array::of1(&JsValue::from_str(contents)),
    )
}

/// Offers the strings of `parts`, joined, as a file download.
pub fn download_parts(file_name: &str, mime: &str, parts: &js_sys::Array) -> Result<(), AppError> {
    let fail = |e: JsValue| AppError::Read(describe(&e));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_str_sequence_and_options(parts, &options).map_err(fail)?;
    let url = Url::create_object_url_with_blob(&blob).map_err(fail)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| AppError::Read("no document".into()))?;
    let link: HtmlAnchorElement = document.create_element("a").map_err(fail)?.unchecked_into();
    link.set_href(&url);
    link.set_download(file_name);
    link.click();
    // The click has started the download; the URL can go once the event loop moves on.
    let revoke = Closure::once_into_js(move || {
        let _ = Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 1000);
    }
    Ok(())
}

/// A URL the page's `<audio>` can play the picked file from, while the page is open.
pub fn object_url(file: &File) -> Option<String> {
    Url::create_object_url_with_blob(file).ok()
}

/// A URL the page's `<audio>` can play a WAV file from (the worker's playable copy of a
/// recording too slow for the browser to play).
pub fn wav_url(bytes: &Uint8Array) -> Option<String> {
    let options = BlobPropertyBag::new();
    options.set_type("audio/wav");
    let blob =
        Blob::new_with_u8_array_sequence_and_options(&js_sys::Array::of1(bytes), &options).ok()?;
    Url::create_object_url_with_blob(&blob).ok()
}

/// Releases a URL made by [`object_url`] or [`wav_url`].
pub fn revoke_object_url(url: &str) {
    let _ = Url::revoke_object_url(url);
}

/// Reads a picked text file (a history export).
pub async fn read_text(file: &File) -> Result<String, AppError> {
    let text = JsFuture::from(file.text())
        .await
        .map_err(|e| AppError::Read(describe(&e)))?;
    text.as_string()
        .ok_or_else(|| AppError::Read("the file is not text".into()))
}

fn storage() -> Result<Storage, AppError> {
    web_sys::window()
        .ok_or_else(|| AppError::StorageUnavailable("no window".into()))?
        .local_storage()
        .map_err(|e| AppError::StorageUnavailable(describe(&e)))?
        .ok_or_else(|| AppError::StorageUnavailable("localStorage is disabled".into()))
}

/// The history earlier builds kept in localStorage, if any is left to move into IndexedDB
/// (none when localStorage itself is unavailable). One that cannot be read is moved aside, not
/// deleted, so a newer app version or a repair can still recover it.
pub fn old_history() -> Result<Option<History>, AppError> {
    let Ok(store) = storage() else {
        return Ok(None);
    };
    let Ok(Some(json)) = store.get_item(HISTORY_KEY) else {
        return Ok(None);
    };
    History::from_json(&json).map(Some).map_err(|e| {
        let reason = match e {
            AppError::Import(reason) => reason,
            other => other.to_string(),
        };
        if store.set_item(UNREADABLE_KEY, &json).is_ok() {
            let _ = store.remove_item(HISTORY_KEY);
        }
        AppError::StoredHistoryUnreadable(reason)
    })
}

/// Removes the localStorage history once IndexedDB holds it.
pub fn forget_old_history() {
    if let Ok(store) = storage() {
        let _ = store.remove_item(HISTORY_KEY);
    }
}

/// Remembers one model load time and returns all remembered ones, oldest first.
pub fn record_model_load(ms: f64) -> Vec<f64> {
    let mut times = model_load_times();
    times.push(ms);
    let drop_n = times.len().saturating_sub(LOAD_TIMES_KEPT);
    times.drain(..drop_n);
    if let (Ok(store), Ok(json)) = (storage(), serde_json::to_string(&times)) {
        // Losing a timing is harmless; the history is what must not be lost.
        let _ = store.set_item(LOAD_TIMES_KEY, &json);
    }
    times
}

/// Model load times remembered in this browser, oldest first.
pub fn model_load_times() -> Vec<f64> {
    storage()
        .ok()
        .and_then(|s| s.get_item(LOAD_TIMES_KEY).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// The patient references typed in this browser (none when storage is unavailable).
pub fn patient_references() -> References {
    storage()
        .ok()
        .and_then(|s| s.get_item(patient::STORAGE_KEY).ok().flatten())
        .map(|json| References::from_json(&json))
        .unwrap_or_default()
}

/// Sets one result's patient reference in this browser's store (an empty one removes it).
pub fn set_patient_reference(result_id: &str, text: &str) -> Result<(), AppError> {
    let mut references = patient_references();
    references.set(result_id, text);
    save_patient_references(&references)
}

/// Forgets the patient references of deleted history entries (`None`: all of them).
pub fn forget_patient_references(result_id: Option<&str>) -> Result<(), AppError> {
    let mut references = patient_references();
    match result_id {
        Some(id) if !references.remove(id) => return Ok(()),
        Some(_) => {}
        None => references = References::default(),
    }
    save_patient_references(&references)
}

fn save_patient_references(references: &References) -> Result<(), AppError> {
    let store = storage().map_err(|e| match e {
        AppError::StorageUnavailable(reason) => AppError::ReferenceNotKept(reason),
        other => AppError::ReferenceNotKept(other.to_string()),
    })?;
    let done = if references.is_empty() {
        store.remove_item(patient::STORAGE_KEY)
    } else {
        store.set_item(patient::STORAGE_KEY, &references.to_json())
    };
    done.map_err(|e| AppError::ReferenceNotKept(describe(&e)))
}

/// Opens the browser's print dialog (the print stylesheet makes the page a result's report).
pub fn print() -> Result<(), AppError> {
    web_sys::window()
        .ok_or_else(|| AppError::Print("no window".into()))?
        .print()
        .map_err(|e| AppError::Print(describe(&e)))
}

/// Resolves after the browser has painted, so a measured "result shown" time includes the paint.
/// A hidden tab has no animation frames; a timeout then resolves it, so a batch keeps going in
/// the background.
pub async fn after_next_paint() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let promise = Promise::new(&mut |resolve, _reject| {
        let fallback = resolve.clone();
        let later = window.clone();
        // requestAnimationFrame runs just before the paint; the timeout it sets fires after it.
        let on_frame = Closure::once_into_js(move || {
            let _ = later.set_timeout_with_callback(&resolve);
        });
        let _ = window.request_animation_frame(on_frame.unchecked_ref());
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&fallback, 250);
    });
    let _ = JsFuture::from(promise).await;
}

/// A thrown JavaScript value in words.
pub fn describe(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| format!("{}: {}", String::from(e.name()), String::from(e.message())))
        })
        .or_else(|| {
            e.dyn_ref::<web_sys::DomException>()
                .map(|e| format!("{}: {}", e.name(), e.message()))
        })
        .unwrap_or_else(|| "unknown error".to_owned())
}
