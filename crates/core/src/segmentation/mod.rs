//! Where the heartbeats are: each moment of a recording labelled S1, systole, S2 or diastole,
//! and the heart rate and rhythm read from those labels.
//!
//! The method is Springer et al.'s (2016): per-frame emission probabilities learnt from
//! annotated recordings (`models/segmenter.json`, trained by `training/segmenter.py` on the
//! CirCor annotations) and a duration-aware HSMM whose state lengths follow the heart cycle.
//! The cycle is not known in advance and children's hearts beat up to three times as fast as
//! resting adults', so every strong peak of the loudness envelope's autocorrelation is tried as
//! the cycle and the path the HSMM finds most probable wins: the usual halving and doubling
//! errors of picking the highest peak lose to the sounds themselves.

pub mod annotation;
pub mod emission;
pub mod frames;
pub mod hsmm;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use emission::Emission;
use frames::{FrameAnalyzer, FrameConfig, Frames, FRAME_RATE};
use hsmm::Durations;

/// Shortest heart cycle tried (s): 220 bpm, a crying newborn's rate.
const MIN_CYCLE_S: f32 = 0.27;
/// Longest heart cycle tried (s): 30 bpm.
const MAX_CYCLE_S: f32 = 2.0;
/// Cycles tried per recording: the highest autocorrelation peaks.
const CANDIDATES: usize = 4;
/// Mean P(state | frame) over a run above which its sound counts as clearly heard.
const MIN_HEARD: f32 = 0.5;
/// Share of S1 and S2 that must be clearly heard before a rate is reported. The HSMM finds a
/// cycle even in noise; there a third of them are (white noise: 0.33), in 98 % of the annotated
/// and PhysioNet recordings more than 0.39.
const MIN_HEARD_SHARE: f32 = 0.4;
/// Beat-to-beat intervals needed before a rate is reported.
const MIN_INTERVALS: usize = 2;
/// Beat-to-beat variability (coefficient of variation of the intervals) above which the rhythm
/// is called irregular. Breathing moves a healthy child's intervals by up to about 10 %.
const IRREGULAR_CV: f32 = 0.15;

/// The four states of the heart cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum State {
    /// The first heart sound: the mitral and tricuspid valves close.
    S1,
    /// Between S1 and S2: the ventricles eject.
    #[serde(rename = "systole")]
    Systole,
    /// The second heart sound: the aortic and pulmonary valves close.
    S2,
    /// Between S2 and the next S1: the ventricles fill.
    #[serde(rename = "diastole")]
    Diastole,
}

impl State {
    /// The states in the order the heart goes through them.
    pub const ALL: [State; 4] = [State::S1, State::Systole, State::S2, State::Diastole];

    /// Position in [`State::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The state the heart goes through next.
    pub fn next(self) -> State {
        State::ALL[(self.index() + 1) % State::ALL.len()]
    }

    /// The name JSON uses (`"S1"`, `"systole"`, `"S2"`, `"diastole"`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::S1 => "S1",
            State::Systole => "systole",
            State::S2 => "S2",
            State::Diastole => "diastole",
        }
    }
}

/// One stretch of a recording in one state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// The state.
    pub state: State,
    /// Start (s).
    pub start_s: f32,
    /// End (s).
    pub end_s: f32,
}

/// The rhythm the segmentation shows: what a clinician counts and times by ear.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rhythm {
    /// Complete heart cycles (S1 to the next S1) found.
    pub beats: usize,
    /// Typical beat-to-beat (S1 to S1) interval (s): see [`typical_interval`].
    pub interval_s: f32,
    /// Spread of the beat-to-beat intervals: their standard deviation over their mean, in
    /// percent.
    pub variability_percent: f32,
    /// Root mean square of successive interval differences (ms), the usual short-term measure.
    pub rmssd_ms: f32,
    /// Median systole (end of S1 to start of S2) (s).
    pub systole_s: f32,
    /// Median diastole (end of S2 to the next S1) (s).
    pub diastole_s: f32,
    /// True when the intervals vary more than breathing explains (a variability above 15 %).
    /// A description of the recording, not a diagnosis.
    pub irregular: bool,
}

/// A recording's segmentation and what follows from it.
#[derive(Debug, Clone, PartialEq)]
pub struct Segmentation {
    /// Every frame's state, as runs in time order.
    pub segments: Vec<Segment>,
    /// Heart rate (bpm) from the typical beat-to-beat interval, when enough beats were found.
    pub heart_rate_bpm: Option<f32>,
    /// Intervals and durations, when enough beats were found.
    pub rhythm: Option<Rhythm>,
}

