//! The `heartbeat` binary end to end: what a user sees for good files in every format, for each
//! kind of bad file, for folders, CSV, `evaluate` and `features`.
//!
//! Fixtures are in `tests/fixtures/audio/` (made by its `generate.sh`): one real recording
//! (PhysioNet 2016 a0003, its first 8 s) in many encodings, plus one file per way to be bad.
//! `evaluate` and `features` read a few records of the shared PhysioNet data (`../shared/data/
//! physionet2016` beside the repository, or `$HEARTBEAT_DATA`).
//!
//! Nothing here depends on which model is bundled: results are compared with each other, never
//! with fixed probabilities.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Helpers

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> PathBuf {
    let p = repo().join("tests/fixtures/audio").join(name);
    assert!(
        p.is_file(),
        "missing fixture {}: run tests/fixtures/audio/generate.sh",
        p.display()
    );
    p
}

/// The shared PhysioNet 2016 development set. CI has it, so its absence is a failure.
fn data() -> PathBuf {
    let dir = std::env::var_os("HEARTBEAT_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/data/physionet2016"));
    assert!(
        dir.join("training-a/REFERENCE.csv").is_file(),
        "PhysioNet data not found at {}: clone the repository beside shared/ or set HEARTBEAT_DATA",
        dir.display()
    );
    dir
}

fn heartbeat() -> Command {
    Command::cargo_bin("heartbeat").expect("heartbeat binary built")
}

fn stdout(out: &Output) -> &str {
    std::str::from_utf8(&out.stdout).expect("UTF-8 stdout")
}

fn stderr(out: &Output) -> &str {
    std::str::from_utf8(&out.stderr).expect("UTF-8 stderr")
}

/// `heartbeat classify ARGS…`: the process output and its JSON lines.
fn classify(args: &[&Path]) -> (Output, Vec<Value>) {
    let out = heartbeat()
        .arg("classify")
        .args(args)
        .output()
        .expect("run heartbeat");
    let lines = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    (out, lines)
}

/// Classifies fixtures by name: lines keyed by fixture name, and the process output.
fn classify_fixtures(names: &[&str]) -> (Output, BTreeMap<String, Value>) {
    let paths: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let (out, lines) = classify(&refs);
    assert_eq!(
        lines.len(),
        names.len(),
        "one line per file\n{}",
        stderr(&out)
    );
    let by_name = lines.into_iter().map(|l| (file_name(&l), l)).collect();
    (out, by_name)
}

/// The `file` field's last component.
fn file_name(line: &Value) -> String {
    let file = line["file"]
        .as_str()
        .unwrap_or_else(|| panic!("no file: {line}"));
    Path::new(file)
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned()
}

fn f64_of(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("no number {key}: {v}"))
}

/// A report without its `file`, for comparing the analyses of two files.
fn analysis(line: &Value) -> Value {
    let mut v = line.clone();
    v.as_object_mut().expect("object").remove("file");
    v
}

