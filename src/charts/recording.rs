//! Charts of one analysed recording, all on the same time axis so a playback cursor lines up
//! across them: the waveform, the spectrogram the model saw, and P(abnormal) per window.

use heartbeat_core::report::WindowScore;
use heartbeat_core::visual::Image;
use heartbeat_core::{FilterBank, Visual};
use plotters::element::{Circle, PathElement, Polygon, Rectangle, TriangleMarker};
use plotters::series::LineSeries;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::Color;
use wasm_bindgen::Clamped;
use web_sys::{HtmlCanvasElement, ImageData};

use super::axis::{self, Ticked};
use super::canvas::{js_error, ChartError, Frame};
use super::{palette, PlotArea};

/// Height of the marker strip over windows at or above the threshold, CSS pixels.
const STRIP_CSS_PX: f64 = 5.0;
/// Labelled frequencies (or band numbers) on a spectrogram's axis: enough to read a band off,
/// few enough for a phone-sized plot.
const FREQUENCY_TICKS: usize = 4;

/// The recording's envelope as a filled min/max band, over a background shaded deeper the
/// higher the analysed windows' P(abnormal).
///
/// Windows overlap (each is longer than the hop between them), so the shading is per stretch
/// between window edges, and each stretch takes the **highest** P(abnormal) of the windows covering it:
/// a screening view should not dilute the one window that looked abnormal with its
/// neighbours. Stretches at or above `threshold` also get a solid strip along the top of the
/// plot, which reads without colour.
pub fn waveform(
    canvas: &HtmlCanvasElement,
    visual: &Visual,
    windows: &[WindowScore],
    threshold: f32,
) -> Result<PlotArea, ChartError> {
    let frame = Frame::new(canvas)?;
    let duration = valid_duration(visual.duration_s);
    let segments = duration.map_or_else(Vec::new, |d| segments(windows, d));
    let flagged: Vec<&Segment> = segments
        .iter()
        .filter(|s| s.probability >= threshold)
        .collect();
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

    let legend = !flagged.is_empty();
    let mut chart = frame
        .builder(legend)
        .build_cartesian_2d(0f32..t_end, -top..top)?;
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    frame
        .mesh(&mut chart)
        .x_desc("Time (s)")
        .y_desc("Amplitude")
        .x_labels(frame.fit(xs.end - xs.start, 60.0).clamp(2, 12))
        .x_label_formatter(&axis::tick)
        .y_labels(3)
        .y_label_formatter(&axis::tick)
        .draw()?;

    chart.draw_series(segments.iter().map(|s| {
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
    if legend {
        frame.legend(
            &[(palette::ABNORMAL, format!("P(abnormal) ≥ {threshold:.2}"))],
            xs.start,
        )?;
    }

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
struct Segment {
    start: f32,
    end: f32,
    probability: f32,
}

/// The stretches of `0..duration` covered by at least one window, in order. Windows with a
/// non-finite edge or probability, or nothing inside the recording, are skipped.
fn segments(windows: &[WindowScore], duration: f32) -> Vec<Segment> {
    let valid: Vec<(f32, f32, f32)> = windows
        .iter()
        .filter(|w| w.start_s.is_finite() && w.end_s.is_finite() && w.probability.is_finite())
        .map(|w| (w.start_s.max(0.0), w.end_s.min(duration), w.probability))
        .filter(|(start, end, _)| end > start)
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
                .map(|probability| Segment {
                    start: pair[0],
                    end: pair[1],
                    probability,
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

    fn segment(start: f32, end: f32, probability: f32) -> Segment {
        Segment {
            start,
            end,
            probability,
        }
    }

    #[test]
    fn overlapping_windows_shade_each_hop_by_their_maximum() {
        let windows = [window(0.0, 0.9), window(2.0, 0.2), window(4.0, 0.4)];
        assert_eq!(
            segments(&windows, 8.0),
            vec![
                segment(0.0, 2.0, 0.9),
                segment(2.0, 4.0, 0.9),
                segment(4.0, 6.0, 0.4),
                segment(6.0, 8.0, 0.4),
            ]
        );
    }

    #[test]
    fn segments_stay_inside_the_recording_and_skip_broken_windows() {
        let windows = [
            window(-1.0, 0.3),
            window(f32::NAN, 0.9),
            window(1.0, f32::NAN),
            window(5.0, 0.8),
            window(9.0, 1.0),
        ];
        assert_eq!(
            segments(&windows, 6.0),
            vec![segment(0.0, 3.0, 0.3), segment(5.0, 6.0, 0.8)]
        );
        assert!(segments(&[], 6.0).is_empty());
        assert!(segments(&windows, 0.0).is_empty());
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
