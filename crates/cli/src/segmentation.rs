//! `heartbeat segment-features` and `heartbeat segment-eval`: the segmenter's training data and
//! its score against annotated recordings (CirCor layout), both computed by the core's own
//! front end, as the app segments.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use heartbeat_core::segmentation::annotation::{self, Agreement};
use heartbeat_core::segmentation::frames::FRAME_RATE;
use heartbeat_core::segmentation::{Segment, State};
use heartbeat_core::FrontEnd;
use indicatif::ParallelProgressIterator;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::json;

use crate::inputs::{self, Annotated};
use crate::npz::{self, Array};
use crate::progress;

/// Reads a recording and its annotation.
fn load(
    front: &FrontEnd,
    rec: &Annotated,
) -> Result<(heartbeat_core::Audio, Vec<Segment>), String> {
    let text = std::fs::read_to_string(&rec.tsv).map_err(|e| e.to_string())?;
    let annotated =
        annotation::parse_tsv(&text).map_err(|e| format!("{}: {e}", rec.tsv.display()))?;
    let bytes = std::fs::read(&rec.path).map_err(|e| e.to_string())?;
    let audio = front.decode(&bytes).map_err(|e| e.to_string())?;
    Ok((audio, annotated))
}

/// Writes every annotated recording's stacked emission inputs and each frame's annotated state
/// (0–3 in S1, systole, S2, diastole order; -1 where nothing is annotated).
pub fn features(
    front: &FrontEnd,
    dir: &Path,
    out: &Path,
    only: Option<&[String]>,
) -> anyhow::Result<ExitCode> {
    let records = inputs::annotated(dir, only)?;
    let cfg = &front.segmenter().params().frames;
    let rows: Vec<_> = records
        .par_iter()
        .progress_with(progress::bar(records.len(), "segmenter features"))
        .map(|rec| {
            let (audio, annotated) = load(front, rec)?;
            let frames = front.segmenter_frames(&audio).map_err(|e| e.to_string())?;
            let states: Vec<i8> = (0..frames.len())
                .map(|t| {
                    let at = (t as f32 + 0.5) / FRAME_RATE;
                    annotated
                        .iter()
                        .find(|s| s.start_s <= at && at < s.end_s)
                        .and_then(|s| State::ALL.iter().position(|&k| k == s.state))
                        .map_or(-1, |k| k as i8)
                })
                .collect();
            Ok::<_, String>((frames.stacked(cfg), states))
        })
        .collect();
    let (mut inputs, mut states, mut offsets) = (Vec::new(), Vec::new(), vec![0i64]);
    let (mut names, mut patients) = (Vec::new(), Vec::new());
    for (rec, row) in records.iter().zip(rows) {
        match row {
            Ok((x, s)) => {
                inputs.extend(x);
                states.extend(s);
                offsets.push(states.len() as i64);
                names.push(rec.record.as_str());
                patients.push(rec.patient.as_str());
            }
            Err(e) => eprintln!("heartbeat: skipping {}: {e}", rec.path.display()),
        }
    }
    if names.is_empty() {
        bail!("no recording in {} could be read", dir.display());
    }
    let width = cfg.input_len();
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    npz::write(
        std::io::BufWriter::new(file),
        &[
            ("inputs", Array::f32(&inputs, &[states.len(), width])),
            ("states", Array::i8(&states)),
            ("offsets", Array::i64(&offsets)),
            ("records", Array::strings(&names)),
            ("patients", Array::strings(&patients)),
            ("frames", Array::strings(&[serde_json::to_string(cfg)?])),
        ],
    )?;
    eprintln!(
        "heartbeat: wrote {} recordings ({} frames) to {}",
        names.len(),
        states.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// One recording's score.
#[derive(Debug, Serialize)]
struct Row<'a> {
    record: &'a str,
    patient: &'a str,
    #[serde(flatten)]
    agreement: Agreement,
    heart_rate_bpm: Option<f32>,
}

/// Scores the segmenter against every annotated recording: S1/S2 onset F1 within ±60 ms and
/// heart rate against the annotated beats, overall and per recording, as one JSON document.
pub fn evaluate(front: &FrontEnd, dir: &Path, only: Option<&[String]>) -> anyhow::Result<ExitCode> {
    let records = inputs::annotated(dir, only)?;
    let results: Vec<_> = records
        .par_iter()
        .progress_with(progress::bar(records.len(), "segmenting"))
        .map(|rec| {
            let (audio, annotated) = load(front, rec)?;
            let found = front.segment(&audio).map_err(|e| e.to_string())?;
            Ok::<_, String>((
                annotation::agreement(&annotated, &found),
                found.heart_rate_bpm,
            ))
        })
        .collect();
    let (mut rows, mut scored, mut failures) = (Vec::new(), Vec::new(), Vec::new());
    for (rec, result) in records.iter().zip(results) {
        match result {
            Ok((agreement, bpm)) => {
                scored.push((agreement, bpm));
                rows.push(Row {
                    record: &rec.record,
                    patient: &rec.patient,
                    agreement,
                    heart_rate_bpm: bpm,
                });
            }
            Err(error) => {
                failures.push(json!({ "file": rec.path.display().to_string(), "error": error }))
            }
        }
    }
    let params = front.segmenter().params();
    let doc = json!({
        "segmenter": { "name": params.name, "version": params.version },
        "tolerance_s": annotation::TOLERANCE_S,
        "summary": annotation::summarize(&scored),
        "records": rows,
        "failures": failures,
    });
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(ExitCode::SUCCESS)
}
