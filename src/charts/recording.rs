//! Charts of one analysed recording, all on the same time axis so a playback cursor lines up
//! across them: the waveform, the spectrogram the model saw, and P(abnormal) per window.

use heartbeat_core::report::WindowScore;
use heartbeat_core::segmentation::{Segment as CycleSegment, State};
use heartbeat_core::visual::Image;
use heartbeat_core::{FilterBank, Visual};
use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf32;
use plotters::element::{Circle, PathElement, Polygon, Rectangle, TriangleMarker};
use plotters::series::LineSeries;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, RGBColor};
use wasm_bindgen::Clamped;
use web_sys::{HtmlCanvasElement, ImageData};

use super::axis::{self, Ticked};
use super::canvas::{js_error, ChartError, Frame};
use super::{palette, PlotArea};

/// Height of the marker strip over windows at or above the threshold, CSS pixels.
const STRIP_CSS_PX: f64 = 5.0;
/// Height of the heart-cycle band along the bottom of the waveform's plot, CSS pixels.
const LANE_CSS_PX: f64 = 9.0;
/// Room between the envelope and the band when no sound is labelled, CSS pixels.
const LANE_GAP_CSS_PX: f64 = 4.0;
/// Room between the envelope and the band for the "S1"/"S2" labels, CSS pixels.
const SOUND_LABEL_ROW_CSS_PX: f64 = 17.0;
/// Least room between two sound labels' edges, CSS pixels.
const SOUND_LABEL_GAP_CSS_PX: f64 = 6.0;
/// Labelled frequencies (or band numbers) on a spectrogram's axis: enough to read a band off,
/// few enough for a phone-sized plot.
const FREQUENCY_TICKS: usize = 4;

