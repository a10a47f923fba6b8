//! Charts about the model rather than one recording: its ROC curve and its training curves.

use plotters::chart::{ChartContext, SeriesLabelPosition};
use plotters::coord::CoordTranslate;
use plotters::element::{
    Circle, Cross, DashedPathElement, DynElement, EmptyElement, IntoDynElement, PathElement,
    Rectangle, TriangleMarker,
};
use plotters::series::{DashedLineSeries, LineSeries};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, RGBColor, ShapeStyle, WHITE};
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use super::axis::{self, Ticked};
use super::canvas::{ChartError, Frame};
use super::{palette, RocPoint, Series};

/// Length of a legend's line sample, CSS pixels.
const SAMPLE_CSS_PX: f64 = 24.0;

/// The ROC curve with the chance diagonal; the operating point (the model's threshold) is a
/// marked, labelled dot, and the AUC is in the legend.
pub fn roc(
    canvas: &HtmlCanvasElement,
    points: &[RocPoint],
    operating: Option<RocPoint>,
    auc: Option<f32>,
) -> Result<(), ChartError> {
    let frame = Frame::new(canvas)?;
    let mut curve: Vec<(f32, f32)> = points
        .iter()
        .filter(|p| p.fpr.is_finite() && p.tpr.is_finite())
        .map(|p| (p.fpr, p.tpr))
        .collect();
    // A ROC curve rises monotonically; sorting makes any order of thresholds draw it right.
    curve.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));

    let quarters = || vec![0.0, 0.25, 0.5, 0.75, 1.0];
    let mut chart = frame.builder(false).build_cartesian_2d(
        Ticked::new(-0.02..1.02, quarters()),
        Ticked::new(-0.02..1.02, quarters()),
    )?;
    frame
        .mesh(&mut chart)
        .x_desc("1 − specificity (FPR)")
        .y_desc("Sensitivity (TPR)")
        .x_label_formatter(&|v: &f32| format!("{v:.2}"))
        .y_label_formatter(&|v: &f32| format!("{v:.2}"))
        .draw()?;

    let sample = frame.pxi(SAMPLE_CSS_PX);
    let chance = frame.line(palette::CHANCE, 1.5);
    let (dash, gap) = (frame.px(6.0), frame.px(4.0));
    chart
        .draw_series(DashedLineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            dash,
            gap,
            chance,
        ))?
        .label("chance")
        .legend(move |(x, y)| DashedPathElement::new([(x, y), (x + sample, y)], dash, gap, chance));

    let line = frame.line(palette::NORMAL, 2.0);
    let name = match auc.filter(|a| a.is_finite()) {
        Some(auc) => format!("ROC (AUC {auc:.2})"),
        None => "ROC".to_owned(),
    };
    chart
        .draw_series(LineSeries::new(curve.iter().copied(), line))?
        .label(name)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + sample, y)], line));

    if let Some(p) = operating.filter(|p| p.fpr.is_finite() && p.tpr.is_finite()) {
        let at = (p.fpr.clamp(0.0, 1.0), p.tpr.clamp(0.0, 1.0));
        let radius = frame.px(5.0);
        chart
            .draw_series(std::iter::once(operating_mark(at, radius)))?
            .label("operating point")
            .legend(move |(x, y)| operating_mark((x + sample / 2, y), radius));
        // Beside the dot, on whichever side has room.
        let (x, y) = chart.backend_coord(&at);
        let offset = frame.pxi(9.0);
        let (x, h) = if at.0 < 0.6 {
            (x + offset, HPos::Left)
        } else {
            (x - offset, HPos::Right)
        };
        frame.note(
            &format!("TPR {:.2}, FPR {:.2}", p.tpr, p.fpr),
            (x, y + offset),
            Pos::new(h, VPos::Top),
        )?;
    }
    if curve.is_empty() {
        frame.no_data(&chart)?;
    }

    key(&frame, &mut chart, SeriesLabelPosition::LowerRight)
}

