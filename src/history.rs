//! The history of analyses kept in this browser: entries, the file format it is exported in,
//! the small summaries the app keeps in memory, merging an imported file, and the statistics
//! the Analytics page draws.
//!
//! An entry holds the report and the screen-resolution visuals (about 22 KB of JSON for a 30 s
//! recording), never audio. The browser stores each entry on its own (`store.rs`, IndexedDB)
//! with its [`Summary`] beside it: the list and the Analytics page need only the summaries
//! ([`Index`]), so a history of thousands costs the page a few hundred bytes per entry, and the
//! charts' data is read when an entry is opened. The export is one JSON document ([`History`]),
//! the format localStorage held before; an export imports back without loss.

use std::cmp::Ordering;
use std::collections::HashSet;

use heartbeat_core::quality::Verdict;
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

impl Entry {
    /// What the list and the Analytics page need of it.
    pub fn summary(&self) -> Summary {
        let report = &self.analysis.report;
        Summary {
            id: self.id.clone(),
            file: self.file.clone(),
            analysed_at_ms: self.analysed_at_ms,
            total_ms: self.total_ms,
            label: report.label,
            probability_abnormal: report.probability_abnormal,
            threshold: report.threshold,
            heart_rate_bpm: report.heart_rate_bpm,
            quality: report.quality.verdict,
            worker_ms: self.analysis.worker_ms,
        }
    }

    /// The entry as the exported document spells it: stored this way, an export is the stored
    /// texts joined ([`document`]), byte for byte what [`History::to_json`] writes.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads an entry stored by [`Entry::to_json`].
    pub fn from_json(json: &str) -> Result<Self, AppError> {
        serde_json::from_str(json).map_err(|e| AppError::StoredEntryUnreadable(e.to_string()))
    }
}

/// The exported document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Document {
    format: String,
    version: u32,
    entries: Vec<Entry>,
}

/// A whole history document (an export, or what localStorage held before IndexedDB): all
/// entries, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    entries: Vec<Entry>,
}

/// Whether a result went into the history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Saved {
    /// Stored, the write having taken this many milliseconds (until it committed).
    Stored {
        /// Milliseconds.
        ms: f64,
    },
    /// Not stored: the browser refused (its storage full, or none in a private window).
    NotStored,
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

    /// The document to export.
    pub fn to_json(&self) -> String {
        document(self.entries.iter().map(Entry::to_json))
    }

    /// Its entries, newest first.
    pub fn into_entries(self) -> Vec<Entry> {
        self.entries
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

    fn sort(&mut self) {
        self.entries
            .sort_by(|a, b| newest_first((a.analysed_at_ms, &a.id), (b.analysed_at_ms, &b.id)));
    }
}

/// The order of a history: newest first, then by id, so equal times keep one order everywhere.
fn newest_first(a: (f64, &str), b: (f64, &str)) -> Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(b.1))
}

/// What an exported document holds before its entries.
pub fn document_head() -> String {
    format!(r#"{{"format":"{FORMAT}","version":{VERSION},"entries":["#)
}

/// What separates two entries in an exported document.
pub const ENTRY_SEPARATOR: &str = ",";

/// What ends an exported document.
pub const DOCUMENT_TAIL: &str = "]}";

/// The exported document of entries already in their JSON ([`Entry::to_json`]), newest first.
/// The browser assembles the same pieces into a file without copying the entries through the
/// page's memory.
pub fn document(entries: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let mut json = document_head();
    for (i, entry) in entries.into_iter().enumerate() {
        if i > 0 {
            json.push_str(ENTRY_SEPARATOR);
        }
        json.push_str(entry.as_ref());
    }
    json.push_str(DOCUMENT_TAIL);
    json
}

/// What the History list and the Analytics page need of one entry: a few hundred bytes, where
/// the entry with its charts' data is tens of kilobytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The entry's id.
    pub id: String,
    /// The file's name.
    pub file: String,
    /// When it was analysed, milliseconds since 1970 (UTC).
    pub analysed_at_ms: f64,
    /// Milliseconds from the file being picked to its result being shown.
    pub total_ms: Option<f64>,
    /// Normal or abnormal.
    pub label: Label,
    /// The probability of abnormal.
    pub probability_abnormal: f32,
    /// The threshold the label was decided with.
    pub threshold: f32,
    /// The heart rate, when one was found.
    pub heart_rate_bpm: Option<f32>,
    /// The recording's quality verdict.
    pub quality: Verdict,
    /// Milliseconds the analysis worker spent.
    pub worker_ms: f64,
}