/// The recording's envelope as a filled min/max band, over a background shaded deeper the
/// higher the analysed windows' P(abnormal), above a lane showing the heart cycle.
///
/// Windows overlap (each is longer than the hop between them), so the shading is per stretch
/// between window edges, and each stretch takes the **highest** P(abnormal) of the windows covering it:
/// a screening view should not dilute the one window that looked abnormal with its
/// neighbours. Stretches at or above `threshold` also get a solid strip along the top of the
/// plot, which reads without colour.
///
/// `cycle` (the segmentation's runs, in time order) is drawn in its own lane under the
/// envelope rather than as a second background, so the two shadings never mix: S1 and S2 solid,
/// systole and diastole pale, each sound labelled above the lane where the labels fit. Without
/// runs (reports saved before segmentation) the chart is drawn as before, with no lane.
pub fn waveform(
    canvas: &HtmlCanvasElement,
    visual: &Visual,
    windows: &[WindowScore],
    threshold: f32,
    cycle: &[CycleSegment],
) -> Result<PlotArea, ChartError> {
    let frame = Frame::new(canvas)?;
    let duration = valid_duration(visual.duration_s);
    let stretches = duration.map_or_else(Vec::new, |d| stretches(windows, d));
    let flagged: Vec<&Stretch> = stretches
        .iter()
        .filter(|s| s.probability >= threshold)
        .collect();
    let phases = duration.map_or_else(Vec::new, |d| phases(cycle, d));
    let env = &visual.waveform;
    // Quantised columns times the scale; a missing or broken scale still shows the shape.
    let peak = if env.peak.is_finite() && env.peak > 0.0 {
        env.peak
    } else {
        1.0
    };
    let unit = peak / 127.0;
    let top = peak * 1.1;
    let t_end = duration.unwrap_or(1.0);

    let mut key: Vec<(RGBColor, String)> = Vec::new();
    if !flagged.is_empty() {
        key.push((palette::ABNORMAL, format!("P(abnormal) ≥ {threshold:.2}")));
    }
    if !phases.is_empty() {
        key.extend(State::ALL.map(|s| (phase_colour(s), s.as_str().to_owned())));
    }
    // The plot's left edge depends on neither the legend nor the ranges: the legend (wrapping
    // on a narrow canvas) is laid out from it first, then the lane in the plot that leaves.
    let left = frame
        .builder(false)
        .build_cartesian_2d(0f32..1f32, 0f32..1f32)?
        .plotting_area()
        .get_pixel_range()
        .0
        .start;
    let rows = frame.legend_rows(&key, left)?;
    let lane = Lane::fit(&frame, rows, t_end, &phases)?;
    // The envelope keeps its ±top; the lane takes the room added below it.
    let ticks = RangedCoordf32::from(-top..top).key_points(3usize);
    let mut chart = frame
        .builder_with_legend_rows(rows)
        .build_cartesian_2d(0f32..t_end, Ticked::new(lane.floor(top)..top, ticks))?;
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    frame
        .mesh(&mut chart)
        .x_desc("Time (s)")
        .y_desc("Amplitude")
        .x_labels(frame.fit(xs.end - xs.start, 60.0).clamp(2, 12))
        .x_label_formatter(&axis::tick)
        .y_label_formatter(&axis::tick)
        .draw()?;

    chart.draw_series(stretches.iter().map(|s| {
        let alpha = 0.35 * f64::from(s.probability.clamp(0.0, 1.0));
        Rectangle::new(
            [(s.start, -top), (s.end, top)],
            palette::ABNORMAL.mix(alpha).filled(),
        )
    }))?;
    let strip = frame.pxi(STRIP_CSS_PX);
    for s in &flagged {
        let (x0, _) = chart.backend_coord(&(s.start, 0.0));
        let (x1, _) = chart.backend_coord(&(s.end, 0.0));
        frame.root.draw(&Rectangle::new(
            [(x0, ys.start), (x1, ys.start + strip)],
            palette::ABNORMAL.filled(),
        ))?;
    }
    if !key.is_empty() {
        frame.legend(&key, xs.start)?;
    }
    lane.draw(
        &frame,
        &phases,
        |t| chart.backend_coord(&(t, 0.0)).0,
        ys.end,
    )?;

    let columns = env.low.len().min(env.high.len());
    if columns == 0 || duration.is_none() {
        frame.no_data(&chart)?;
    } else {
        // Each column spans its share of the recording: a step outline, exact for any count.
        let edge = |i: usize| t_end * i as f32 / columns as f32;
        let level = |q: i8| f32::from(q) * unit;
        let upper = (0..columns).flat_map(|i| {
            let y = level(env.high[i]);
            [(edge(i), y), (edge(i + 1), y)]
        });
        let lower = (0..columns).rev().flat_map(|i| {
            let y = level(env.low[i]);
            [(edge(i + 1), y), (edge(i), y)]
        });
        let mut outline: Vec<(f32, f32)> = upper.chain(lower).collect();
        chart.draw_series(std::iter::once(Polygon::new(
            outline.clone(),
            palette::SIGNAL.filled(),
        )))?;
        // The stroke keeps silence (a band of zero height) visible as a line.
        outline.push(outline[0]);
        chart.draw_series(std::iter::once(PathElement::new(
            outline,
            frame.line(palette::SIGNAL, 1.0),
        )))?;
    }

    Ok(PlotArea {
        left: frame.fraction(chart.backend_coord(&(0.0, 0.0)).0),
        right: frame.fraction(chart.backend_coord(&(t_end, 0.0)).0),
    })
}

/// The heart-cycle lane along the bottom of the waveform's plot: how much of the plot it takes,
/// and which sounds get a label over it.
struct Lane {
    /// Height of the plot it sits in, device pixels.
    plot_px: i32,
    /// Its height with the room above the band, device pixels (0: no lane).
    px: i32,
    /// Height of the band itself, device pixels.
    band_px: i32,
    /// Indices into the phases of the sounds labelled.
    labelled: Vec<usize>,
}

