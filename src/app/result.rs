//! One recording's result: the verdict, the numbers behind it, and the charts that show where
//! in the recording the model heard trouble, with playback when the audio is at hand; printed,
//! it is the patient's one-page report (`report.rs`).

use std::rc::Rc;
use std::sync::Arc;

use heartbeat_core::quality::Verdict;
use heartbeat_core::segmentation::Rhythm;
use heartbeat_core::{FilterBank, Label};
use heartbeat_worker::protocol::Analysis;
use leptos::html::Audio;
use leptos::prelude::*;
use web_sys::HtmlMediaElement;

use super::chart::{Chart, Draw};
use super::report::{self, ReportHead, ReportTools};
use super::AppState;
use crate::browser;
use crate::charts::{self, PlotArea};
use crate::format;

/// The result of one analysis.
#[component]
pub fn ResultView(
    /// The id the result is known by (its history entry's).
    id: String,
    /// When it was analysed, milliseconds since 1970 (UTC).
    analysed_at_ms: f64,
    /// The file's name.
    name: String,
    /// The analysis.
    analysis: Arc<Analysis>,
    /// A URL to play the recording from (this session's files only: audio is never stored).
    audio: Option<String>,
    /// Milliseconds from picking the file to this result: known only once the result has been
    /// painted, so it arrives after the rest.
    #[prop(into)]
    total_ms: Signal<Option<f64>>,
) -> impl IntoView {
    let r = &analysis.report;
    let (symbol, label_class) = match r.label {
        Label::Normal => ("●", "verdict verdict-normal"),
        Label::Abnormal => ("▲", "verdict verdict-abnormal"),
    };
    let poor = r.quality.verdict == Verdict::Poor;
    let reasons = r.quality.reasons.clone();
    let untrained = (!r.model.trained).then(|| {
        view! {
            <p class="banner banner-warning" role="alert">
                "Produced by the untrained placeholder model: this label is meaningless."
            </p>
        }
    });
    let worker_ms = analysis.worker_ms;
    let timing = move || match total_ms.get() {
        Some(total) => format!(
            "{} from choosing the file to this result ({} in the analysis worker)",
            format::millis(total),
            format::millis(worker_ms)
        ),
        None => format!("{} in the analysis worker", format::millis(worker_ms)),
    };

    let data_name = name.clone();
    let reference = report::reference(&id);
    view! {
        <article class="result" data-testid="result" data-name=data_name data-label=r.label.as_str()>
            <ReportHead reference/>
            <h2>"Result for “" {name} "”"</h2>
            <p class="muted analysed" data-testid="analysed">
                {format!("Analysed {}", browser::local_date_time(analysed_at_ms))}
            </p>
            <ReportTools result_id=id reference/>
            {untrained}
            <div class="verdict-row">
                <p class=label_class data-testid="label">
                    <span aria-hidden="true">{symbol}" "</span>{format::label(r.label)}
                </p>
                <p class="advice">{format::advice(r.label)}</p>
            </div>
            // Paper has the page's own disclaimer under the report instead.
            <p class="disclaimer no-print">
                "Screening aid, not a diagnosis: a clinician decides. A normal result does not rule out heart disease."
            </p>
            {poor.then(|| view! {
                <div class="banner banner-warning" role="alert" data-testid="re-record">
                    <strong>"Please re-record."</strong>
                    " The recording's quality is poor, so this result may not be reliable:"
                    <ul>{reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
                </div>
            })}
            <dl class="facts">
                <dt>"Probability of abnormal"</dt>
                <dd data-testid="probability">{format::percent(r.probability_abnormal)}</dd>
                <dt>"Decision threshold"</dt>
                <dd>{format::percent(r.threshold)} " (at or above: abnormal)"</dd>
                <dt>"Recording quality"</dt>
                <dd class=if poor { "quality-poor" } else { "quality-good" } data-testid="quality">{format::quality(r.quality.verdict)}</dd>
                <dt>"Duration"</dt>
                <dd data-testid="duration">{format::seconds(r.duration_s)}</dd>
                <dt>"Analysis time"</dt>
                <dd data-testid="timing">{timing}</dd>
                <dt>"Model"</dt>
                <dd>{format!("{} {}", r.model.name, r.model.version)}</dd>
            </dl>
            <HeartRhythm heart_rate_bpm=r.heart_rate_bpm rhythm=r.rhythm/>
            <Charts analysis=analysis.clone() audio/>
        </article>
    }
}

/// Heart rate and rhythm from the heart-cycle segmentation: what a clinician counts and times by
/// ear, to set beside the charts' S1 and S2.
#[component]
fn HeartRhythm(heart_rate_bpm: Option<f32>, rhythm: Option<Rhythm>) -> impl IntoView {
    let irregular = rhythm.as_ref().and_then(format::irregular).map(|text| {
        view! { <p class="banner banner-info" role="note" data-testid="irregular">{text}</p> }
    });
    let details = rhythm.map(|r| {
        view! {
            <dt>"Heart cycles timed"</dt>
            <dd data-testid="beats">{r.beats}</dd>
            <dt>"Beat-to-beat variability"</dt>
            <dd data-testid="variability">{format::variability(&r)}</dd>
            <dt>"Systole (median)"</dt>
            <dd data-testid="systole">{format::phase(r.systole_s)}</dd>
            <dt>"Diastole (median)"</dt>
            <dd data-testid="diastole">{format::phase(r.diastole_s)}</dd>
        }
    });
    view! {
        <section class="rhythm" aria-label="Heart rhythm">
            <h3>"Heart rhythm"</h3>
            <dl class="facts">
                <dt>"Heart rate"</dt>
                <dd data-testid="heart-rate">{format::heart_rate(heart_rate_bpm)}</dd>
                {details}
            </dl>
            {irregular}
        </section>
    }
}

/// The three charts, and playback with a cursor over the waveform.
#[component]
fn Charts(analysis: Arc<Analysis>, audio: Option<String>) -> impl IntoView {
    let duration = analysis.report.duration_s;
    let threshold = analysis.report.threshold;
    let above = analysis
        .report
        .windows
        .iter()
        .filter(|w| w.probability >= threshold)
        .count();
    let n_windows = analysis.report.windows.len();
    let segmented = !analysis.report.segments.is_empty();
    // Every window is the model's full input length (shorter recordings are refused).
    let window_s = analysis
        .report
        .windows
        .first()
        .map_or(0.0, |w| w.end_s - w.start_s);

    let a = analysis.clone();
    let waveform: Draw = Rc::new(move |c| {
        charts::waveform(
            c,
            &a.visual,
            &a.report.windows,
            a.report.threshold,
            &a.report.segments,
        )
        .map(Some)
    });
    // The mel axis spans the model's frequency range on its bank's scale, as its card states it.
    let (fmin, fmax, bank) = expect_context::<AppState>()
        .card
        .with_value(|card| {
            card.as_ref()
                .ok()
                .map(|(c, _)| (c.features.fmin, c.features.fmax, c.features.filter_bank))
        })
        .unwrap_or((25.0, 400.0, FilterBank::Mel));
    let a = analysis.clone();
    let spectrogram: Draw =
        Rc::new(move |c| charts::spectrogram(c, &a.visual, fmin, fmax, bank).map(Some));
    let a = analysis;
    let windows: Draw = Rc::new(move |c| {
        charts::window_probabilities(
            c,
            &a.report.windows,
            a.report.threshold,
            a.report.duration_s,
        )
        .map(Some)
    });

    // Where the waveform's time axis lies, and where playback is.
    let area = RwSignal::new(PlotArea {
        left: 0.0,
        right: 1.0,
    });
    let position = RwSignal::new(None::<f64>);
    let player = NodeRef::<Audio>::new();
    let cursor = move || {
        let t = position.get()?;
        let a = area.get();
        let fraction = (t / f64::from(duration.max(1e-3))).clamp(0.0, 1.0) as f32;
        let left = (a.left + fraction * (a.right - a.left)) * 100.0;
        Some(
            // A style property, not a style attribute: the CSP allows no inline styles.
            view! { <div class="cursor" style:left=format!("{left:.2}%") aria-hidden="true"></div> },
        )
    };
    let follow = move |_| follow_playback(player, position);
    // A detached <audio> goes on playing: stop it when the result leaves the page.
    on_cleanup(move || {
        if let Some(Some(el)) = player.try_get_untracked() {
            let _ = el.pause();
        }
    });

    let waveform_caption = format!(
        "Shading: each analysed {window_s:.0} s window by the model's probability of abnormal; {above} of \
         {n_windows} windows at or above the threshold are outlined.{}",
        if segmented {
            " The band along the bottom is the heart cycle as the app segmented it (S1 and S2 \
             solid, systole and diastole pale), to check against what you hear."
        } else {
            ""
        }
    );
    let waveform_label = format!(
        "Waveform of the recording with the analysed windows shaded by their probability of \
         abnormal{}",
        if segmented {
            ", and the heart sounds S1 and S2, systole and diastole marked below it"
        } else {
            ""
        }
    );
    let playback = match audio {
        Some(src) => view! {
            <div class="playback no-print">
                <audio node_ref=player controls src=src preload="metadata"
                    aria-label="Play the recording" on:play=follow on:seeked=follow></audio>
            </div>
        }
        .into_any(),
        None => view! {
            <p class="hint no-print">"The audio is not kept in the history; open the file again to play it."</p>
        }
        .into_any(),
    };

    view! {
        <section class="charts" aria-label="Where in the recording">
            <h3>"Where the model heard trouble"</h3>
            {playback}
            <Chart label=waveform_label caption=waveform_caption class="chart-waveform" draw=waveform
                on_area=Callback::new(move |a| area.set(a))>
                {cursor}
            </Chart>
            // Left off the report, to keep it to one page: the waveform and the windows say where.
            <div class="no-print">
                <Chart label=format!("Log-mel spectrogram the model analysed, {fmin:.0} to {fmax:.0} Hz")
                    caption=format!("The log-mel spectrogram the model was given ({fmin:.0}–{fmax:.0} Hz).")
                    class="chart-spectrogram" draw=spectrogram/>
            </div>
            <Chart label=format!("Probability of abnormal for each {window_s:.0} second window, against the decision threshold")
                caption=format!("Probability of abnormal per {window_s:.0} s window; dashed line: the decision threshold.")
                class="chart-windows" draw=windows/>
        </section>
    }
}

/// Moves the cursor with playback, one update per animation frame while the audio plays.
fn follow_playback(player: NodeRef<Audio>, position: RwSignal<Option<f64>>) {
    // The user may have moved to another page while the recording plays: the loop ends with
    // the result it belongs to.
    let Some(Some(el)) = player.try_get_untracked() else {
        return;
    };
    let media: &HtmlMediaElement = &el;
    if position.try_set(Some(media.current_time())).is_some() {
        return;
    }
    if !media.paused() && !media.ended() {
        request_animation_frame(move || follow_playback(player, position));
    }
}
