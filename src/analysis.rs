//! From a picked file's bytes to a report, with no DOM in sight: the components call this and
//! render what it returns, so the logic is tested natively as well as in the browser.

use std::cell::OnceCell;
use std::rc::Rc;

use heartbeat_core::{Analyzer, Error, Limits, ModelCard, Report};

/// Files larger than this are refused before their bytes are read into the tab's memory. Ten
/// minutes of 48 kHz stereo 32-bit float WAV, the most the core accepts, is about 230 MB.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

thread_local! {
    // The model is parsed and optimised once, on the first analysis, then reused: loading it
    // costs far more than analysing a short recording. The page has one thread, so a
    // thread-local is the whole app's state.
    static ANALYZER: OnceCell<Result<Rc<Analyzer>, Error>> = const { OnceCell::new() };
}

/// Why a picked file produced no report. Every message says what to do next.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AnalysisError {
    /// The core could not decode or analyse the recording (its message names the problem).
    #[error("{0}")]
    Core(#[from] Error),
    /// A compressed format the browser build cannot decode yet (it needs Web Audio decoding).
    #[error(
        "{0} files cannot be read in the browser yet: convert the recording to WAV \
         (for example `flac -d`, `sox` or Audacity) and choose it again"
    )]
    NotYetInBrowser(&'static str),
    /// The file is bigger than any recording HeartBeat accepts.
    #[error(
        "the file is too large ({mb:.0} MB): HeartBeat accepts recordings up to ten minutes. \
         Trim it to the part with the heart sounds"
    )]
    TooLarge {
        /// File size in megabytes.
        mb: f64,
    },
    /// The browser could not read the file (moved, deleted, or permission revoked).
    #[error("the browser could not read the file ({0}): choose it again")]
    Read(String),
}

/// A failed analysis together with the file it was about, as the page shows it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("Could not analyse “{file}”: {error}")]
pub struct FileError {
    /// The file's name.
    pub file: String,
    /// What went wrong.
    pub error: AnalysisError,
}

/// The bundled model's card, parsed without loading the model (cheap enough for first paint).
pub fn bundled_card() -> Result<ModelCard, Error> {
    ModelCard::from_json(heartbeat_core::bundled::CARD)
}

/// The shared analyzer, created on first use.
pub fn analyzer() -> Result<Rc<Analyzer>, Error> {
    ANALYZER.with(|cell| {
        cell.get_or_init(|| Analyzer::bundled().map(Rc::new))
            .clone()
    })
}

/// Refuses files too large to be a recording, before reading them.
pub fn check_size(bytes: u64) -> Result<(), AnalysisError> {
    if bytes > MAX_FILE_BYTES {
        return Err(AnalysisError::TooLarge {
            mb: bytes as f64 / 1e6,
        });
    }
    Ok(())
}

/// Decodes a file's bytes (WAV in this build) and analyses the recording.
pub fn analyze_bytes(bytes: &[u8]) -> Result<Report, AnalysisError> {
    if let Some(format) = compressed_format(bytes) {
        return Err(AnalysisError::NotYetInBrowser(format));
    }
    let audio = heartbeat_core::audio::decode(bytes, &Limits::default())?;
    Ok(analyzer()?.analyze(&audio)?)
}

/// Recognises the compressed formats the native CLI reads but this build cannot: without the
/// core's `codecs` feature they would otherwise get the core's "not an audio file" message,
/// which is wrong for them.
fn compressed_format(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [b'f', b'L', b'a', b'C', ..] => Some("FLAC"),
        [b'O', b'g', b'g', b'S', ..] => Some("OGG"),
        [b'I', b'D', b'3', ..] => Some("MP3"),
        // An MPEG audio frame header: 11 sync bits, then a layer other than "reserved".
        [0xFF, second, ..] if second & 0xE0 == 0xE0 && second & 0x06 != 0 => Some("MP3"),
        _ => None,
    }
}

/// Formatting of report values for people: units always shown, no false precision.
pub mod format {
    use heartbeat_core::quality::Verdict;
    use heartbeat_core::Label;

    /// "Normal" or "Abnormal".
    pub fn label(label: Label) -> &'static str {
        match label {
            Label::Normal => "Normal",
            Label::Abnormal => "Abnormal",
        }
    }

    /// What the label asks the user to do.
    pub fn advice(label: Label) -> &'static str {
        match label {
            Label::Normal => "No abnormal heart sounds detected by the model.",
            Label::Abnormal => "Possible abnormal heart sounds: refer for a clinical examination.",
        }
    }

    /// A probability as a percentage with one decimal.
    pub fn percent(p: f32) -> String {
        if p.is_finite() {
            format!("{:.1} %", p * 100.0)
        } else {
            "not available".to_owned()
        }
    }

    /// A heart rate, or why there is none.
    pub fn heart_rate(bpm: Option<f32>) -> String {
        match bpm {
            Some(b) if b.is_finite() => format!("{b:.0} bpm"),
            _ => "not found (no steady rhythm)".to_owned(),
        }
    }

    /// A duration in seconds with one decimal.
    pub fn seconds(s: f32) -> String {
        format!("{s:.1} s")
    }

    /// The quality verdict in words.
    pub fn quality(verdict: Verdict) -> &'static str {
        match verdict {
            Verdict::Good => "Good",
            Verdict::Poor => "Poor: record again before relying on this result",
        }
    }
}

