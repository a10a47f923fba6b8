//! The worker's entry point. Trunk builds this binary as a `data-type="worker"` target; the page
//! starts it with `new Worker("heartbeat-worker_loader.js")`, and wasm-bindgen runs `main` as
//! soon as the module is instantiated inside the worker.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    heartbeat_worker::service::start();
}

// Natively there is no worker scope; this keeps `cargo build --workspace` and clippy working.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("heartbeat-worker runs inside the browser app: run `bash scripts/serve.sh`");
    std::process::exit(2);
}
