//! HeartBeat's analysis worker: the core pipeline and the model, run in a Web Worker so the page
//! never freezes while a batch is analysed.
//!
//! [`protocol`] defines every message, plain Rust and tested natively: page ↔ worker, and a
//! telemedicine portal ↔ the app. `envelope` (wasm32) carries them across `postMessage`.
//! [`analysis`] is the work itself; `service` (wasm32) is the thin glue that receives the
//! messages and answers them. Both need the `engine` feature (the model runtime); the page uses
//! the protocol and the envelope without it.

#[cfg(feature = "engine")]
pub mod analysis;
#[cfg(target_arch = "wasm32")]
pub mod envelope;
pub mod protocol;

#[cfg(all(target_arch = "wasm32", feature = "engine"))]
pub mod service;
