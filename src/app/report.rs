//! A result as a one-page report for the patient's file: the "Patient reference" field and the
//! "Print report" button on a result, and the heading only paper shows. The print stylesheet
//! (`style/main.css`, "Printing a report") leaves the shown result alone on the page, with the
//! page's disclaimer under it; the charts redraw at paper size around printing (`chart.rs`).
//! Why a reference belongs to one result and never leaves the browser: [`crate::patient`].

use leptos::prelude::*;

use super::{AppState, Notice};
use crate::browser;
use crate::patient;

/// A result's patient reference: kept in this browser under its id, or only while the result is
/// on screen when the app keeps no history (embedded in a portal that did not ask for one):
/// a reference must not outlive the result it names.
pub fn reference(result_id: &str) -> RwSignal<String> {
    let stored = expect_context::<AppState>()
        .keeps_history()
        .then(|| {
            browser::patient_references()
                .get(result_id)
                .map(str::to_owned)
        })
        .flatten();
    RwSignal::new(stored.unwrap_or_default())
}

/// The reference field and the print button (on screen only).
#[component]
pub fn ReportTools(
    /// The result's id (its history entry's).
    result_id: String,
    /// Its reference, as [`reference`] gave it.
    reference: RwSignal<String>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let keep = state.keeps_history();
    let field = format!("patient-reference-{result_id}");
    // The field shows what is typed (a space before the next word, say); the store and the
    // report get it cleaned. A property, not the `value` attribute: the page reuses this field
    // for the next result it shows, and a field once typed in ignores its attribute.
    let typed = RwSignal::new(reference.get_untracked());
    let on_input = move |ev| {
        let raw = event_target_value(&ev);
        let text = patient::clean(&raw);
        typed.set(raw);
        if keep {
            if let Err(e) = browser::set_patient_reference(&result_id, &text) {
                state.tell(Notice::Error(e));
            }
        }
        reference.set(text);
    };
    let print = move |_| {
        if let Err(e) = browser::print() {
            state.tell(Notice::Error(e));
        }
    };
    let kept = if keep {
        "kept in this browser only"
    } else {
        "kept only while this result is shown"
    };
    view! {
        <div class="report-tools no-print">
            <label for=field.clone()>"Patient reference"</label>
            <input id=field type="text" maxlength=patient::MAX_CHARS autocomplete="off"
                spellcheck="false" prop:value=move || typed.get() on:input=on_input data-testid="patient-reference"/>
            <button type="button" class="button" on:click=print>"Print report"</button>
            <p class="hint">{format!("Optional: printed on the report, {kept}, never in any export.")}</p>
        </div>
    }
}

/// The report's heading on paper: whose report it is.
#[component]
pub fn ReportHead(reference: RwSignal<String>) -> impl IntoView {
    let patient = move || {
        let text = reference.get();
        if text.is_empty() {
            // A line to write it on by hand.
            view! { <span class="write-in"></span> }.into_any()
        } else {
            view! { <strong data-testid="printed-reference">{text}</strong> }.into_any()
        }
    };
    view! {
        <header class="report-head print-only">
            <p><strong class="report-brand">"HeartBeat"</strong>" heart-sound screening report"</p>
            <p>"Patient reference: " {patient}</p>
        </header>
    }
}