/// The emission model, the duration model and the frame layout: what `models/segmenter.json`
/// holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmenterParams {
    /// Name, for reports and logs.
    pub name: String,
    /// Version of these parameters.
    pub version: String,
    /// The band (Hz) the signal is filtered to before framing, whatever the model's band.
    pub band_hz: (f32, f32),
    /// The emission model's input.
    pub frames: FrameConfig,
    /// P(state | frame).
    pub emission: Emission,
    /// State durations as functions of the heart cycle.
    pub durations: Durations,
}

impl SegmenterParams {
    /// Parses and checks parameters written by `training/segmenter.py`.
    pub fn from_json(json: &str) -> Result<Self> {
        let p: Self = serde_json::from_str(json)
            .map_err(|e| Error::Model(format!("the segmenter's parameters are invalid: {e}")))?;
        p.emission
            .validate(p.frames.input_len())
            .map_err(|e| Error::Model(format!("the segmenter's emission model: {e}")))?;
        Ok(p)
    }
}

/// A planned segmenter for signals at one sample rate.
#[derive(Debug)]
pub struct Segmenter {
    params: SegmenterParams,
    frames: FrameAnalyzer,
}

impl Segmenter {
    /// A segmenter for conditioned signals at `sample_rate`.
    pub fn new(params: SegmenterParams, sample_rate: u32) -> Self {
        Self {
            params,
            frames: FrameAnalyzer::new(sample_rate),
        }
    }

    /// The segmenter that ships with HeartBeat, for conditioned signals at `sample_rate`.
    pub fn bundled(sample_rate: u32) -> Result<Self> {
        Ok(Self::new(
            SegmenterParams::from_json(crate::bundled::SEGMENTER)?,
            sample_rate,
        ))
    }

    /// The parameters.
    pub fn params(&self) -> &SegmenterParams {
        &self.params
    }

    /// The per-frame features of a conditioned signal (what training reads).
    pub fn frames(&self, signal: &[f32]) -> Frames {
        self.frames.frames(signal)
    }

    /// Segments a conditioned (band-passed, scaled) signal.
    pub fn segment(&self, signal: &[f32]) -> Segmentation {
        let frames = self.frames(signal);
        let inputs = self.params.frames.input_len();
        let emissions = self
            .params
            .emission
            .evaluate(&frames.stacked(&self.params.frames), inputs);
        let ll = &emissions.log_likelihood;
        // The loudness envelope repeats every cycle, but so nearly every S1-to-S2 interval does
        // in a loud S2; the emission's P(S1) repeats only every cycle. Both propose cycles.
        let s1 = &emissions.posterior[State::S1.index()];
        let mut cycles = cycle_candidates(&frames.envelope);
        for c in cycle_candidates(s1) {
            if cycles.iter().all(|k| (k - c).abs() * FRAME_RATE >= 1.0) {
                cycles.push(c);
            }
        }
        let best = cycles
            .into_iter()
            .filter_map(|cycle| {
                hsmm::decode(ll, self.params.durations.for_cycle(cycle), FRAME_RATE)
            })
            .max_by(|a, b| a.log_prob.total_cmp(&b.log_prob));
        let Some(path) = best else {
            return Segmentation {
                segments: Vec::new(),
                heart_rate_bpm: None,
                rhythm: None,
            };
        };
        let segments: Vec<Segment> = path
            .runs
            .iter()
            .map(|&(state, a, b)| Segment {
                state,
                start_s: a as f32 / FRAME_RATE,
                end_s: b as f32 / FRAME_RATE,
            })
            .collect();
        let heard: Vec<bool> = path
            .runs
            .iter()
            .map(|&(state, a, b)| {
                let p = &emissions.posterior[state.index()][a..b];
                p.iter().sum::<f32>() / p.len().max(1) as f32 >= MIN_HEARD
            })
            .collect();
        let rhythm = rhythm(&segments, &heard);
        Segmentation {
            heart_rate_bpm: rhythm.map(|r| 60.0 / r.interval_s),
            rhythm,
            segments,
        }
    }
}

