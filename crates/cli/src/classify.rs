//! `heartbeat classify`: every recording in parallel, results printed in input order. A bad
//! file becomes a line with its error; the run goes on.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use heartbeat_core::{table, Analyzer, Report};
use indicatif::ParallelProgressIterator;
use rayon::prelude::*;
use serde::Serialize;

use crate::{inputs, progress, Format};

/// One output record: the file and either its report or what went wrong.
#[derive(Debug, Serialize)]
struct Line<'a> {
    file: &'a Path,
    #[serde(flatten)]
    outcome: Outcome,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Outcome {
    Report(Box<Report>),
    Error { error: String },
}

/// Reads and analyses one file.
pub fn analyze_file(analyzer: &Analyzer, path: &Path) -> Result<Report, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    analyzer.analyze_bytes(&bytes).map_err(|e| e.to_string())
}

pub fn run(analyzer: &Analyzer, paths: &[PathBuf], format: Format) -> anyhow::Result<ExitCode> {
    let files = inputs::collect(paths)?;
    let outcomes: Vec<Outcome> = files
        .par_iter()
        .progress_with(progress::bar(files.len(), "classifying"))
        .map(|p| match analyze_file(analyzer, p) {
            Ok(r) => Outcome::Report(Box::new(r)),
            Err(error) => Outcome::Error { error },
        })
        .collect();
    let failed = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Error { .. }))
        .count();
    let stdout = std::io::stdout().lock();
    match format {
        Format::Jsonl => write_jsonl(stdout, &files, outcomes)?,
        Format::Csv => write_csv(stdout, &files, &outcomes)?,
    }
    if failed > 0 {
        eprintln!(
            "heartbeat: {failed} of {} recordings could not be analysed (see their \"error\")",
            files.len()
        );
    }
    Ok(if failed == files.len() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn write_jsonl(
    mut out: impl Write,
    files: &[PathBuf],
    outcomes: Vec<Outcome>,
) -> anyhow::Result<()> {
    for (file, outcome) in files.iter().zip(outcomes) {
        serde_json::to_writer(&mut out, &Line { file, outcome }).context("writing JSON")?;
        writeln!(out).context("writing output")?;
    }
    out.flush().context("writing output")
}

fn write_csv(mut out: impl Write, files: &[PathBuf], outcomes: &[Outcome]) -> anyhow::Result<()> {
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let rows = names.iter().zip(outcomes).map(|(file, outcome)| {
        let outcome = match outcome {
            Outcome::Report(r) => Ok(&**r),
            Outcome::Error { error } => Err(error.as_str()),
        };
        (file.as_str(), outcome)
    });
    out.write_all(table::to_csv(rows).as_bytes())
        .context("writing output")?;
    out.flush().context("writing output")
}
