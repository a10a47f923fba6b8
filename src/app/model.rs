//! The Model page: what the bundled model is for, how well it did in cross-validation (with the
//! spread over folds, per recording site), its ROC curve, confusion matrix and training curves.
//! Everything comes from the model card the training pipeline wrote.

use std::rc::Rc;

use heartbeat_core::ModelCard;
use leptos::prelude::*;

use super::chart::{Chart, Draw};
use super::AppState;
use crate::card::{CardView, MetricSet, Spread};
use crate::charts::{self, RocPoint, Series};
use crate::format;

#[component]
pub fn ModelPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    match state.card.get_value() {
        Ok((card, view)) => view! { <Card card view/> }.into_any(),
        Err(e) => view! { <p class="banner banner-error" role="alert">{e}</p> }.into_any(),
    }
}

fn spread(s: Spread) -> String {
    format!("{:.3} ± {:.3}", s.mean, s.std)
}

fn metric_cells(m: &MetricSet) -> impl IntoView {
    view! {
        <td>{m.n}</td>
        <td>{spread(m.sensitivity)}</td>
        <td>{spread(m.specificity)}</td>
        <td>{spread(m.macc)}</td>
        <td>{spread(m.auc)}</td>
    }
}

#[component]
fn Card(card: ModelCard, view: CardView) -> impl IntoView {
    let m = &view.metrics;
    let subsets = m
        .per_subset
        .iter()
        .map(|(name, set)| {
            let records = view.training.records.get(name);
            let abnormal = records.map_or(String::new(), |r| {
                format!("{:.0} %", 100.0 * r.abnormal as f32 / (r.normal + r.abnormal).max(1) as f32)
            });
            view! { <tr><th scope="row">{name.clone()}</th><td>{abnormal}</td>{metric_cells(set)}</tr> }
        })
        .collect_view();
    let c = view.confusion;
    // The shipped operating point: out-of-fold sensitivity and false-positive rate.
    let operating = RocPoint {
        fpr: c.fp as f32 / (c.fp + c.tn).max(1) as f32,
        tpr: c.tp as f32 / (c.tp + c.fn_).max(1) as f32,
    };
    let roc: Vec<RocPoint> = view
        .roc
        .iter()
        .map(|p| RocPoint {
            fpr: p.fpr,
            tpr: p.tpr,
        })
        .collect();
    let auc = m.pooled.auc.mean;
    let draw_roc: Draw =
        Rc::new(move |cv| charts::roc(cv, &roc, Some(operating), Some(auc)).map(|()| None));
    let series: Vec<Series> = view
        .loss_curves
        .iter()
        .map(|c| Series {
            name: c.name.clone(),
            points: c.points.clone(),
        })
        .collect();
    let draw_loss: Draw =
        Rc::new(move |cv| charts::training_curves(cv, &series, "training loss").map(|()| None));
    let f = &card.features;

    view! {
        <section aria-labelledby="model-title" class="model-page">
            <h2 id="model-title">{format!("Model: {} {}", card.name, card.version)}</h2>
            <h3>"Intended use"</h3>
            <p>
                "A screening aid for heart-sound recordings: it flags recordings that may contain "
                "abnormal heart sounds so that a clinician examines the patient. It is not a "
                "diagnosis, does not name a condition, and a normal result does not rule out heart "
                "disease. It was trained on adult and paediatric recordings from the PhysioNet/CinC "
                "2016 challenge (six sites, several stethoscopes)."
            </p>
            <h3>"Known weaknesses and limitations"</h3>
            <ul>{view.weaknesses.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}</ul>
            <p class="muted">
                "Results on recording sites, stethoscopes or populations unlike the training data may "
                "be worse than these figures. Poor-quality recordings (noise, talking, rubbing) are "
                "flagged; re-record them."
            </p>

            <h3>"Cross-validation"</h3>
            <p class="muted">{m.description.clone()}</p>
            <div class="table-scroll">
                <table class="metrics" data-testid="metrics">
                    <thead>
                        <tr>
                            <th scope="col">"Recordings"</th><th scope="col">"Abnormal share"</th><th scope="col">"n"</th>
                            <th scope="col">"Sensitivity"</th><th scope="col">"Specificity"</th>
                            <th scope="col">"MAcc"</th><th scope="col">"AUC"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <tr class="pooled"><th scope="row">"All (pooled)"</th><td></td>{metric_cells(&m.pooled)}</tr>
                        {subsets}
                    </tbody>
                </table>
            </div>
            <p>
                {format!(
                    "Mean of per-site MAcc over {}: {:.3} (the figure models are selected on).",
                    m.mean_subset_macc_subsets.join(", "),
                    m.mean_subset_macc
                )}
            </p>

            <div class="chart-grid">
                <Chart label=format!("ROC curve, out-of-fold, AUC {auc:.3}")
                    caption="ROC curve of out-of-fold predictions; the dot is the shipped threshold.".to_owned()
                    class="chart-square" draw=draw_roc/>
                <figure class="confusion">
                    <table data-testid="confusion">
                        <caption>{format!("Confusion matrix at the threshold {} (out-of-fold)", format::percent(card.threshold))}</caption>
                        <thead>
                            <tr><td></td><th scope="col">"Called abnormal"</th><th scope="col">"Called normal"</th></tr>
                        </thead>
                        <tbody>
                            <tr><th scope="row">"Abnormal"</th><td class="cell-hit">{c.tp}</td><td class="cell-miss">{c.fn_}</td></tr>
                            <tr><th scope="row">"Normal"</th><td class="cell-miss">{c.fp}</td><td class="cell-hit">{c.tn}</td></tr>
                        </tbody>
                    </table>
                </figure>
            </div>
            <Chart label="Training loss per epoch for each cross-validation fold and the final model".to_owned()
                caption="Training loss per epoch (each fold, and the final model trained on all records).".to_owned()
                class="chart-small" draw=draw_loss/>

            <h3>"Details"</h3>
            <dl class="facts">
                <dt>"Network"</dt><dd>{view.architecture.clone()}</dd>
                <dt>"Size"</dt>
                <dd>{format!("{} parameters, {:.1} M multiply-accumulates per {:.0} s window, {:.0} KB ONNX",
                    view.parameters, view.macs_per_window as f64 / 1e6, f.window_seconds(),
                    view.onnx_bytes as f64 / 1e3)}</dd>
                <dt>"Input"</dt>
                <dd>{format!("{} Hz audio; {}; {:.1} s windows every {:.1} s",
                    f.sample_rate, f.views_text(), f.window_seconds(),
                    f.window_hop_frames as f32 / f.frame_rate())}</dd>
                <dt>"Threshold"</dt><dd>{format!("{} ({})", format::percent(card.threshold), view.training.threshold_rule)}</dd>
                <dt>"Validation"</dt><dd>{view.training.split.clone()}</dd>
                <dt>"Shipped model"</dt><dd>{view.training.shipped.clone()}</dd>
            </dl>

            <h3>"What mattered"</h3>
            <p class="muted">"Levers tried in cross-validation: pooled MAcc and AUC without → with each."</p>
            <div class="table-scroll">
                <table class="levers">
                    <thead><tr><th scope="col">"Lever"</th><th scope="col">"MAcc"</th><th scope="col">"AUC"</th></tr></thead>
                    <tbody>
                        {view.training.levers.iter().map(|l| view! {
                            <tr>
                                <td>{l.lever.clone()}</td>
                                <td>{format!("{} → {}", format::percent(l.before.pooled_macc as f32), format::percent(l.after.pooled_macc as f32))}</td>
                                <td>{format!("{:.3} → {:.3}", l.before.pooled_auc, l.after.pooled_auc)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
