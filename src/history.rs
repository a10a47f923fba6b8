//! The history of analyses kept in this browser: entries, the file format it is stored and
//! exported in, merging an imported file, and the statistics the Analytics page draws.
//!
//! Stored and exported alike as one JSON document, so an export is a backup that imports back
//! without loss (the analyses hold the report and the screen-resolution visuals, not audio).

use heartbeat_core::Label;
use heartbeat_worker::protocol::Analysis;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the document says it is; other JSON is refused on import.
pub const FORMAT: &str = "heartbeat-history";
/// The document version this build writes and reads.
pub const VERSION: u32 = 1;

/// One past analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Unique across devices: the time and a random part, so imports merge without clashes.
    pub id: String,
    /// The file's name.
    pub file: String,
    /// When it was analysed, milliseconds since 1970 (UTC).
    pub analysed_at_ms: f64,
    /// Milliseconds from the file being picked to its result being shown.
    pub total_ms: Option<f64>,
    /// The analysis.
    pub analysis: Analysis,
}

/// The stored document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Document {
    format: String,
    version: u32,
    entries: Vec<Entry>,
}

/// All entries, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    entries: Vec<Entry>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    /// Entries that were new.
    pub added: usize,
    /// Entries already in the history (same id), left as they were.
    pub already_present: usize,
}

impl History {
    /// Reads a stored or exported document.
    pub fn from_json(json: &str) -> Result<Self, AppError> {
        let doc: Document =
            serde_json::from_str(json).map_err(|e| AppError::Import(e.to_string()))?;
        if doc.format != FORMAT {
            return Err(AppError::Import(format!("its format is “{}”", doc.format)));
        }
        if doc.version > VERSION {
            return Err(AppError::Import(format!(
                "it was written by a newer HeartBeat (history version {}); update this one",
                doc.version
            )));
        }
        let mut history = Self {
            entries: doc.entries,
        };
        history.sort();
        Ok(history)
    }

    /// The document to store or export.
    pub fn to_json(&self) -> String {
        let doc = Document {
            format: FORMAT.to_owned(),
            version: VERSION,
            entries: self.entries.clone(),
        };
        serde_json::to_string(&doc).unwrap_or_default()
    }

    /// Entries, newest first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry with this id.
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// Adds an entry (replacing one with the same id).
    pub fn add(&mut self, entry: Entry) {
        self.entries.retain(|e| e.id != entry.id);
        self.entries.push(entry);
        self.sort();
    }

    /// Removes one entry; false if there was none with this id.
    pub fn remove(&mut self, id: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.id != id);
        self.entries.len() != before
    }

    /// Removes everything.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Merges an exported document: new entries are added, known ones (same id) kept as they are.
    pub fn import(&mut self, json: &str) -> Result<Imported, AppError> {
        let incoming = Self::from_json(json)?;
        let mut imported = Imported {
            added: 0,
            already_present: 0,
        };
        for entry in incoming.entries {
            if self.get(&entry.id).is_some() {
                imported.already_present += 1;
            } else {
                self.entries.push(entry);
                imported.added += 1;
            }
        }
        self.sort();
        Ok(imported)
    }

    fn sort(&mut self) {
        self.entries.sort_by(|a, b| {
            b.analysed_at_ms
                .total_cmp(&a.analysed_at_ms)
                .then(a.id.cmp(&b.id))
        });
    }
}

/// What the Analytics page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Entries labelled normal.
    pub normal: usize,
    /// Entries labelled abnormal.
    pub abnormal: usize,
    /// Every entry's probability of abnormal.
    pub probabilities: Vec<f32>,
    /// The threshold of the most recent entry (the model in use).
    pub threshold: Option<f32>,
    /// Analyses per day, oldest day first, as (day, count).
    pub per_day: Vec<(String, usize)>,
    /// Median milliseconds from file picked to result shown.
    pub median_total_ms: Option<f64>,
    /// Median milliseconds the worker spent per recording.
    pub median_worker_ms: Option<f64>,
}