/// Synthetic recordings for tests and benchmarks, so neither needs data files.
pub mod synth {
    /// A clean heartbeat at `bpm`: S1 and S2 as decaying 50 Hz and 70 Hz tones over faint
    /// deterministic noise, the shape the rhythm estimator looks for.
    pub fn heartbeat(bpm: f32, seconds: f32, sample_rate: u32) -> Vec<f32> {
        let fs = sample_rate as f32;
        let cycle = 60.0 / bpm;
        let mut seed = 0x2545_f491_u32;
        (0..(seconds * fs) as usize)
            .map(|i| {
                let t = i as f32 / fs;
                let phase = t % cycle;
                let sound = |start: f32, hz: f32, amp: f32| {
                    let dt = phase - start;
                    if (0.0..0.08).contains(&dt) {
                        amp * (-dt / 0.02).exp() * (std::f32::consts::TAU * hz * dt).sin()
                    } else {
                        0.0
                    }
                };
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let noise = (seed as f32 / u32::MAX as f32 - 0.5) * 0.01;
                sound(0.0, 50.0, 0.6) + sound(0.3 * cycle, 70.0, 0.4) + noise
            })
            .collect()
    }

    /// A mono 16-bit PCM WAV file holding `samples` (full scale = ±1).
    pub fn wav(samples: &[f32], sample_rate: u32) -> Vec<u8> {
        let data_len = (samples.len() * 2) as u32;
        let mut out = Vec::with_capacity(44 + samples.len() * 2);
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data_len).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes()); // PCM
        out.extend_from_slice(&1u16.to_le_bytes()); // mono
        out.extend_from_slice(&sample_rate.to_le_bytes());
        out.extend_from_slice(&(sample_rate * 2).to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_len.to_le_bytes());
        for &s in samples {
            out.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heartbeat_core::Label;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    #[test]
    fn a_synthetic_heartbeat_gets_a_full_report() {
        let wav = synth::wav(&synth::heartbeat(72.0, 10.0, 2000), 2000);
        let report = analyze_bytes(&wav).expect("a clean WAV is analysed");
        let bpm = report.heart_rate_bpm.expect("a steady rhythm is found");
        assert!((bpm - 72.0).abs() < 3.0, "heart rate {bpm}");
        assert!((report.duration_s - 10.0).abs() < 0.01);
        assert!((0.0..=1.0).contains(&report.probability_abnormal));
        let expected = if report.probability_abnormal >= report.threshold {
            Label::Abnormal
        } else {
            Label::Normal
        };
        assert_eq!(report.label, expected);
    }

    #[test]
    fn the_analyzer_is_created_once() {
        let first = analyzer().expect("bundled model loads");
        let second = analyzer().expect("bundled model loads");
        assert!(Rc::ptr_eq(&first, &second));
    }

    #[test]
    fn random_bytes_get_the_cores_message() {
        let junk: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
            .collect();
        let err = analyze_bytes(&junk).expect_err("junk is not audio");
        assert_eq!(err, AnalysisError::Core(Error::NotAudio));
    }

    #[test]
    fn compressed_formats_are_named_not_called_junk() {
        for (bytes, name) in [
            (&b"fLaC\0\0\0\x22"[..], "FLAC"),
            (b"OggS\0\x02", "OGG"),
            (b"ID3\x04\0", "MP3"),
            (&[0xFF, 0xFB, 0x90, 0x64], "MP3"),
        ] {
            let err = analyze_bytes(bytes).expect_err("not decodable here");
            assert_eq!(err, AnalysisError::NotYetInBrowser(name));
            assert!(
                err.to_string().contains("convert the recording to WAV"),
                "{err}"
            );
        }
    }

    #[test]
    fn too_short_recordings_say_how_long_they_must_be() {
        let wav = synth::wav(&synth::heartbeat(72.0, 1.0, 2000), 2000);
        let msg = analyze_bytes(&wav)
            .expect_err("1 s is too short")
            .to_string();
        assert!(msg.contains("too short") && msg.contains("4.0 s"), "{msg}");
    }

    #[test]
    fn huge_files_are_refused_before_reading() {
        assert!(check_size(10_000_000).is_ok());
        let msg = check_size(2_000_000_000).expect_err("2 GB").to_string();
        assert!(msg.contains("2000 MB"), "{msg}");
    }

    #[test]
    fn the_bundled_card_parses() {
        let card = bundled_card().expect("bundled card");
        assert!(!card.name.is_empty() && !card.version.is_empty());
    }

    #[test]
    fn file_errors_name_the_file() {
        let e = FileError {
            file: "a.wav".into(),
            error: AnalysisError::Core(Error::Empty),
        };
        assert!(
            e.to_string()
                .starts_with("Could not analyse “a.wav”: the file is empty"),
            "{e}"
        );
    }

    #[test]
    fn values_are_formatted_with_units() {
        assert_eq!(format::percent(0.1234), "12.3 %");
        assert_eq!(format::percent(f32::NAN), "not available");
        assert_eq!(format::heart_rate(Some(71.6)), "72 bpm");
        assert_eq!(format::heart_rate(None), "not found (no steady rhythm)");
        assert_eq!(format::seconds(29.96), "30.0 s");
        assert_eq!(format::label(Label::Abnormal), "Abnormal");
    }
}
