//! A live take's plain bookkeeping: its length against the limits, its level over the last
//! moments (the meter and the "too quiet" and "clipping" warnings), the envelope the live
//! waveform draws, its name and its WAV bytes. Tested natively; the browser glue that feeds it
//! microphone samples lives in `recorder` (wasm32 only).

use std::collections::VecDeque;

use heartbeat_core::audio::encode_wav;

use crate::error::AppError;

/// One bar of the live waveform, and the unit levels are measured in (seconds).
const BAR_SECONDS: f64 = 0.05;
/// The live waveform shows this many seconds, the newest on the right.
const WAVE_SECONDS: f64 = 5.0;
/// The meter reads this many seconds: short enough to follow each heart sound.
const METER_SECONDS: f64 = 0.3;
/// The warnings read this many seconds: longer than a slow heart's cycle, so a quiet diastole
/// alone never reads as "too quiet".
const WARN_SECONDS: f64 = 2.0;
/// RMS level (dB full scale) below which the microphone is not hearing a heart. PhysioNet's
/// stethoscope recordings sit around −30 dBFS; a phone in a quiet room's air, around −60.
pub const QUIET_DB: f32 = -50.0;
/// A sample this close to full scale was clipped (the core's quality check counts the same).
const CLIP_LEVEL: f32 = 0.999;
/// The quietest level reported (dBFS): digital silence reads as this, never as −∞.
const FLOOR_DB: f32 = -100.0;

/// The take's loudness over the last moments, in dB full scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// Root-mean-square level.
    pub rms_db: f32,
    /// Highest sample.
    pub peak_db: f32,
}

/// What the user should fix while recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warning {
    /// The microphone hears too little to be on a chest.
    TooQuiet,
    /// Samples reach full scale: the sound is distorted.
    Clipping,
}

impl Warning {
    /// The warning as the page's `data-warning` attribute spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Warning::TooQuiet => "too-quiet",
            Warning::Clipping => "clipping",
        }
    }

    /// What is wrong and what to do, in words for the person holding the stethoscope.
    pub fn message(self) -> &'static str {
        match self {
            Warning::TooQuiet => {
                "Too quiet: press the chest piece firmly on the skin, or raise the microphone's \
                 input volume."
            }
            Warning::Clipping => {
                "Clipping: the sound is too loud for the microphone. Lower its input volume or \
                 press more gently."
            }
        }
    }
}

/// Statistics of one bar's samples.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bar {
    frames: usize,
    min: f32,
    max: f32,
    sum_sq: f64,
    clipped: usize,
}

impl Bar {
    const EMPTY: Bar = Bar {
        frames: 0,
        min: 0.0,
        max: 0.0,
        sum_sq: 0.0,
        clipped: 0,
    };
}

/// A take while it is being recorded: how long it is, and its recent level and envelope. The
/// samples themselves are kept by the caller; this keeps a few seconds of statistics only.
#[derive(Debug, Clone)]
pub struct Take {
    rate: u32,
    frames: usize,
    max_frames: usize,
    bar_frames: usize,
    /// The last `WAVE_SECONDS` of bars, oldest first; the last one may still be filling.
    bars: VecDeque<Bar>,
}

impl Take {
    /// An empty take at the capture's `rate` (Hz) that holds at most `max_seconds`.
    pub fn new(rate: u32, max_seconds: f32) -> Self {
        let rate = rate.max(1);
        Self {
            rate,
            frames: 0,
            max_frames: (f64::from(max_seconds) * f64::from(rate)) as usize,
            bar_frames: ((BAR_SECONDS * f64::from(rate)).round() as usize).max(1),
            bars: VecDeque::with_capacity(Self::bars_shown() + 1),
        }
    }

    /// How many bars the live waveform shows.
    pub fn bars_shown() -> usize {
        (WAVE_SECONDS / BAR_SECONDS).round() as usize
    }

