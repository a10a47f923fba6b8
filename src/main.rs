//! Entry point of the browser app: install the panic hook, mount the app. Everything else lives
//! in the library so tests can mount the same components.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(heartbeat_web::App);
}

// Natively there is no page to mount; this keeps `cargo build --workspace` and clippy working.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("heartbeat-web is a browser app: run `bash scripts/serve.sh` and open http://127.0.0.1:8080");
    std::process::exit(2);
}
