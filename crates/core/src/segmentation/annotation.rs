//! Annotated segmentations (CirCor's `.tsv` files) and how a found segmentation is scored
//! against them: S1 and S2 onsets matched within a tolerance (Springer et al. 2016 used
//! ±60 ms), and the heart rate against the annotated beats' rate.

use serde::{Deserialize, Serialize};

use super::{join_split_beats, typical_interval, Segment, Segmentation, State};

/// Onset tolerance (s) within which a found sound matches an annotated one.
pub const TOLERANCE_S: f32 = 0.06;

/// Parses a CirCor segmentation file: `start_s end_s state` per line (tabs or spaces), state
/// 1 = S1, 2 = systole, 3 = S2, 4 = diastole, 0 = not annotated (left out).
pub fn parse_tsv(text: &str) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let bad = || format!("line {}: expected 'start end state', got {line:?}", i + 1);
        let [a, b, s] = fields[..] else {
            return Err(bad());
        };
        let (start_s, end_s) = (
            a.parse::<f32>().map_err(|_| bad())?,
            b.parse::<f32>().map_err(|_| bad())?,
        );
        let state = match s.parse::<f32>().map_err(|_| bad())? as i32 {
            0 => continue,
            k @ 1..=4 => State::ALL[k as usize - 1],
            _ => return Err(bad()),
        };
        out.push(Segment {
            state,
            start_s,
            end_s,
        });
    }
    Ok(out)
}

/// Matches and misses of one sound.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Annotated onsets with a found onset within the tolerance.
    pub true_positives: usize,
    /// Found onsets inside the annotated stretch that match no annotated one.
    pub false_positives: usize,
    /// Annotated onsets with no match.
    pub false_negatives: usize,
}

impl Counts {
    /// F1 = 2 TP / (2 TP + FP + FN); 1 when there was nothing to find and nothing was found.
    pub fn f1(&self) -> f32 {
        let d = 2 * self.true_positives + self.false_positives + self.false_negatives;
        if d == 0 {
            1.0
        } else {
            (2 * self.true_positives) as f32 / d as f32
        }
    }

    /// Adds another recording's counts.
    pub fn add(&mut self, other: Counts) {
        self.true_positives += other.true_positives;
        self.false_positives += other.false_positives;
        self.false_negatives += other.false_negatives;
    }
}

/// One recording's segmentation against its annotation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// S1 onsets.
    pub s1: Counts,
    /// S2 onsets.
    pub s2: Counts,
    /// The annotated beats' rate (bpm), when at least three S1 are annotated.
    pub annotated_bpm: Option<f32>,
    /// The found beats' rate (bpm) over the annotated stretch only: the rate to hold against
    /// `annotated_bpm` when the annotator marked only part of a recording whose rate changes.
    pub found_bpm_annotated_stretch: Option<f32>,
}

/// Scores a segmentation against annotated segments.
pub fn agreement(annotated: &[Segment], found: &Segmentation) -> Agreement {
    let segments = &found.segments;
    Agreement {
        s1: onsets(annotated, segments, State::S1),
        s2: onsets(annotated, segments, State::S2),
        annotated_bpm: annotated_rate(annotated),
        // Where the segmenter gave no rate, it gives none for the stretch either.
        found_bpm_annotated_stretch: found
            .heart_rate_bpm
            .and_then(|_| stretch_rate(annotated, segments)),
    }
}

/// The rate of S1 onsets, as the segmenter reports it (see [`typical_interval`]).
fn onset_rate(onsets: &[f32]) -> Option<f32> {
    let intervals: Vec<f32> = onsets.windows(2).map(|w| w[1] - w[0]).collect();
    typical_interval(&join_split_beats(&intervals)).map(|i| 60.0 / i)
}

fn stretch_rate(annotated: &[Segment], found: &[Segment]) -> Option<f32> {
    let (first, last) = (annotated.first()?.start_s, annotated.last()?.end_s);
    let onsets: Vec<f32> = found
        .iter()
        .filter(|s| s.state == State::S1 && s.start_s > 0.0)
        .map(|s| s.start_s)
        .filter(|&t| t >= first - TOLERANCE_S && t <= last)
        .collect();
    onset_rate(&onsets)
}