impl Lane {
    /// Measures the plot a chart with `legend_rows` gets over `0..t_end` (its size does not
    /// depend on the y range) and lays the lane out for `phases` in it: at most half the plot,
    /// with a label row only when some sound is labelled.
    fn fit(
        frame: &Frame,
        legend_rows: usize,
        t_end: f32,
        phases: &[CycleSegment],
    ) -> Result<Self, ChartError> {
        let probe = frame
            .builder_with_legend_rows(legend_rows)
            .build_cartesian_2d(0f32..t_end, 0f32..1f32)?;
        let ys = probe.plotting_area().get_pixel_range().1;
        let plot_px = ys.end - ys.start;
        if phases.is_empty() {
            return Ok(Self {
                plot_px,
                px: 0,
                band_px: 0,
                labelled: Vec::new(),
            });
        }
        let (label_px, _) = frame.root.estimate_text_size("S2", &frame.label())?;
        let min_gap = label_px as i32 + frame.pxi(SOUND_LABEL_GAP_CSS_PX);
        // Every sound if their labels fit, else S1 alone (a faster heart, a narrower plot).
        let label = |keep: fn(State) -> bool| -> Vec<usize> {
            let chosen: Vec<usize> = (0..phases.len())
                .filter(|&i| keep(phases[i].state))
                .collect();
            let xs: Vec<i32> = chosen
                .iter()
                .map(|&i| probe.backend_coord(&(middle(&phases[i]), 0.0)).0)
                .collect();
            labelled(&xs, min_gap)
                .into_iter()
                .map(|i| chosen[i])
                .collect()
        };
        let mut labelled = label(is_sound);
        if labelled.is_empty() {
            labelled = label(|s| s == State::S1);
        }
        let band_px = frame.pxi(LANE_CSS_PX);
        let room = if labelled.is_empty() {
            LANE_GAP_CSS_PX
        } else {
            SOUND_LABEL_ROW_CSS_PX
        };
        Ok(Self {
            plot_px,
            px: (band_px + frame.pxi(room)).min(plot_px / 2),
            band_px,
            labelled,
        })
    }

    /// The y value at the bottom of the plot that leaves ±`top` above the lane.
    fn floor(&self, top: f32) -> f32 {
        floor_under(top, self.plot_px, self.px)
    }

    /// Draws the band (each phase in its colour) with its bottom at device row `bottom`, and the
    /// labels over it; `x` maps a time to a device column.
    fn draw(
        &self,
        frame: &Frame,
        phases: &[CycleSegment],
        x: impl Fn(f32) -> i32,
        bottom: i32,
    ) -> Result<(), ChartError> {
        if self.px == 0 {
            return Ok(());
        }
        let top = bottom - self.band_px.min(self.px);
        for p in phases {
            let x0 = x(p.start_s);
            // A sound stays visible however narrow the plot.
            let x1 = x(p.end_s).max(x0 + 1);
            frame.root.draw(&Rectangle::new(
                [(x0, top), (x1, bottom)],
                phase_colour(p.state).filled(),
            ))?;
        }
        for p in self.labelled.iter().map(|&i| &phases[i]) {
            frame.note(
                p.state.as_str(),
                (x(middle(p)), top - frame.pxi(2.0)),
                Pos::new(HPos::Center, VPos::Bottom),
            )?;
        }
        Ok(())
    }
}

/// The middle of a run (s).
fn middle(p: &CycleSegment) -> f32 {
    (p.start_s + p.end_s) / 2.0
}

/// S1 and S2, as against the stretches between them.
fn is_sound(state: State) -> bool {
    matches!(state, State::S1 | State::S2)
}

/// Each phase's colour: the sounds solid, the stretch each opens pale in its hue.
fn phase_colour(state: State) -> RGBColor {
    match state {
        State::S1 => palette::S1,
        State::Systole => palette::SYSTOLE,
        State::S2 => palette::S2,
        State::Diastole => palette::DIASTOLE,
    }
}

/// The value at the bottom of a plot `plot_px` high whose lowest `lane_px` lie below `-top`,
/// so ±`top` keeps the rest. `lane_px` must be less than `plot_px`.
fn floor_under(top: f32, plot_px: i32, lane_px: i32) -> f32 {
    let above = (plot_px - lane_px).max(1);
    -top - 2.0 * top * lane_px.max(0) as f32 / above as f32
}