/// Every entry's summary, newest first: the history as the page holds it in memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Index {
    summaries: Vec<Summary>,
}

impl Index {
    /// The index of summaries in any order (one per id: the first).
    pub fn new(summaries: impl IntoIterator<Item = Summary>) -> Self {
        let mut seen = HashSet::new();
        let mut summaries: Vec<Summary> = summaries
            .into_iter()
            .filter(|s| seen.insert(s.id.clone()))
            .collect();
        summaries
            .sort_by(|a, b| newest_first((a.analysed_at_ms, &a.id), (b.analysed_at_ms, &b.id)));
        Self { summaries }
    }

    /// Summaries, newest first.
    pub fn summaries(&self) -> &[Summary] {
        &self.summaries
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.summaries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.summaries.is_empty()
    }

    /// Whether an entry has this id.
    pub fn contains(&self, id: &str) -> bool {
        self.summaries.iter().any(|s| s.id == id)
    }

    /// Adds an entry's summary in its place (replacing one with the same id), without sorting
    /// the rest: adding costs the same at ten thousand entries as at ten.
    pub fn add(&mut self, summary: Summary) {
        self.remove(&summary.id);
        let key = (summary.analysed_at_ms, summary.id.as_str());
        let at = self
            .summaries
            .partition_point(|s| newest_first((s.analysed_at_ms, &s.id), key) == Ordering::Less);
        self.summaries.insert(at, summary);
    }

    /// Adds many summaries at once (replacing any with the same id): one sort, where adding
    /// them one by one would shift the whole list for each.
    pub fn extend(&mut self, summaries: impl IntoIterator<Item = Summary>) {
        let old = std::mem::take(&mut self.summaries);
        *self = Self::new(summaries.into_iter().chain(old));
    }

    /// Removes one entry; false if there was none with this id.
    pub fn remove(&mut self, id: &str) -> bool {
        let before = self.summaries.len();
        self.summaries.retain(|s| s.id != id);
        self.summaries.len() != before
    }

    /// Removes everything.
    pub fn clear(&mut self) {
        self.summaries.clear();
    }

