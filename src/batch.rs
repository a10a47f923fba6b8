//! The recordings picked in this session: their progress, the results table's order and counts,
//! and the CSV/JSON exports. Plain data, so it is tested natively; the components render it.

use std::cmp::Ordering;
use std::sync::Arc;

use heartbeat_core::{table, Label};
use heartbeat_worker::protocol::Analysis;
use serde::Serialize;

use crate::error::AppError;

/// Where one file stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Waiting for the worker.
    Queued,
    /// Being decoded or analysed.
    Analysing,
    /// Finished.
    Done(Arc<Analysis>),
    /// No result, and why.
    Failed(AppError),
}

impl Status {
    /// The status as the page's `data-status` attribute spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Analysing => "analysing",
            Status::Done(_) => "done",
            Status::Failed(_) => "error",
        }
    }
}

/// One picked file.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Unique in this session, in pick order.
    pub id: u32,
    /// The file's name.
    pub name: String,
    /// Its progress.
    pub status: Status,
    /// Milliseconds from the file being picked to its result being on screen.
    pub total_ms: Option<f64>,
    /// Once done, the id its result is known by: its history entry's, and the key of its
    /// patient reference ([`crate::patient`]).
    pub result_id: Option<String>,
    /// Once done, when it was analysed: milliseconds since 1970 (UTC).
    pub analysed_at_ms: Option<f64>,
}

impl Job {
    /// The analysis, once done.
    pub fn analysis(&self) -> Option<&Analysis> {
        match &self.status {
            Status::Done(a) => Some(a),
            _ => None,
        }
    }
}

/// A column the results table can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Pick order.
    Picked,
    /// File name.
    Name,
    /// Probability of abnormal (the label follows from it).
    Probability,
    /// Heart rate.
    HeartRate,
    /// Quality verdict.
    Quality,
    /// Recording length.
    Duration,
}

/// Sorts jobs by `key`; files without a value for the key (failed, pending) go last either way,
/// so the rows a user sorts for stay on top.
pub fn sort(jobs: &mut [Job], key: SortKey, ascending: bool) {
    jobs.sort_by(|a, b| {
        let order = match key {
            SortKey::Picked => Some(a.id.cmp(&b.id)),
            SortKey::Name => Some(a.name.to_lowercase().cmp(&b.name.to_lowercase())),
            _ => match (value(a, key), value(b, key)) {
                (Some(x), Some(y)) => Some(x.total_cmp(&y)),
                (Some(_), None) => return Ordering::Less,
                (None, Some(_)) => return Ordering::Greater,
                (None, None) => None,
            },
        };
        match order {
            Some(o) if ascending => o.then(a.id.cmp(&b.id)),
            Some(o) => o.reverse().then(a.id.cmp(&b.id)),
            None => a.id.cmp(&b.id),
        }
    });
}

fn value(job: &Job, key: SortKey) -> Option<f32> {
    let report = &job.analysis()?.report;
    match key {
        SortKey::Probability => Some(report.probability_abnormal),
        SortKey::HeartRate => report.heart_rate_bpm,
        SortKey::Quality => Some(match report.quality.verdict {
            heartbeat_core::quality::Verdict::Good => 0.0,
            heartbeat_core::quality::Verdict::Poor => 1.0,
        }),
        SortKey::Duration => Some(report.duration_s),
        SortKey::Picked | SortKey::Name => None,
    }
    .filter(|v| v.is_finite())
}

/// How many files are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Labelled normal.
    pub normal: usize,
    /// Labelled abnormal.
    pub abnormal: usize,
    /// With poor quality (among normal and abnormal).
    pub poor_quality: usize,
    /// Without a result.
    pub failed: usize,
    /// Queued or being analysed.
    pub pending: usize,
}

/// Counts `jobs` by state and label.
pub fn counts(jobs: &[Job]) -> Counts {
    let mut c = Counts::default();
    for job in jobs {
        match &job.status {
            Status::Queued | Status::Analysing => c.pending += 1,
            Status::Failed(_) => c.failed += 1,
            Status::Done(a) => {
                match a.report.label {
                    Label::Normal => c.normal += 1,
                    Label::Abnormal => c.abnormal += 1,
                }
                if a.report.quality.verdict == heartbeat_core::quality::Verdict::Poor {
                    c.poor_quality += 1;
                }
            }
        }
    }
    c
}

/// Finished jobs as CSV, the same table `heartbeat classify --format csv` writes.
pub fn to_csv(jobs: &[Job]) -> String {
    let messages: Vec<Option<String>> = jobs
        .iter()
        .map(|j| match &j.status {
            Status::Failed(e) => Some(e.to_string()),
            _ => None,
        })
        .collect();
    let rows = jobs.iter().zip(&messages).filter_map(|(job, message)| {
        let outcome = match (&job.status, message) {
            (Status::Done(a), _) => Ok(&a.report),
            (_, Some(m)) => Err(m.as_str()),
            _ => return None,
        };
        Some((job.name.as_str(), outcome))
    });
    table::to_csv(rows)
}

