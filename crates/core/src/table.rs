//! Reports as a CSV table, one row per file. The CLI's `--format csv` and the browser app's
//! "Export CSV" both write this, so a spreadsheet built from either reads the same.

use crate::report::Report;

/// The columns, in order.
pub const HEADER: [&str; 9] = [
    "file",
    "label",
    "probability_abnormal",
    "threshold",
    "heart_rate_bpm",
    "quality",
    "quality_reasons",
    "duration_s",
    "error",
];

/// One file's row: its report, or the message saying why there is none.
pub fn row(file: &str, outcome: Result<&Report, &str>) -> [String; 9] {
    match outcome {
        Ok(r) => [
            file.to_owned(),
            r.label.as_str().to_owned(),
            format!("{:.4}", r.probability_abnormal),
            format!("{:.4}", r.threshold),
            r.heart_rate_bpm
                .map(|v| format!("{v:.1}"))
                .unwrap_or_default(),
            r.quality.verdict.as_str().to_owned(),
            r.quality.reasons.join("; "),
            format!("{:.2}", r.duration_s),
            String::new(),
        ],
        Err(error) => {
            let mut row: [String; 9] = Default::default();
            row[0] = file.to_owned();
            row[8] = error.to_owned();
            row
        }
    }
}

/// The header and `rows` as RFC 4180 CSV (CRLF line ends, fields quoted when needed).
pub fn to_csv<'a>(
    rows: impl IntoIterator<Item = (&'a str, Result<&'a Report, &'a str>)>,
) -> String {
    let mut out = String::new();
    push_line(&mut out, &HEADER);
    for (file, outcome) in rows {
        push_line(&mut out, &row(file, outcome));
    }
    out
}

fn push_line(out: &mut String, fields: &[impl AsRef<str>]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_field(out, field.as_ref());
    }
    out.push_str("\r\n");
}

/// Quotes a field that needs it, and defuses one a spreadsheet would run as a formula: a file
/// named `=HYPERLINK(…)` must stay a name.
fn push_field(out: &mut String, field: &str) {
    let formula = field.starts_with(['=', '+', '-', '@']) && field.parse::<f64>().is_err();
    let quote = formula || field.contains([',', '"', '\r', '\n']);
    if quote {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    out.push_str(&field.replace('"', "\"\""));
    if quote {
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        let mut out = String::new();
        push_line(
            &mut out,
            &["plain", "a,b", "say \"hi\"", "two\nlines", "-0.5"],
        );
        assert_eq!(
            out,
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",-0.5\r\n"
        );
    }

    #[test]
    fn formulas_are_defused() {
        let mut out = String::new();
        push_line(&mut out, &["=HYPERLINK(\"x\")", "@cmd", "+1"]);
        assert_eq!(out, "\"'=HYPERLINK(\"\"x\"\")\",\"'@cmd\",+1\r\n");
    }

    #[test]
    fn errors_fill_only_the_file_and_error_columns() {
        let csv = to_csv([("bad.wav", Err("the file is empty"))]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], HEADER.join(","));
        assert_eq!(lines[1], "bad.wav,,,,,,,,the file is empty");
        assert_eq!(lines[2], "");
    }
}
