//! Patient references: the few characters a user types on a result (a record number, initials)
//! so that its printed report can be filed with the right patient.
//!
//! A reference belongs to **one result**, not to a visit or to whatever is on screen. A batch
//! holds several patients' recordings side by side, and a report reopened from the History weeks
//! later must print the reference it was given, never the one typed last: a per-visit field
//! would quietly put today's patient on an older recording's report, a wrong-patient error, the
//! worst a report can carry. The price is typing it again for each of one patient's recordings.
//! A result is known by its history entry's id, which the Analyse page gives it as it finishes,
//! so a reference typed there is still there when the result is reopened from the History.
//!
//! References are kept in this browser only (localStorage, under [`STORAGE_KEY`], apart from the
//! history) and are **never** exported: neither the results' CSV and JSON nor the history export
//! holds them, and there is no option that adds them. Those files are made to be passed on
//! (mailed, shared, imported in another browser); keeping identifying data out of them by
//! construction is safer than a checkbox one slip away from putting it in. The printed report
//! is where a reference goes. A history imported elsewhere therefore arrives without them.

use std::collections::BTreeMap;

/// The localStorage key of the references, a JSON object from result id to reference.
pub const STORAGE_KEY: &str = "heartbeat.patient-references";

/// The longest reference kept, in characters: room for a record number and initials, not notes.
pub const MAX_CHARS: usize = 64;

/// A reference as it is kept and printed: one line, spaces collapsed, at most [`MAX_CHARS`].
/// Empty means none.
pub fn clean(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_CHARS)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

/// The references typed in this browser, by result id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    by_result: BTreeMap<String, String>,
}

impl References {
    /// Reads the stored document. An unreadable one reads as empty: a reference is a
    /// convenience, and a report without one prints a blank line to write it on.
    pub fn from_json(json: &str) -> Self {
        Self {
            by_result: serde_json::from_str(json).unwrap_or_default(),
        }
    }

    /// The document to store.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.by_result).unwrap_or_default()
    }

    /// The reference of one result, if it has one.
    pub fn get(&self, result_id: &str) -> Option<&str> {
        self.by_result.get(result_id).map(String::as_str)
    }

    /// Sets a result's reference ([`clean`]ed); an empty one removes it.
    pub fn set(&mut self, result_id: &str, text: &str) {
        let text = clean(text);
        if text.is_empty() {
            self.by_result.remove(result_id);
        } else {
            self.by_result.insert(result_id.to_owned(), text);
        }
    }

    /// Forgets a result's reference (its history entry was deleted); false if it had none.
    pub fn remove(&mut self, result_id: &str) -> bool {
        self.by_result.remove(result_id).is_some()
    }

    /// Whether no result has a reference.
    pub fn is_empty(&self) -> bool {
        self.by_result.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{self, Job, Status};
    use crate::history::{self, Entry};

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn references_are_one_clean_line_of_bounded_length() {
        assert_eq!(clean("  MRN 0042\t/  J.D.\n"), "MRN 0042 / J.D.");
        assert_eq!(clean(" \u{7}\r\n "), "");
        let long = clean(&"é".repeat(100));
        assert_eq!(long.chars().count(), MAX_CHARS);
        // Cut at a space: no trailing blank.
        assert_eq!(
            clean(&format!("{} x", "a".repeat(MAX_CHARS - 1))).len(),
            MAX_CHARS - 1
        );
    }

    #[test]
    fn each_result_keeps_its_own_reference_across_a_reload() {
        let mut refs = References::default();
        refs.set("a", " MRN 1 ");
        refs.set("b", "MRN 2");
        let stored = References::from_json(&refs.to_json());
        assert_eq!(stored, refs);
        assert_eq!(stored.get("a"), Some("MRN 1"));
        assert_eq!(stored.get("b"), Some("MRN 2"));
        assert_eq!(stored.get("c"), None);

        refs.set("a", "   ");
        assert_eq!(refs.get("a"), None, "emptied means none");
        assert!(refs.remove("b"));
        assert!(!refs.remove("b"));
        assert!(refs.is_empty());
    }

    #[test]
    fn an_unreadable_document_reads_as_no_references() {
        assert!(References::from_json("{not json").is_empty());
        assert!(References::from_json("[1, 2]").is_empty());
    }

    #[test]
    fn references_are_stored_apart_from_the_history() {
        assert!(STORAGE_KEY.starts_with("heartbeat."));
        assert_ne!(STORAGE_KEY, "heartbeat.history");
    }

    /// The contract the exports keep: whatever was typed, no export holds it.
    #[test]
    fn no_export_holds_a_reference() {
        let analysis = batch::tests::analysis(0.9, 70.0, 8.0);
        let mut refs = References::default();
        refs.set("entry-1", "MRN 7731 Doe");

        let entry = Entry {
            id: "entry-1".into(),
            file: "a0003.wav".into(),
            analysed_at_ms: 1.0e12,
            total_ms: Some(80.0),
            analysis: (*analysis).clone(),
        };
        let jobs = [Job {
            id: 1,
            name: "a0003.wav".into(),
            status: Status::Done(analysis),
            total_ms: Some(80.0),
            result_id: Some("entry-1".into()),
            analysed_at_ms: Some(1.0e12),
        }];
        for export in [
            history::document([entry.to_json()]),
            batch::to_csv(&jobs),
            batch::to_json(&jobs),
        ] {
            assert!(export.contains("a0003.wav"), "{export}");
            assert!(!export.contains("7731"), "{export}");
        }
    }
}