/// One finished job as the CLI's JSON Lines spell it: the file, then the report or the error.
#[derive(Serialize)]
struct Line<'a> {
    file: &'a str,
    #[serde(flatten)]
    report: Option<&'a heartbeat_core::Report>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    analysis_ms: Option<f64>,
}

/// Finished jobs as a JSON array of the CLI's `classify` records (plus the time each took here).
pub fn to_json(jobs: &[Job]) -> String {
    let lines: Vec<Line> = jobs
        .iter()
        .filter_map(|job| match &job.status {
            Status::Done(a) => Some(Line {
                file: &job.name,
                report: Some(&a.report),
                error: None,
                analysis_ms: job.total_ms,
            }),
            Status::Failed(e) => Some(Line {
                file: &job.name,
                report: None,
                error: Some(e.to_string()),
                analysis_ms: None,
            }),
            Status::Queued | Status::Analysing => None,
        })
        .collect();
    serde_json::to_string_pretty(&lines).unwrap_or_else(|_| "[]".to_owned())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use heartbeat_core::synth;
    use heartbeat_core::Analyzer;
    use heartbeat_worker::analysis::analyze;
    use heartbeat_worker::protocol::Input;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// A real analysis of a synthetic heartbeat, with the probability forced to `p`.
    pub(crate) fn analysis(p: f32, bpm: f32, seconds: f32) -> Arc<Analysis> {
        thread_local! {
            static ANALYZER: Analyzer = Analyzer::bundled().expect("bundled model");
        }
        let wav = heartbeat_core::audio::encode_wav(&synth::heartbeat(bpm, seconds, 2000), 2000);
        let mut a = ANALYZER
            .with(|an| analyze(an, Input::Encoded(wav), || 0.0))
            .expect("analysis")
            .analysis;
        a.report.probability_abnormal = p;
        a.report.label = if p >= a.report.threshold {
            Label::Abnormal
        } else {
            Label::Normal
        };
        Arc::new(a)
    }

    fn job(id: u32, name: &str, status: Status) -> Job {
        Job {
            id,
            name: name.into(),
            status,
            total_ms: Some(12.0),
            result_id: None,
            analysed_at_ms: None,
        }
    }

    fn batch() -> Vec<Job> {
        vec![
            job(1, "b.wav", Status::Done(analysis(0.9, 70.0, 8.0))),
            job(
                2,
                "A.wav",
                Status::Failed(AppError::Analysis("too short".into())),
            ),
            job(3, "c.wav", Status::Done(analysis(0.1, 90.0, 10.0))),
            job(4, "d.wav", Status::Queued),
        ]
    }

    fn ids(jobs: &[Job]) -> Vec<u32> {
        jobs.iter().map(|j| j.id).collect()
    }

    #[test]
    fn sorting_keeps_rows_without_values_last() {
        let mut jobs = batch();
        sort(&mut jobs, SortKey::Probability, true);
        assert_eq!(ids(&jobs), [3, 1, 2, 4]);
        sort(&mut jobs, SortKey::Probability, false);
        assert_eq!(ids(&jobs), [1, 3, 2, 4]);
        sort(&mut jobs, SortKey::Name, true);
        assert_eq!(ids(&jobs), [2, 1, 3, 4]);
        sort(&mut jobs, SortKey::Duration, false);
        assert_eq!(ids(&jobs), [3, 1, 2, 4]);
        sort(&mut jobs, SortKey::Picked, true);
        assert_eq!(ids(&jobs), [1, 2, 3, 4]);
    }

    #[test]
    fn counts_split_labels_failures_and_pending() {
        let c = counts(&batch());
        assert_eq!((c.normal, c.abnormal, c.failed, c.pending), (1, 1, 1, 1));
    }

    #[test]
    fn csv_has_the_clis_columns_and_skips_pending_files() {
        let csv = to_csv(&batch());
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], table::HEADER.join(","));
        assert_eq!(lines.len(), 4, "{csv}");
        assert!(
            lines[1].starts_with("b.wav,abnormal,0.9000,"),
            "{}",
            lines[1]
        );
        assert_eq!(lines[2], "A.wav,,,,,,,,too short");
        assert!(lines[3].starts_with("c.wav,normal,0.1000,"), "{}", lines[3]);
    }

    #[test]
    fn json_records_match_the_clis() {
        let json: serde_json::Value = serde_json::from_str(&to_json(&batch())).expect("JSON");
        let rows = json.as_array().expect("array");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0]["file"], "b.wav");
        assert_eq!(rows[0]["label"], "abnormal");
        assert!(rows[0]["windows"].is_array());
        assert_eq!(rows[1]["error"], "too short");
        assert!(rows[1].get("label").is_none());
    }
}
