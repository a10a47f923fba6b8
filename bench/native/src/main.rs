//! `heartbeat-bench DIR`: times the core's three stages on every recording in `DIR`, one
//! recording at a time on one thread, and prints JSON: each stage's throughput (seconds of
//! audio per second of wall time) and median time per recording.
//!
//! Stages are the core's own split, so the numbers say where time goes in the CLI and the app:
//! * `decode`: `FrontEnd::decode` (bytes → mono samples),
//! * `prepare`: `FrontEnd::prepare` (checks, resampling, filtering, log-mel, rhythm, quality),
//! * `score`: `Analyzer::score` (windows → CNN → report).
//!
//! Reading files is left out: it measures the disk, not HeartBeat.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use heartbeat_core::Analyzer;
use serde_json::json;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: heartbeat-bench DIR   (a folder of .wav/.flac/.mp3/.ogg recordings)");
        return ExitCode::FAILURE;
    };
    match run(&dir) {
        Ok(doc) => {
            println!("{doc:#}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("heartbeat-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Per-recording times of one stage.
#[derive(Default)]
struct Stage(Vec<Duration>);

impl Stage {
    fn summary(&mut self, audio_s: f64) -> serde_json::Value {
        self.0.sort();
        let total: f64 = self.0.iter().map(Duration::as_secs_f64).sum();
        let median = self
            .0
            .get(self.0.len() / 2)
            .map_or(0.0, Duration::as_secs_f64);
        json!({
            "total_s": round(total, 3),
            "median_per_recording_ms": round(median * 1e3, 3),
            "audio_s_per_wall_s": round(audio_s / total, 1),
        })
    }
}

fn round(v: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (v * k).round() / k
}

fn recordings(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                ["wav", "flac", "mp3", "ogg"].contains(&e.to_ascii_lowercase().as_str())
            })
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no recordings in {}", dir.display()));
    }
    Ok(files)
}

fn run(dir: &Path) -> Result<serde_json::Value, String> {
    let analyzer = Analyzer::bundled().map_err(|e| format!("loading the bundled model: {e}"))?;
    let front = analyzer.front_end();
    let files = recordings(dir)?;
    let inputs: Vec<Vec<u8>> = files
        .iter()
        .map(|p| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display())))
        .collect::<Result<_, _>>()?;

    // One untimed pass over the first recording: page faults, lazy allocations and caches.
    if let Ok(audio) = front.decode(&inputs[0]) {
        if let Ok(prepared) = front.prepare(&audio) {
            let _ = analyzer.score(&prepared);
        }
    }

    let (mut decode, mut prepare, mut score, mut total) = (
        Stage::default(),
        Stage::default(),
        Stage::default(),
        Stage::default(),
    );
    let (mut audio_s, mut failed) = (0.0f64, Vec::new());
    let wall = Instant::now();
    for (path, bytes) in files.iter().zip(&inputs) {
        let t0 = Instant::now();
        let audio = front.decode(bytes);
        let t1 = Instant::now();
        let prepared = audio
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|a| front.prepare(a));
        let t2 = Instant::now();
        let report = prepared
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|p| analyzer.score(p));
        let t3 = Instant::now();
        match report {
            Ok(r) => {
                audio_s += f64::from(r.duration_s);
                decode.0.push(t1 - t0);
                prepare.0.push(t2 - t1);
                score.0.push(t3 - t2);
                total.0.push(t3 - t0);
            }
            Err(e) => {
                failed.push(json!({ "file": path.display().to_string(), "error": e.to_string() }))
            }
        }
    }
    let wall_s = wall.elapsed().as_secs_f64();
    let n = total.0.len();
    Ok(json!({
        "benchmark": "heartbeat-core native, per stage, single thread",
        "dataset": dir.display().to_string(),
        "recordings": n,
        "audio_s": round(audio_s, 1),
        "mean_recording_s": round(audio_s / n.max(1) as f64, 2),
        "wall_s": round(wall_s, 3),
        "model": { "name": analyzer.card().name, "version": analyzer.card().version, "trained": analyzer.card().trained },
        "stages": {
            "decode": decode.summary(audio_s),
            "prepare": prepare.summary(audio_s),
            "score": score.summary(audio_s),
            "total": total.summary(audio_s),
        },
        "failed": failed,
    }))
}