/// The rate (bpm) of annotated S1 onsets, measured as the segmenter measures its own; `None`
/// below two intervals.
pub fn annotated_rate(annotated: &[Segment]) -> Option<f32> {
    let starts: Vec<f32> = annotated
        .iter()
        .filter(|s| s.state == State::S1)
        .map(|s| s.start_s)
        .collect();
    onset_rate(&starts)
}

fn onsets(annotated: &[Segment], found: &[Segment], state: State) -> Counts {
    let truth: Vec<f32> = annotated
        .iter()
        .filter(|s| s.state == state)
        .map(|s| s.start_s)
        .collect();
    // Found runs that start at time 0 were cut by the recording's start: no onset was heard.
    let guesses: Vec<f32> = found
        .iter()
        .filter(|s| s.state == state && s.start_s > 0.0)
        .map(|s| s.start_s)
        .collect();
    let mut used = vec![false; guesses.len()];
    let mut tp = 0;
    for &t in &truth {
        let nearest = guesses
            .iter()
            .enumerate()
            .filter(|&(i, &g)| !used[i] && (g - t).abs() <= TOLERANCE_S)
            .min_by(|a, b| (a.1 - t).abs().total_cmp(&(b.1 - t).abs()));
        if let Some((i, _)) = nearest {
            used[i] = true;
            tp += 1;
        }
    }
    // Only what falls where the annotator looked can be judged wrong.
    let annotated_at = |g: f32| annotated.iter().any(|s| s.start_s <= g && g < s.end_s);
    let fp = guesses
        .iter()
        .zip(&used)
        .filter(|&(&g, &u)| !u && annotated_at(g))
        .count();
    Counts {
        true_positives: tp,
        false_positives: fp,
        false_negatives: truth.len() - tp,
    }
}

/// How a segmenter did over many annotated recordings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Recordings scored.
    pub recordings: usize,
    /// S1 onsets over all recordings.
    pub s1: Counts,
    /// S2 onsets over all recordings.
    pub s2: Counts,
    /// F1 of S1 onsets.
    pub s1_f1: f32,
    /// F1 of S2 onsets.
    pub s2_f1: f32,
    /// F1 of S1 and S2 onsets together.
    pub f1: f32,
    /// Recordings with an annotated rate (at least three annotated S1).
    pub rated: usize,
    /// Share of those whose found rate is within 5 % of the annotated one.
    pub rate_within_5_percent: f32,
    /// Share within 10 %.
    pub rate_within_10_percent: f32,
    /// Share whose found rate is about half or double the annotated one (within 10 % of it).
    pub rate_halved_or_doubled: f32,
    /// Share where no rate was found.
    pub rate_not_found: f32,
    /// Share whose rate over the annotated stretch only is within 5 % of the annotated one.
    pub stretch_rate_within_5_percent: f32,
}