/// Asserts that a line is a complete, self-consistent report for a recording of `duration_s`.
fn assert_report(name: &str, r: &Value, duration_s: f64) {
    assert!(r.get("error").is_none(), "{name}: {r}");
    let label = r["label"]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: no label: {r}"));
    assert!(
        ["normal", "abnormal"].contains(&label),
        "{name}: label {label}"
    );
    let p = f64_of(r, "probability_abnormal");
    let threshold = f64_of(r, "threshold");
    assert!(
        (0.0..=1.0).contains(&p) && (0.0..=1.0).contains(&threshold),
        "{name}: {r}"
    );
    assert_eq!(
        label == "abnormal",
        p >= threshold,
        "{name}: label disagrees with threshold"
    );
    let d = f64_of(r, "duration_s");
    // MP3 and Vorbis carry encoder delay and padding; everything else is sample-exact.
    assert!(
        (d - duration_s).abs() < 0.15,
        "{name}: duration {d} s, expected {duration_s} s"
    );
    let bpm = f64_of(r, "heart_rate_bpm");
    assert!((30.0..=250.0).contains(&bpm), "{name}: heart rate {bpm}");
    let q = &r["quality"];
    assert!(
        ["good", "poor"].contains(&q["verdict"].as_str().unwrap_or_default()),
        "{name}: {q}"
    );
    assert!(q["reasons"].is_array(), "{name}: {q}");
    let windows = r["windows"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: no windows"));
    assert!(!windows.is_empty(), "{name}: no windows");
    for w in windows {
        let (s, e, wp) = (
            f64_of(w, "start_s"),
            f64_of(w, "end_s"),
            f64_of(w, "probability"),
        );
        assert!(
            0.0 <= s && s < e && e <= d + 1e-3 && (0.0..=1.0).contains(&wp),
            "{name}: window {w}"
        );
    }
    assert!(
        r["model"]["name"].is_string() && r["model"]["trained"].is_boolean(),
        "{name}: {r}"
    );
}

/// Lossless copies of the reference: the same samples, so the very same analysis.
const EXACT: [&str; 4] = [
    "a0003-8s-2000Hz-float32.wav",
    "a0003-8s-2000Hz-24bit-stereo-extensible.wav",
    "a0003-8s-2000Hz.flac",
    "a0003-8s-2000Hz-16bit.wav",
];
/// Requantised, resampled or lossy copies: close to the reference's analysis.
const CLOSE: [&str; 5] = [
    "a0003-8s-2000Hz-8bit.wav",
    "a0003-8s-44100Hz-16bit-stereo.flac",
    "a0003-8s-22050Hz.mp3",
    "a0003-8s-8000Hz.ogg",
    "mp3-named-as.wav",
];
const REFERENCE: &str = "a0003-8s-2000Hz-16bit.wav";

/// Bad files and words their error must contain.
const BAD: [(&str, &[&str]); 6] = [
    ("empty.wav", &["empty", "0 bytes"]),
    (
        "not-audio.wav",
        &["not an audio file", "WAV, FLAC, MP3 or OGG"],
    ),
    ("truncated-16bit.wav", &["truncated", "again"]),
    ("short-2s.wav", &["too short", "2.0 s", "at least"]),
    ("silent-10s.wav", &["silent", "stethoscope"]),
    ("clipped-10s.wav", &["clipped", "100%", "input gain"]),
];

fn good() -> Vec<&'static str> {
    EXACT.iter().chain(&CLOSE).copied().collect()
}

// ---------------------------------------------------------------------------------------------
// classify