/// Which of the sounds centred at `xs` (device columns, ascending) get a label: none when more
/// than a tenth of neighbours are closer than `min_gap` (the labels would come and go
/// irregularly), else each one at least `min_gap` from the last labelled, so a rare close pair
/// loses one label rather than the recording losing them all.
fn labelled(xs: &[i32], min_gap: i32) -> Vec<usize> {
    let close = xs.windows(2).filter(|w| w[1] - w[0] < min_gap).count();
    if close * 10 > xs.len().saturating_sub(1) {
        return Vec::new();
    }
    let mut kept: Vec<usize> = Vec::new();
    for (i, &x) in xs.iter().enumerate() {
        if kept.last().is_none_or(|&k| x - xs[k] >= min_gap) {
            kept.push(i);
        }
    }
    kept
}

/// The log-mel spectrogram the model saw, as a viridis heat map: dark is quiet, bright loud,
/// relative to the recording itself.
///
/// The cells are written as one `ImageData` at device resolution (nearest neighbour), not as
/// 15 000 plotters rectangles: one call instead of thousands, and no seams between cells.
/// Rows are evenly spaced in mel (on `bank`'s scale) between `fmin_hz` and `fmax_hz`, the
/// features' band, and the
/// axis is labelled at round frequencies; with an impossible band it falls back to band numbers.
pub fn spectrogram(
    canvas: &HtmlCanvasElement,
    visual: &Visual,
    fmin_hz: f32,
    fmax_hz: f32,
    bank: FilterBank,
) -> Result<PlotArea, ChartError> {
    let frame = Frame::new(canvas)?;
    let image = &visual.spectrogram;
    let duration = valid_duration(visual.duration_s);
    let t_end = duration.unwrap_or(1.0);
    let band_ok = fmin_hz >= 0.0 && fmax_hz.is_finite() && fmax_hz > fmin_hz;
    let y_range = if band_ok {
        axis::mel(bank, fmin_hz)..axis::mel(bank, fmax_hz)
    } else {
        0.0..image.rows.max(1) as f32
    };
    let ticks = if band_ok {
        axis::mel_ticks(bank, fmin_hz, fmax_hz, FREQUENCY_TICKS)
            .into_iter()
            .map(|f| axis::mel(bank, f))
            .collect()
    } else {
        axis::thinned(image.rows + 1, FREQUENCY_TICKS + 1)
            .into_iter()
            .map(|r| r as f32)
            .collect()
    };
    let y_format = |v: &f32| {
        if band_ok {
            format!("{:.0}", axis::hz(bank, *v))
        } else {
            format!("{v:.0}")
        }
    };
    let mut chart = frame
        .builder(false)
        .build_cartesian_2d(0f32..t_end, Ticked::new(y_range, ticks))?;
    let (xs, ys) = chart.plotting_area().get_pixel_range();

    let cells = image.rows.checked_mul(image.columns);
    let drawable = duration.is_some() && cells.is_some_and(|n| n > 0 && image.data.len() >= n);
    let (width, height) = ((xs.end - xs.start).max(0), (ys.end - ys.start).max(0));
    if drawable && width > 0 && height > 0 {
        let pixels = heat_pixels(image, width as usize, height as usize);
        let data = ImageData::new_with_u8_clamped_array_and_sh(
            Clamped(&pixels),
            width as u32,
            height as u32,
        )
        .map_err(|e| ChartError::Draw(js_error(&e)))?;
        frame
            .context()
            .put_image_data(&data, f64::from(xs.start), f64::from(ys.start))
            .map_err(|e| ChartError::Draw(js_error(&e)))?;
    }
    frame
        .mesh(&mut chart)
        .disable_mesh()
        .x_desc("Time (s)")
        .y_desc(if band_ok {
            "Frequency (Hz)"
        } else {
            "Mel band"
        })
        .x_labels(frame.fit(width, 60.0).clamp(2, 12))
        .x_label_formatter(&axis::tick)
        .y_label_formatter(&y_format)
        .draw()?;
    if !drawable {
        frame.no_data(&chart)?;
    }

    Ok(PlotArea {
        left: frame.fraction(chart.backend_coord(&(0.0, 0.0)).0),
        right: frame.fraction(chart.backend_coord(&(t_end, 0.0)).0),
    })
}

