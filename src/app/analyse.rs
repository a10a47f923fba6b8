//! The Analyse page: pick or drop recordings, follow the batch, sort and export its results, and
//! see the selected recording's result.

use std::sync::Arc;

use js_sys::Float32Array;
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::{File, FileList, HtmlInputElement};

use super::embed;
use super::result::ResultView;
use super::{AppState, Notice};
use crate::batch::{self, Job, SortKey, Status};
use crate::browser;
use crate::engine::Recording;
use crate::error::AppError;
use crate::format;
use crate::history::{Entry, Saved};

/// What the file picker offers. Anything else the browser decodes is accepted too (the picker's
/// "All files" choice); the content decides, never the extension.
const ACCEPT: &str = "audio/*,.wav,.mp3,.flac,.ogg,.oga,.opus,.m4a,.aac,.webm";

#[component]
pub fn AnalysePage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let dragging = RwSignal::new(false);

    let on_pick = move |ev: leptos::ev::Event| {
        let input: HtmlInputElement = event_target(&ev);
        if let Some(files) = input.files() {
            enqueue_files(state, files_of(&files));
        }
        // Clearing lets the same file be picked again (after re-recording it, say).
        input.set_value("");
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(files) = ev.data_transfer().and_then(|d| d.files()) {
            enqueue_files(state, files_of(&files));
        }
    };

    // The model hears nothing shorter than one of its windows; the core refuses such recordings.
    let min_seconds = state
        .card
        .with_value(|card| card.as_ref().ok().map(|(c, _)| c.features.window_seconds()));
    let length = min_seconds.map_or("recordings".to_owned(), |s| {
        format!("at least {s:.0} seconds")
    });
    let hint = format!(
        "or drop them here. WAV, MP3, FLAC, OGG and whatever else this browser plays; {length} \
         from a digital stethoscope or a phone held against the chest, ideally 20–30 s."
    );

    view! {
        <section class="picker" class:dragging=move || dragging.get()
            on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop>
            <h2>"Analyse recordings"</h2>
            <label class="button primary" for="file-input">"Choose recordings…"</label>
            <input id="file-input" class="visually-hidden" type="file" multiple accept=ACCEPT on:change=on_pick/>
            <p class="hint">{hint}</p>
        </section>
        <super::record::Recorder/>
        <Batch/>
        <Selected/>
    }
}