/// One line per series against epochs, with a legend. Series differ in colour, dash pattern
/// and marker together, so they stay apart in grey scale and for colour-blind readers. A
/// non-finite value breaks its line rather than dropping to an axis.
pub fn training_curves(
    canvas: &HtmlCanvasElement,
    series: &[Series],
    y_label: &str,
) -> Result<(), ChartError> {
    let frame = Frame::new(canvas)?;
    let finite = || {
        series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|p| p.0.is_finite() && p.1.is_finite())
    };
    let x_range = axis::span(finite().map(|p| p.0), 0.0);
    let y_range = axis::span(finite().map(|p| p.1), 0.05);
    let ends_high = ends_high(series, (y_range.start + y_range.end) / 2.0);

    let mut chart = frame.builder(false).build_cartesian_2d(x_range, y_range)?;
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    frame
        .mesh(&mut chart)
        .x_desc("Epoch")
        .y_desc(y_label)
        .x_labels(frame.fit(xs.end - xs.start, 50.0).clamp(2, 10))
        .x_label_formatter(&axis::tick)
        .y_labels(frame.fit(ys.end - ys.start, 36.0).clamp(2, 8))
        .y_label_formatter(&axis::tick)
        .draw()?;

    let sample = frame.pxi(SAMPLE_CSS_PX);
    for (i, s) in series.iter().enumerate() {
        let look = Look::new(&frame, i);
        for run in finite_runs(&s.points) {
            if look.dash == 0 {
                chart.draw_series(LineSeries::new(run.iter().copied(), look.line))?;
            } else {
                chart.draw_series(DashedLineSeries::new(
                    run.iter().copied(),
                    look.dash,
                    look.gap,
                    look.line,
                ))?;
            }
            // Markers at a few points only: at every epoch they would merge into a thick line.
            let every = (run.len() / 8).max(1);
            chart.draw_series(run.iter().step_by(every).map(|&p| look.marker(p)))?;
        }
        // The legend entry comes from an empty series, so a series without data is still named.
        chart
            .draw_series(std::iter::empty::<PathElement<(f32, f32)>>())?
            .label(s.name.as_str())
            .legend(move |(x, y)| {
                EmptyElement::at((x, y)) + look.sample(sample) + look.marker((sample / 2, 0))
            });
    }
    if finite().next().is_none() {
        frame.no_data(&chart)?;
    }
    if series.is_empty() {
        return Ok(());
    }
    let corner = if ends_high {
        SeriesLabelPosition::LowerRight
    } else {
        SeriesLabelPosition::UpperRight
    };
    key(&frame, &mut chart, corner)
}

/// The legend box in a corner of the plot, on a translucent white so lines stay traceable.
fn key<CT: CoordTranslate>(
    frame: &Frame,
    chart: &mut ChartContext<'_, CanvasBackend, CT>,
    corner: SeriesLabelPosition,
) -> Result<(), ChartError> {
    chart
        .configure_series_labels()
        .position(corner)
        .margin(frame.px(8.0))
        .legend_area_size(frame.px(SAMPLE_CSS_PX + 8.0))
        .label_font(frame.label())
        .background_style(WHITE.mix(0.9))
        .border_style(palette::GRID)
        .draw()?;
    Ok(())
}

/// How the `i`-th series is drawn. Colours cycle every 7, dash patterns every 3 and markers
/// every 4, so the first 84 combinations are all different.
#[derive(Clone, Copy)]
struct Look {
    line: ShapeStyle,
    colour: RGBColor,
    /// Dash and gap in device pixels; a zero dash is a solid line.
    dash: u32,
    gap: u32,
    marker: usize,
    size: u32,
}

impl Look {
    fn new(frame: &Frame, i: usize) -> Self {
        let colour = palette::SERIES[i % palette::SERIES.len()];
        let (dash, gap) = [(0.0, 0.0), (7.0, 4.0), (2.0, 3.0)][i % 3];
        Self {
            line: frame.line(colour, 1.75),
            colour,
            dash: frame.px(dash),
            gap: frame.px(gap),
            marker: i % 4,
            size: frame.px(3.5),
        }
    }