    /// Adds captured samples; returns how many of them the take keeps: all of them until the
    /// maximum length, fewer when it is reached, none after.
    pub fn push(&mut self, chunk: &[f32]) -> usize {
        let keep = chunk.len().min(self.max_frames - self.frames);
        for &v in &chunk[..keep] {
            let v = if v.is_finite() { v } else { 0.0 };
            if self.bars.back().is_none_or(|b| b.frames == self.bar_frames) {
                if self.bars.len() == Self::bars_shown() {
                    self.bars.pop_front();
                }
                self.bars.push_back(Bar::EMPTY);
            }
            if let Some(bar) = self.bars.back_mut() {
                bar.min = bar.min.min(v);
                bar.max = bar.max.max(v);
                bar.sum_sq += f64::from(v) * f64::from(v);
                bar.clipped += usize::from(v.abs() >= CLIP_LEVEL);
                bar.frames += 1;
            }
        }
        self.frames += keep;
        keep
    }

    /// True once the take has reached the maximum length: recording must stop.
    pub fn is_full(&self) -> bool {
        self.frames >= self.max_frames
    }

    /// Frames kept so far.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// The capture's sample rate (Hz).
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Seconds kept so far.
    pub fn seconds(&self) -> f64 {
        self.frames as f64 / f64::from(self.rate)
    }

    /// The bars covering about the last `seconds`, newest last.
    fn recent(&self, seconds: f64) -> impl Iterator<Item = &Bar> {
        let n = (seconds / BAR_SECONDS).round() as usize;
        self.bars.iter().skip(self.bars.len().saturating_sub(n))
    }

    /// The level over about the last `seconds`.
    fn level_over(&self, seconds: f64) -> (Level, usize) {
        let (mut frames, mut sum_sq, mut peak, mut clipped) = (0, 0.0, 0.0f32, 0);
        for bar in self.recent(seconds) {
            frames += bar.frames;
            sum_sq += bar.sum_sq;
            peak = peak.max(bar.max).max(-bar.min);
            clipped += bar.clipped;
        }
        let power = if frames == 0 {
            0.0
        } else {
            sum_sq / frames as f64
        };
        let level = Level {
            rms_db: decibels(power as f32),
            peak_db: decibels(peak * peak),
        };
        (level, clipped)
    }

    /// The meter's reading: the level over the last fraction of a second.
    pub fn level(&self) -> Level {
        self.level_over(METER_SECONDS).0
    }

    /// What the user should fix now, if anything: clipping first (it damages what is there),
    /// then a level too low, judged once a whole warning span has been heard.
    pub fn warning(&self) -> Option<Warning> {
        let (level, clipped) = self.level_over(WARN_SECONDS);
        if clipped > 0 {
            Some(Warning::Clipping)
        } else if self.seconds() >= WARN_SECONDS && level.rms_db < QUIET_DB {
            Some(Warning::TooQuiet)
        } else {
            None
        }
    }

    /// The live waveform: the lowest and highest sample of each bar (full scale ±1), oldest
    /// first, at most [`Take::bars_shown`] of them.
    pub fn envelope(&self) -> impl Iterator<Item = (f32, f32)> + '_ {
        self.bars.iter().map(|b| (b.min, b.max))
    }

    /// Refuses a take shorter than the analysis needs (the model card's window).
    pub fn check_length(&self, min_seconds: f32) -> Result<(), AppError> {
        let seconds = self.seconds() as f32;
        if seconds < min_seconds {
            return Err(AppError::RecordingTooShort {
                seconds,
                min_seconds,
            });
        }
        Ok(())
    }
}

/// A power (mean square, full scale = 1) in dB full scale, never below the floor.
fn decibels(power: f32) -> f32 {
    (10.0 * power.log10()).max(FLOOR_DB)
}

/// Elapsed time as a recording timer shows it: `0:07`, `1:30`, `10:00`.
pub fn clock(seconds: f64) -> String {
    let whole = seconds.max(0.0).floor() as u64;
    format!("{}:{:02}", whole / 60, whole % 60)
}