#[test]
fn every_good_format_gives_a_full_report() {
    let names = good();
    let (out, lines) = classify_fixtures(&names);
    assert!(out.status.success(), "{}", stderr(&out));
    for name in names {
        assert_report(name, &lines[name], 8.0);
    }
    // The warning follows the card, whichever model is bundled.
    let trained = lines[REFERENCE]["model"]["trained"]
        .as_bool()
        .expect("trained flag");
    assert_eq!(
        stderr(&out).contains("UNTRAINED"),
        !trained,
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_same_audio_gets_the_same_answer_in_every_format() {
    let names = good();
    let (_, lines) = classify_fixtures(&names);
    let reference = analysis(&lines[REFERENCE]);
    for name in EXACT {
        assert_eq!(
            analysis(&lines[name]),
            reference,
            "{name} holds the reference's samples"
        );
    }
    let (p0, bpm0) = (
        f64_of(&reference, "probability_abnormal"),
        f64_of(&reference, "heart_rate_bpm"),
    );
    for name in CLOSE {
        let r = &lines[name];
        let (p, bpm) = (
            f64_of(r, "probability_abnormal"),
            f64_of(r, "heart_rate_bpm"),
        );
        // MP3 keeps its encoder delay (~50 ms here), shifting every CNN window: with the first
        // trained model that alone moves P(abnormal) by ~0.07, and 8-bit requantisation by up to
        // ~0.06. Still far below the spread between recordings.
        assert!(
            (p - p0).abs() < 0.1,
            "{name}: P(abnormal) {p} vs {p0} for the reference"
        );
        // The rate comes from the S1 onsets the segmenter finds: in 8 s at ~50 bpm that is
        // five intervals, and requantisation noise may move one beat's onset by a few frames.
        assert!(
            (bpm / bpm0 - 1.0).abs() < 0.05,
            "{name}: {bpm} bpm vs {bpm0} for the reference"
        );
    }
}

#[test]
fn format_comes_from_the_content_not_the_name() {
    let (_, lines) = classify_fixtures(&["mp3-named-as.wav", "a0003-8s-22050Hz.mp3"]);
    assert_eq!(
        analysis(&lines["mp3-named-as.wav"]),
        analysis(&lines["a0003-8s-22050Hz.mp3"])
    );
}

#[test]
fn each_bad_file_says_what_is_wrong_and_the_run_goes_on() {
    let mut names: Vec<&str> = BAD.iter().map(|(n, _)| *n).collect();
    names.push(REFERENCE);
    let (out, lines) = classify_fixtures(&names);
    assert!(
        out.status.success(),
        "some files succeeded, so exit 0: {}",
        stderr(&out)
    );
    for (name, words) in BAD {
        let line = &lines[name];
        let keys: Vec<&String> = line.as_object().expect("object").keys().collect();
        assert_eq!(
            keys,
            ["error", "file"],
            "{name}: an error line has only file and error: {line}"
        );
        let error = line["error"].as_str().expect("error string");
        for w in words {
            assert!(error.contains(w), "{name}: {error:?} should mention {w:?}");
        }
    }
    // The shortest recording accepted is one window of the bundled model.
    let card = heartbeat_core::ModelCard::from_json(heartbeat_core::bundled::CARD).expect("card");
    let minimum = format!("at least {:.1} s", card.features.window_seconds());
    let error = lines["short-2s.wav"]["error"]
        .as_str()
        .expect("error string");
    assert!(
        error.contains(&minimum),
        "{error:?} should mention {minimum:?}"
    );
    assert_report(REFERENCE, &lines[REFERENCE], 8.0);
    assert!(
        stderr(&out).contains("6 of 7 recordings could not be analysed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn fails_when_no_file_could_be_analysed() {
    let (out, lines) = classify(&[&fixture("empty.wav"), &fixture("silent-10s.wav")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines.len(), 2, "errors are still printed");
    assert!(lines.iter().all(|l| l["error"].is_string()));
}

#[test]
fn a_missing_path_stops_before_any_work() {
    let missing = repo().join("tests/fixtures/audio/no-such-file.wav");
    let (out, lines) = classify(&[&fixture(REFERENCE), &missing]);
    assert_eq!(out.status.code(), Some(1));
    assert!(lines.is_empty());
    assert!(
        stderr(&out).contains("no-such-file.wav does not exist"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn folders_are_searched_recursively_for_audio_files_in_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("sub/deeper")).expect("mkdir");
    std::fs::copy(fixture(REFERENCE), root.join("x.wav")).expect("copy");
    std::fs::copy(
        fixture("a0003-8s-2000Hz.flac"),
        root.join("sub/deeper/y.flac"),
    )
    .expect("copy");
    std::fs::copy(fixture("a0003-8s-22050Hz.mp3"), root.join("sub/z.MP3")).expect("copy");
    std::fs::copy(fixture("short-2s.wav"), root.join("sub/deeper/short.wav")).expect("copy");
    std::fs::write(root.join("sub/notes.txt"), "not picked up").expect("write");
    std::fs::copy(fixture(REFERENCE), root.join("sub/no-extension")).expect("copy");

    let (out, lines) = classify(&[root]);
    assert!(out.status.success(), "{}", stderr(&out));
    let files: Vec<String> = lines
        .iter()
        .map(|l| {
            let f = Path::new(l["file"].as_str().expect("file"));
            f.strip_prefix(root)
                .expect("under the folder")
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    assert_eq!(
        files,
        [
            "sub/deeper/short.wav",
            "sub/deeper/y.flac",
            "sub/z.MP3",
            "x.wav"
        ]
    );
    assert!(lines[0]["error"]
        .as_str()
        .is_some_and(|e| e.contains("too short")));
    for l in &lines[1..] {
        assert_report(&file_name(l), l, 8.0);
    }

    // The fixture folder itself: every audio fixture, and not generate.sh.
    let (_, lines) = classify(&[&repo().join("tests/fixtures/audio")]);
    assert_eq!(lines.len(), good().len() + BAD.len());
}

#[test]
fn csv_has_a_header_and_one_row_per_file() {
    let files = [fixture(REFERENCE), fixture("short-2s.wav")];
    let json = classify(&[&files[0], &files[1]]).1;
    let out = heartbeat()
        .args(["classify", "--format", "csv"])
        .args(&files)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let expected = [
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
    assert_eq!(header, expected);
    let rows: Vec<BTreeMap<String, String>> =
        reader.deserialize().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 2);

    let (ok, j) = (&rows[0], &json[0]);
    assert_eq!(ok["file"], files[0].display().to_string());
    assert_eq!(ok["label"], j["label"].as_str().expect("label"));
    let p: f64 = ok["probability_abnormal"].parse().expect("probability");
    assert!(
        (p - f64_of(j, "probability_abnormal")).abs() < 1e-4,
        "{ok:?}"
    );
    let bpm: f64 = ok["heart_rate_bpm"].parse().expect("heart rate");
    assert!((bpm - f64_of(j, "heart_rate_bpm")).abs() < 0.06, "{ok:?}");
    assert_eq!(
        ok["quality"],
        j["quality"]["verdict"].as_str().expect("verdict")
    );
    assert_eq!(ok["duration_s"], "8.00");
    assert_eq!(ok["error"], "");

    let bad = &rows[1];
    assert!(bad["error"].contains("too short"), "{bad:?}");
    assert!(
        bad["label"].is_empty() && bad["probability_abnormal"].is_empty(),
        "{bad:?}"
    );
}

#[test]
fn an_explicit_model_and_card_give_the_bundled_results() {
    let models = repo().join("models");
    let out = heartbeat()
        .arg("--model")
        .arg(models.join("heartbeat.onnx"))
        .arg("--card")
        .arg(models.join("heartbeat.card.json"))
        .arg("classify")
        .arg(fixture(REFERENCE))
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let custom: Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
    let bundled = classify(&[&fixture(REFERENCE)]).1.remove(0);
    assert_eq!(custom, bundled);

    let out = heartbeat()
        .arg("--model")
        .arg(models.join("heartbeat.onnx"))
        .arg("classify")
        .arg(fixture(REFERENCE))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "--model needs --card");
}

// ---------------------------------------------------------------------------------------------
// evaluate and features, on a small PhysioNet-layout folder

/// Records copied from the shared data: (subset, record, abnormal).
const RECORDS: [(&str, &str, bool); 6] = [
    ("training-a", "a0024", true),
    ("training-a", "a0035", false),
    ("training-a", "a0058", true),
    ("training-b", "b0001", false),
    ("training-b", "b0031", false),
    ("training-b", "b0037", true), // 6.9 s: short, but at least one window
];

/// A PhysioNet-layout folder with [`RECORDS`], plus one too-short recording listed in
/// training-b's REFERENCE.csv (as a .wav, which the layout prefers over .flac).
fn physionet_folder() -> tempfile::TempDir {
    let src = data();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut reference: BTreeMap<&str, String> = BTreeMap::new();
    for (subset, record, abnormal) in RECORDS {
        std::fs::create_dir_all(dir.path().join(subset)).expect("mkdir");
        let file = format!("{subset}/{record}.flac");
        std::fs::copy(src.join(&file), dir.path().join(&file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let label = if abnormal { "1" } else { "-1" };
        reference
            .entry(subset)
            .or_default()
            .push_str(&format!("{record},{label}\n"));
    }
    std::fs::copy(
        fixture("short-2s.wav"),
        dir.path().join("training-b/b9999.wav"),
    )
    .expect("copy");
    reference
        .entry("training-b")
        .or_default()
        .push_str("b9999,-1\n");
    for (subset, csv) in reference {
        std::fs::write(dir.path().join(subset).join("REFERENCE.csv"), csv).expect("write");
    }
    dir
}

#[test]
fn evaluate_scores_each_subset_and_all_together() {
    let dir = physionet_folder();
    let out = heartbeat()
        .arg("evaluate")
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(stdout(&out)).expect("one JSON document");

    let subsets = doc["subsets"].as_object().expect("subsets");
    assert_eq!(
        subsets.keys().collect::<Vec<_>>(),
        ["training-a", "training-b"]
    );
    for (name, m) in subsets
        .iter()
        .chain([(&"overall".to_owned(), &doc["overall"])])
    {
        let expected: Vec<bool> = RECORDS
            .iter()
            .filter(|(s, _, _)| name == "overall" || s == name)
            .map(|(_, _, abnormal)| *abnormal)
            .collect();
        let abnormal = expected.iter().filter(|a| **a).count() as u64;
        let c = &m["confusion"];
        let count = |k: &str| {
            c[k].as_u64()
                .unwrap_or_else(|| panic!("{name}: no {k}: {c}"))
        };
        assert_eq!(m["n"].as_u64(), Some(expected.len() as u64), "{name}: {m}");
        assert_eq!(count("tp") + count("fn_"), abnormal, "{name}: {c}");
        assert_eq!(
            count("fp") + count("tn"),
            expected.len() as u64 - abnormal,
            "{name}: {c}"
        );
        for k in ["sensitivity", "specificity", "macc", "auc", "accuracy"] {
            let v = m[k]
                .as_f64()
                .unwrap_or_else(|| panic!("{name}: {k} missing with both classes present: {m}"));
            assert!((0.0..=1.0).contains(&v), "{name}: {k} = {v}");
        }
        let (se, sp, macc) = (
            f64_of(m, "sensitivity"),
            f64_of(m, "specificity"),
            f64_of(m, "macc"),
        );
        assert!((macc - (se + sp) / 2.0).abs() < 1e-9, "{name}: {m}");
    }

    let failures = doc["failures"].as_array().expect("failures");
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("b9999.wav")),
        "{failures:?}"
    );
    assert!(
        failures[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("too short")),
        "{failures:?}"
    );
    assert!(
        doc["threshold"].is_number() && doc["model"]["trained"].is_boolean(),
        "{doc}"
    );
}

/// One `.npy` array: dtype, shape and raw little-endian data.
struct Npy {
    descr: String,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl Npy {
    /// Parses a version 1.0 `.npy` (what `heartbeat features` writes).
    fn parse(bytes: &[u8]) -> Self {
        assert_eq!(
            &bytes[..8],
            b"\x93NUMPY\x01\x00",
            "npy magic and version 1.0"
        );
        let len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
        assert_eq!((10 + len) % 64, 0, "header padded to 64 bytes");
        let header = std::str::from_utf8(&bytes[10..10 + len]).expect("ASCII header");
        let field = |key: &str| {
            let start = header
                .find(&format!("'{key}': "))
                .unwrap_or_else(|| panic!("no {key}: {header}"))
                + key.len()
                + 4;
            &header[start..]
        };
        let descr = field("descr")
            .trim_start_matches('\'')
            .split('\'')
            .next()
            .expect("descr")
            .to_owned();
        assert!(field("fortran_order").starts_with("False"), "{header}");
        let shape_text = field("shape");
        let shape = shape_text[1..shape_text.find(')').expect("shape tuple")]
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().expect("dimension"))
            .collect();
        Self {
            descr,
            shape,
            data: bytes[10 + len..].to_vec(),
        }
    }

    fn i64s(&self) -> Vec<i64> {
        assert_eq!(self.descr, "<i8");
        self.data
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect()
    }

    fn i8s(&self) -> Vec<i8> {
        assert_eq!(self.descr, "|i1");
        self.data.iter().map(|&b| b as i8).collect()
    }

    fn f32s(&self) -> Vec<f32> {
        assert_eq!(self.descr, "<f4");
        self.data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect()
    }

    /// Unicode strings (`<U{n}`, UTF-32 padded with zeros).
    fn strings(&self) -> Vec<String> {
        let width: usize = self
            .descr
            .strip_prefix("<U")
            .expect("unicode dtype")
            .parse()
            .expect("width");
        self.data
            .chunks_exact(4 * width)
            .map(|s| {
                s.chunks_exact(4)
                    .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
                    .take_while(|&c| c != 0)
                    .map(|c| char::from_u32(c).expect("valid char"))
                    .collect()
            })
            .collect()
    }
}

/// The array `name` (e.g. `"config.npy"`) of the `.npz` file at `npz`.
fn npz_entry(npz: &Path, name: &str) -> Npy {
    let mut zip =
        zip::ZipArchive::new(std::fs::File::open(npz).expect("open npz")).expect("a zip file");
    let mut bytes = Vec::new();
    zip.by_name(name)
        .expect("entry")
        .read_to_end(&mut bytes)
        .expect("read entry");
    Npy::parse(&bytes)
}

/// Runs `heartbeat features DIR --out OUT [--config CONFIG] [EXTRA...]`.
fn features(dir: &Path, out: &Path, config: Option<&Path>, extra: &[&str]) -> Output {
    let mut cmd = heartbeat();
    cmd.arg("features")
        .arg(dir)
        .arg("--out")
        .arg(out)
        .args(extra);
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    cmd.output().expect("run")
}

#[test]
fn features_writes_an_npz_that_numpy_can_load() {
    let dir = physionet_folder();
    let npz = dir.path().join("features.npz");
    let out = features(dir.path(), &npz, None, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("skipping") && stderr(&out).contains("b9999"),
        "{}",
        stderr(&out)
    );

    let mut zip =
        zip::ZipArchive::new(std::fs::File::open(&npz).expect("open npz")).expect("a zip file");
    let mut names: Vec<String> = zip.file_names().map(str::to_owned).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "config.npy",
            "features.npy",
            "labels.npy",
            "offsets.npy",
            "records.npy",
            "refused.npy",
            "subsets.npy"
        ]
    );
    let mut arrays = BTreeMap::new();
    for name in names {
        let mut bytes = Vec::new();
        zip.by_name(&name)
            .expect("entry")
            .read_to_end(&mut bytes)
            .expect("read entry");
        let npy = Npy::parse(&bytes);
        let itemsize: usize = npy.descr[2..].parse().expect("item size");
        let itemsize = if npy.descr.starts_with("<U") {
            4 * itemsize
        } else {
            itemsize
        };
        assert_eq!(
            npy.data.len(),
            npy.shape.iter().product::<usize>() * itemsize,
            "{name}: data length vs shape"
        );
        arrays.insert(name.trim_end_matches(".npy").to_owned(), npy);
    }

    let n = RECORDS.len();
    let config: Value = serde_json::from_str(&arrays["config"].strings()[0]).expect("config JSON");
    // Every view's bands, stacked (the bundled model may read more than one view).
    let bands = serde_json::from_value::<heartbeat_core::FeatureConfig>(config.clone())
        .expect("a feature configuration")
        .input_bands();
    let frame_rate = f64_of(&config, "sample_rate") / f64_of(&config, "hop_length");

    let features = &arrays["features"];
    assert_eq!(features.shape.len(), 2);
    assert_eq!(features.shape[1], bands);
    assert!(
        features.f32s().iter().all(|v| v.is_finite()),
        "non-finite features"
    );

    let offsets = arrays["offsets"].i64s();
    assert_eq!(arrays["offsets"].shape, [n + 1]);
    assert_eq!(offsets[0], 0);
    assert_eq!(
        *offsets.last().expect("offsets") as usize,
        features.shape[0]
    );
    assert_eq!(
        arrays["labels"].i8s(),
        RECORDS.iter().map(|r| i8::from(r.2)).collect::<Vec<_>>()
    );
    assert_eq!(
        arrays["records"].strings(),
        RECORDS.iter().map(|r| r.1).collect::<Vec<_>>()
    );
    assert_eq!(
        arrays["subsets"].strings(),
        RECORDS.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    let refused = arrays["refused"].strings();
    assert!(
        refused.len() == 1 && refused[0].starts_with("b9999: the recording is too short"),
        "{refused:?}"
    );

    // Each recording's frames cover its length.
    for (i, (subset, record, _)) in RECORDS.iter().enumerate() {
        let frames = (offsets[i + 1] - offsets[i]) as f64;
        let bytes =
            std::fs::read(dir.path().join(subset).join(format!("{record}.flac"))).expect("read");
        let seconds = flac_seconds(&bytes);
        assert!(
            (frames / frame_rate - seconds).abs() < 0.1,
            "{record}: {frames} frames for {seconds} s"
        );
    }
}

/// Length of a FLAC file from its STREAMINFO block (which always comes first).
fn flac_seconds(b: &[u8]) -> f64 {
    assert_eq!(&b[..4], b"fLaC");
    let info = &b[8..];
    let rate =
        (u32::from(info[10]) << 12) | (u32::from(info[11]) << 4) | (u32::from(info[12]) >> 4);
    let total = (u64::from(info[13] & 0x0f) << 32)
        | u64::from(u32::from_be_bytes([info[14], info[15], info[16], info[17]]));
    total as f64 / f64::from(rate)
}

#[test]
fn features_computes_the_configuration_it_is_given() {
    let dir = physionet_folder();
    let mut config: Value =
        serde_json::from_str(heartbeat_core::bundled::CARD).expect("bundled card");
    let mut config = config["features"].take();
    config["n_mels"] = 16.into();
    config["normalization"] = "none".into();
    let config_path = dir.path().join("features.json");
    std::fs::write(&config_path, config.to_string()).expect("write config");
    let npz = dir.path().join("features.npz");
    let out = features(dir.path(), &npz, Some(&config_path), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let entry = |name: &str| npz_entry(&npz, name);
    let written: Value =
        serde_json::from_str(&entry("config.npy").strings()[0]).expect("config JSON");
    assert_eq!(written, config);
    let extra_bands: usize =
        serde_json::from_value::<heartbeat_core::FeatureConfig>(config.clone())
            .expect("a feature configuration")
            .extra_views
            .iter()
            .map(|v| v.n_mels)
            .sum();
    assert_eq!(entry("features.npy").shape[1], 16 + extra_bands);

    // A configuration the core cannot compute is refused before any file is read.
    config["fmax"] = 5000.0.into();
    std::fs::write(&config_path, config.to_string()).expect("write config");
    let out = features(
        dir.path(),
        &dir.path().join("bad.npz"),
        Some(&config_path),
        &[],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("fmax"), "{}", stderr(&out));
}

#[test]
fn features_of_several_views_stack_each_view_s_bands_frame_by_frame() {
    let dir = physionet_folder();
    let mut card: Value =
        serde_json::from_str(heartbeat_core::bundled::CARD).expect("bundled card");
    let mut first = card["features"].take();
    first.as_object_mut().expect("object").remove("extra_views");
    first["n_mels"] = 16.into();
    let view = serde_json::json!({
        "band_low_hz": 25.0, "band_high_hz": 950.0, "n_mels": 24,
        "fmin": 25.0, "fmax": 950.0, "filter_bank": "mel_bins"
    });
    let mut second = first.clone();
    for key in [
        "band_low_hz",
        "band_high_hz",
        "n_mels",
        "fmin",
        "fmax",
        "filter_bank",
    ] {
        second[key] = view[key].clone();
    }
    let mut both = first.clone();
    both["extra_views"] = serde_json::json!([view]);
    let dump = |name: &str, config: &Value| {
        let config_path = dir.path().join(format!("{name}.json"));
        std::fs::write(&config_path, config.to_string()).expect("write config");
        let npz = dir.path().join(format!("{name}.npz"));
        let out = features(dir.path(), &npz, Some(&config_path), &[]);
        assert!(out.status.success(), "{}", stderr(&out));
        npz_entry(&npz, "features.npy")
    };
    let (a, b, ab) = (dump("a", &first), dump("b", &second), dump("ab", &both));
    assert_eq!(ab.shape, [a.shape[0], 16 + 24]);
    assert_eq!(b.shape, [a.shape[0], 24]);
    let (a, b, ab) = (a.f32s(), b.f32s(), ab.f32s());
    for (t, row) in ab.chunks_exact(40).enumerate() {
        assert_eq!(&row[..16], &a[t * 16..][..16], "frame {t}, first view");
        assert_eq!(&row[16..], &b[t * 24..][..24], "frame {t}, second view");
    }
}

#[test]
fn features_with_signal_also_exports_the_samples_each_recording_was_framed_from() {
    let dir = physionet_folder();
    let npz = dir.path().join("features.npz");
    let out = features(dir.path(), &npz, None, &["--signal"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let entry = |name: &str| npz_entry(&npz, name);
    let config: Value =
        serde_json::from_str(&entry("config.npy").strings()[0]).expect("config JSON");
    let hop = config["hop_length"].as_u64().expect("hop_length") as i64;
    let frames = entry("offsets.npy").i64s();
    let samples = entry("signal_offsets.npy").i64s();
    let signal = entry("signal.npy");
    assert_eq!(
        samples.len(),
        RECORDS.len() + 1,
        "one range per kept recording"
    );
    assert_eq!(samples[0], 0);
    assert_eq!(signal.shape, [*samples.last().expect("offsets") as usize]);
    let values = signal.f32s();
    assert!(values.iter().all(|v| v.is_finite()), "non-finite samples");
    for (i, (_, record, _)) in RECORDS.iter().enumerate() {
        // The core's frames are centred on samples 0, hop, 2 hop, ... of this very signal.
        let n = samples[i + 1] - samples[i];
        assert_eq!(frames[i + 1] - frames[i], 1 + n / hop, "{record}");
        // Conditioned: zero mean and scaled to a robust peak of one.
        let x = &values[samples[i] as usize..samples[i + 1] as usize];
        let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len() as f64;
        let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(
            mean.abs() < 0.05 && (1.0..100.0).contains(&peak),
            "{record}: mean {mean}, peak {peak}"
        );
    }
}
