//! `heartbeat evaluate`: challenge metrics per subset and overall, as one JSON document.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use heartbeat_core::metrics::{self, Metrics, Scored};
use heartbeat_core::Analyzer;
use indicatif::ParallelProgressIterator;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::json;

use crate::classify::analyze_file;
use crate::{inputs, progress};

#[derive(Debug, Serialize)]
struct Failure {
    file: String,
    error: String,
}

pub fn run(analyzer: &Analyzer, dir: &Path) -> anyhow::Result<ExitCode> {
    let records = inputs::physionet(dir)?;
    let results: Vec<_> = records
        .par_iter()
        .progress_with(progress::bar(records.len(), "evaluating"))
        .map(|r| analyze_file(analyzer, &r.path))
        .collect();
    let threshold = analyzer.card().threshold;
    let mut by_subset: BTreeMap<&str, Vec<Scored>> = BTreeMap::new();
    let mut failures = Vec::new();
    for (rec, result) in records.iter().zip(results) {
        match result {
            Ok(report) => by_subset.entry(&rec.subset).or_default().push(Scored {
                abnormal: rec.abnormal,
                probability: report.probability_abnormal,
            }),
            Err(error) => failures.push(Failure {
                file: rec.path.display().to_string(),
                error,
            }),
        }
    }
    let all: Vec<Scored> = by_subset.values().flatten().copied().collect();
    let subsets: BTreeMap<&str, Metrics> = by_subset
        .iter()
        .map(|(k, v)| (*k, metrics::evaluate(v, threshold)))
        .collect();
    let card = analyzer.card();
    let doc = json!({
        "model": { "name": card.name, "version": card.version, "trained": card.trained },
        "threshold": threshold,
        "overall": metrics::evaluate(&all, threshold),
        "subsets": subsets,
        "failures": failures,
    });
    println!("{}", serde_json::to_string_pretty(&doc)?);
    if !failures.is_empty() {
        eprintln!(
            "heartbeat: {} recordings could not be analysed and are not scored",
            failures.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
