//! The Analytics page: what the history holds (classes, probabilities, activity) and how fast
//! analysis runs in this browser.

use std::rc::Rc;

use leptos::prelude::*;

use super::chart::{Chart, Draw};
use super::AppState;
use crate::browser;
use crate::charts::{self, Bar, BarKind};
use crate::format;
use crate::history::{self, Stats};

/// Days shown in the activity chart.
const DAYS_SHOWN: usize = 30;
/// Probability histogram bins (5 % each).
const BINS: usize = 20;

#[component]
pub fn AnalyticsPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        let stats = state
            .history
            .with(|h| history::stats(h.summaries(), browser::local_day));
        let load_ms = state.load_times.with(|t| history::median(t.clone()));
        let n_loads = state.load_times.with(Vec::len);
        view! {
            <section aria-labelledby="analytics-title">
                <h2 id="analytics-title">"Analytics"</h2>
                <p class="muted">"Computed from the history kept in this browser; nothing is sent anywhere."</p>
                <dl class="tiles">
                    <div><dt>"Analyses"</dt><dd data-testid="total">{stats.normal + stats.abnormal}</dd></div>
                    <div><dt>"Normal"</dt><dd>{stats.normal}</dd></div>
                    <div><dt>"Abnormal"</dt><dd>{stats.abnormal}</dd></div>
                    <div>
                        <dt>"Median time, file to result"</dt>
                        <dd data-testid="median-total">{stats.median_total_ms.map(format::millis).unwrap_or_else(|| "–".into())}</dd>
                    </div>
                    <div>
                        <dt>"Median analysis time in the worker"</dt>
                        <dd>{stats.median_worker_ms.map(format::millis).unwrap_or_else(|| "–".into())}</dd>
                    </div>
                    <div>
                        <dt>{format!("Median model load time ({n_loads} loads in this browser)")}</dt>
                        <dd data-testid="median-load">{load_ms.map(format::millis).unwrap_or_else(|| "–".into())}</dd>
                    </div>
                </dl>
                <Charts stats/>
            </section>
        }
    }
}

#[component]
fn Charts(stats: Stats) -> impl IntoView {
    if stats.probabilities.is_empty() {
        return view! {
            <p class="empty">"No analyses yet: the charts appear once the history holds results."</p>
        }
        .into_any();
    }
    let classes = vec![
        Bar {
            label: "Normal".into(),
            value: stats.normal as f32,
            kind: BarKind::Normal,
        },
        Bar {
            label: "Abnormal".into(),
            value: stats.abnormal as f32,
            kind: BarKind::Abnormal,
        },
    ];
    let days: Vec<Bar> = stats
        .per_day
        .iter()
        .rev()
        .take(DAYS_SHOWN)
        .rev()
        .map(|(day, n)| Bar {
            label: day.clone(),
            value: *n as f32,
            kind: BarKind::Neutral,
        })
        .collect();
    let n_days = days.len();
    let probabilities = stats.probabilities.clone();
    let threshold = stats.threshold.unwrap_or(0.5);

    let draw_classes: Draw = Rc::new(move |c| charts::bars(c, &classes, "analyses").map(|()| None));
    let draw_histogram: Draw =
        Rc::new(move |c| charts::histogram(c, &probabilities, threshold, BINS).map(|()| None));
    let draw_days: Draw = Rc::new(move |c| charts::bars(c, &days, "analyses").map(|()| None));

    view! {
        <div class="chart-grid">
            <Chart label=format!("Class distribution: {} normal, {} abnormal", stats.normal, stats.abnormal)
                caption="Results by class.".to_owned() class="chart-small" draw=draw_classes/>
            <Chart label="Histogram of the probability of abnormal over the history".to_owned()
                caption=format!("Probability of abnormal, in 5 % bins; line: the threshold ({}).", format::percent(threshold))
                class="chart-small" draw=draw_histogram/>
        </div>
        <Chart label=format!("Analyses per day over the last {n_days} active days")
            caption=format!("Analyses per day (last {n_days} days with analyses).")
            class="chart-small" draw=draw_days/>
    }
    .into_any()
}