fn files_of(list: &FileList) -> Vec<File> {
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// Where a recording comes from.
pub(super) enum Source {
    /// A file the user picked or dropped.
    File(File),
    /// A live take from the microphone.
    Take {
        /// The take, mono.
        samples: Float32Array,
        /// Its rate in Hz.
        sample_rate: u32,
        /// Where the result's player plays it from.
        playback_url: Option<String>,
    },
    /// A portal's request through the embed API: answered once analysed.
    Portal(embed::Call),
}

/// A recording waiting for the worker.
pub(super) struct Pick {
    id: u32,
    source: Source,
    /// When it was picked (the page's clock, ms).
    picked_at: f64,
    /// The first of what was picked together: its result is shown when done, so picking a
    /// file shows its result and a batch opens on its first file.
    lead: bool,
}

/// Queues recordings, named as the results list shows them, and makes sure someone works
/// through the queue. Files, live takes and portal requests share it, so each is answered
/// in the order it came.
pub(super) fn enqueue(state: AppState, recordings: Vec<(String, Source)>) {
    if recordings.is_empty() {
        return;
    }
    let picked_at = browser::now_ms();
    let first_id = state
        .jobs
        .with_untracked(|jobs| jobs.last().map_or(1, |j| j.id + 1));
    state.jobs.update(|jobs| {
        for (i, (name, _)) in recordings.iter().enumerate() {
            jobs.push(Job {
                id: first_id + i as u32,
                name: name.clone(),
                status: Status::Queued,
                total_ms: None,
                result_id: None,
                analysed_at_ms: None,
            });
        }
    });
    state.queue.update_value(|queue| {
        for (i, (_, source)) in recordings.into_iter().enumerate() {
            queue.push_back(Pick {
                id: first_id + i as u32,
                source,
                picked_at,
                lead: i == 0,
            });
        }
    });
    if !state.busy.get_value() {
        state.busy.set_value(true);
        spawn_local(async move {
            while let Some(pick) = state.queue.try_update_value(|q| q.pop_front()).flatten() {
                process(state, pick).await;
            }
            state.busy.set_value(false);
        });
    }
}

/// Queues a live take: analysed, shown and kept in the history like a dropped file.
pub(super) fn enqueue_take(
    state: AppState,
    name: String,
    samples: Float32Array,
    sample_rate: u32,
    playback_url: Option<String>,
) {
    let take = Source::Take {
        samples,
        sample_rate,
        playback_url,
    };
    enqueue(state, vec![(name, take)]);
}

fn enqueue_files(state: AppState, files: Vec<File>) {
    enqueue(
        state,
        files
            .into_iter()
            .map(|file| (file.name(), Source::File(file)))
            .collect(),
    );
}

/// The recording a source holds, as the worker takes it.
async fn recording(source: &Source) -> Result<Recording, AppError> {
    match source {
        Source::File(file) => browser::decode(browser::read_file(file).await?).await,
        Source::Take {
            samples,
            sample_rate,
            ..
        } => Ok(Recording::Pcm {
            samples: samples.clone(),
            sample_rate: *sample_rate,
        }),
        Source::Portal(call) => call.recording().await,
    }
}

/// Where the page can play a source's recording from, once it has a result.
fn playback_url(source: &Source) -> Option<String> {
    match source {
        Source::File(file) => browser::object_url(file),
        Source::Take { playback_url, .. } => playback_url.clone(),
        Source::Portal(call) => call.playback_url(),
    }
}

/// One recording from its source to a result on screen, in the history and, for a portal's,
/// in the portal's hands.
async fn process(state: AppState, pick: Pick) {
    let Pick {
        id,
        source,
        picked_at,
        lead,
    } = pick;
    set_status(state, id, Status::Analysing);
    let engine = state.engine.with_value(Clone::clone);
    let outcome = async { engine.analyze(recording(&source).await?).await }.await;
    if let Source::Portal(call) = &source {
        call.answer(outcome.as_ref().map(|o| &o.analysis.report));
    }
    let (analysis, url) = match outcome {
        Ok(outcome) => {
            let url = match &outcome.playback {
                Some(wav) => browser::wav_url(wav),
                None => playback_url(&source),
            };
            (Arc::new(outcome.analysis), url)
        }
        Err(e) => return set_status(state, id, Status::Failed(e)),
    };
    if let Some(url) = url {
        state.audio.update_value(|urls| {
            urls.insert(id, url);
        });
    }
    if lead || state.selected.get_untracked().is_none() {
        state.selected.set(Some(id));
    }
    // Known by its history entry's id from the start, so a patient reference typed on the
    // result is there when the entry is reopened.
    let (result_id, analysed_at_ms) = (browser::new_id(), browser::epoch_ms());
    state.jobs.update(|jobs| {
        if let Some(job) = jobs.iter_mut().find(|j| j.id == id) {
            job.status = Status::Done(analysis.clone());
            job.result_id = Some(result_id.clone());
            job.analysed_at_ms = Some(analysed_at_ms);
        }
    });
    browser::after_next_paint().await;
    let total_ms = browser::now_ms() - picked_at;
    let name = state.jobs.try_update(|jobs| {
        let job = jobs.iter_mut().find(|j| j.id == id)?;
        job.total_ms = Some(total_ms);
        Some(job.name.clone())
    });
    if !state.keeps_history() {
        return;
    }
    let entry = Entry {
        id: result_id,
        file: name.flatten().unwrap_or_default(),
        analysed_at_ms,
        total_ms: Some(total_ms),
        analysis: (*analysis).clone(),
    };
    // Saved beside the queue, which goes on with the next recording meanwhile.
    spawn_local(async move {
        let started = browser::now_ms();
        let saved = if state.keep(entry).await {
            Saved::Stored {
                ms: browser::now_ms() - started,
            }
        } else {
            Saved::NotStored
        };
        state.saved.update(|saved_by_job| {
            saved_by_job.insert(id, saved);
        });
    });
}

fn set_status(state: AppState, id: u32, status: Status) {
    state.jobs.update(|jobs| {
        if let Some(job) = jobs.iter_mut().find(|j| j.id == id) {
            job.status = status;
        }
    });
}

/// The results table with its counts and exports.
#[component]
fn Batch() -> impl IntoView {
    let state = expect_context::<AppState>();
    let sort = RwSignal::new((SortKey::Picked, true));
    let sorted = move || {
        let (key, ascending) = sort.get();
        let mut jobs = state.jobs.get();
        batch::sort(&mut jobs, key, ascending);
        jobs
    };
    // Keyed by what a row shows, so a change to one file rebuilds its row alone, not the
    // whole table: a long batch changes one row three times per file.
    let row_key = |job: &Job| (job.id, job.status.as_str(), job.total_ms.map(f64::to_bits));
    let header = move |key: SortKey, text: &'static str| {
        let aria = move || match sort.get() {
            (k, true) if k == key => "ascending",
            (k, false) if k == key => "descending",
            _ => "none",
        };
        let on_click = move |_| {
            sort.update(|(k, asc)| {
                *asc = if *k == key { !*asc } else { true };
                *k = key;
            })
        };
        view! {
            <th scope="col" aria-sort=aria>
                <button type="button" class="sort" on:click=on_click>{text}</button>
            </th>
        }
    };
    let export = move |csv: bool| {
        let (name, mime, text) = state.jobs.with(|jobs| {
            if csv {
                ("heartbeat-results.csv", "text/csv", batch::to_csv(jobs))
            } else {
                (
                    "heartbeat-results.json",
                    "application/json",
                    batch::to_json(jobs),
                )
            }
        });
        if let Err(e) = browser::download(name, mime, &text) {
            state.tell(Notice::Error(e));
        }
    };
    let clear = move |_| {
        state.audio.update_value(|urls| {
            for (_, url) in urls.drain() {
                browser::revoke_object_url(&url);
            }
        });
        state.selected.set(None);
        state
            .jobs
            .update(|jobs| jobs.retain(|j| matches!(j.status, Status::Queued | Status::Analysing)));
    };
    let counts = move || state.jobs.with(|jobs| batch::counts(jobs));
    let nothing_finished = move || {
        let c = counts();
        c.normal + c.abnormal + c.failed == 0
    };

    view! {
        <Show when=move || state.jobs.with(|j| !j.is_empty())>
            <section class="batch" aria-labelledby="batch-title">
                <div class="batch-head">
                    <h2 id="batch-title">"Results"</h2>
                    <p class="counts" aria-live="polite" data-testid="counts">
                        {move || {
                            let c = counts();
                            let mut parts = vec![
                                format!("{} normal", c.normal),
                                format!("{} abnormal", c.abnormal),
                            ];
                            if c.poor_quality > 0 {
                                parts.push(format!("{} poor quality", c.poor_quality));
                            }
                            if c.failed > 0 {
                                parts.push(format!("{} could not be analysed", c.failed));
                            }
                            if c.pending > 0 {
                                parts.push(format!("{} waiting", c.pending));
                            }
                            parts.join(" · ")
                        }}
                    </p>
                    <div class="actions">
                        <button type="button" class="button" disabled=nothing_finished on:click=move |_| export(true)>"Export CSV"</button>
                        <button type="button" class="button" disabled=nothing_finished on:click=move |_| export(false)>"Export JSON"</button>
                        <button type="button" class="button" on:click=clear>"Clear list"</button>
                    </div>
                </div>
                <div class="table-scroll">
                    <table class="results">
                        <thead>
                            <tr>
                                {header(SortKey::Name, "File")}
                                {header(SortKey::Probability, "Result")}
                                {header(SortKey::HeartRate, "Heart rate")}
                                {header(SortKey::Quality, "Quality")}
                                {header(SortKey::Duration, "Duration")}
                                <th scope="col">"Time"</th>
                            </tr>
                        </thead>
                        <tbody>
                            <For each=sorted key=row_key let:job>
                                <JobRow job/>
                            </For>
                        </tbody>
                    </table>
                </div>
            </section>
        </Show>
    }
}

