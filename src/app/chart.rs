//! A `<canvas>` that draws itself with one of the [`charts`](crate::charts) and redraws when the
//! window is resized (the charts size their pixels to the canvas's CSS box and the screen's
//! pixel ratio, so they stay crisp), and around printing: at paper size before, back to the
//! screen's after (a canvas prints the bitmap it holds, stretched to its box on paper).

use std::rc::Rc;

use leptos::html::Canvas;
use leptos::prelude::*;
use web_sys::HtmlCanvasElement;

use crate::charts::{self, ChartError, PlotArea};

/// What a chart draws: the canvas in, the time axis's place out (for time charts).
pub type Draw = Rc<dyn Fn(&HtmlCanvasElement) -> Result<Option<PlotArea>, ChartError>>;

/// A chart in a `<figure>`, with an accessible name and a caption.
#[component]
pub fn Chart(
    /// What the chart shows, in words (its accessible name).
    label: String,
    /// The caption under it.
    caption: String,
    /// CSS class giving its height.
    class: &'static str,
    /// The drawing.
    draw: Draw,
    /// Told where the time axis lies after each draw (for the playback cursor).
    #[prop(optional)]
    on_area: Option<Callback<PlotArea>>,
    /// Anything laid over the canvas (the playback cursor).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let failed = RwSignal::new(None::<String>);
    let redraw = move |draw: &Draw| {
        if let Some(el) = canvas.get_untracked() {
            match draw(&el) {
                Ok(area) => {
                    failed.set(None);
                    if let (Some(area), Some(cb)) = (area, on_area) {
                        cb.run(area);
                    }
                }
                Err(e) => failed.set(Some(e.to_string())),
            }
        }
    };
    let first = draw.clone();
    Effect::new(move |_| {
        // Runs once the canvas is in the document (and laid out).
        if canvas.get().is_some() {
            redraw(&first);
        }
    });
    let before = draw.clone();
    let after = draw.clone();
    let resize = window_event_listener(leptos::ev::resize, move |_| redraw(&draw));
    // Fired by the browser's print dialog and by headless Chromium's PDF printing alike, before
    // the page is laid out for paper: `set_printing` gives the canvases their paper size first.
    let before_print = window_event_listener_untyped("beforeprint", move |_| {
        charts::set_printing(true);
        redraw(&before);
    });
    let after_print = window_event_listener_untyped("afterprint", move |_| {
        charts::set_printing(false);
        redraw(&after);
    });
    on_cleanup(move || {
        resize.remove();
        before_print.remove();
        after_print.remove();
    });

    view! {
        <figure class="chart">
            <div class="chart-box">
                <canvas node_ref=canvas class=class role="img" aria-label=label></canvas>
                {children.map(|c| c())}
            </div>
            <figcaption>
                {caption}
                {move || failed.get().map(|e| view! { <span class="chart-error" role="alert">" " {e}</span> })}
            </figcaption>
        </figure>
    }
}
