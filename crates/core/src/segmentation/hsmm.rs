//! The heart cycle as a four-state hidden semi-Markov model (S1 → systole → S2 → diastole → S1),
//! decoded by the duration-aware Viterbi of Springer et al. (2016).
//!
//! A plain HMM's geometric state durations would let S1 last one frame or a second; the HSMM
//! gives each state a Gaussian duration set by the heart cycle, so a quiet beat is bridged
//! instead of skipped. The recording's edges cut a state short, so the first and the last
//! segment are scored by the chance of lasting *at least* that long.

use serde::{Deserialize, Serialize};

use super::State;

/// Smallest duration spread (frames): states cannot be timed more finely than a frame.
const MIN_SD_FRAMES: f32 = 1.0;
/// Shortest mean duration (s) a state is given, however fast the heart.
const MIN_MEAN_S: f32 = 0.04;
/// Durations beyond this many spreads above the mean are impossible.
const MAX_SDS: f32 = 4.0;

/// A quantity that changes linearly with the heart cycle's length.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Linear {
    /// Value at a zero-length cycle (s).
    pub intercept_s: f32,
    /// Seconds per second of cycle.
    pub slope: f32,
}

impl Linear {
    /// The value for a cycle of `cycle_s`.
    pub fn at(&self, cycle_s: f32) -> f32 {
        self.intercept_s + self.slope * cycle_s
    }
}

/// A state's duration: a Gaussian whose mean and spread follow the heart cycle.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StateDuration {
    /// Mean (s).
    pub mean: Linear,
    /// Standard deviation (s).
    pub sd: Linear,
}

/// How long each state lasts, learnt from the annotations. Every phase shortens as the heart
/// speeds up (a newborn's S1 lasts about 90 ms, an adult's 130 ms), diastole the most.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Durations {
    /// S1.
    pub s1: StateDuration,
    /// Systole.
    pub systole: StateDuration,
    /// S2.
    pub s2: StateDuration,
    /// Diastole's spread; its mean is what the cycle leaves over, so the four means add up to
    /// the cycle.
    pub diastole_sd: Linear,
}

impl Durations {
    /// Each state's (mean, sd) in seconds for a heart cycle of `cycle_s`, in [`State::ALL`]'s
    /// order.
    pub fn for_cycle(&self, cycle_s: f32) -> [(f32, f32); 4] {
        let [s1, systole, s2] = [self.s1, self.systole, self.s2]
            .map(|d| (d.mean.at(cycle_s).max(MIN_MEAN_S), d.sd.at(cycle_s)));
        let diastole = (cycle_s - s1.0 - systole.0 - s2.0).max(MIN_MEAN_S);
        [s1, systole, s2, (diastole, self.diastole_sd.at(cycle_s))]
    }
}

/// One state's duration distribution over whole frames, as log probabilities.
#[derive(Debug, Clone)]
struct DurationTable {
    /// log P(d = k + 1), k = 0..max.
    log_pmf: Vec<f32>,
    /// log P(d ≥ k + 1).
    log_survival: Vec<f32>,
}

impl DurationTable {
    fn new(mean_s: f32, sd_s: f32, frame_rate: f32) -> Self {
        let mean = mean_s * frame_rate;
        let sd = (sd_s * frame_rate).max(MIN_SD_FRAMES);
        let max = ((mean + MAX_SDS * sd).ceil() as usize).max(1);
        let density: Vec<f64> = (1..=max)
            .map(|d| (-0.5 * ((d as f64 - mean as f64) / sd as f64).powi(2)).exp())
            .collect();
        let total: f64 = density.iter().sum::<f64>().max(f64::MIN_POSITIVE);
        let log_pmf = density.iter().map(|p| (p / total).ln() as f32).collect();
        let mut tail = 0.0;
        let mut log_survival: Vec<f32> = density
            .iter()
            .rev()
            .map(|p| {
                tail += p / total;
                tail.ln() as f32
            })
            .collect();
        log_survival.reverse();
        Self {
            log_pmf,
            log_survival,
        }
    }

    fn max(&self) -> usize {
        self.log_pmf.len()
    }
}

/// A decoded path: runs of one state, in frames.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// `(state, first frame, end frame exclusive)`, in time order, covering every frame.
    pub runs: Vec<(State, usize, usize)>,
    /// The path's log probability (emissions and durations): higher fits better.
    pub log_prob: f32,
}

