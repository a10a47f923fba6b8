//! HeartBeat's analysis worker: the core pipeline and the model, run in a Web Worker so the page
//! never freezes while a batch is analysed.
//!
//! [`protocol`] is the message contract, plain Rust and tested natively; the page's UI and (later)
//! a telemedicine portal talking to the app through `postMessage` use the same messages.
//! [`service`] is the thin wasm glue that receives and answers them.

pub mod protocol;

#[cfg(target_arch = "wasm32")]
pub mod service;