    /// What importing an exported document adds: its entries not already here (by id, the
    /// first of any the file repeats), and the counts to report. Nothing changes until the
    /// caller has stored them, so a bad file leaves the history exactly as it was.
    pub fn import(&self, json: &str) -> Result<(Vec<Entry>, Imported), AppError> {
        let incoming = History::from_json(json)?.into_entries();
        let mut seen: HashSet<String> = self.summaries.iter().map(|s| s.id.clone()).collect();
        let (new, known): (Vec<Entry>, Vec<Entry>) = incoming
            .into_iter()
            .partition(|e| seen.insert(e.id.clone()));
        let imported = Imported {
            added: new.len(),
            already_present: known.len(),
        };
        Ok((new, imported))
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

/// Statistics of `entries` (newest first); `day_of` names the local day of a timestamp (the
/// browser knows the time zone, this module does not).
pub fn stats(entries: &[Summary], day_of: impl Fn(f64) -> String) -> Stats {
    let labelled = |l: Label| entries.iter().filter(|e| e.label == l).count();
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
        probabilities: entries.iter().map(|e| e.probability_abnormal).collect(),
        threshold: entries.first().map(|e| e.threshold),
        per_day,
        median_total_ms: median(entries.iter().filter_map(|e| e.total_ms).collect()),
        median_worker_ms: median(entries.iter().map(|e| e.worker_ms).collect()),
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

    /// What the browser keeps (`store.rs`), modelled: the summaries in memory, and each entry's
    /// stored text by id.
    #[derive(Default)]
    struct Stored {
        index: Index,
        texts: std::collections::HashMap<String, String>,
    }

    impl Stored {
        fn add(&mut self, entries: &[Entry]) {
            for e in entries {
                self.texts.insert(e.id.clone(), e.to_json());
                self.index.add(e.summary());
            }
        }

        /// The export, as the browser assembles it: the stored texts in the index's order.
        fn export(&self) -> String {
            document(self.index.summaries().iter().map(|s| &self.texts[&s.id]))
        }
    }

    /// The document exactly as every earlier build wrote it, to localStorage and to exports:
    /// serde's serialisation of the whole document.
    fn old_format(history: &History) -> String {
        serde_json::to_string(&Document {
            format: FORMAT.to_owned(),
            version: VERSION,
            entries: history.entries().to_vec(),
        })
        .expect("serialises")
    }

    fn two() -> History {
        let mut history = History::default();
        history.add(entry("a", 1.0 * DAY, 0.9));
        let mut b = entry("b", 2.0 * DAY, 0.1);
        // A time the page measured, which serde_json's default float parsing read back one unit
        // in the last place off (…251).
        b.total_ms = Some(104.900_000_000_372_53);
        history.add(b);
        history
    }

    #[test]
    fn export_then_import_loses_nothing() {
        let history = two();
        let json = history.to_json();
        assert_eq!(json, old_format(&history), "the format is unchanged");
        let back = History::from_json(&json).expect("reads its own export");
        assert_eq!(back, history);
        assert_eq!(back.to_json(), json);
    }

    #[test]
    fn an_old_document_imports_and_reexports_byte_for_byte() {
        let old = old_format(&two());
        // Imported from a file…
        let mut stored = Stored::default();
        let (new, imported) = stored.index.import(&old).expect("imports");
        assert_eq!(imported.added, 2);
        stored.add(&new);
        assert_eq!(stored.export(), old);
        // …or migrated from localStorage.
        let mut migrated = Stored::default();
        migrated.add(&History::from_json(&old).expect("reads").into_entries());
        assert_eq!(migrated.export(), old);
        // Each stored text reads back as the entry it was.
        for e in two().entries() {
            assert_eq!(&Entry::from_json(&stored.texts[&e.id]).expect("reads"), e);
        }
    }

    #[test]
    fn summaries_are_small_and_say_what_the_list_shows() {
        let e = entry("a", DAY, 0.9);
        let s = e.summary();
        assert_eq!((s.label, s.probability_abnormal), (Label::Abnormal, 0.9));
        assert_eq!(s.quality, e.analysis.report.quality.verdict);
        let small = serde_json::to_string(&s).expect("serialises").len();
        let whole = e.to_json().len();
        assert!(
            small < 400 && whole > 20 * small,
            "{small} vs {whole} bytes"
        );
    }

    #[test]
    fn the_index_keeps_newest_first_as_entries_come_and_go() {
        let base = entry("x", 0.0, 0.5).summary();
        let summary = |id: &str, at: f64| Summary {
            analysed_at_ms: at,
            id: id.into(),
            ..base.clone()
        };
        let mut index = Index::new([
            summary("b", 2.0),
            summary("a", 1.0),
            summary("c", 3.0),
            summary("c", 0.5),
        ]);
        index.add(summary("d", 2.0));
        index.add(summary("a", 4.0));
        let mut extended = index.clone();
        extended.extend([summary("e", 0.0), summary("b", 5.0)]);
        assert_eq!(extended.summaries()[0].id, "b");
        assert_eq!(
            extended.summaries().last().map(|s| s.id.as_str()),
            Some("e")
        );
        assert_eq!(extended.len(), 5);
        let ids = |index: &Index| -> Vec<String> {
            index.summaries().iter().map(|s| s.id.clone()).collect()
        };
        assert_eq!(
            ids(&index),
            ["a", "c", "b", "d"],
            "replaced, and ties by id"
        );
        assert!(index.contains("d") && index.remove("d") && !index.remove("d"));
        assert_eq!(index.len(), 3);
        index.clear();
        assert!(index.is_empty());
    }

    #[test]
    fn importing_merges_by_id() {
        let mut stored = Stored::default();
        stored.add(&[entry("a", 1.0 * DAY, 0.9)]);
        let mut theirs = History::default();
        theirs.add(entry("a", 1.0 * DAY, 0.9));
        theirs.add(entry("c", 3.0 * DAY, 0.5));
        let (new, imported) = stored.index.import(&theirs.to_json()).expect("imports");
        assert_eq!(
            imported,
            Imported {
                added: 1,
                already_present: 1
            }
        );
        assert_eq!(new, [entry("c", 3.0 * DAY, 0.5)]);
        // A file that repeats an id adds it once.
        let twice = document([
            entry("e", 1.0, 0.2).to_json(),
            entry("e", 1.0, 0.2).to_json(),
        ]);
        let (new, imported) = Index::default().import(&twice).expect("imports");
        assert_eq!((new.len(), imported.already_present), (1, 1));
    }

    #[test]
    fn foreign_files_are_refused_with_a_reason() {
        let index = Index::default();
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
            let err = index.import(json).expect_err(json).to_string();
            assert!(
                err.contains(needle) && err.contains("History page"),
                "{err}"
            );
        }
    }

    #[test]
    fn stats_count_labels_days_and_medians() {
        let entries = [
            entry("c", 2.5 * DAY, 0.1).summary(),
            entry("b", 2.2 * DAY, 0.95).summary(),
            entry("a", 0.5 * DAY, 0.05).summary(),
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