/// Heart cycles (s) worth trying: the envelope autocorrelation's highest local peaks between
/// [`MIN_CYCLE_S`] and [`MAX_CYCLE_S`], refined between frames.
fn cycle_candidates(envelope: &[f32]) -> Vec<f32> {
    let lo = (MIN_CYCLE_S * FRAME_RATE).floor() as usize;
    let hi = (MAX_CYCLE_S * FRAME_RATE).ceil() as usize;
    let acf = crate::rhythm::autocorrelation(envelope, hi + 1);
    // A short recording tries only the cycles it holds.
    if acf.len() < lo + 2 {
        return Vec::new();
    }
    let top = acf.len() - 2;
    let mut peaks: Vec<(usize, f32)> = (lo.max(1)..=hi.min(top))
        .filter(|&l| acf[l] > 0.0 && acf[l] >= acf[l - 1] && acf[l] > acf[l + 1])
        .map(|l| (l, acf[l]))
        .collect();
    peaks.sort_by(|a, b| b.1.total_cmp(&a.1));
    peaks
        .iter()
        .take(CANDIDATES)
        .map(|&(l, _)| {
            let (y0, y1, y2) = (acf[l - 1], acf[l], acf[l + 1]);
            let denom = y0 - 2.0 * y1 + y2;
            let shift = if denom.abs() > f32::EPSILON {
                (0.5 * (y0 - y2) / denom).clamp(-0.5, 0.5)
            } else {
                0.0
            };
            (l as f32 + shift) / FRAME_RATE
        })
        .collect()
}

/// Intervals and durations from complete beats; `None` with fewer than [`MIN_INTERVALS`]
/// beat-to-beat intervals, or when too few of the sounds were clearly heard
/// ([`MIN_HEARD_SHARE`]; `heard[i]` says whether run `i`'s sound was, see [`MIN_HEARD`]): the
/// HSMM finds a cycle in noise too. Every interval counts, bridged beats included: leaving out
/// intervals next to an unclear sound (a quiet S1 of a steady rhythm) made the rate worse in CV.
pub fn rhythm(segments: &[Segment], heard: &[bool]) -> Option<Rhythm> {
    // A run touching either edge may be cut short: its start or length is not the heart's.
    let last = segments.len().checked_sub(1)?;
    let inner = segments.get(1..last)?;
    let sounds: Vec<usize> = (1..last)
        .filter(|&i| matches!(segments[i].state, State::S1 | State::S2))
        .collect();
    let clear = sounds.iter().filter(|&&i| heard[i]).count();
    if (clear as f32) < MIN_HEARD_SHARE * sounds.len() as f32 {
        return None;
    }
    // Runs cycle S1, systole, S2, diastole: the next S1 is four runs on.
    let intervals: Vec<f32> = (1..last.saturating_sub(4))
        .filter(|&i| segments[i].state == State::S1)
        .map(|i| segments[i + 4].start_s - segments[i].start_s)
        .collect();
    let intervals = join_split_beats(&intervals);
    let interval_s = typical_interval(&intervals)?;
    let lengths = |state: State| -> Vec<f32> {
        inner
            .iter()
            .filter(|s| s.state == state)
            .map(|s| s.end_s - s.start_s)
            .collect()
    };
    let mean = intervals.iter().sum::<f32>() / intervals.len() as f32;
    let sd =
        (intervals.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / intervals.len() as f32).sqrt();
    let rmssd = (intervals
        .windows(2)
        .map(|w| (w[1] - w[0]).powi(2))
        .sum::<f32>()
        / (intervals.len() - 1) as f32)
        .sqrt();
    let variability = sd / mean;
    Some(Rhythm {
        beats: intervals.len(),
        interval_s,
        variability_percent: variability * 100.0,
        rmssd_ms: rmssd * 1000.0,
        systole_s: median(lengths(State::Systole)),
        diastole_s: median(lengths(State::Diastole)),
        irregular: variability > IRREGULAR_CV,
    })
}

/// Intervals within this fraction of the median count as one ordinary beat.
const NEAR_MEDIAN: f32 = 0.25;

/// Joins consecutive intervals that are each far short of the median but add up to about one:
/// a sound inside a beat (an S3, a split S2, a knock) taken for an extra S1 splits that beat in
/// two. That is the segmentation's error, not the heart's rhythm, and left alone it made a
/// steady recording read as irregular.
pub fn join_split_beats(intervals: &[f32]) -> Vec<f32> {
    if intervals.is_empty() {
        return Vec::new();
    }
    let m = median(intervals.to_vec());
    let near = |v: f32| (v - m).abs() <= NEAR_MEDIAN * m;
    let mut out = Vec::with_capacity(intervals.len());
    let mut i = 0;
    while i < intervals.len() {
        match intervals.get(i + 1) {
            Some(&next) if !near(intervals[i]) && !near(next) && near(intervals[i] + next) => {
                out.push(intervals[i] + next);
                i += 2;
            }
            _ => {
                out.push(intervals[i]);
                i += 1;
            }
        }
    }
    out
}

