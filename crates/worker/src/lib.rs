//! HeartBeat's analysis worker: the core pipeline and the model, run in a Web Worker so the page
//! never freezes while a batch is analysed.
//!
//! [`protocol`] is the message contract, plain Rust and tested natively; the page's UI and (later)
//! a telemedicine portal talking to the app through `postMessage` use the same messages.
//! [`analysis`] is the work itself; [`service`] is the thin wasm glue that receives the messages
//! and answers them. Both need the `engine` feature (the model runtime); the page uses the
//! protocol's types without it.

#[cfg(feature = "engine")]
pub mod analysis;
pub mod protocol;

#[cfg(all(target_arch = "wasm32", feature = "engine"))]
pub mod service;