#[component]
fn JobRow(job: Job) -> impl IntoView {
    let state = expect_context::<AppState>();
    let id = job.id;
    let selected = move || state.selected.get() == Some(id);
    let ms = job.total_ms.map(|ms| format!("{ms:.1}"));
    // The worker's share of data-ms, so a benchmark can tell the analysis from the page's work.
    let worker_ms = job.analysis().map(|a| format!("{:.1}", a.worker_ms));
    let label = job.analysis().map(|a| a.report.label.as_str());
    // Whether the result went into the history, and how long storing it took.
    let saved = move || state.saved.with(|saved| saved.get(&id).copied());
    let history = move || match saved()? {
        Saved::Stored { .. } => Some("saved"),
        Saved::NotStored => Some("not-saved"),
    };
    let save_ms = move || match saved()? {
        Saved::Stored { ms } => Some(format!("{ms:.1}")),
        Saved::NotStored => None,
    };
    let not_saved = move || {
        (saved() == Some(Saved::NotStored))
            .then(|| view! { <span class="muted">" (not saved in the history)"</span> })
    };
    let cells = match &job.status {
        Status::Queued => view! { <td colspan="5" class="pending">"Queued"</td> }.into_any(),
        Status::Analysing => view! { <td colspan="5" class="pending">"Analysing…"</td> }.into_any(),
        Status::Failed(e) => {
            view! { <td colspan="5" class="failed" role="alert">{e.to_string()}</td> }.into_any()
        }
        Status::Done(a) => {
            let r = &a.report;
            let class = format!("label label-{}", r.label.as_str());
            let time = job.total_ms.map(format::millis).unwrap_or_default();
            view! {
                <td><span class=class>{format::label(r.label)}</span>" "<span class="muted">{format::percent(r.probability_abnormal)}</span></td>
                <td>{format::heart_rate(r.heart_rate_bpm)}</td>
                <td class=format!("quality-{}", r.quality.verdict.as_str())>{r.quality.verdict.as_str()}</td>
                <td>{format::seconds(r.duration_s)}</td>
                <td>{time}</td>
            }
            .into_any()
        }
    };
    view! {
        <tr data-testid="job" data-name=job.name.clone() data-status=job.status.as_str() data-ms=ms data-worker-ms=worker_ms data-label=label
            data-history=history data-save-ms=save_ms class:selected=selected>
            <th scope="row">
                <button type="button" class="link" aria-pressed=move || selected().to_string()
                    on:click=move |_| state.selected.set(Some(id))>{job.name.clone()}</button>
                {not_saved}
            </th>
            {cells}
        </tr>
    }
}

