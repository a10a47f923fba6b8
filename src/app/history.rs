//! The History page: every analysis kept in this browser, newest first a page at a time,
//! re-openable, deletable, and exported or imported as one JSON file.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::HtmlInputElement;

use super::result::ResultView;
use super::{AppState, HistoryState, Notice};
use crate::browser;
use crate::error::AppError;
use crate::format;
use crate::history::{Entry, Index};
use crate::route::Route;

/// Rows listed at first, and added by each "Show more": the page stays as quick to open with
/// ten thousand analyses as with ten.
const PAGE: usize = 100;

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
    // Read from storage: the page holds only the summaries.
    let entry = RwSignal::new(None::<Result<Option<Entry>, AppError>>);
    match state.store() {
        Some(store) => spawn_local(async move {
            let read = store.entry(&id).await;
            // The page may have moved on meanwhile.
            let _ = entry.try_set(Some(read));
        }),
        None => entry.set(Some(Ok(None))),
    }
    view! {
        <p><a href=Route::History(None).hash()>"← All analyses"</a></p>
        {move || match entry.get() {
            None => view! { <p class="working" role="status">"Opening the analysis…"</p> }.into_any(),
            Some(Ok(Some(e))) => view! {
                <ResultView id=e.id analysed_at_ms=e.analysed_at_ms name=e.file
                    analysis=Arc::new(e.analysis) audio=None total_ms=e.total_ms/>
            }
            .into_any(),
            Some(Ok(None)) => view! {
                <p class="banner banner-error" role="alert">
                    "This analysis is not in the history any more (deleted here or in another tab)."
                </p>
            }
            .into_any(),
            Some(Err(e)) => view! {
                <p class="banner banner-error" role="alert">{e.to_string()}</p>
            }
            .into_any(),
        }}
    }
}

#[component]
fn List() -> impl IntoView {
    let state = expect_context::<AppState>();
    let shown = RwSignal::new(PAGE);

    let export = move |_| {
        let Some(store) = state.store() else {
            return;
        };
        spawn_local(async move {
            let name = format!(
                "heartbeat-history-{}.json",
                browser::local_day(browser::epoch_ms())
            );
            let exported = match store.export().await {
                Ok(parts) => browser::download_parts(&name, "application/json", &parts),
                Err(e) => Err(e),
            };
            if let Err(e) = exported {
                state.tell(Notice::Error(e));
            }
        });
    };
    let import = move |ev: leptos::ev::Event| {
        let input: HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        input.set_value("");
        let Some(store) = state.store() else {
            return;
        };
        spawn_local(async move {
            let text = match browser::read_text(&file).await {
                Ok(text) => text,
                Err(e) => return state.tell(Notice::Error(e)),
            };
            // Stored first, in one write: a bad file or a full storage changes nothing.
            let added = match state.history.with_untracked(|h| h.import(&text)) {
                Ok((entries, done)) => store.add(&entries).await.map(|()| (entries, done)),
                Err(e) => Err(e),
            };
            match added {
                Ok((entries, done)) => {
                    state
                        .history
                        .update(|h| h.extend(entries.iter().map(Entry::summary)));
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
        let Some(store) = state.store().filter(|_| confirmed) else {
            return;
        };
        spawn_local(async move {
            match store.clear().await {
                Ok(()) => {
                    state.history.update(|h| h.clear());
                    forget_patient_references(state, None);
                    state.tell(Notice::Info("The history is empty.".into()));
                }
                Err(e) => state.tell(Notice::Error(e)),
            }
        });
    };
    let open = move || state.history_state.with(|s| *s == HistoryState::Open);
    let empty = move || !open() || state.history.with(Index::is_empty);
    let count = move || {
        let n = state.history.with(Index::len);
        match state.history_state.get() {
            HistoryState::Open if n > shown.get() => format!(
                "{n} analyses kept in this browser; the {} most recent are listed",
                shown.get()
            ),
            HistoryState::Open => format!("{n} analyses kept in this browser"),
            _ => String::new(),
        }
    };

    let rows = move || {
        state.history.with(|h| {
            h.summaries()
                .iter()
                .take(shown.get())
                .map(|e| {
                    let id = e.id.clone();
                    let class = format!("label label-{}", e.label.as_str());
                    let delete = move |_| {
                        let Some(store) = state.store() else {
                            return;
                        };
                        let id = id.clone();
                        spawn_local(async move {
                            match store.remove(&id).await {
                                Ok(()) => {
                                    state.history.update(|h| {
                                        h.remove(&id);
                                    });
                                    forget_patient_references(state, Some(&id));
                                }
                                Err(e) => state.tell(Notice::Error(e)),
                            }
                        });
                    };
                    view! {
                        <tr data-testid="history-entry" data-name=e.file.clone() data-label=e.label.as_str()>
                            <td>{browser::local_date_time(e.analysed_at_ms)}</td>
                            <th scope="row"><a href=Route::History(Some(e.id.clone())).hash()>{e.file.clone()}</a></th>
                            <td><span class=class>{format::label(e.label)}</span>" "<span class="muted">{format::percent(e.probability_abnormal)}</span></td>
                            <td>{format::heart_rate(e.heart_rate_bpm)}</td>
                            <td class=format!("quality-{}", e.quality.as_str())>{e.quality.as_str()}</td>
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
    let more = move || {
        let left = state.history.with(Index::len).saturating_sub(shown.get());
        (left > 0).then(|| {
            view! {
                <button type="button" class="button" on:click=move |_| shown.update(|n| *n += PAGE)>
                    {format!("Show {} more", left.min(PAGE))}
                </button>
            }
        })
    };
    let body = move || {
        match state.history_state.get() {
        HistoryState::Opening => {
            view! { <p class="working" role="status">"Opening the history…"</p> }.into_any()
        }
        HistoryState::Unavailable(e) => {
            view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }.into_any()
        }
        HistoryState::Off => view! {
            <p class="empty">"Embedded in this portal, HeartBeat keeps no history: results stay until the page is closed."</p>
        }
        .into_any(),
        HistoryState::Open => view! {
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
                {more}
            </Show>
        }
        .into_any(),
    }
    };

    view! {
        <section aria-labelledby="history-title">
            <div class="batch-head">
                <h2 id="history-title">"History"</h2>
                <p class="muted">{count}</p>
                <div class="actions">
                    <button type="button" class="button" disabled=empty on:click=export>"Export history"</button>
                    <label class="button" for="history-import">"Import history…"</label>
                    <input id="history-import" class="visually-hidden" type="file" accept=".json,application/json"
                        disabled=move || !open() on:change=import/>
                    <button type="button" class="button danger" disabled=empty on:click=delete_all>"Delete all"</button>
                </div>
            </div>
            {body}
        </section>
    }
}

/// A deleted entry's patient reference goes with it (`None`: every entry's).
fn forget_patient_references(state: AppState, id: Option<&str>) {
    if let Err(e) = browser::forget_patient_references(id) {
        state.tell(Notice::Error(e));
    }
}
