//! HeartBeat's browser app: a Leptos single-page app that analyses heart-sound recordings
//! entirely in the page with the same core as the CLI. Nothing is uploaded anywhere.
//!
//! [`analysis`] is plain Rust (tested natively and in the browser); the components and the
//! browser glue exist only for `wasm32`.

pub mod analysis;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(target_arch = "wasm32")]
pub mod charts;

#[cfg(target_arch = "wasm32")]
pub use app::App;
