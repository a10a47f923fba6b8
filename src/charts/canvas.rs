//! Where a chart meets its `<canvas>`: sizing for the screen's pixel density, the plotters
//! backend, the shared look of axes and text, and the errors drawing can end in.

use plotters::chart::{ChartBuilder, ChartContext, MeshStyle};
use plotters::coord::cartesian::Cartesian2d;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::drawing::{DrawingArea, DrawingAreaErrorKind, IntoDrawingArea};
use plotters::element::{DashedPathElement, Rectangle, Text};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, IntoFont, RGBColor, ShapeStyle, TextStyle, TRANSPARENT, WHITE};
use plotters_canvas::CanvasBackend;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use super::palette;

/// Why a chart could not be drawn. The messages are written for the person looking at the page.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChartError {
    /// The canvas has no 2D context: it already holds a WebGL context, or the browser has run
    /// out of canvas memory.
    #[error("This browser could not draw the chart (no 2D canvas is available).")]
    NoContext,
    /// The browser refused a drawing call part-way through.
    #[error("The chart could not be drawn: {0}")]
    Draw(String),
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for ChartError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        Self::Draw(e.to_string())
    }
}

/// Room above a plot for a one-line legend, CSS pixels.
const LEGEND_ROW_CSS_PX: f64 = 24.0;
/// A legend swatch and the space after it, CSS pixels.
const LEGEND_SWATCH_CSS_PX: f64 = 17.0;
/// Room above a plot without a legend, so the top tick label is not clipped.
const TOP_CSS_PX: f64 = 10.0;
/// Label text size in CSS pixels: what the app's body text uses on a phone.
const FONT_CSS_PX: f64 = 12.5;
/// The browser picks the face, so chart text matches the page on every platform.
const FONT_FAMILY: &str = "sans-serif";

/// A cleared canvas sized in device pixels, and the scale every size must be multiplied by.
///
/// The canvas's bitmap is set to its CSS size × `devicePixelRatio`, so on a phone or a retina
/// screen lines and text are drawn at the screen's real resolution instead of being upscaled
/// (blurred) by the browser. Plotters knows nothing of CSS pixels, so every length a chart
/// passes it goes through [`Frame::px`].
pub(crate) struct Frame {
    pub(crate) root: DrawingArea<CanvasBackend, Shift>,
    context: CanvasRenderingContext2d,
    scale: f64,
    width: u32,
}

impl Frame {
    /// Sizes `canvas` for the screen and clears it to white.
    pub(crate) fn new(canvas: &HtmlCanvasElement) -> Result<Self, ChartError> {
        let (css_width, css_height, scale) = match (canvas.client_width(), canvas.client_height()) {
            (w, h) if w > 0 && h > 0 => (f64::from(w), f64::from(h), device_pixel_ratio()),
            // Not laid out (hidden, or not in the document yet): its CSS size is unknown, so use
            // the attributes 1:1. Scaling them would grow a hidden canvas on every redraw.
            _ => (f64::from(canvas.width()), f64::from(canvas.height()), 1.0),
        };
        let device = |css: f64| (css * scale).round().max(1.0) as u32;
        let (width, height) = (device(css_width), device(css_height));
        canvas.set_width(width);
        canvas.set_height(height);
        let context = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
            .ok_or(ChartError::NoContext)?;
        let root = CanvasBackend::with_canvas_object(canvas.clone())
            .ok_or(ChartError::NoContext)?
            .into_drawing_area();
        root.fill(&WHITE)?;
        Ok(Self {
            root,
            context,
            scale,
            width,
        })
    }

    /// `css` CSS pixels in device pixels.
    pub(crate) fn px(&self, css: f64) -> u32 {
        (css * self.scale).round().max(0.0) as u32
    }

    /// Like [`Frame::px`], for coordinates.
    pub(crate) fn pxi(&self, css: f64) -> i32 {
        (css * self.scale).round() as i32
    }

    /// A device-pixel x position as a fraction of the canvas's width (and so of its CSS width).
    pub(crate) fn fraction(&self, x: i32) -> f32 {
        (f64::from(x) / f64::from(self.width)) as f32
    }

    /// The 2D context, for what plotters cannot do quickly (the spectrogram's pixels).
    pub(crate) fn context(&self) -> &CanvasRenderingContext2d {
        &self.context
    }

