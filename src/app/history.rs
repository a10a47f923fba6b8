//! The History page: every analysis kept in this browser, re-openable, deletable, and exported or
//! imported as one JSON file.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::HtmlInputElement;

use super::result::ResultView;
use super::{AppState, Notice};
use crate::browser;
use crate::format;
use crate::route::Route;

#[component]
pub fn HistoryPage(
    /// The entry to open, if any.
    id: Option<String>,
) -> impl IntoView {
    match id {
        Some(id) => view! { <Opened id/> }.into_any(),
        None => view! { <List/> }.into_any(),
    }
}

#[component]
fn Opened(id: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let entry = state.history.with(|h| h.get(&id).cloned());
    view! {
        <p><a href=Route::History(None).hash()>"← All analyses"</a></p>
        {match entry {
            Some(e) => view! {
                <p class="muted">{format!("Analysed {}", browser::local_date_time(e.analysed_at_ms))}</p>
                <ResultView name=e.file analysis=Arc::new(e.analysis) audio=None total_ms=e.total_ms/>
            }
            .into_any(),
            None => view! {
                <p class="banner banner-error" role="alert">
                    "This analysis is not in the history any more (deleted here or in another tab)."
                </p>
            }
            .into_any(),
        }}
    }
}

#[component]
fn List() -> impl IntoView {
    let state = expect_context::<AppState>();

    let export = move |_| {
        let json = state.history.with(|h| h.to_json());
        let name = format!(
            "heartbeat-history-{}.json",
            browser::local_day(browser::epoch_ms())
        );
        if let Err(e) = browser::download(&name, "application/json", &json) {
            state.tell(Notice::Error(e));
        }
    };
    let import = move |ev: leptos::ev::Event| {
        let input: HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        input.set_value("");
        spawn_local(async move {
            let text = match browser::read_text(&file).await {
                Ok(text) => text,
                Err(e) => return state.tell(Notice::Error(e)),
            };
            // Merge into a copy: a bad file leaves the history exactly as it was.
            let mut merged = state.history.get_untracked();
            match merged.import(&text) {
                Ok(done) => {
                    state.history.set(merged);
                    state.save_history();
                    state.tell(Notice::Info(format!(
                        "Imported {} analyses from “{}” ({} were already here).",
                        done.added,
                        file.name(),
                        done.already_present
                    )));
                }
                Err(e) => state.tell(Notice::Error(e)),
            }
        });
    };
    let delete_all = move |_| {
        let confirmed = web_sys::window()
            .and_then(|w| {
                w.confirm_with_message(
                    "Delete every analysis in this browser's history? Export it first to keep a copy.",
                )
                .ok()
            })
            .unwrap_or(false);
        if confirmed {
            state.history.update(|h| h.clear());
            state.save_history();
            state.tell(Notice::Info("The history is empty.".into()));
        }
    };
    let empty = move || state.history.with(|h| h.entries().is_empty());

    let rows = move || {
        state.history.with(|h| {
            h.entries()
                .iter()
                .map(|e| {
                    let id = e.id.clone();
                    let r = &e.analysis.report;
                    let class = format!("label label-{}", r.label.as_str());
                    let delete = move |_| {
                        state.history.update(|h| {
                            h.remove(&id);
                        });
                        state.save_history();
                    };
                    view! {
                        <tr data-testid="history-entry" data-name=e.file.clone() data-label=r.label.as_str()>
                            <td>{browser::local_date_time(e.analysed_at_ms)}</td>
                            <th scope="row"><a href=Route::History(Some(e.id.clone())).hash()>{e.file.clone()}</a></th>
                            <td><span class=class>{format::label(r.label)}</span>" "<span class="muted">{format::percent(r.probability_abnormal)}</span></td>
                            <td>{format::heart_rate(r.heart_rate_bpm)}</td>
                            <td class=format!("quality-{}", r.quality.verdict.as_str())>{r.quality.verdict.as_str()}</td>
                            <td>
                                <button type="button" class="button small" on:click=delete
                                    aria-label=format!("Delete the analysis of {}", e.file)>"Delete"</button>
                            </td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };

    view! {
        <section aria-labelledby="history-title">
            <div class="batch-head">
                <h2 id="history-title">"History"</h2>
                <p class="muted">{move || format!("{} analyses kept in this browser", state.history.with(|h| h.entries().len()))}</p>
                <div class="actions">
                    <button type="button" class="button" disabled=empty on:click=export>"Export history"</button>
                    <label class="button" for="history-import">"Import history…"</label>
                    <input id="history-import" class="visually-hidden" type="file" accept=".json,application/json" on:change=import/>
                    <button type="button" class="button danger" disabled=empty on:click=delete_all>"Delete all"</button>
                </div>
            </div>
            <Show when=move || !empty() fallback=|| view! {
                <p class="empty">"No analyses yet. Results you get on the Analyse page are kept here, in this browser only."</p>
            }>
                <div class="table-scroll">
                    <table class="results">
                        <thead>
                            <tr>
                                <th scope="col">"When"</th>
                                <th scope="col">"File"</th>
                                <th scope="col">"Result"</th>
                                <th scope="col">"Heart rate"</th>
                                <th scope="col">"Quality"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            </Show>
        </section>
    }
}
