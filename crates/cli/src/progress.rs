//! A progress bar on stderr for long runs; invisible when stderr is not a terminal.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar counting recordings.
pub fn bar(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} ({eta})") {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}
