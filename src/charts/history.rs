//! Charts over many analyses (the history page): how P(abnormal) is distributed, and counts per
//! category.

use plotters::element::{Rectangle, Text};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::Color;
use web_sys::HtmlCanvasElement;

use super::axis::{self, Ticked};
use super::canvas::{ChartError, Frame};
use super::{palette, Bar, BarKind};

/// Most bins a histogram draws; more would be thinner than a device pixel on a phone.
const MAX_BINS: usize = 200;
/// Bars narrower than this (CSS pixels) get no value printed over them.
const VALUE_LABEL_MIN_CSS_PX: f64 = 24.0;

/// How many of `probabilities` fall in each of `bins` equal bins over 0..=1, bars in the
/// Normal colour below `threshold` and the Abnormal colour at or above it (a bin that straddles
/// the threshold is split there), with the threshold as a labelled dashed rule. Values that are
/// not probabilities (non-finite or outside 0..=1) are left out. `bins` is clamped to 1..=200.
pub fn histogram(
    canvas: &HtmlCanvasElement,
    probabilities: &[f32],
    threshold: f32,
    bins: usize,
) -> Result<(), ChartError> {
    let frame = Frame::new(canvas)?;
    let counts = bin(probabilities, bins.clamp(1, MAX_BINS));
    let most = counts.iter().copied().max().unwrap_or(0);
    // Integer counts on an integer axis, with headroom above the tallest bar.
    let y_top = (most + most.div_ceil(10)).max(1);
    // Nothing is at or above a threshold that is not a number.
    let cut = if threshold.is_nan() {
        f32::INFINITY
    } else {
        threshold
    };

    let mut chart = frame
        .builder(true)
        .build_cartesian_2d(0f32..1f32, 0u32..y_top)?;
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    frame
        .mesh(&mut chart)
        .disable_x_mesh()
        .x_desc("P(abnormal)")
        .y_desc("Count")
        .x_labels(frame.fit(xs.end - xs.start, 50.0).clamp(2, 11))
        .x_label_formatter(&axis::tick)
        .y_labels(frame.fit(ys.end - ys.start, 30.0).clamp(2, 8))
        .draw()?;

    let width = 1.0 / counts.len() as f32;
    let gap = frame.px(0.5);
    for (i, &count) in counts.iter().enumerate().filter(|&(_, &c)| c > 0) {
        let (lo, hi) = (i as f32 * width, (i + 1) as f32 * width);
        for (from, to, colour) in [
            (lo, hi.min(cut), palette::NORMAL),
            (lo.max(cut), hi, palette::ABNORMAL),
        ] {
            if to > from {
                let mut bar = Rectangle::new([(from, 0), (to, count)], colour.filled());
                bar.set_margin(0, 0, gap, gap);
                chart.draw_series(std::iter::once(bar))?;
            }
        }
    }

    let key = if threshold.is_finite() {
        [
            format!("normal (< {threshold:.2})"),
            format!("abnormal (≥ {threshold:.2})"),
        ]
    } else {
        ["normal".to_owned(), "abnormal".to_owned()]
    };
    let [normal, abnormal] = key;
    frame.legend(
        &[(palette::NORMAL, normal), (palette::ABNORMAL, abnormal)],
        xs.start,
    )?;
    if (0.0..=1.0).contains(&threshold) {
        let top = chart.backend_coord(&(threshold, y_top));
        frame.threshold(chart.backend_coord(&(threshold, 0)), top)?;
        // The label sits on the side with more room.
        let (dx, h) = if threshold < 0.6 {
            (frame.pxi(4.0), HPos::Left)
        } else {
            (-frame.pxi(4.0), HPos::Right)
        };
        frame.note(
            &format!("threshold {threshold:.2}"),
            (top.0 + dx, top.1 + frame.pxi(2.0)),
            Pos::new(h, VPos::Top),
        )?;
    }
    if most == 0 {
        frame.no_data(&chart)?;
    }
    Ok(())
}

