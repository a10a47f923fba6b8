//! Every file in `tests/fixtures/fuzz/` through decode and the front end, as the
//! `decode_and_features` fuzz target runs them (see `fuzz/README.md`).
//!
//! * `valid/`: the fuzzer's seed corpus (made by `fuzz/make_seeds.sh`), one small file per
//!   container and sample encoding we accept, named `<encoding>-<rate>Hz-<channels>-<seconds>s.<ext>`.
//!   Each must decode, at the rate and length its name gives.
//! * `unsupported/`: real files in encodings we do not decode; each must say so
//!   ([`Error::UnsupportedEncoding`]), not "not audio" or "truncated".
//! * everything else: inputs that once crashed or hung the fuzzer, named by what is wrong with
//!   them. Each must come back as a proper `Ok` or `Err`, never a panic. (One is a known
//!   symphonia 0.5 weakness kept to watch it: `flac-vorbis-comment-claims-2.8GB.flac` makes it
//!   allocate, zeroed and untouched, the comment length the header claims before failing.)

use std::path::{Path, PathBuf};

use heartbeat_core::{audio, Audio, Error, FeatureConfig, FrontEnd, Limits, Prepared};

/// What the fuzz target uses: short, so the fuzzer stays fast.
fn limits() -> Limits {
    Limits {
        max_seconds: 30.0,
        ..Limits::default()
    }
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Decode, then prepare with the shipped config and with a 0.2 s window (as the fuzz target),
/// so short files reach conditioning and features too.
fn run(bytes: &[u8]) -> Result<(), Error> {
    let audio = audio::decode(bytes, &limits())?;
    let short = FeatureConfig {
        window_frames: 10,
        window_hop_frames: 5,
        ..FeatureConfig::default()
    };
    for cfg in [FeatureConfig::default(), short] {
        match FrontEnd::new(cfg, limits())
            .expect("valid config")
            .prepare(&audio)
        {
            Ok(p) => assert_finite(&p),
            Err(Error::TooShort { .. } | Error::Silent | Error::Clipped { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Sample rate and duration from a name like `pcm-s16-1000Hz-mono-4.5s.wav`.
fn rate_and_seconds(name: &str) -> (u32, f32) {
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let field = |suffix: &str| {
        stem.split('-')
            .find_map(|f| f.strip_suffix(suffix).and_then(|n| n.parse::<f32>().ok()))
            .unwrap_or_else(|| panic!("{name}: no <n>{suffix} in the name"))
    };
    (field("Hz") as u32, field("s"))
}

#[test]
fn seed_corpus_decodes_as_named() {
    let seeds = files(&fixtures().join("valid"));
    assert!(
        seeds.len() >= 10,
        "seed corpus missing: run fuzz/make_seeds.sh"
    );
    for path in seeds {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 name")
            .to_owned();
        let bytes = std::fs::read(&path).expect("read");
        let audio = audio::decode(&bytes, &limits()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (rate, seconds) = rate_and_seconds(&name);
        assert_eq!(audio.sample_rate(), rate, "{name}");
        // Without gapless trimming, lossy codecs keep encoder delay and padding (MP3 from LAME:
        // ~0.18 s at 8 kHz; Vorbis: a few ms). PCM and FLAC are within a sample.
        let lossy = name.ends_with(".mp3") || name.ends_with(".ogg");
        let slack = if lossy { 0.25 } else { 0.01 };
        assert!(
            (audio.duration_s() - seconds).abs() < slack,
            "{name}: {} s",
            audio.duration_s()
        );
        let peak = audio.samples().iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(
            (0.3..=1.0).contains(&peak),
            "{name}: peak {peak}: wrong scale or channel mix"
        );
        run(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn unsupported_encodings_are_named_as_such() {
    for path in files(&fixtures().join("unsupported")) {
        let bytes = std::fs::read(&path).expect("read");
        let got = audio::decode(&bytes, &limits());
        assert!(
            matches!(got, Err(Error::UnsupportedEncoding(_))),
            "{}: {got:?}",
            path.display()
        );
    }
}

#[test]
fn fuzzer_findings_fail_cleanly() {
    for path in files(&fixtures()) {
        let bytes = std::fs::read(&path).expect("read");
        // Any `Ok` or `Err` is fine; a panic fails the test with the file in the message.
        let outcome = std::panic::catch_unwind(|| run(&bytes));
        assert!(outcome.is_ok(), "{} panicked", path.display());
    }
}

/// What `float32-wav-samples-near-f32-max-and-nan.wav` taught us: a few corrupt samples in a float
/// WAV are zeroed, not spread over the whole signal as NaN, nor a reason to call it silent.
#[test]
fn a_few_corrupt_float_samples_do_not_spoil_the_recording() {
    let fs = 2000;
    let mut x: Vec<f32> = (0..5 * fs)
        .map(|i| 0.3 * (2.0 * std::f32::consts::PI * 60.0 * i as f32 / fs as f32).sin())
        .collect();
    x[100] = f32::NAN;
    x[4000] = f32::INFINITY;
    x[6000] = 3e38;
    x[6001] = -3e38;
    let audio = Audio::new(x, fs as u32).expect("valid rate");
    let front = FrontEnd::new(FeatureConfig::default(), limits()).expect("valid config");
    let p = front
        .prepare(&audio)
        .expect("a few bad samples are not a bad recording");
    assert_finite(&p);
}

/// Whatever the input, a prepared recording's signal and features are finite numbers.
fn assert_finite(p: &Prepared) {
    assert!(
        p.signal.iter().all(|v| v.is_finite()),
        "non-finite conditioned signal"
    );
    assert!(
        p.features.data.iter().all(|v| v.is_finite()),
        "non-finite features"
    );
}
