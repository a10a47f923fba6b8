//! Arbitrary bytes through everything a user's file touches before the model: format sniffing,
//! WAV/FLAC/MP3/OGG decoding, the input checks, resampling, filtering, log-mel, rhythm and
//! quality. Any panic, hang or runaway allocation here is a crash a hostile or damaged file could
//! cause in the browser tab or the CLI.
#![no_main]

use std::sync::OnceLock;

use heartbeat_core::{audio, FeatureConfig, FrontEnd, Limits};
use libfuzzer_sys::fuzz_target;

/// Short enough that the fuzzer stays fast; the decoders still see real length checks.
fn limits() -> Limits {
    Limits {
        max_seconds: 30.0,
        ..Limits::default()
    }
}

/// The shipped configuration, and one whose CNN window is 0.2 s so that the short inputs the
/// fuzzer mostly produces get past the too-short check and reach conditioning and features.
fn front_ends() -> &'static [FrontEnd; 2] {
    static FRONT: OnceLock<[FrontEnd; 2]> = OnceLock::new();
    FRONT.get_or_init(|| {
        let short = FeatureConfig {
            window_frames: 10,
            window_hop_frames: 5,
            ..FeatureConfig::default()
        };
        [
            FrontEnd::new(FeatureConfig::default(), limits()).expect("default config is valid"),
            FrontEnd::new(short, limits()).expect("short-window config is valid"),
        ]
    })
}

fuzz_target!(
    init: {
        // libfuzzer-sys installs a panic hook that aborts, which would turn the panics the core
        // deliberately contains (symphonia's, see `audio::codecs`) into crashes. With the default
        // hook a panic that escapes the core still aborts the run (libfuzzer-sys catches it and
        // aborts), so every real crash is still reported.
        drop(std::panic::take_hook());
    },
    |data: &[u8]| {
        if let Ok(audio) = audio::decode(data, &limits()) {
            for front in front_ends() {
                if let Ok(prepared) = front.prepare(&audio) {
                    let finite = |x: &[f32]| x.iter().all(|v| v.is_finite());
                    assert!(finite(&prepared.signal), "non-finite conditioned signal");
                    assert!(finite(&prepared.features.data), "non-finite feature");
                }
            }
        }
    }
);
