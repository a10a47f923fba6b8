//! HeartBeat's browser app: a Leptos single-page app that analyses heart-sound recordings
//! entirely in the page. Nothing is uploaded anywhere.
//!
//! The analysis itself runs in a Web Worker (`crates/worker`) over the same core as the CLI;
//! this crate is the page: what the user picks, sees and keeps. The plain-data modules
//! ([`batch`], [`history`], [`patient`], [`format`], [`error`], [`take`]) are tested natively;
//! the components, the charts and the browser glue exist only for `wasm32`.

pub mod batch;
pub mod card;
pub mod embed;
pub mod error;
pub mod format;
pub mod history;
pub mod patient;
pub mod route;
pub mod take;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(target_arch = "wasm32")]
pub mod charts;
#[cfg(target_arch = "wasm32")]
mod engine;
#[cfg(target_arch = "wasm32")]
mod recorder;
#[cfg(target_arch = "wasm32")]
pub mod store;

#[cfg(target_arch = "wasm32")]
pub use app::App;