/// The typical beat-to-beat interval (s): the mean of the intervals within 25 % of their
/// median, `None` below [`MIN_INTERVALS`] intervals. The median alone keeps the segmentation's
/// 20 ms frame steps (4 % of a child's 0.5 s cycle); averaging the plausible intervals
/// spreads that over the beats, while a missed or extra beat is still left out.
pub fn typical_interval(intervals: &[f32]) -> Option<f32> {
    if intervals.len() < MIN_INTERVALS {
        return None;
    }
    let m = median(intervals.to_vec());
    let near: Vec<f32> = intervals
        .iter()
        .copied()
        .filter(|v| (v - m).abs() <= NEAR_MEDIAN * m)
        .collect();
    Some(near.iter().sum::<f32>() / near.len() as f32)
}

/// The median (0 for no values).
pub(crate) fn median(mut v: Vec<f32>) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f32::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth;

    #[test]
    fn the_bundled_segmenter_times_a_synthetic_heartbeat() {
        let seg = Segmenter::bundled(2000).expect("bundled parameters");
        for bpm in [60.0, 90.0, 130.0] {
            let x = synth::heartbeat(bpm, 15.0, 2000);
            let s = seg.segment(&x);
            let got = s.heart_rate_bpm.expect("a rate");
            assert!((got - bpm).abs() / bpm < 0.05, "{bpm}: got {got}");
            // Runs tile the recording in the heart's order.
            for w in s.segments.windows(2) {
                assert_eq!(w[0].end_s, w[1].start_s);
                assert_eq!(w[1].state, w[0].state.next());
            }
            assert!(!s.rhythm.expect("rhythm").irregular, "{bpm}");
        }
    }

    #[test]
    fn a_beat_split_by_an_extra_sound_is_joined() {
        let joined = join_split_beats(&[1.2, 0.72, 0.46, 1.2, 1.3, 1.1, 0.6]);
        assert_eq!(joined.len(), 6, "{joined:?}");
        approx::assert_abs_diff_eq!(joined[1], 1.18, epsilon = 1e-6);
        assert_eq!(joined[5], 0.6, "a lone short interval stays");
        // An irregular rhythm's long and short intervals are left as they are.
        assert_eq!(
            join_split_beats(&[0.6, 1.2, 0.9, 1.3]),
            vec![0.6, 1.2, 0.9, 1.3]
        );
    }

    #[test]
    fn noise_gets_no_rate_rather_than_a_guess() {
        let mut seed = 0x9e37_79b9_u32;
        let noise: Vec<f32> = (0..40_000)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as f32 / u32::MAX as f32 - 0.5
            })
            .collect();
        let s = Segmenter::bundled(2000).expect("bundled").segment(&noise);
        assert_eq!(s.heart_rate_bpm, None, "{:?}", s.rhythm);
        assert_eq!(s.rhythm, None);
    }

    #[test]
    fn rhythm_needs_complete_beats_and_names_irregularity() {
        let run = |starts: &[f32]| {
            let mut v = vec![Segment {
                state: State::Diastole,
                start_s: 0.0,
                end_s: starts[0],
            }];
            for w in starts.windows(2) {
                let (a, b) = (w[0], w[1]);
                for (state, from, to) in [
                    (State::S1, a, a + 0.1),
                    (State::Systole, a + 0.1, a + 0.3),
                    (State::S2, a + 0.3, a + 0.4),
                    (State::Diastole, a + 0.4, b),
                ] {
                    v.push(Segment {
                        state,
                        start_s: from,
                        end_s: to,
                    });
                }
            }
            let last = starts[starts.len() - 1];
            v.push(Segment {
                state: State::S1,
                start_s: last,
                end_s: last + 0.1,
            });
            v
        };
        let all = |v: &[Segment]| rhythm(v, &vec![true; v.len()]);
        assert_eq!(all(&run(&[0.5, 1.5])), None);
        // The last S1 touches the end, so its onset does not count.
        let steady = all(&run(&[0.5, 1.5, 2.5, 3.5])).expect("two intervals");
        assert_eq!(steady.beats, 2);
        approx::assert_abs_diff_eq!(steady.interval_s, 1.0, epsilon = 1e-5);
        approx::assert_abs_diff_eq!(steady.systole_s, 0.2, epsilon = 1e-5);
        assert!(!steady.irregular);
        let uneven = all(&run(&[0.5, 1.5, 2.1, 3.5, 4.0, 5.2])).expect("intervals");
        assert!(uneven.irregular, "{uneven:?}");
    }
}
