//! Recording on the Analyse page: record from the microphone with a live waveform, a level
//! meter, a timer and warnings; Stop hands the take to the analysis queue like a dropped file.
//! The take stays in the page: it is kept only if the user saves it as a WAV file.

use heartbeat_core::Limits;
use leptos::html::Canvas;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::analyse::enqueue_take;
use super::AppState;
use crate::error::AppError;
use crate::recorder::{self, Capture, LiveTake};
use crate::take::{self, Level, Warning, QUIET_DB};

/// The level meter's scale (dBFS): quieter than its bottom is as good as silence.
const METER_MIN_DB: f32 = -60.0;

/// Where the recorder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Nothing is recording.
    Idle,
    /// Waiting for the browser (and the user) to open the microphone.
    Starting,
    /// Capturing.
    Recording,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Starting => "starting",
            Phase::Recording => "recording",
        }
    }
}

/// Why a take ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The user pressed Stop.
    Stop,
    /// It reached the maximum length.
    Full,
    /// The microphone went away.
    Disconnected,
    /// The user discarded it, or left the page.
    Discard,
}

/// A take in progress: the open microphone and what it has captured.
struct Live {
    capture: Capture,
    take: LiveTake,
    name: String,
}

/// The last take, offered for saving: its file name and an object URL of its WAV.
#[derive(Debug, Clone, PartialEq)]
struct Saved {
    name: String,
    url: String,
}