/// P(abnormal) of each analysed window, at the window's centre, joined by a line; the dashed
/// rule is the decision threshold. Windows at or above it are filled triangles, the others
/// hollow circles, so the verdict per window reads without colour.
pub fn window_probabilities(
    canvas: &HtmlCanvasElement,
    windows: &[WindowScore],
    threshold: f32,
    duration_s: f32,
) -> Result<PlotArea, ChartError> {
    let frame = Frame::new(canvas)?;
    let mut points: Vec<(f32, f32)> = windows
        .iter()
        .filter(|w| w.start_s.is_finite() && w.end_s.is_finite() && w.probability.is_finite())
        .map(|w| ((w.start_s + w.end_s) / 2.0, w.probability.clamp(0.0, 1.0)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Without a duration the windows themselves say how long the recording was.
    let t_end = valid_duration(duration_s)
        .or_else(|| {
            let last = windows
                .iter()
                .map(|w| w.end_s)
                .filter(|e| e.is_finite())
                .fold(0.0f32, f32::max);
            valid_duration(last)
        })
        .unwrap_or(1.0);

    let ticks = vec![0.0, 0.25, 0.5, 0.75, 1.0];
    let mut chart = frame
        .builder(false)
        .build_cartesian_2d(0f32..t_end, Ticked::new(-0.03..1.03, ticks))?;
    let (xs, _) = chart.plotting_area().get_pixel_range();
    frame
        .mesh(&mut chart)
        .x_desc("Time (s)")
        .y_desc("P(abnormal)")
        .x_labels(frame.fit(xs.end - xs.start, 60.0).clamp(2, 12))
        .x_label_formatter(&axis::tick)
        .y_label_formatter(&|v: &f32| format!("{v:.2}"))
        .draw()?;

    if (0.0..=1.0).contains(&threshold) {
        let from = chart.backend_coord(&(0.0, threshold));
        let to = chart.backend_coord(&(t_end, threshold));
        frame.threshold(from, to)?;
        frame.note(
            &format!("threshold {threshold:.2}"),
            (to.0 - frame.pxi(4.0), to.1 - frame.pxi(3.0)),
            Pos::new(HPos::Right, VPos::Bottom),
        )?;
    }
    if points.is_empty() {
        frame.no_data(&chart)?;
    } else {
        chart.draw_series(LineSeries::new(
            points.iter().copied(),
            frame.line(palette::SIGNAL, 1.5),
        ))?;
        let size = frame.px(4.0);
        chart.draw_series(
            points
                .iter()
                .filter(|p| p.1 < threshold || threshold.is_nan())
                .map(|&p| Circle::new(p, size, frame.line(palette::NORMAL, 2.0))),
        )?;
        chart.draw_series(
            points
                .iter()
                .filter(|p| p.1 >= threshold)
                .map(|&p| TriangleMarker::new(p, size + 1, palette::ABNORMAL.filled())),
        )?;
    }

    Ok(PlotArea {
        left: frame.fraction(chart.backend_coord(&(0.0, 0.0)).0),
        right: frame.fraction(chart.backend_coord(&(t_end, 0.0)).0),
    })
}

/// `duration` if a time axis can be drawn over it.
fn valid_duration(duration: f32) -> Option<f32> {
    (duration.is_finite() && duration > 0.0).then_some(duration)
}

/// A stretch of the recording between consecutive window edges, with the highest
/// P(abnormal) of the windows covering it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stretch {
    start: f32,
    end: f32,
    probability: f32,
}

/// `start..end` cut to `0..duration`, if finite and something of it lies inside.
fn clip(start: f32, end: f32, duration: f32) -> Option<(f32, f32)> {
    // Checked before clamping: `max` and `min` would turn NaN into the bound.
    if !(start.is_finite() && end.is_finite()) {
        return None;
    }
    let (start, end) = (start.max(0.0), end.min(duration));
    (end > start).then_some((start, end))
}

/// The stretches of `0..duration` covered by at least one window, in order. Windows with a
/// non-finite edge or probability, or nothing inside the recording, are skipped.
fn stretches(windows: &[WindowScore], duration: f32) -> Vec<Stretch> {
    let valid: Vec<(f32, f32, f32)> = windows
        .iter()
        .filter(|w| w.probability.is_finite())
        .filter_map(|w| clip(w.start_s, w.end_s, duration).map(|(s, e)| (s, e, w.probability)))
        .collect();
    let mut edges: Vec<f32> = valid.iter().flat_map(|&(s, e, _)| [s, e]).collect();
    edges.sort_by(f32::total_cmp);
    edges.dedup();
    edges
        .windows(2)
        .filter_map(|pair| {
            let mid = (pair[0] + pair[1]) / 2.0;
            valid
                .iter()
                .filter(|&&(s, e, _)| s < mid && mid < e)
                .map(|&(_, _, p)| p)
                .reduce(f32::max)
                .map(|probability| Stretch {
                    start: pair[0],
                    end: pair[1],
                    probability,
                })
        })
        .collect()
}

/// The heart cycle's runs cut to `0..duration`; runs with a non-finite edge or nothing inside
/// the recording are skipped.
fn phases(cycle: &[CycleSegment], duration: f32) -> Vec<CycleSegment> {
    cycle
        .iter()
        .filter_map(|p| {
            clip(p.start_s, p.end_s, duration).map(|(start_s, end_s)| CycleSegment {
                start_s,
                end_s,
                ..*p
            })
        })
        .collect()
}

/// `image` stretched over `width × height` pixels as RGBA, lowest row at the bottom.
/// `image` must hold `rows × columns` values.
fn heat_pixels(image: &Image, width: usize, height: usize) -> Vec<u8> {
    let colours: Vec<[u8; 3]> = (0..=255u8)
        .map(|v| palette::viridis(f32::from(v) / 255.0))
        .collect();
    // Pixel centres to cells, nearest neighbour.
    let cell = |pixel: usize, pixels: usize, cells: usize| {
        (((pixel as f32 + 0.5) / pixels as f32 * cells as f32) as usize).min(cells - 1)
    };
    let columns: Vec<usize> = (0..width).map(|x| cell(x, width, image.columns)).collect();
    let mut pixels = Vec::with_capacity(width * height * 4);
    for y in 0..height {
        let row = image.rows - 1 - cell(y, height, image.rows);
        for &c in &columns {
            let [r, g, b] = colours[usize::from(image.data[c * image.rows + row])];
            pixels.extend_from_slice(&[r, g, b, 255]);
        }
    }
    pixels
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;
    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    fn window(start_s: f32, probability: f32) -> WindowScore {
        WindowScore {
            start_s,
            end_s: start_s + 4.0,
            probability,
        }
    }

    fn stretch(start: f32, end: f32, probability: f32) -> Stretch {
        Stretch {
            start,
            end,
            probability,
        }
    }

    #[test]
    fn overlapping_windows_shade_each_hop_by_their_maximum() {
        let windows = [window(0.0, 0.9), window(2.0, 0.2), window(4.0, 0.4)];
        assert_eq!(
            stretches(&windows, 8.0),
            vec![
                stretch(0.0, 2.0, 0.9),
                stretch(2.0, 4.0, 0.9),
                stretch(4.0, 6.0, 0.4),
                stretch(6.0, 8.0, 0.4),
            ]
        );
    }

    #[test]
    fn stretches_stay_inside_the_recording_and_skip_broken_windows() {
        let windows = [
            window(-1.0, 0.3),
            window(f32::NAN, 0.9),
            window(1.0, f32::NAN),
            window(5.0, 0.8),
            window(9.0, 1.0),
        ];
        assert_eq!(
            stretches(&windows, 6.0),
            vec![stretch(0.0, 3.0, 0.3), stretch(5.0, 6.0, 0.8)]
        );
        assert!(stretches(&[], 6.0).is_empty());
        assert!(stretches(&windows, 0.0).is_empty());
    }

    fn run(state: State, start_s: f32, end_s: f32) -> CycleSegment {
        CycleSegment {
            state,
            start_s,
            end_s,
        }
    }

    #[test]
    fn phases_are_cut_to_the_recording_and_broken_runs_skipped() {
        let cycle = [
            run(State::Diastole, -0.5, 0.2),
            run(State::S1, 0.2, 0.3),
            run(State::Systole, f32::NAN, 0.6),
            run(State::S2, 0.6, 0.7),
            run(State::Diastole, 0.7, 1.4),
            run(State::S1, 1.4, 1.5),
        ];
        assert_eq!(
            phases(&cycle, 1.2),
            vec![
                run(State::Diastole, 0.0, 0.2),
                run(State::S1, 0.2, 0.3),
                run(State::S2, 0.6, 0.7),
                run(State::Diastole, 0.7, 1.2),
            ]
        );
        assert!(phases(&cycle, 0.0).is_empty());
    }

    #[test]
    fn the_lane_gets_its_pixels_below_the_envelope() {
        // A 100 px plot with a 20 px lane: ±1 spans the upper 80 px, so 20 px are 0.5.
        assert_eq!(floor_under(1.0, 100, 20), -1.5);
        assert_eq!(floor_under(2.0, 100, 0), -2.0);
        assert!(floor_under(1.0, 10, 10).is_finite());
    }

    #[test]
    fn sounds_are_labelled_where_the_labels_fit() {
        // Room for all.
        assert_eq!(labelled(&[0, 30, 60, 90], 20), vec![0, 1, 2, 3]);
        // One close pair in twelve gaps loses one label, not all.
        let mut xs: Vec<i32> = (0..12).map(|i| i * 30).collect();
        xs.insert(2, 35);
        let all_but_the_close_one: Vec<usize> = (0..13).filter(|&i| i != 2).collect();
        assert_eq!(labelled(&xs, 20), all_but_the_close_one);
        // Often too close (S2 soon after S1, a long recording on a narrow plot): none.
        assert!(labelled(&[0, 30, 35, 65, 95], 20).is_empty());
        assert!(labelled(&[0, 8, 20, 28, 40, 48], 20).is_empty());
        assert_eq!(labelled(&[5], 20), vec![0]);
        assert!(labelled(&[], 20).is_empty());
    }

    #[test]
    fn the_heat_map_puts_the_lowest_band_at_the_bottom() {
        // 2 columns × 2 bands, column-major: column 0 is (0, 255) bottom to top, column 1 (85, 170).
        let image = Image {
            rows: 2,
            columns: 2,
            low: 0.0,
            high: 1.0,
            data: vec![0, 255, 85, 170],
        };
        let pixels = heat_pixels(&image, 4, 4);
        assert_eq!(pixels.len(), 4 * 4 * 4);
        let at = |x: usize, y: usize| {
            let i = (y * 4 + x) * 4;
            [pixels[i], pixels[i + 1], pixels[i + 2]]
        };
        assert_eq!(
            at(0, 3),
            palette::viridis(0.0),
            "bottom left: band 0 of column 0"
        );
        assert_eq!(
            at(1, 0),
            palette::viridis(1.0),
            "top left: band 1 of column 0"
        );
        assert_eq!(at(3, 3), palette::viridis(85.0 / 255.0));
        assert_eq!(at(2, 0), palette::viridis(170.0 / 255.0));
        assert!(pixels.chunks(4).all(|p| p[3] == 255));
    }

    #[test]
    fn durations_that_cannot_span_an_axis_are_refused() {
        assert_eq!(valid_duration(12.5), Some(12.5));
        for d in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            assert_eq!(valid_duration(d), None);
        }
    }
}