/// Statistics of `entries`; `day_of` names the local day of a timestamp (the browser knows the
/// time zone, this module does not).
pub fn stats(entries: &[Entry], day_of: impl Fn(f64) -> String) -> Stats {
    let labelled = |l: Label| {
        entries
            .iter()
            .filter(|e| e.analysis.report.label == l)
            .count()
    };
    let mut days: Vec<(f64, String)> = entries
        .iter()
        .map(|e| (e.analysed_at_ms, day_of(e.analysed_at_ms)))
        .collect();
    days.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut per_day: Vec<(String, usize)> = Vec::new();
    for (_, day) in days {
        match per_day.last_mut() {
            Some((d, n)) if *d == day => *n += 1,
            _ => per_day.push((day, 1)),
        }
    }
    Stats {
        normal: labelled(Label::Normal),
        abnormal: labelled(Label::Abnormal),
        probabilities: entries
            .iter()
            .map(|e| e.analysis.report.probability_abnormal)
            .collect(),
        threshold: entries.first().map(|e| e.analysis.report.threshold),
        per_day,
        median_total_ms: median(entries.iter().filter_map(|e| e.total_ms).collect()),
        median_worker_ms: median(entries.iter().map(|e| e.analysis.worker_ms).collect()),
    }
}

/// The median of finite values, or `None` when there are none.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::tests::analysis;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn entry(id: &str, at: f64, p: f32) -> Entry {
        Entry {
            id: id.into(),
            file: format!("{id}.wav"),
            analysed_at_ms: at,
            total_ms: Some(at / 1e9),
            analysis: (*analysis(p, 72.0, 6.0)).clone(),
        }
    }

    const DAY: f64 = 86_400_000.0;

    fn day_of(ms: f64) -> String {
        format!("day {}", (ms / DAY).floor())
    }

    #[test]
    fn export_then_import_loses_nothing() {
        let mut history = History::default();
        history.add(entry("a", 1.0 * DAY, 0.9));
        history.add(entry("b", 2.0 * DAY, 0.1));
        let json = history.to_json();
        let back = History::from_json(&json).expect("reads its own export");
        assert_eq!(back, history);
        assert_eq!(back.to_json(), json);
        let mut empty = History::default();
        let imported = empty.import(&json).expect("imports");
        assert_eq!(imported.added, 2);
        assert_eq!(empty, history);
    }

    #[test]
    fn importing_merges_by_id_and_keeps_newest_first() {
        let mut mine = History::default();
        mine.add(entry("a", 1.0 * DAY, 0.9));
        let mut theirs = History::default();
        theirs.add(entry("a", 1.0 * DAY, 0.9));
        theirs.add(entry("c", 3.0 * DAY, 0.5));
        let imported = mine.import(&theirs.to_json()).expect("imports");
        assert_eq!(
            imported,
            Imported {
                added: 1,
                already_present: 1
            }
        );
        let ids: Vec<&str> = mine.entries().iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["c", "a"]);
    }

    #[test]
    fn foreign_files_are_refused_with_a_reason() {
        let mut history = History::default();
        for (json, needle) in [
            ("not json", "expected"),
            (r#"{"format":"other","version":1,"entries":[]}"#, "“other”"),
            (
                r#"{"format":"heartbeat-history","version":99,"entries":[]}"#,
                "newer HeartBeat",
            ),
            (
                r#"{"format":"heartbeat-history","version":1,"entries":[{"id":1}]}"#,
                "invalid type",
            ),
        ] {
            let err = history.import(json).expect_err(json).to_string();
            assert!(
                err.contains(needle) && err.contains("History page"),
                "{err}"
            );
        }
        assert!(history.entries().is_empty());
    }

    #[test]
    fn remove_and_clear() {
        let mut history = History::default();
        history.add(entry("a", 1.0, 0.9));
        history.add(entry("b", 2.0, 0.1));
        assert!(history.remove("a"));
        assert!(!history.remove("a"));
        assert_eq!(history.entries().len(), 1);
        history.clear();
        assert!(history.entries().is_empty());
    }

    #[test]
    fn stats_count_labels_days_and_medians() {
        let entries = [
            entry("c", 2.5 * DAY, 0.1),
            entry("b", 2.2 * DAY, 0.95),
            entry("a", 0.5 * DAY, 0.05),
        ];
        let s = stats(&entries, day_of);
        assert_eq!((s.normal, s.abnormal), (2, 1));
        assert_eq!(s.probabilities, [0.1, 0.95, 0.05]);
        assert_eq!(
            s.per_day,
            [("day 0".to_owned(), 1), ("day 2".to_owned(), 2)]
        );
        assert_eq!(s.median_worker_ms, Some(0.0));
        assert!(s.median_total_ms.is_some());
        assert!(s.threshold.is_some());
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, f64::NAN, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}
