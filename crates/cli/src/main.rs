//! `heartbeat`: the CLI face of HeartBeat. Thin glue over `heartbeat-core`; every result it
//! prints is computed by the same core as the browser app's.

mod classify;
mod evaluate;
mod features;
mod inputs;
mod npz;
mod progress;
mod segmentation;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use heartbeat_core::segmentation::SegmenterParams;
use heartbeat_core::{Analyzer, FeatureConfig, FrontEnd, Limits, ModelCard};

/// Heart-sound screening: normal or abnormal, heart rate and signal quality per recording.
#[derive(Debug, Parser)]
#[command(name = "heartbeat", version, about)]
struct Cli {
    /// ONNX model to use instead of the bundled one (needs --card).
    #[arg(long, global = true, requires = "card")]
    model: Option<PathBuf>,
    /// Model card (JSON) describing --model.
    #[arg(long, global = true, requires = "model")]
    card: Option<PathBuf>,
    /// Heart-cycle segmenter parameters (JSON, as training/segmenter.py writes them) to use
    /// instead of the bundled ones.
    #[arg(long, global = true)]
    segmenter: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Classify recordings: files or folders (searched recursively). One JSON object per line.
    Classify {
        /// Audio files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
    },
    /// Score the model on labelled data in PhysioNet layout (subfolders with REFERENCE.csv).
    Evaluate {
        /// Folder holding training-a, training-b, … (or one such subset).
        dir: PathBuf,
    },
    /// Export each recording's model-input frames, labels and subsets to .npz for training.
    Features {
        /// Folder in PhysioNet layout.
        dir: PathBuf,
        /// Output .npz file.
        #[arg(long)]
        out: PathBuf,
        /// Feature configuration (JSON, the card's `features` object) to compute instead of the
        /// model card's: how a model with new features gets its training data.
        #[arg(long, conflicts_with = "card")]
        config: Option<PathBuf>,
        /// Also export each recording's conditioned signal (the samples the frames are computed
        /// from), for training experiments whose front end learns its own filters.
        #[arg(long)]
        signal: bool,
    },
    /// Export the heart-cycle segmenter's inputs and each frame's annotated state to .npz, for
    /// training it (CirCor layout: each audio file beside its .tsv segmentation).
    SegmentFeatures {
        /// Folder of annotated recordings.
        dir: PathBuf,
        /// Output .npz file.
        #[arg(long)]
        out: PathBuf,
        /// Only the recordings named in this file (one name per line, e.g. `13918_AV`).
        #[arg(long)]
        records: Option<PathBuf>,
    },
    /// Score the heart-cycle segmentation against annotated recordings (CirCor layout): S1 and
    /// S2 onset F1 within ±60 ms and heart rate against the annotated beats, as one JSON document.
    SegmentEval {
        /// Folder of annotated recordings.
        dir: PathBuf,
        /// Only the recordings named in this file (one name per line).
        #[arg(long)]
        records: Option<PathBuf>,
    },
}

/// Output format of `classify`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// One JSON object per recording and line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("heartbeat: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let custom = cli.model.as_ref().zip(cli.card.as_ref());
    let segmenter = cli.segmenter.as_ref();
    match cli.command {
        Command::Classify { paths, format } => {
            classify::run(&load_analyzer(custom, segmenter)?, &paths, format)
        }
        Command::Evaluate { dir } => evaluate::run(&load_analyzer(custom, segmenter)?, &dir),
        Command::SegmentFeatures { dir, out, records } => segmentation::features(
            &segmenting_front_end(custom, segmenter)?,
            &dir,
            &out,
            load_names(records.as_ref())?.as_deref(),
        ),
        Command::SegmentEval { dir, records } => segmentation::evaluate(
            &segmenting_front_end(custom, segmenter)?,
            &dir,
            load_names(records.as_ref())?.as_deref(),
        ),
        // Features need a feature configuration only, not the model.
        Command::Features {
            dir,
            out,
            config,
            signal,
        } => {
            let config = match config {
                Some(path) => load_feature_config(&path)?,
                None => load_card(custom.map(|(_, card)| card))?.features,
            };
            features::run(
                &FrontEnd::new(config, Limits::default())?,
                &dir,
                &out,
                signal,
            )
        }
    }
}

/// The front end of the card in use, with the segmenter in use.
fn segmenting_front_end(
    custom: Option<(&PathBuf, &PathBuf)>,
    segmenter: Option<&PathBuf>,
) -> anyhow::Result<FrontEnd> {
    let front = FrontEnd::new(
        load_card(custom.map(|(_, card)| card))?.features,
        Limits::default(),
    )?;
    Ok(match segmenter {
        Some(path) => front.with_segmenter(load_segmenter(path)?),
        None => front,
    })
}

fn load_segmenter(path: &PathBuf) -> anyhow::Result<SegmenterParams> {
    SegmenterParams::from_json(&read_text(path)?)
        .with_context(|| format!("loading segmenter {}", path.display()))
}

/// The names listed in a file, one per line (blank lines skipped).
fn load_names(path: Option<&PathBuf>) -> anyhow::Result<Option<Vec<String>>> {
    path.map(|p| {
        Ok(read_text(p)?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect())
    })
    .transpose()
}

fn load_card(path: Option<&PathBuf>) -> anyhow::Result<ModelCard> {
    let json = match path {
        None => heartbeat_core::bundled::RUNTIME_CARD.to_owned(),
        Some(p) => read_text(p)?,
    };
    Ok(ModelCard::from_json(&json)?)
}

fn read_text(path: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn load_feature_config(path: &PathBuf) -> anyhow::Result<FeatureConfig> {
    serde_json::from_str(&read_text(path)?)
        .with_context(|| format!("{} is not a feature configuration", path.display()))
}

fn load_analyzer(
    custom: Option<(&PathBuf, &PathBuf)>,
    segmenter: Option<&PathBuf>,
) -> anyhow::Result<Analyzer> {
    let analyzer = match custom {
        None => Analyzer::bundled().context("loading the bundled model")?,
        Some((model, card)) => {
            let onnx =
                std::fs::read(model).with_context(|| format!("reading {}", model.display()))?;
            Analyzer::new(&onnx, load_card(Some(card))?, Limits::default())
                .with_context(|| format!("loading {}", model.display()))?
        }
    };
    let analyzer = match segmenter {
        Some(path) => analyzer.with_segmenter(load_segmenter(path)?),
        None => analyzer,
    };
    if !analyzer.card().trained {
        eprintln!(
            "heartbeat: warning: model '{}' is UNTRAINED (a placeholder): its results mean nothing",
            analyzer.card().name
        );
    }
    Ok(analyzer)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