/// The selected file's result, or where it stands.
#[component]
fn Selected() -> impl IntoView {
    let state = expect_context::<AppState>();
    // Rebuilt only when the selection or the selected file's status changes. Every other change
    // to the batch (files queued, other rows finishing, this row's timing) would otherwise
    // redraw all three charts, which cost a batch tens of milliseconds per file.
    let shown = Memo::new(move |_| {
        let id = state.selected.get()?;
        state.jobs.with(|jobs| {
            jobs.iter().find(|j| j.id == id).map(|j| {
                let done = j.result_id.clone().zip(j.analysed_at_ms);
                (id, j.name.clone(), j.status.clone(), done)
            })
        })
    });
    move || {
        let (id, name, status, done) = shown.get()?;
        Some(match (status, done) {
            (Status::Done(analysis), Some((result_id, analysed_at_ms))) => {
                let audio = state.audio.with_value(|urls| urls.get(&id).cloned());
                let total_ms = Signal::derive(move || {
                    state
                        .jobs
                        .with(|jobs| jobs.iter().find(|j| j.id == id).and_then(|j| j.total_ms))
                });
                view! { <ResultView id=result_id analysed_at_ms name analysis audio total_ms/> }
                    .into_any()
            }
            (Status::Failed(e), _) => view! { <FileFailed name error=e/> }.into_any(),
            (Status::Queued | Status::Analysing | Status::Done(_), _) => view! {
                <p class="working" role="status">"Analysing “" {name} "”…"</p>
            }
            .into_any(),
        })
    }
}

#[component]
fn FileFailed(name: String, error: AppError) -> impl IntoView {
    view! {
        <div class="banner banner-error" role="alert" data-testid="error">
            <p>"Could not analyse “" {name} "”: " {error.to_string()}</p>
        </div>
    }
}
