//! The few browser calls the app needs, kept out of the components.

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::File;

use crate::analysis::{self, AnalysisError};

/// Reads a picked file's bytes, refusing files too large to be a recording.
pub async fn read_file(file: &File) -> Result<Vec<u8>, AnalysisError> {
    analysis::check_size(file.size() as u64)?;
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| AnalysisError::Read(describe(&e)))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Resolves after the browser has painted, so a status message shows before the synchronous
/// analysis holds the main thread (the Web Worker that removes the freeze is a later step).
pub async fn after_next_paint() {
    let Some(window) = web_sys::window() else {
        return;
    };
    // requestAnimationFrame runs just before the paint; the timeout it sets fires after it.
    let promise = Promise::new(&mut |resolve, _reject| {
        let later = window.clone();
        let on_frame = Closure::once_into_js(move || {
            if later.set_timeout_with_callback(&resolve).is_err() {
                let _ = resolve.call0(&JsValue::NULL);
            }
        });
        // Without animation frames (a hidden tab) the promise never resolves; analysing is
        // pointless there anyway and resumes when the tab shows again.
        let _ = window.request_animation_frame(on_frame.unchecked_ref());
    });
    let _ = JsFuture::from(promise).await;
}

/// A thrown JavaScript value in words.
fn describe(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| "unknown error".to_owned())
}