/// A length limit in words: `6 s`, `10 min`, `1 min 30 s`.
pub fn span(seconds: f32) -> String {
    let whole = seconds.max(0.0).round() as u64;
    match (whole / 60, whole % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

/// A take's file name from the local time it was started: `recording-2026-12-08-1432.wav`.
pub fn take_name(year: u32, month: u32, day: u32, hour: u32, minute: u32) -> String {
    format!("recording-{year:04}-{month:02}-{day:02}-{hour:02}{minute:02}.wav")
}

/// The 44-byte header of a mono 16-bit WAV file of `frames` samples at `rate`: followed by each
/// chunk's [`pcm16`] bytes, it is the file `encode_wav` writes for the whole take, built as the
/// take grows instead of from one copy of it at the end.
pub fn wav_header(frames: usize, rate: u32) -> Vec<u8> {
    let mut header = encode_wav(&[], rate);
    let data = (frames * 2) as u32;
    header[4..8].copy_from_slice(&(36 + data).to_le_bytes());
    header[40..44].copy_from_slice(&data.to_le_bytes());
    header
}

/// Samples as the 16-bit little-endian PCM data of a WAV file.
pub fn pcm16(samples: &[f32]) -> Vec<u8> {
    encode_wav(samples, 1).split_off(44)
}

/// The error for a refused `getUserMedia`, from the `DOMException`'s name and its text.
pub fn microphone_error(name: &str, detail: String) -> AppError {
    match name {
        "NotAllowedError" | "SecurityError" | "PermissionDeniedError" => AppError::MicrophoneDenied,
        "NotFoundError" | "DevicesNotFoundError" | "OverconstrainedError" => AppError::NoMicrophone,
        _ => AppError::MicrophoneUnavailable(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const RATE: u32 = 48_000;

    /// `seconds` of a 60 Hz tone of amplitude `amp`, in 2048-frame chunks like the worklet's.
    fn tone(seconds: f64, amp: f32) -> Vec<Vec<f32>> {
        let n = (seconds * f64::from(RATE)) as usize;
        let samples: Vec<f32> = (0..n)
            .map(|i| amp * (std::f32::consts::TAU * 60.0 * i as f32 / RATE as f32).sin())
            .collect();
        samples.chunks(2048).map(<[f32]>::to_vec).collect()
    }

    fn record(take: &mut Take, chunks: &[Vec<f32>]) {
        for chunk in chunks {
            take.push(chunk);
        }
    }

    #[test]
    fn meter_reads_rms_and_peak_in_dbfs() {
        let mut take = Take::new(RATE, 600.0);
        record(&mut take, &tone(1.0, 0.5));
        let level = take.level();
        // A sine's RMS is its amplitude over √2: 0.354 → −9.0 dBFS; its peak −6.0 dBFS.
        assert!((level.rms_db + 9.03).abs() < 0.1, "{level:?}");
        assert!((level.peak_db + 6.02).abs() < 0.1, "{level:?}");
        assert_eq!(take.warning(), None);
        assert!((take.seconds() - 1.0).abs() < 0.05);
    }

    #[test]
    fn silence_reads_as_the_floor_and_warns_only_after_a_whole_span() {
        let mut take = Take::new(RATE, 600.0);
        record(&mut take, &tone(1.0, 0.0));
        assert_eq!(take.level().rms_db, FLOOR_DB);
        assert_eq!(take.warning(), None, "too early to judge");
        record(&mut take, &tone(1.5, 0.001));
        assert_eq!(take.warning(), Some(Warning::TooQuiet));
        // A heart-sound level (about −30 dBFS) clears it once it fills the span.
        record(&mut take, &tone(2.0, 0.04));
        assert_eq!(take.warning(), None);
    }

    #[test]
    fn clipping_warns_at_once_and_for_the_whole_span() {
        let mut take = Take::new(RATE, 600.0);
        record(&mut take, &tone(0.5, 0.3));
        take.push(&[1.0]);
        assert_eq!(take.warning(), Some(Warning::Clipping));
        record(&mut take, &tone(1.5, 0.3));
        assert_eq!(
            take.warning(),
            Some(Warning::Clipping),
            "still within the span"
        );
        record(&mut take, &tone(1.0, 0.3));
        assert_eq!(take.warning(), None);
        assert!(Warning::Clipping.message().contains("Lower"));
        assert_eq!(Warning::TooQuiet.as_str(), "too-quiet");
    }

    #[test]
    fn stops_taking_samples_at_the_maximum() {
        let mut take = Take::new(RATE, 1.0);
        let chunks = tone(1.5, 0.1);
        let kept: usize = chunks.iter().map(|c| take.push(c)).sum();
        assert_eq!(kept, RATE as usize);
        assert!(take.is_full());
        assert_eq!(take.push(&[0.1; 16]), 0);
        assert_eq!(take.frames(), RATE as usize);
    }

    #[test]
    fn envelope_keeps_the_last_seconds_of_bars() {
        let mut take = Take::new(RATE, 600.0);
        record(&mut take, &tone(8.0, 0.25));
        let bars: Vec<_> = take.envelope().collect();
        assert_eq!(bars.len(), Take::bars_shown());
        // Each 50 ms bar holds three 60 Hz cycles: its full swing.
        assert!(bars
            .iter()
            .all(|&(lo, hi)| (lo + 0.25).abs() < 0.01 && (hi - 0.25).abs() < 0.01));
    }

    #[test]
    fn non_finite_samples_count_as_silence() {
        let mut take = Take::new(RATE, 600.0);
        take.push(&[f32::NAN, f32::INFINITY, 0.0]);
        assert_eq!(take.level().rms_db, FLOOR_DB);
        assert_eq!(take.frames(), 3);
    }

    #[test]
    fn too_short_takes_are_refused_with_the_minimum() {
        let mut take = Take::new(RATE, 600.0);
        record(&mut take, &tone(2.0, 0.1));
        let msg = take.check_length(6.0).expect_err("2 s < 6 s").to_string();
        assert!(
            msg.contains("2.0 s") && msg.contains("at least 6 s"),
            "{msg}"
        );
        record(&mut take, &tone(4.1, 0.1));
        assert!(take.check_length(6.0).is_ok());
    }

    #[test]
    fn times_and_names_read_as_people_write_them() {
        assert_eq!(clock(0.0), "0:00");
        assert_eq!(clock(7.9), "0:07");
        assert_eq!(clock(90.0), "1:30");
        assert_eq!(clock(600.0), "10:00");
        assert_eq!(span(6.0), "6 s");
        assert_eq!(span(600.0), "10 min");
        assert_eq!(span(90.0), "1 min 30 s");
        assert_eq!(
            take_name(2026, 12, 8, 9, 5),
            "recording-2026-12-08-0905.wav"
        );
    }

    #[test]
    fn a_wav_built_chunk_by_chunk_is_the_whole_take_encoded() {
        let chunks = tone(0.2, 0.7);
        let samples: Vec<f32> = chunks.concat();
        let mut wav = wav_header(samples.len(), RATE);
        for chunk in &chunks {
            wav.extend(pcm16(chunk));
        }
        assert_eq!(wav, encode_wav(&samples, RATE));
        let decoded = heartbeat_core::audio::decode(&wav, &heartbeat_core::Limits::default())
            .expect("decodes");
        assert_eq!(decoded.sample_rate(), RATE);
        assert_eq!(decoded.samples().len(), samples.len());
    }

    #[test]
    fn refused_microphones_are_told_apart() {
        let denied = microphone_error("NotAllowedError", "Permission denied".into());
        assert_eq!(denied, AppError::MicrophoneDenied);
        assert!(denied.to_string().contains("allow"), "{denied}");
        assert_eq!(
            microphone_error("NotFoundError", "Requested device not found".into()),
            AppError::NoMicrophone
        );
        let busy = microphone_error("NotReadableError", "Could not start audio source".into());
        assert!(
            busy.to_string().contains("Could not start audio source"),
            "{busy}"
        );
    }
}