#[component]
pub fn Recorder() -> impl IntoView {
    let state = expect_context::<AppState>();
    // The model judges nothing shorter than one of its windows; the core accepts up to its
    // limit. Both come from the core, so the recorder and the analysis agree.
    let min_seconds = state
        .card
        .with_value(|card| card.as_ref().ok().map(|(c, _)| c.features.window_seconds()));
    let max_seconds = Limits::default().max_seconds;

    let phase = RwSignal::new(Phase::Idle);
    let seconds = RwSignal::new(0.0f64);
    let level = RwSignal::new(None::<Level>);
    let warning = RwSignal::new(None::<Warning>);
    let error = RwSignal::new(None::<AppError>);
    let note = RwSignal::new(None::<String>);
    let saved = RwSignal::new(None::<Saved>);
    let live = StoredValue::new_local(None::<Live>);
    let canvas = NodeRef::<Canvas>::new();

    let finish = move |end: End| {
        let Some(Live {
            mut capture,
            take,
            name,
        }) = live.try_update_value(Option::take).flatten()
        else {
            return;
        };
        capture.stop();
        phase.try_set(Phase::Idle);
        if end == End::Discard {
            return;
        }
        let long_enough = take.take().check_length(min_seconds.unwrap_or(0.0));
        match (end, long_enough) {
            (End::Disconnected, fine) => {
                let analysed = fine.is_ok();
                error.set(Some(AppError::MicrophoneDisconnected { analysed }));
                if !analysed {
                    return;
                }
            }
            (_, Err(e)) => return error.set(Some(e)),
            (End::Full, Ok(())) => note.set(Some(format!(
                "Recording stopped by itself at the {} maximum.",
                take::span(max_seconds)
            ))),
            (_, Ok(())) => {}
        }
        let finished = take.finish();
        let url = |blob: &web_sys::Blob| web_sys::Url::create_object_url_with_blob(blob).ok();
        // Two URLs of one file: the results list revokes the player's when it is cleared.
        let playback = finished.wav.as_ref().and_then(url);
        let save = finished.wav.as_ref().and_then(url).map(|url| Saved {
            name: name.clone(),
            url,
        });
        if let Some(old) = saved.get_untracked() {
            web_sys::Url::revoke_object_url(&old.url).ok();
        }
        saved.set(save);
        enqueue_take(
            state,
            name,
            finished.samples,
            finished.sample_rate,
            playback,
        );
    };
    // Deferred: a capture callback must not drop the capture (and itself) while it runs.
    let finish_later = move |end: End| spawn_local(async move { finish(end) });

    let on_chunk = move |chunk: js_sys::Float32Array| {
        let Some(full) = live
            .try_update_value(|live| live.as_mut().map(|l| l.take.push(chunk)))
            .flatten()
        else {
            return;
        };
        live.with_value(|live| {
            if let Some(l) = live {
                let take = l.take.take();
                seconds.set(take.seconds());
                level.set(Some(take.level()));
                let now = take.warning();
                if warning.get_untracked() != now {
                    warning.set(now);
                }
                if let Some(el) = canvas.get_untracked() {
                    recorder::draw_envelope(&el, take);
                }
            }
        });
        if full {
            finish_later(End::Full);
        }
    };

    let start = move |_| {
        error.set(None);
        note.set(None);
        phase.set(Phase::Starting);
        spawn_local(async move {
            let capture = Capture::start(on_chunk, move || finish_later(End::Disconnected)).await;
            match capture {
                // Still wanted: the page may have been left while the browser asked.
                Ok(capture) if phase.try_get_untracked() == Some(Phase::Starting) => {
                    let take = LiveTake::new(capture.sample_rate(), max_seconds);
                    seconds.set(0.0);
                    level.set(None);
                    warning.set(None);
                    live.set_value(Some(Live {
                        capture,
                        take,
                        name: recorder::take_name_now(),
                    }));
                    phase.set(Phase::Recording);
                }
                Ok(_) => {}
                Err(e) => {
                    phase.try_set(Phase::Idle);
                    error.try_set(Some(e));
                }
            }
        });
    };
    on_cleanup(move || {
        finish(End::Discard);
        if let Some(Some(old)) = saved.try_get_untracked() {
            web_sys::Url::revoke_object_url(&old.url).ok();
        }
    });

    let limits = match min_seconds {
        Some(min) => format!(
            "At least {} (the model's window) and at most {}, when recording stops by itself; \
             20–30 s is ideal.",
            take::span(min),
            take::span(max_seconds)
        ),
        None => format!(
            "At most {}, when recording stops by itself; 20–30 s is ideal.",
            take::span(max_seconds)
        ),
    };
    let recording = move || phase.get() == Phase::Recording;
    let meter_text = move || {
        level.get().map_or("–".to_owned(), |l| {
            format!("RMS {:.0} dBFS · peak {:.0} dBFS", l.rms_db, l.peak_db)
        })
    };
    let meter_value = move || {
        level
            .get()
            .map_or(METER_MIN_DB, |l| l.rms_db.max(METER_MIN_DB))
    };

    view! {
        <section class="recorder" aria-labelledby="record-title" data-testid="recorder"
            data-phase=move || phase.get().as_str()
            data-seconds=move || format!("{:.2}", seconds.get())>
            <h2 id="record-title">"Record"</h2>
            <p class="hint">
                "Hold the stethoscope or the phone's microphone still on the chest, then press Record. "
                {limits}
                " The browser's voice processing is turned off: made for speech, it removes heart sounds. "
                "The recording stays in this page; it is kept only if you save it."
            </p>
            <div class="record-controls">
                <Show when=recording fallback=move || view! {
                    <button type="button" class="button primary" data-testid="record"
                        disabled=move || phase.get() == Phase::Starting on:click=start>
                        {move || if phase.get() == Phase::Starting { "Waiting for the microphone…" } else { "● Record" }}
                    </button>
                }>
                    <button type="button" class="button primary" data-testid="stop"
                        on:click=move |_| finish(End::Stop)>"■ Stop and analyse"</button>
                    <button type="button" class="button" on:click=move |_| finish(End::Discard)>"Discard"</button>
                </Show>
                <Show when=recording>
                    <span class="timer" role="timer" aria-label="Recording time">
                        {move || take::clock(seconds.get())}
                    </span>
                </Show>
                {move || saved.get().filter(|_| !recording()).map(|s| view! {
                    <a class="button" data-testid="save-take" href=s.url download=s.name.clone()>
                        "Save “" {s.name.clone()} "” (WAV)"
                    </a>
                })}
            </div>
            <Show when=recording>
                <canvas node_ref=canvas class="live-wave" role="img"
                    aria-label="Live waveform of the last five seconds"></canvas>
                <div class="level">
                    <label for="record-level">"Level"</label>
                    <meter id="record-level" min=METER_MIN_DB max="0" low=QUIET_DB high="-3" optimum="-30"
                        value=meter_value></meter>
                    <span class="muted">{meter_text}</span>
                </div>
            </Show>
            <div role="status">
                {move || warning.get().filter(|_| recording()).map(|w| view! {
                    <p class="banner banner-warning" data-testid="record-warning" data-warning=w.as_str()>
                        {w.message()}
                    </p>
                })}
            </div>
            {move || note.get().map(|n| view! { <p class="banner banner-info" role="status">{n}</p> })}
            {move || error.get().map(|e| view! {
                <div class="banner banner-error" role="alert" data-testid="record-error">
                    <p>{e.to_string()}</p>
                </div>
            })}
        </section>
    }
}
