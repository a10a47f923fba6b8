//! Each [`Error`] a user can meet, reached the way a real file reaches it (through
//! `audio::decode` and `FrontEnd::prepare`), with the words its message must carry: the message
//! is the only help a user gets. Inputs are the files in `tests/fixtures/audio/` (see its
//! `generate.sh`), some patched in memory.

use std::path::PathBuf;

use heartbeat_core::{audio, Analyzer, Audio, Error, FeatureConfig, FrontEnd, Limits, ModelCard};

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/audio")
        .join(name);
    std::fs::read(&p)
        .unwrap_or_else(|e| panic!("{}: {e}: run tests/fixtures/audio/generate.sh", p.display()))
}

/// The 8 s, 2 kHz, 16-bit mono reference recording (a canonical 44-byte-header WAV).
fn reference() -> Vec<u8> {
    fixture("a0003-8s-2000Hz-16bit.wav")
}

fn front() -> FrontEnd {
    FrontEnd::new(FeatureConfig::default(), Limits::default()).expect("default config")
}

/// Decode and prepare with the shipped configuration: the error, if any.
fn error_of(bytes: &[u8]) -> Error {
    let front = front();
    match front.decode(bytes).and_then(|a| front.prepare(&a)) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

fn assert_says(err: &Error, words: &[&str]) {
    let msg = err.to_string();
    for w in words {
        assert!(msg.contains(w), "{msg:?} should mention {w:?}");
    }
}

#[test]
fn empty_file() {
    let err = error_of(&fixture("empty.wav"));
    assert_eq!(err, Error::Empty);
    assert_says(&err, &["empty", "0 bytes"]);
}

#[test]
fn text_named_wav() {
    let err = error_of(&fixture("not-audio.wav"));
    assert_eq!(err, Error::NotAudio);
    assert_says(&err, &["not an audio file", "WAV, FLAC, MP3 or OGG"]);
}

#[test]
fn wav_cut_short() {
    let err = error_of(&fixture("truncated-16bit.wav"));
    assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
    assert_says(&err, &["truncated", "again"]);
}

#[test]
fn truncation_is_described_in_the_users_terms() {
    let msg = error_of(&fixture("truncated-16bit.wav")).to_string();
    assert!(
        !msg.contains("..") && !msg.contains("Failed to read"),
        "{msg}"
    );
}

#[test]
fn flac_cut_short() {
    let flac = fixture("a0003-8s-2000Hz.flac");
    let err = error_of(&flac[..flac.len() / 2]);
    assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
    assert_says(&err, &["truncated"]);
}

#[test]
fn wav_with_a_codec_nobody_decodes() {
    let mut wav = reference();
    // Format tag 0x0055: MPEG layer 3 inside RIFF, which neither hound nor symphonia reads.
    wav[20..22].copy_from_slice(&0x0055u16.to_le_bytes());
    let err = error_of(&wav);
    assert!(matches!(err, Error::UnsupportedEncoding(_)), "{err:?}");
    assert_says(&err, &["unsupported audio encoding", "16-bit PCM WAV"]);
}

#[test]
fn damaged_sample_rate() {
    let mut wav = reference();
    // Sample rate 50 Hz, and a byte rate to match so the header is otherwise consistent.
    wav[24..28].copy_from_slice(&50u32.to_le_bytes());
    wav[28..32].copy_from_slice(&100u32.to_le_bytes());
    let err = error_of(&wav);
    assert_eq!(err, Error::InvalidSampleRate(50));
    assert_says(&err, &["invalid sample rate 50 Hz", "damaged"]);
}

#[test]
fn too_short() {
    let err = error_of(&fixture("short-2s.wav"));
    assert_eq!(
        err,
        Error::TooShort {
            duration_s: 2.0,
            min_s: 4.0
        }
    );
    assert_says(&err, &["too short", "2.0 s", "at least 4.0 s"]);
}

#[test]
fn too_long_is_refused_while_decoding() {
    let limits = Limits {
        max_seconds: 5.0,
        ..Limits::default()
    };
    for name in [
        "a0003-8s-2000Hz-16bit.wav",
        "a0003-8s-2000Hz.flac",
        "a0003-8s-22050Hz.mp3",
    ] {
        let err = audio::decode(&fixture(name), &limits).expect_err("over the limit");
        assert!(
            matches!(err, Error::TooLong { max_s: 5.0, .. }),
            "{name}: {err:?}"
        );
        assert_says(&err, &["too long", "maximum is 5 s", "Trim"]);
    }
}

#[test]
fn too_long_decoded_elsewhere() {
    // The browser hands over samples it decoded itself: ten minutes and a second at 100 Hz.
    let audio = Audio::new(vec![0.1; 60_100], 100).expect("valid rate");
    let err = front().prepare(&audio).expect_err("too long");
    assert_eq!(
        err,
        Error::TooLong {
            duration_s: 601.0,
            max_s: 600.0
        }
    );
    assert_says(&err, &["601 s", "maximum is 600 s"]);
}

#[test]
fn silence() {
    let err = error_of(&fixture("silent-10s.wav"));
    assert_eq!(err, Error::Silent);
    assert_says(&err, &["silent", "stethoscope"]);
}

#[test]
fn full_scale_square_wave() {
    let err = error_of(&fixture("clipped-10s.wav"));
    assert!(
        matches!(err, Error::Clipped { percent } if percent > 99.9),
        "{err:?}"
    );
    assert_says(&err, &["clipped", "100%", "input gain"]);
}

#[test]
fn unusable_model_or_card() {
    let card = ModelCard::from_json(heartbeat_core::bundled::CARD).expect("bundled card");
    let err = Analyzer::new(b"not an onnx model", card, Limits::default()).expect_err("bad model");
    assert!(matches!(err, Error::Model(_)), "{err:?}");
    assert_says(&err, &["the model could not be used"]);

    let err = ModelCard::from_json("{}").expect_err("empty card");
    assert_says(&err, &["the model could not be used", "model card"]);
}

/// A model from `tests/fixtures/operators/` (see its `generate.py`).
fn operator_fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/operators")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn model_with_operators_the_runtime_leaves_out() {
    let card = ModelCard::from_json(heartbeat_core::bundled::CARD).expect("bundled card");
    let err = Analyzer::new(
        &operator_fixture("lstm-and-softmax.onnx"),
        card,
        Limits::default(),
    )
    .expect_err("LSTM is not in the runtime");
    assert!(
        matches!(&err, Error::UnsupportedOperators { missing, .. } if missing == &["LSTM", "Softmax"]),
        "{err:?}"
    );
    assert_says(
        &err,
        &[
            "the model could not be used",
            "does not include: LSTM, Softmax.",
            "Conv",
            "training/export.py",
        ],
    );
}

#[test]
fn model_asking_for_max_pool_indices() {
    let card = ModelCard::from_json(heartbeat_core::bundled::CARD).expect("bundled card");
    let err = Analyzer::new(
        &operator_fixture("max-pool-with-indices.onnx"),
        card,
        Limits::default(),
    )
    .expect_err("MaxPool indices are not supported");
    assert!(matches!(err, Error::Model(_)), "{err:?}");
    assert_says(
        &err,
        &["the model could not be used", "MaxPool", "return_indices"],
    );
}

#[test]
fn impossible_feature_configuration() {
    let err = FrontEnd::new(
        FeatureConfig {
            hop_length: 0,
            ..FeatureConfig::default()
        },
        Limits::default(),
    )
    .expect_err("hop 0");
    assert_eq!(err, Error::Config("hop_length must be positive".into()));
    assert_says(&err, &["invalid feature configuration", "hop_length"]);
}
