//! Finding recordings: named files as given, folders searched recursively; PhysioNet layout
//! read from REFERENCE.csv files.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// Extensions picked up when searching folders. A file named on the command line is tried
/// whatever its name: its content decides the format.
const AUDIO_EXTENSIONS: [&str; 5] = ["wav", "flac", "mp3", "ogg", "oga"];

/// Files named, plus the audio files found under folders named, sorted within each folder.
pub fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            bail!("{} does not exist", p.display());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            out.push(p);
        }
    }
    Ok(())
}

/// A labelled recording in PhysioNet layout.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// Subset folder name, e.g. `training-a`.
    pub subset: String,
    /// Record name, e.g. `a0001`.
    pub record: String,
    /// Audio file (`.wav` preferred, else `.flac`).
    pub path: PathBuf,
    /// True when REFERENCE.csv says abnormal (1).
    pub abnormal: bool,
}

/// Reads `dir/REFERENCE.csv`, or each `dir/*/REFERENCE.csv` when `dir` holds subsets.
pub fn physionet(dir: &Path) -> anyhow::Result<Vec<Labelled>> {
    let mut subsets: Vec<PathBuf> = if dir.join("REFERENCE.csv").is_file() {
        vec![dir.to_path_buf()]
    } else {
        std::fs::read_dir(dir)
            .with_context(|| format!("reading folder {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("REFERENCE.csv").is_file())
            .collect()
    };
    subsets.sort();
    if subsets.is_empty() {
        bail!(
            "{} is not in PhysioNet layout: no REFERENCE.csv in it or its subfolders",
            dir.display()
        );
    }
    let mut out = Vec::new();
    for sub in subsets {
        let subset = sub
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let csv_path = sub.join("REFERENCE.csv");
        let text = std::fs::read_to_string(&csv_path)
            .with_context(|| format!("reading {}", csv_path.display()))?;
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let (record, label) = line.split_once(',').with_context(|| {
                format!(
                    "{} line {}: expected `record,label`",
                    csv_path.display(),
                    i + 1
                )
            })?;
            let abnormal = match label.trim() {
                "1" => true,
                "-1" => false,
                other => bail!(
                    "{} line {}: label must be 1 or -1, found {other:?}",
                    csv_path.display(),
                    i + 1
                ),
            };
            let record = record.trim().to_owned();
            let path = ["wav", "flac"]
                .iter()
                .map(|ext| sub.join(format!("{record}.{ext}")))
                .find(|p| p.is_file())
                .with_context(|| format!("{}: no {record}.wav or {record}.flac", sub.display()))?;
            out.push(Labelled {
                subset: subset.clone(),
                record,
                path,
                abnormal,
            });
        }
    }
    Ok(out)
}

/// A recording with an annotated heart-cycle segmentation, in CirCor layout
/// (`PATIENT_LOCATION.flac` beside `PATIENT_LOCATION.tsv`).
#[derive(Debug, Clone)]
pub struct Annotated {
    /// Recording name, e.g. `13918_AV`.
    pub record: String,
    /// The patient: the name's part before the first `_`.
    pub patient: String,
    /// Audio file.
    pub path: PathBuf,
    /// Segmentation file.
    pub tsv: PathBuf,
}

/// Every audio file in `dir` with a `.tsv` segmentation beside it, sorted by name; `only`
/// keeps the named recordings.
pub fn annotated(dir: &Path, only: Option<&[String]>) -> anyhow::Result<Vec<Annotated>> {
    let mut out: Vec<Annotated> = collect(&[dir.to_path_buf()])?
        .into_iter()
        .filter_map(|path| {
            let tsv = path.with_extension("tsv");
            let record = path.file_stem()?.to_string_lossy().into_owned();
            let patient = record.split('_').next()?.to_owned();
            tsv.is_file().then_some(Annotated {
                record,
                patient,
                path,
                tsv,
            })
        })
        .filter(|a| only.is_none_or(|names| names.contains(&a.record)))
        .collect();
    out.sort_by(|a, b| a.record.cmp(&b.record));
    if out.is_empty() {
        bail!(
            "no annotated recordings in {}: expected audio files with a .tsv segmentation beside \
             each (CirCor layout)",
            dir.display()
        );
    }
    Ok(out)
}
