//! Axis arithmetic plotters does not do for us: ticks at values we choose (round frequencies on
//! a mel axis, category labels thinned to fit), and ranges that survive degenerate data.

use std::ops::Range;

use heartbeat_core::FilterBank;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf32;

/// A linear axis with the ticks given: plotters would place a mel axis's ticks at round mel
/// values (odd frequencies) and a category axis's at fractional positions.
pub(crate) struct Ticked {
    range: Range<f32>,
    ticks: Vec<f32>,
}

impl Ticked {
    /// Ticks outside `range` are dropped.
    pub(crate) fn new(range: Range<f32>, mut ticks: Vec<f32>) -> Self {
        ticks.retain(|t| range.contains(t) || *t == range.end);
        Self { range, ticks }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f32;

    fn map(&self, value: &f32, limit: (i32, i32)) -> i32 {
        let f = f64::from((value - self.range.start) / (self.range.end - self.range.start));
        limit.0 + (f * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f32> {
        // Plotters asks twice: for bold points (labelled) and for light grid lines; ours are
        // all bold.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f32> {
        self.range.clone()
    }
}

/// A tick label as people write it: whole numbers without a decimal point ("5 s", "40
/// recordings", "epoch 10"), anything else as plotters would print it.
pub(crate) fn tick(value: &f32) -> String {
    if value.fract() == 0.0 {
        // Adding zero turns -0 into 0.
        format!("{:.0}", value + 0.0)
    } else {
        RangedCoordf32::format(value)
    }
}

/// Hertz to mels on the scale the features' bands are spaced on.
pub(crate) fn mel(bank: FilterBank, hz: f32) -> f32 {
    bank.hz_to_scale(f64::from(hz)) as f32
}

/// Mels back to hertz.
pub(crate) fn hz(bank: FilterBank, mel: f32) -> f32 {
    bank.scale_to_hz(f64::from(mel)) as f32
}

/// Round frequencies (Hz) to label a mel axis (on `bank`'s scale) from `fmin_hz` to `fmax_hz`
/// with about `count` evenly spaced (in mel) ticks, ascending. Each tick is the nearest multiple
/// of a 1-2-5 step as wide as the frequencies between two ticks at that height, so labels stay
/// round where the scale is near linear and where it is logarithmic.
pub(crate) fn mel_ticks(bank: FilterBank, fmin_hz: f32, fmax_hz: f32, count: usize) -> Vec<f32> {
    let (mel, hz) = (|f| mel(bank, f), |m| hz(bank, m));
    let (lo, hi) = (mel(fmin_hz), mel(fmax_hz));
    if count == 0 || !(fmin_hz >= 0.0 && hi.is_finite() && hi > lo) {
        return Vec::new();
    }
    let gap = (hi - lo) / count as f32;
    let mut ticks: Vec<f32> = Vec::new();
    for i in 0..=count {
        let m = lo + gap * i as f32;
        let step = nice_near(hz(m + gap / 2.0) - hz(m - gap / 2.0));
        let tick = (hz(m) / step).round() * step;
        let inside = tick >= fmin_hz && tick <= fmax_hz;
        let spaced = ticks
            .last()
            .is_none_or(|&t| mel(tick) - mel(t) >= gap / 2.0);
        if inside && spaced {
            ticks.push(tick);
        }
    }
    ticks
}

/// The 1, 2 or 5 × 10ᵏ nearest to `x` by ratio (1 for anything not positive and finite): a
/// step rounded up could be twice the spacing asked for and leave a band two labels.
fn nice_near(x: f32) -> f32 {
    if !(x.is_finite() && x > 0.0) {
        return 1.0;
    }
    let decade = 10f32.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * decade)
        .min_by(|a, b| (a / x).ln().abs().total_cmp(&(b / x).ln().abs()))
        .unwrap_or(decade)
}

/// Which of `n` category labels to show when `fit` fit: every k-th from the first, so the
/// shown labels stay evenly spaced (dates read as a regular calendar).
pub(crate) fn thinned(n: usize, fit: usize) -> Vec<usize> {
    let stride = n.div_ceil(fit.max(1)).max(1);
    (0..n).step_by(stride).collect()
}

/// A range covering the finite `values`, widened by `pad` of its width on each side. One
/// distinct value gets a range around it, no values 0..1, so an axis can always be drawn.
pub(crate) fn span(values: impl IntoIterator<Item = f32>, pad: f32) -> Range<f32> {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let range = if lo > hi {
        0.0..1.0
    } else if lo == hi {
        let half = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        lo - half..hi + half
    } else {
        let margin = (hi - lo) * pad;
        lo - margin..hi + margin
    };
    if range.start.is_finite() && range.end.is_finite() && range.end > range.start {
        range
    } else {
        0.0..1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::coord::ranged1d::BoldPoints;
    use wasm_bindgen_test::wasm_bindgen_test as test;
    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    #[test]
    fn whole_ticks_print_without_decimals() {
        assert_eq!(tick(&5.0), "5");
        assert_eq!(tick(&-0.0), "0");
        assert_eq!(tick(&-20.0), "-20");
        assert_eq!(tick(&0.25), "0.25");
        assert_eq!(tick(&-0.5), "-0.5");
    }

    #[test]
    fn the_default_band_gets_round_hundreds() {
        // The model's features: 25–400 Hz, where Slaney's scale is linear.
        assert_eq!(
            mel_ticks(FilterBank::Mel, 25.0, 400.0, 4),
            vec![100.0, 200.0, 300.0, 400.0]
        );
        assert_eq!(
            mel_ticks(FilterBank::Mel, 25.0, 400.0, 2),
            vec![200.0, 400.0]
        );
    }

    #[test]
    fn the_bins_bank_gets_round_ticks_on_its_own_scale() {
        // MelBins spaces 25–950 Hz on the HTK scale; the ticks stay round and in the band, and
        // map back to where the bank puts those frequencies.
        let ticks = mel_ticks(FilterBank::MelBins, 25.0, 950.0, 4);
        assert_eq!(ticks, vec![200.0, 400.0, 600.0]);
        let bank = FilterBank::MelBins;
        assert!((hz(bank, mel(bank, 600.0)) - 600.0).abs() < 1e-3);
        assert!(mel(bank, 950.0) - mel(bank, 800.0) < mel(bank, 200.0) - mel(bank, 50.0));
    }

    #[test]
    fn a_wide_band_gets_round_ticks_spread_in_mel() {
        let ticks = mel_ticks(FilterBank::Mel, 0.0, 8000.0, 5);
        assert!(ticks.len() >= 3, "{ticks:?}");
        assert!(ticks.windows(2).all(|w| w[1] > w[0]), "{ticks:?}");
        assert!(
            ticks.iter().all(|t| (0.0..=8000.0).contains(t)),
            "{ticks:?}"
        );
        // Round: one significant digit.
        assert!(
            ticks
                .iter()
                .all(|&t| t == 0.0 || t / 10f32.powf(t.log10().floor()) % 1.0 == 0.0),
            "{ticks:?}"
        );
        // Spread in mel: above 1 kHz the ticks are further apart in Hz.
        let gaps: Vec<f32> = ticks.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.last() > gaps.first(), "{ticks:?}");
        assert!(ticks.last() >= Some(&4000.0), "{ticks:?}");
    }

    #[test]
    fn an_impossible_band_has_no_ticks() {
        assert!(mel_ticks(FilterBank::Mel, 400.0, 25.0, 4).is_empty());
        assert!(mel_ticks(FilterBank::Mel, 25.0, 25.0, 4).is_empty());
        assert!(mel_ticks(FilterBank::Mel, f32::NAN, 400.0, 4).is_empty());
        assert!(mel_ticks(FilterBank::Mel, -10.0, 400.0, 4).is_empty());
        assert!(mel_ticks(FilterBank::Mel, 25.0, f32::INFINITY, 4).is_empty());
        assert!(mel_ticks(FilterBank::Mel, 25.0, 400.0, 0).is_empty());
    }

    #[test]
    fn nice_steps_are_the_nearest_one_two_five() {
        assert_eq!(nice_near(75.0), 100.0);
        assert_eq!(nice_near(100.0), 100.0);
        assert_eq!(nice_near(140.0), 100.0);
        assert_eq!(nice_near(150.0), 200.0);
        assert_eq!(nice_near(0.3), 0.2);
        assert_eq!(nice_near(f32::NAN), 1.0);
        assert_eq!(nice_near(-3.0), 1.0);
    }

    #[test]
    fn thinning_keeps_evenly_spaced_labels_that_fit() {
        assert_eq!(thinned(30, 7), vec![0, 5, 10, 15, 20, 25]);
        assert_eq!(thinned(5, 10), vec![0, 1, 2, 3, 4]);
        assert_eq!(thinned(3, 0), vec![0]);
        assert!(thinned(0, 4).is_empty());
    }

    #[test]
    fn spans_survive_degenerate_data() {
        assert_eq!(span([1.0, 3.0], 0.0), 1.0..3.0);
        assert_eq!(span([1.0, 3.0, f32::NAN], 0.5), 0.0..4.0);
        assert_eq!(span([], 0.1), 0.0..1.0);
        assert_eq!(span([f32::INFINITY], 0.1), 0.0..1.0);
        assert_eq!(span([0.0, 0.0], 0.1), -1.0..1.0);
        assert_eq!(span([2.0], 0.1), 1.8..2.2);
        assert_eq!(span([-f32::MAX, f32::MAX], 0.1), 0.0..1.0);
    }

    #[test]
    fn ticked_axes_map_linearly_and_keep_only_inner_ticks() {
        let axis = Ticked::new(0.0..10.0, vec![-1.0, 0.0, 5.0, 10.0, 11.0]);
        assert_eq!(axis.key_points(BoldPoints(10)), vec![0.0, 5.0, 10.0]);
        assert_eq!(axis.map(&5.0, (100, 200)), 150);
        assert_eq!(axis.map(&0.0, (200, 100)), 200);
    }
}
