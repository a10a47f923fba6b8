//! Installed and offline: registers the service worker (`dist/sw.js`, which caches each release
//! whole), says when everything is cached so a nurse knows the app will work away from the
//! network, and offers a new release with a "reload" rather than swapping it under the user.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    ServiceWorker, ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerState,
};

/// Where the service worker is, next to index.html.
const SERVICE_WORKER_URL: &str = "./sw.js";

/// "Available offline" once this release is cached, and the new-release notice.
#[component]
pub fn OfflineStatus() -> impl IntoView {
    let cached = RwSignal::new(false);
    let waiting = RwSignal::new_local(None::<ServiceWorker>);
    if let Some(container) = container() {
        register(container, cached, waiting);
    }
    let reload = move |_| {
        if let Some(worker) = waiting.get_untracked() {
            let message = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&message, &"type".into(), &"activate".into());
            // The page reloads when the new release takes control (see `register`).
            let _ = worker.post_message(&message);
        }
    };
    view! {
        <Show when=move || cached.get()>
            <p class="offline-ready" data-testid="offline-ready"
                title="Everything HeartBeat needs is stored on this device: it works with no network">
                "✓ Available offline"
            </p>
        </Show>
        <Show when=move || waiting.with(Option::is_some)>
            <div class="banner banner-info" role="status" data-testid="update">
                <span>"A new version of HeartBeat is ready."</span>
                <button type="button" class="button primary" on:click=reload>"Reload to update"</button>
            </div>
        </Show>
    }
}

/// The browser's service workers, where it has them (not on plain-HTTP sites but localhost).
fn container() -> Option<ServiceWorkerContainer> {
    let navigator = web_sys::window()?.navigator();
    let has = js_sys::Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false);
    has.then(|| navigator.service_worker())
}

fn register(
    container: ServiceWorkerContainer,
    cached: RwSignal<bool>,
    waiting: RwSignal<Option<ServiceWorker>, LocalStorage>,
) {
    // A release that takes over after the user asked for it: load the page it serves. (The
    // first release also takes control, of a page that is already its own: no reload then.)
    let had_controller = container.controller().is_some();
    let on_controller = Closure::<dyn FnMut()>::new(move || {
        if had_controller && waiting.get_untracked().is_some() {
            if let Some(window) = web_sys::window() {
                let _ = window.location().reload();
            }
        }
    });
    container.set_oncontrollerchange(Some(on_controller.as_ref().unchecked_ref()));
    on_controller.forget();

    let registering = container.register(SERVICE_WORKER_URL);
    spawn_local(async move {
        let registration: ServiceWorkerRegistration = match JsFuture::from(registering).await {
            Ok(registration) => registration.unchecked_into(),
            Err(e) => {
                let why = crate::browser::describe(&e);
                web_sys::console::warn_1(&format!("HeartBeat will not work offline: {why}").into());
                return;
            }
        };
        // A release installed on an earlier visit, still waiting for its reload.
        if had_controller {
            waiting.set(registration.waiting());
        }
        watch_updates(&registration, had_controller, waiting);
        if let Ok(ready) = container.ready() {
            if JsFuture::from(ready).await.is_ok() {
                cached.set(true);
            }
        }
    });
}

/// Offers each release the browser finds and installs while the page is open.
fn watch_updates(
    registration: &ServiceWorkerRegistration,
    had_controller: bool,
    waiting: RwSignal<Option<ServiceWorker>, LocalStorage>,
) {
    let found = registration.clone();
    let on_update = Closure::<dyn FnMut()>::new(move || {
        let Some(installing) = found.installing() else {
            return;
        };
        let worker = installing.clone();
        let on_state = Closure::<dyn FnMut()>::new(move || {
            if worker.state() == ServiceWorkerState::Installed && had_controller {
                waiting.set(Some(worker.clone()));
            }
        });
        installing.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
        on_state.forget();
    });
    registration.set_onupdatefound(Some(on_update.as_ref().unchecked_ref()));
    on_update.forget();
}
