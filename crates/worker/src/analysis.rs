//! What the worker does with a recording: the core's whole pipeline, the chart data, and a
//! playable copy when the browser cannot play the original.

use heartbeat_core::audio::encode_wav;
use heartbeat_core::dsp::resample::resample;
use heartbeat_core::{Analyzer, Audio, Error, Visual};

use crate::protocol::{Analysis, Input};

/// Recordings below this rate are resampled to it for playback: Chromium plays nothing below
/// 3 kHz, and every browser plays 8 kHz.
pub const PLAYBACK_RATE: u32 = 8000;

/// An analysis, and the recording as a WAV the browser can play when it cannot play the original.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysed {
    /// What the page shows.
    pub analysis: Analysis,
    /// A playable WAV, only for recordings below [`PLAYBACK_RATE`].
    pub playback: Option<Vec<u8>>,
}

/// Analyses one recording; `clock` (milliseconds) times the work.
pub fn analyze(
    analyzer: &Analyzer,
    input: Input,
    clock: impl Fn() -> f64,
) -> Result<Analysed, Error> {
    let start = clock();
    let front = analyzer.front_end();
    let audio = match input {
        Input::Encoded(bytes) => front.decode(&bytes)?,
        Input::Samples {
            samples,
            sample_rate,
        } => Audio::new(samples, sample_rate)?,
    };
    let prepared = front.prepare(&audio)?;
    let report = analyzer.score(&prepared)?;
    let analysis = Analysis {
        visual: Visual::new(&prepared),
        report,
        worker_ms: clock() - start,
    };
    let playback = if audio.sample_rate() < PLAYBACK_RATE {
        let samples = resample(audio.samples(), audio.sample_rate(), PLAYBACK_RATE)?;
        Some(encode_wav(&samples, PLAYBACK_RATE))
    } else {
        None
    };
    Ok(Analysed { analysis, playback })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Reply;
    use heartbeat_core::synth;
    use std::cell::Cell;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    fn analyzer() -> Analyzer {
        Analyzer::bundled().expect("the bundled model loads")
    }

    #[test]
    fn wav_bytes_and_decoded_samples_get_the_same_report() {
        let analyzer = analyzer();
        let signal = synth::heartbeat(72.0, 12.0, 2000);
        let wav = heartbeat_core::audio::encode_wav(&signal, 2000);
        let from_wav = analyze(&analyzer, Input::Encoded(wav.clone()), || 0.0)
            .expect("WAV")
            .analysis;
        // What Web Audio hands over for the same file: the 16-bit samples as floats.
        let decoded = analyzer.front_end().decode(&wav).expect("decodes");
        let from_pcm = analyze(
            &analyzer,
            Input::Samples {
                samples: decoded.samples().to_vec(),
                sample_rate: 2000,
            },
            || 0.0,
        )
        .expect("PCM")
        .analysis;
        assert_eq!(from_wav.report, from_pcm.report);
        assert_eq!(from_wav.visual, from_pcm.visual);
        let bpm = from_wav.report.heart_rate_bpm.expect("a rhythm");
        assert!((bpm - 72.0).abs() < 3.0, "{bpm}");
        assert_eq!(from_wav.visual.duration_s, from_wav.report.duration_s);
    }

    #[test]
    fn the_work_is_timed_with_the_given_clock() {
        let ticks = Cell::new(0.0);
        let clock = || {
            ticks.set(ticks.get() + 5.0);
            ticks.get()
        };
        let wav = heartbeat_core::audio::encode_wav(&synth::heartbeat(60.0, 8.0, 4000), 4000);
        let analysed = analyze(&analyzer(), Input::Encoded(wav), clock).expect("analysis");
        assert_eq!(analysed.analysis.worker_ms, 5.0);
    }

    #[test]
    fn slow_recordings_come_with_a_playable_copy() {
        let analyzer = analyzer();
        let slow = heartbeat_core::audio::encode_wav(&synth::heartbeat(72.0, 6.0, 2000), 2000);
        let playback = analyze(&analyzer, Input::Encoded(slow), || 0.0)
            .expect("2 kHz")
            .playback
            .expect("a playable copy");
        let audio = analyzer.front_end().decode(&playback).expect("a valid WAV");
        assert_eq!(audio.sample_rate(), PLAYBACK_RATE);
        assert!((audio.duration_s() - 6.0).abs() < 1e-3);
        let fast = Input::Samples {
            samples: synth::heartbeat(72.0, 6.0, 8000),
            sample_rate: 8000,
        };
        let analysed = analyze(&analyzer, fast, || 0.0).expect("8 kHz");
        assert!(analysed.playback.is_none(), "the original plays as it is");
    }

    #[test]
    fn bad_recordings_get_the_cores_message() {
        let analyzer = analyzer();
        let short = Input::Samples {
            samples: synth::heartbeat(72.0, 1.0, 8000),
            sample_rate: 8000,
        };
        let msg = analyze(&analyzer, short, || 0.0)
            .expect_err("1 s")
            .to_string();
        assert!(msg.contains("too short"), "{msg}");
        let bad_rate = Input::Samples {
            samples: vec![0.0; 10],
            sample_rate: 0,
        };
        assert_eq!(
            analyze(&analyzer, bad_rate, || 0.0),
            Err(Error::InvalidSampleRate(0))
        );
        assert_eq!(
            analyze(&analyzer, Input::Encoded(Vec::new()), || 0.0),
            Err(Error::Empty)
        );
    }

    #[test]
    fn replies_round_trip_through_json_with_their_documented_names() {
        let wav = heartbeat_core::audio::encode_wav(&synth::heartbeat(72.0, 6.0, 2000), 2000);
        let analysis = analyze(&analyzer(), Input::Encoded(wav), || 0.0)
            .expect("analysis")
            .analysis;
        let reply = Reply::Result {
            id: 7,
            analysis: Box::new(analysis),
        };
        let json = serde_json::to_value(&reply).expect("serialises");
        assert_eq!(json["type"], "result");
        assert_eq!(json["id"], 7);
        assert!(json["analysis"]["report"]["label"].is_string());
        assert!(json["analysis"]["visual"]["spectrogram"]["data"].is_string());
        let back: Reply = serde_json::from_value(json).expect("parses");
        assert_eq!(back, reply);

        let fatal = serde_json::to_string(&Reply::Fatal {
            message: "no model".into(),
        })
        .expect("serialises");
        assert_eq!(fatal, r#"{"type":"fatal","message":"no model"}"#);
    }
}
