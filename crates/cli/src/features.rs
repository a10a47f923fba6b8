//! `heartbeat features`: the training pipeline's only source of features, so the model is
//! trained on exactly what the browser computes.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use heartbeat_core::FrontEnd;
use indicatif::ParallelProgressIterator;
use rayon::prelude::*;

use crate::npz::{self, Array};
use crate::{inputs, progress};

/// Each frame of `features` holds every view's bands in a row, as the model's input stacks them.
/// With `with_signal`, the dump also holds `signal` (every kept recording's conditioned samples,
/// band-passed as the first view is, concatenated) and `signal_offsets`, so a front end learned
/// in training reads the very samples the core's spectrogram reads.
pub fn run(
    front: &FrontEnd,
    dir: &Path,
    out: &Path,
    with_signal: bool,
) -> anyhow::Result<ExitCode> {
    let records = inputs::physionet(dir)?;
    let prepared: Vec<_> = records
        .par_iter()
        .progress_with(progress::bar(records.len(), "extracting features"))
        .map(|r| {
            let bytes = std::fs::read(&r.path).map_err(|e| e.to_string())?;
            let audio = front.decode(&bytes).map_err(|e| e.to_string())?;
            front.prepare(&audio).map_err(|e| e.to_string())
        })
        .collect();
    let bands = front.config().input_bands();
    let (mut frames, mut offsets) = (Vec::new(), vec![0i64]);
    let (mut signal, mut signal_offsets) = (Vec::new(), vec![0i64]);
    let (mut labels, mut names, mut subsets) = (Vec::new(), Vec::new(), Vec::new());
    // Records the core refuses (too short for one window, silent, ...) are listed in the dump
    // with the reason, so the model card can say which recordings it was never shown.
    let mut refused = Vec::new();
    for (rec, p) in records.iter().zip(prepared) {
        match p {
            Ok(p) => {
                // Frame by frame, every view's bands in a row: the model's input, untransposed.
                let views = p.views();
                for t in 0..p.features.n_frames() {
                    for view in &views {
                        frames.extend_from_slice(view.frame(t));
                    }
                }
                offsets.push((frames.len() / bands) as i64);
                if with_signal {
                    signal.extend_from_slice(&p.signal);
                    signal_offsets.push(signal.len() as i64);
                }
                labels.push(i8::from(rec.abnormal));
                names.push(rec.record.as_str());
                subsets.push(rec.subset.as_str());
            }
            Err(e) => {
                eprintln!("heartbeat: skipping {}: {e}", rec.path.display());
                refused.push(format!("{}: {e}", rec.record));
            }
        }
    }
    if labels.is_empty() {
        bail!("no recording in {} could be read", dir.display());
    }
    let config = serde_json::to_string(front.config())?;
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut arrays = vec![
        (
            "features",
            Array::f32(&frames, &[frames.len() / bands, bands]),
        ),
        ("offsets", Array::i64(&offsets)),
        ("labels", Array::i8(&labels)),
        ("records", Array::strings(&names)),
        ("subsets", Array::strings(&subsets)),
        ("config", Array::strings(&[config])),
        ("refused", Array::strings(&refused)),
    ];
    if with_signal {
        arrays.push(("signal", Array::f32(&signal, &[signal.len()])));
        arrays.push(("signal_offsets", Array::i64(&signal_offsets)));
    }
    npz::write(std::io::BufWriter::new(file), &arrays)?;
    eprintln!(
        "heartbeat: wrote {} recordings ({} frames) to {}",
        labels.len(),
        frames.len() / bands,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