/// Vertical bars, one per category, coloured by kind, with the value printed over each bar
/// where there is room. Labels are thinned to every k-th when they would collide (30 days
/// on a phone), so the shown ones stay evenly spaced. Non-finite values draw no bar.
pub fn bars(canvas: &HtmlCanvasElement, bars: &[Bar], y_label: &str) -> Result<(), ChartError> {
    let frame = Frame::new(canvas)?;
    let values = bars.iter().map(|b| b.value).filter(|v| v.is_finite());
    // Bars grow from zero, so zero is always on the axis; headroom for the printed values.
    let top = values.clone().fold(0.0f32, f32::max);
    let bottom = values.fold(0.0f32, f32::min);
    let y_range = if top > bottom {
        let room = (top - bottom) * 0.12;
        let lo = if bottom < 0.0 { bottom - room } else { 0.0 };
        let hi = if top > 0.0 { top + room } else { 0.0 };
        lo..hi
    } else {
        0.0..1.0
    };

    let n = bars.len();
    let probe_x = -0.5..n.max(1) as f32 - 0.5;
    // Label thinning needs the plot's width; a first layout (which draws nothing) gives it.
    let plot_width = {
        let probe = frame
            .builder(false)
            .build_cartesian_2d(probe_x.clone(), y_range.clone())?;
        let (xs, _) = probe.plotting_area().get_pixel_range();
        xs.end - xs.start
    };
    let longest = bars
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(0);
    let shown = axis::thinned(n, frame.fit(plot_width, longest as f64 * 7.5 + 10.0));
    let ticks = shown.iter().map(|&i| i as f32).collect();
    let label = |v: &f32| {
        bars.get(v.round() as usize)
            .map(|b| b.label.clone())
            .unwrap_or_default()
    };

    let mut chart = frame
        .builder(false)
        .build_cartesian_2d(Ticked::new(probe_x, ticks), y_range)?;
    let (_, ys) = chart.plotting_area().get_pixel_range();
    frame
        .mesh(&mut chart)
        .disable_x_mesh()
        .y_desc(y_label)
        .x_label_formatter(&label)
        .y_labels(frame.fit(ys.end - ys.start, 30.0).clamp(2, 8))
        .y_label_formatter(&axis::tick)
        .draw()?;

    let print_values = frame.fit(plot_width / n.max(1) as i32, VALUE_LABEL_MIN_CSS_PX) >= 1;
    for (i, b) in bars.iter().enumerate().filter(|(_, b)| b.value.is_finite()) {
        let x = i as f32;
        let colour = match b.kind {
            BarKind::Normal => palette::NORMAL,
            BarKind::Abnormal => palette::ABNORMAL,
            BarKind::Neutral => palette::NEUTRAL,
        };
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x - 0.38, 0.0), (x + 0.38, b.value)],
            colour.filled(),
        )))?;
        if print_values {
            let (px, py) = chart.backend_coord(&(x, b.value));
            let (dy, v) = if b.value < 0.0 {
                (frame.pxi(3.0), VPos::Top)
            } else {
                (-frame.pxi(3.0), VPos::Bottom)
            };
            let style = frame.label().pos(Pos::new(HPos::Center, v));
            frame
                .root
                .draw(&Text::new(value_text(b.value), (px, py + dy), style))?;
        }
    }
    if n == 0 {
        frame.no_data(&chart)?;
    }
    Ok(())
}

/// Counts of the probabilities in each of `bins` equal bins over 0..=1 (1.0 goes in the last).
fn bin(probabilities: &[f32], bins: usize) -> Vec<u32> {
    let mut counts = vec![0u32; bins];
    for &p in probabilities.iter().filter(|p| (0.0..=1.0).contains(*p)) {
        let i = ((p * bins as f32) as usize).min(bins.saturating_sub(1));
        if let Some(c) = counts.get_mut(i) {
            *c += 1;
        }
    }
    counts
}

/// A bar's value as printed: counts without decimals, anything else with two.
fn value_text(v: f32) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;
    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    #[test]
    fn binning_covers_zero_to_one_inclusive() {
        let p = [0.0, 0.05, 0.1, 0.49, 0.5, 0.99, 1.0];
        assert_eq!(bin(&p, 10), vec![2, 1, 0, 0, 1, 1, 0, 0, 0, 2]);
        assert_eq!(bin(&p, 1), vec![7]);
    }

    #[test]
    fn binning_leaves_out_what_is_not_a_probability() {
        let p = [f32::NAN, f32::INFINITY, -0.1, 1.5, 0.3];
        assert_eq!(bin(&p, 2), vec![1, 0]);
        assert!(bin(&p, 0).is_empty());
    }

    #[test]
    fn counts_print_as_integers_and_rates_with_decimals() {
        assert_eq!(value_text(12.0), "12");
        assert_eq!(value_text(-3.0), "-3");
        assert_eq!(value_text(0.8349), "0.83");
    }
}
