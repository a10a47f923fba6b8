//! The Rust log-mel against librosa, the reference implementation the model literature uses.
//!
//! Fixtures and the reasons for each case: `tests/fixtures/librosa/generate.py`.

use std::path::PathBuf;

use heartbeat_core::dsp::mel::MelBank;
use heartbeat_core::dsp::spectrogram::Spectrogram;
use heartbeat_core::FeatureConfig;
use serde::Deserialize;

/// Filterbank tolerance, relative to the largest weight. Both sides compute the triangles in
/// f64 and store f32, so they may differ by an ulp or two (~1e-7).
const MEL_REL_TOL: f32 = 1e-6;
/// Log-mel tolerance (dB) for bands within [`DYNAMIC_RANGE_DB`] of the signal's loudest band.
///
/// Both STFTs run in f32 (librosa's is complex64), whose rounding noise is ~1e-7 of a frame's
/// largest spectral amplitude whatever the bin. A band 80 dB down has 1e-4 of that amplitude,
/// so the noise is ~1e-3 of its own amplitude: ~0.01 dB of power. Louder bands agree far more
/// closely; quieter ones are dominated by rounding noise (down to the 1e-10 power floor), where
/// any two correct f32 implementations legitimately disagree by whole dB. 0.01 dB is still
/// ~100x smaller than a one-sample window shift or a wrong normalisation would cause.
const DB_TOL: f32 = 0.01;
/// Bands quieter than this below the signal's maximum are not compared (see [`DB_TOL`]).
const DYNAMIC_RANGE_DB: f32 = 80.0;

#[derive(Deserialize)]
struct Fixture {
    config: Config,
    mel_basis: Vec<Vec<f32>>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Config {
    sample_rate: u32,
    n_fft: usize,
    win_length: usize,
    hop_length: usize,
    n_mels: usize,
    fmin: f32,
    fmax: f32,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    samples_i16: Vec<i16>,
    n_frames: usize,
    log_mel: Vec<f32>,
}

fn load(name: &str) -> Fixture {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/librosa")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn feature_config(c: &Config) -> FeatureConfig {
    FeatureConfig {
        sample_rate: c.sample_rate,
        n_fft: c.n_fft,
        win_length: c.win_length,
        hop_length: c.hop_length,
        n_mels: c.n_mels,
        fmin: c.fmin,
        fmax: c.fmax,
        ..FeatureConfig::default()
    }
}

/// Largest filterbank deviation relative to the largest librosa weight.
fn mel_deviation(f: &Fixture) -> f32 {
    let c = &f.config;
    let ours = MelBank::new(c.sample_rate, c.n_fft, c.n_mels, c.fmin, c.fmax).to_dense();
    let theirs: Vec<f32> = f.mel_basis.iter().flatten().copied().collect();
    assert_eq!(ours.len(), theirs.len(), "filterbank shape");
    let peak = theirs.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    ours.iter()
        .zip(&theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
        / peak
}

/// Largest log-mel deviation (dB) over the compared bands, per case.
fn log_mel_deviations(f: &Fixture) -> Vec<(String, f32)> {
    let spectrogram = Spectrogram::new(&feature_config(&f.config));
    f.cases
        .iter()
        .map(|case| {
            let x: Vec<f32> = case
                .samples_i16
                .iter()
                .map(|&s| f32::from(s) / 32768.0)
                .collect();
            let ours = spectrogram.log_mel(&x);
            assert_eq!(ours.n_frames(), case.n_frames, "{}: frame count", case.name);
            assert_eq!(ours.data.len(), case.log_mel.len(), "{}: shape", case.name);
            let floor = case
                .log_mel
                .iter()
                .fold(f32::NEG_INFINITY, |m, &v| m.max(v))
                - DYNAMIC_RANGE_DB;
            let worst = ours
                .data
                .iter()
                .zip(&case.log_mel)
                .filter(|(_, &theirs)| theirs > floor)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            (case.name.clone(), worst)
        })
        .collect()
}

fn check(fixture: &str) {
    let f = load(fixture);
    let mel = mel_deviation(&f);
    let db = log_mel_deviations(&f);
    eprintln!("{fixture}: filterbank max relative deviation {mel:.2e}; log-mel max |dB| {db:?}");
    assert!(
        mel <= MEL_REL_TOL,
        "{fixture}: filterbank deviates by {mel:e} of the peak weight"
    );
    for (name, worst) in db {
        assert!(
            worst <= DB_TOL,
            "{fixture}/{name}: log-mel deviates by {worst} dB"
        );
    }
}

#[test]
fn default_config_matches_librosa() {
    check("default.json");
}

#[test]
fn other_config_matches_librosa() {
    check("sr4000.json");
}