    /// Text at `css` CSS pixels in the ink colour.
    pub(crate) fn text(&self, css: f64) -> TextStyle<'static> {
        (FONT_FAMILY, css * self.scale)
            .into_font()
            .color(&palette::INK)
    }

    /// Axis and tick-label text.
    pub(crate) fn label(&self) -> TextStyle<'static> {
        self.text(FONT_CSS_PX)
    }

    /// A solid line `css` CSS pixels wide.
    pub(crate) fn line(&self, color: impl Color, css: f64) -> ShapeStyle {
        color.stroke_width(self.px(css).max(1))
    }

    /// How many labels fit along `device_px` when each needs about `css_per_label` CSS pixels.
    pub(crate) fn fit(&self, device_px: i32, css_per_label: f64) -> usize {
        (f64::from(device_px.max(0)) / (css_per_label * self.scale)).floor() as usize
    }

    /// The layout all charts share: room for tick labels and an axis title on the left and
    /// bottom, a row above the plot for [`Frame::legend`] if asked, and a right margin so the
    /// last x label is not clipped.
    pub(crate) fn builder(&self, legend: bool) -> ChartBuilder<'_, '_, CanvasBackend> {
        self.builder_with_legend_rows(usize::from(legend))
    }

    /// [`Frame::builder`] with `rows` legend rows above the plot (as [`Frame::legend_rows`]
    /// counts them for a legend that wraps).
    pub(crate) fn builder_with_legend_rows(
        &self,
        rows: usize,
    ) -> ChartBuilder<'_, '_, CanvasBackend> {
        let top = if rows > 0 {
            LEGEND_ROW_CSS_PX * rows as f64
        } else {
            TOP_CSS_PX
        };
        let mut builder = ChartBuilder::on(&self.root);
        builder
            .margin_top(self.px(top))
            .margin_right(self.px(20.0))
            .margin_left(self.px(4.0))
            .margin_bottom(self.px(4.0))
            .x_label_area_size(self.px(38.0))
            .y_label_area_size(self.px(54.0));
        builder
    }

    /// The shared look of axes, ticks and grid; charts add titles, label counts and formats.
    pub(crate) fn mesh<'a, 'b, X, Y>(
        &self,
        chart: &'b mut ChartContext<'a, CanvasBackend, Cartesian2d<X, Y>>,
    ) -> MeshStyle<'a, 'b, X, Y, CanvasBackend>
    where
        X: Ranged + ValueFormatter<X::ValueType>,
        Y: Ranged + ValueFormatter<Y::ValueType>,
    {
        let mut mesh = chart.configure_mesh();
        mesh.axis_style(self.line(palette::INK, 1.0))
            .bold_line_style(self.line(palette::GRID, 1.0))
            .light_line_style(TRANSPARENT)
            .label_style(self.label())
            .axis_desc_style(self.label())
            .set_all_tick_mark_size(self.px(4.0));
        mesh
    }

    /// Says "No data" in the middle of a chart's plot, so an empty chart reads as empty rather
    /// than broken.
    pub(crate) fn no_data<X: Ranged, Y: Ranged>(
        &self,
        chart: &ChartContext<'_, CanvasBackend, Cartesian2d<X, Y>>,
    ) -> Result<(), ChartError> {
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        let centre = ((xs.start + xs.end) / 2, (ys.start + ys.end) / 2);
        let style = self
            .text(FONT_CSS_PX + 1.0)
            .pos(Pos::new(HPos::Center, VPos::Center));
        // On white, so a threshold rule or the diagonal through the middle does not cross it.
        let (w, h) = self.root.estimate_text_size("No data", &style)?;
        let (w, h) = (w as i32 / 2 + self.pxi(6.0), h as i32 / 2 + self.pxi(3.0));
        self.root.draw(&Rectangle::new(
            [(centre.0 - w, centre.1 - h), (centre.0 + w, centre.1 + h)],
            WHITE.filled(),
        ))?;
        self.root.draw(&Text::new("No data", centre, style))?;
        Ok(())
    }

    /// A key in the rows above the plot (made by `builder(true)`, or
    /// `builder_with_legend_rows` with [`Frame::legend_rows`] when it may wrap), starting at
    /// `x`: a swatch and its text per item.
    pub(crate) fn legend(&self, items: &[(RGBColor, String)], x: i32) -> Result<(), ChartError> {
        let style = self.label().pos(Pos::new(HPos::Left, VPos::Center));
        let row_px = self.pxi(LEGEND_ROW_CSS_PX);
        for ((colour, text), (x, row)) in items.iter().zip(self.legend_places(items, x)?) {
            let y = row_px / 2 + row as i32 * row_px;
            self.root.draw(&Rectangle::new(
                [
                    (x, y - self.pxi(4.0)),
                    (x + self.pxi(12.0), y + self.pxi(4.0)),
                ],
                colour.filled(),
            ))?;
            self.root.draw(&Text::new(
                text.as_str(),
                (x + self.pxi(LEGEND_SWATCH_CSS_PX), y),
                style.clone(),
            ))?;
        }
        Ok(())
    }

    /// The rows a legend of `items` starting at `x` takes on this canvas (0 for none).
    pub(crate) fn legend_rows(
        &self,
        items: &[(RGBColor, String)],
        x: i32,
    ) -> Result<usize, ChartError> {
        Ok(self
            .legend_places(items, x)?
            .last()
            .map_or(0, |&(_, row)| row + 1))
    }

    /// Where each legend item starts (device x) and its row: in a line from `x`, wrapping back
    /// to `x` before an item that would run past the canvas's edge (a phone-sized chart).
    fn legend_places(
        &self,
        items: &[(RGBColor, String)],
        x: i32,
    ) -> Result<Vec<(i32, usize)>, ChartError> {
        let style = self.label();
        let edge = self.width as i32;
        let (mut at, mut row) = (x, 0);
        let mut places = Vec::with_capacity(items.len());
        for (_, text) in items {
            let (text_px, _) = self.root.estimate_text_size(text, &style)?;
            let width = self.pxi(LEGEND_SWATCH_CSS_PX) + text_px as i32;
            if at > x && at + width > edge {
                (at, row) = (x, row + 1);
            }
            places.push((at, row));
            at += width + self.pxi(16.0);
        }
        Ok(places)
    }

    /// The decision threshold as a dashed rule between two device-pixel points.
    pub(crate) fn threshold(&self, from: (i32, i32), to: (i32, i32)) -> Result<(), ChartError> {
        self.root.draw(&DashedPathElement::new(
            [from, to],
            self.px(6.0),
            self.px(4.0),
            self.line(palette::THRESHOLD, 1.5),
        ))?;
        Ok(())
    }

    /// A short text at a device-pixel point, anchored as `pos` says.
    pub(crate) fn note(&self, text: &str, at: (i32, i32), pos: Pos) -> Result<(), ChartError> {
        self.root
            .draw(&Text::new(text, at, self.label().pos(pos)))?;
        Ok(())
    }
}