/// The most likely sequence of states for frames with log-likelihoods `ll` (state-major, as
/// [`super::emission::Emission::log_likelihoods`] gives them), each state's duration in seconds
/// as `durations` says.
pub fn decode(ll: &[Vec<f32>; 4], durations: [(f32, f32); 4], frame_rate: f32) -> Option<Path> {
    let n = ll[0].len();
    if n == 0 {
        return None;
    }
    let tables = durations.map(|(m, s)| DurationTable::new(m, s, frame_rate));
    // cum[s][t]: the sum of state s's log-likelihoods over frames 0..t.
    let cum: Vec<Vec<f32>> = ll
        .iter()
        .map(|l| {
            std::iter::once(0.0)
                .chain(l.iter().scan(0.0f32, |acc, v| {
                    *acc += v;
                    Some(*acc)
                }))
                .collect()
        })
        .collect();
    let log_start = (1.0 / State::ALL.len() as f32).ln();
    // best[s][e]: the best path whose run of state s ends at frame e (exclusive); from[s][e] the
    // length of that run.
    let mut best = vec![vec![f32::NEG_INFINITY; n + 1]; 4];
    let mut from = vec![vec![0u16; n + 1]; 4];
    for e in 1..=n {
        for s in 0..4 {
            let table = &tables[s];
            let prev = (s + 3) % 4;
            let mut top = f32::NEG_INFINITY;
            let mut arg = 0;
            for d in 1..=table.max().min(e) {
                let start = e - d;
                // A run cut by either edge may have lasted longer than we see.
                let duration = if start == 0 || e == n {
                    table.log_survival[d - 1]
                } else {
                    table.log_pmf[d - 1]
                };
                let before = if start == 0 {
                    log_start
                } else {
                    best[prev][start]
                };
                let score = before + duration + cum[s][e] - cum[s][start];
                if score > top {
                    top = score;
                    arg = d;
                }
            }
            best[s][e] = top;
            from[s][e] = arg as u16;
        }
    }
    let (mut s, log_prob) = (0..4)
        .map(|s| (s, best[s][n]))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    if !log_prob.is_finite() {
        return None;
    }
    let mut runs = Vec::new();
    let mut e = n;
    while e > 0 {
        let d = from[s][e] as usize;
        if d == 0 {
            return None;
        }
        runs.push((State::ALL[s], e - d, e));
        e -= d;
        s = (s + 3) % 4;
    }
    runs.reverse();
    Some(Path { runs, log_prob })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Log-likelihoods that say exactly which state each frame is in, with some doubt.
    fn certain(states: &[usize]) -> [Vec<f32>; 4] {
        std::array::from_fn(|s| {
            states
                .iter()
                .map(|&k| if k == s { 0.0 } else { -3.0 })
                .collect()
        })
    }

    #[test]
    fn decodes_a_clear_cycle_and_bridges_a_missed_sound() {
        // A 1 s cycle at 50 frames/s: S1 6, systole 14, S2 5, diastole 25 frames.
        let mut truth = Vec::new();
        for _ in 0..6 {
            truth.extend([0; 6].iter().chain(&[1; 14]).chain(&[2; 5]).chain(&[3; 25]));
        }
        let mut ll = certain(&truth);
        // The third beat's S1 is inaudible: its frames look like diastole.
        ll[0][100..106].fill(-3.0);
        ll[3][100..106].fill(0.0);
        let durations = [(0.12, 0.02), (0.28, 0.03), (0.1, 0.02), (0.5, 0.06)];
        let path = decode(&ll, durations, 50.0).expect("a path");
        let s1: Vec<usize> = path
            .runs
            .iter()
            .filter(|r| r.0 == State::S1)
            .map(|r| r.1)
            .collect();
        // The silent S1 is still there, placed as durations allow (its frames say diastole).
        assert_eq!(s1.len(), 6, "{s1:?}");
        for (found, truth) in s1.iter().zip([0, 50, 100, 150, 200, 250]) {
            assert!(found.abs_diff(truth) <= 3, "{s1:?}");
        }
        assert_eq!(path.runs.last().map(|r| r.2), Some(truth.len()));
    }

    #[test]
    fn runs_cut_by_the_edges_are_allowed() {
        // The recording starts in mid-systole and ends in mid-diastole.
        let truth: Vec<usize> = [1; 4]
            .iter()
            .chain(&[2; 5])
            .chain(&[3; 25])
            .chain(&[0; 6])
            .chain(&[1; 14])
            .chain(&[2; 5])
            .chain(&[3; 3])
            .copied()
            .collect();
        let durations = [(0.12, 0.02), (0.28, 0.03), (0.1, 0.02), (0.5, 0.06)];
        let path = decode(&certain(&truth), durations, 50.0).expect("a path");
        let states: Vec<State> = path.runs.iter().map(|r| r.0).collect();
        use State::*;
        assert_eq!(
            states,
            vec![Systole, S2, Diastole, S1, Systole, S2, Diastole]
        );
        assert_eq!(path.runs[0], (Systole, 0, 4));
    }
}