    /// A line sample `length` device pixels long, for the legend.
    fn sample(&self, length: i32) -> DynElement<'static, CanvasBackend, (i32, i32)> {
        let ends = [(0, 0), (length, 0)];
        if self.dash == 0 {
            PathElement::new(ends, self.line).into_dyn()
        } else {
            DashedPathElement::new(ends, self.dash, self.gap, self.line).into_dyn()
        }
    }

    /// The marker at a point, in any coordinate system.
    fn marker<C: Clone + 'static>(&self, at: C) -> DynElement<'static, CanvasBackend, C> {
        let (s, filled, hollow) = (self.size, self.colour.filled(), self.line);
        let r = s as i32;
        match self.marker {
            0 => Circle::new(at, s, filled).into_dyn(),
            1 => TriangleMarker::new(at, s + 1, filled).into_dyn(),
            2 => (EmptyElement::at(at) + Rectangle::new([(-r, -r), (r, r)], hollow)).into_dyn(),
            _ => Cross::new(at, s, hollow).into_dyn(),
        }
    }
}

/// The operating point: a filled dot with a dark rim, so it stands out from the curve in any
/// colour vision.
fn operating_mark<C: Clone + 'static>(at: C, radius: u32) -> DynElement<'static, CanvasBackend, C> {
    (EmptyElement::at(at)
        + Circle::new((0, 0), radius, palette::ABNORMAL.filled())
        + Circle::new((0, 0), radius, palette::INK.stroke_width(1)))
    .into_dyn()
}

/// The runs of consecutive finite points: where a value is missing (NaN, say from a diverged
/// epoch) the line breaks instead of jumping to an arbitrary place.
fn finite_runs(points: &[(f32, f32)]) -> Vec<Vec<(f32, f32)>> {
    points
        .split(|p| !(p.0.is_finite() && p.1.is_finite()))
        .filter(|run| !run.is_empty())
        .map(<[_]>::to_vec)
        .collect()
}

/// Whether the series mostly end above `mid`: rising curves (accuracy) leave the lower right
/// free for the legend, falling ones (loss) the upper right.
fn ends_high(series: &[Series], mid: f32) -> bool {
    let ends: Vec<f32> = series
        .iter()
        .filter_map(|s| {
            s.points
                .iter()
                .rev()
                .find(|p| p.0.is_finite() && p.1.is_finite())
        })
        .map(|p| p.1)
        .collect();
    !ends.is_empty() && ends.iter().sum::<f32>() / ends.len() as f32 > mid
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;
    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    fn series(points: &[(f32, f32)]) -> Series {
        Series {
            name: "fold 0".to_owned(),
            points: points.to_vec(),
        }
    }

    #[test]
    fn missing_values_break_a_line_into_runs() {
        let points = [
            (0.0, 1.0),
            (1.0, 0.8),
            (2.0, f32::NAN),
            (3.0, 0.5),
            (f32::INFINITY, 0.4),
            (f32::NAN, f32::NAN),
        ];
        assert_eq!(
            finite_runs(&points),
            vec![vec![(0.0, 1.0), (1.0, 0.8)], vec![(3.0, 0.5)]]
        );
        assert!(finite_runs(&[]).is_empty());
    }

    #[test]
    fn the_legend_goes_where_the_curves_are_not() {
        let rising = series(&[(0.0, 0.5), (1.0, 0.8), (2.0, 0.9)]);
        let falling = series(&[(0.0, 0.9), (1.0, 0.4), (2.0, 0.2), (3.0, f32::NAN)]);
        assert!(ends_high(std::slice::from_ref(&rising), 0.7));
        assert!(!ends_high(std::slice::from_ref(&falling), 0.55));
        // Two rising curves outvote one falling one.
        assert!(ends_high(&[rising.clone(), rising, falling], 0.6));
        assert!(!ends_high(&[], 0.5));
        assert!(!ends_high(&[series(&[(0.0, f32::NAN)])], 0.5));
    }
}