/// A thrown JavaScript value in words.
pub(crate) fn js_error(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| "unknown error".to_owned())
}

/// The attribute on the document's root while the page is being printed ([`set_printing`]).
const PRINTING_ATTR: &str = "data-printing";
/// Device pixels per CSS pixel at least, on paper: a screen's 96 dpi blurs printed text.
const PRINT_SCALE: f64 = 2.0;

/// Says whether the page is being printed: from then on charts draw at least [`PRINT_SCALE`]
/// device pixels per CSS pixel. The attribute it sets on the document's root
/// (`data-printing`) also lets the stylesheet size charts for paper before the browser lays the
/// page out for print, so that what is drawn is what is printed. Draw again after changing it.
pub fn set_printing(printing: bool) {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    else {
        return;
    };
    let _ = if printing {
        root.set_attribute(PRINTING_ATTR, "")
    } else {
        root.remove_attribute(PRINTING_ATTR)
    };
}

/// Device pixels per CSS pixel: the screen's (1 where the browser reports nothing usable), and
/// at least [`PRINT_SCALE`] while printing.
fn device_pixel_ratio() -> f64 {
    let window = web_sys::window();
    let screen = window
        .as_ref()
        .map(|w| w.device_pixel_ratio())
        .filter(|r| r.is_finite() && *r > 0.0)
        .unwrap_or(1.0);
    let printing = window
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .is_some_and(|root| root.has_attribute(PRINTING_ATTR));
    if printing {
        screen.max(PRINT_SCALE)
    } else {
        screen
    }
}