/// Sums per-recording agreements and found rates (bpm) into a [`Summary`].
pub fn summarize(rows: &[(Agreement, Option<f32>)]) -> Summary {
    let (mut s1, mut s2) = (Counts::default(), Counts::default());
    let mut rated = 0;
    let (mut within5, mut within10, mut octave, mut missing) = (0, 0, 0, 0);
    let mut stretch5 = 0;
    for (a, found) in rows {
        s1.add(a.s1);
        s2.add(a.s2);
        let Some(truth) = a.annotated_bpm else {
            continue;
        };
        rated += 1;
        stretch5 += usize::from(
            a.found_bpm_annotated_stretch
                .is_some_and(|f| (f / truth - 1.0).abs() <= 0.05),
        );
        let Some(found) = found else {
            missing += 1;
            continue;
        };
        let ratio = found / truth;
        within5 += usize::from((ratio - 1.0).abs() <= 0.05);
        within10 += usize::from((ratio - 1.0).abs() <= 0.10);
        octave += usize::from((ratio - 0.5).abs() <= 0.05 || (ratio - 2.0).abs() <= 0.2);
    }
    let mut both = s1;
    both.add(s2);
    let share = |n: usize| n as f32 / rated.max(1) as f32;
    Summary {
        recordings: rows.len(),
        s1,
        s2,
        s1_f1: s1.f1(),
        s2_f1: s2.f1(),
        f1: both.f1(),
        rated,
        rate_within_5_percent: share(within5),
        rate_within_10_percent: share(within10),
        rate_halved_or_doubled: share(octave),
        rate_not_found: share(missing),
        stretch_rate_within_5_percent: share(stretch5),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(state: State, start_s: f32, end_s: f32) -> Segment {
        Segment {
            state,
            start_s,
            end_s,
        }
    }

    #[test]
    fn parses_circor_rows_and_drops_unannotated_ones() {
        let s = parse_tsv(
            "0\t1.1\t0\n1.1\t1.3\t1\n1.3\t1.4\t2\n1.4\t1.54\t3\n1.54\t1.78\t4\n9.5\t10.2\t0\n",
        )
        .expect("valid");
        assert_eq!(s.len(), 4);
        assert_eq!(s[0], seg(State::S1, 1.1, 1.3));
        assert_eq!(s[3].state, State::Diastole);
        assert!(parse_tsv("1.0 2.0 7\n").is_err());
        assert!(parse_tsv("1.0 2.0\n").is_err());
    }

    #[test]
    fn onsets_match_within_the_tolerance_once_each() {
        let truth = [
            seg(State::S1, 1.0, 1.1),
            seg(State::Systole, 1.1, 1.3),
            seg(State::S2, 1.3, 1.4),
            seg(State::Diastole, 1.4, 2.0),
            seg(State::S1, 2.0, 2.1),
            seg(State::Systole, 2.1, 2.3),
            seg(State::S2, 2.3, 2.4),
            seg(State::Diastole, 2.4, 3.0),
            seg(State::S1, 3.0, 3.1),
        ];
        let found = [
            seg(State::S1, 0.0, 0.05),  // cut by the start: not an onset
            seg(State::S1, 1.05, 1.1),  // within 60 ms
            seg(State::S1, 1.08, 1.12), // a second match for the same sound: false positive
            seg(State::S2, 1.45, 1.5),  // 150 ms late: a miss and a false positive
            seg(State::S1, 3.02, 3.1),
            seg(State::S2, 5.0, 5.1), // outside the annotation: not judged
        ];
        let a = agreement(
            &truth,
            &Segmentation {
                segments: found.to_vec(),
                heart_rate_bpm: Some(60.0),
                rhythm: None,
            },
        );
        assert_eq!(
            a.s1,
            Counts {
                true_positives: 2,
                false_positives: 1,
                false_negatives: 1
            }
        );
        assert_eq!(
            a.s2,
            Counts {
                true_positives: 0,
                false_positives: 1,
                false_negatives: 2
            }
        );
        approx::assert_abs_diff_eq!(a.s1.f1(), 4.0 / 6.0, epsilon = 1e-6);
        approx::assert_abs_diff_eq!(a.annotated_bpm.expect("a rate"), 60.0, epsilon = 1e-3);

        let rated = |bpm| Agreement {
            annotated_bpm: Some(bpm),
            ..a
        };
        let s = summarize(&[
            (rated(60.0), Some(61.0)),
            (rated(60.0), Some(65.0)),
            (rated(120.0), Some(60.5)),
            (rated(100.0), None),
            (
                Agreement {
                    annotated_bpm: None,
                    ..a
                },
                Some(80.0),
            ),
        ]);
        assert_eq!((s.recordings, s.rated), (5, 4));
        approx::assert_abs_diff_eq!(s.rate_within_5_percent, 0.25);
        approx::assert_abs_diff_eq!(s.rate_within_10_percent, 0.5);
        approx::assert_abs_diff_eq!(s.rate_halved_or_doubled, 0.25);
        approx::assert_abs_diff_eq!(s.rate_not_found, 0.25);
        assert_eq!(s.s1.true_positives, 10);
    }
}
