//! The charts drawn on real canvases in headless Chromium and read back pixel by pixel
//! (`cargo test --target wasm32-unknown-unknown -p heartbeat-web --test charts`).
//! Colours are checked exactly where a chart promises a solid mark (threshold strip, markers,
//! bars); the rest checks that something chart-like was drawn and that bad input is survived.
#![cfg(target_arch = "wasm32")]

use heartbeat_core::report::WindowScore;
use heartbeat_core::segmentation::{Segment, State};
use heartbeat_core::visual::{Envelope, Image};
use heartbeat_core::{FilterBank, Visual};
use heartbeat_web::charts::{self, Bar, BarKind, PlotArea, RocPoint, Series};
use std::collections::HashSet;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

wasm_bindgen_test_configure!(run_in_browser);

const NORMAL: [u8; 3] = [0x00, 0x72, 0xB2];
const ABNORMAL: [u8; 3] = [0xD5, 0x5E, 0x00];
const S1: [u8; 3] = [0x00, 0x9E, 0x73];
const S2: [u8; 3] = [0xCC, 0x79, 0xA7];
const SYSTOLE: [u8; 3] = [0xBF, 0xE7, 0xDC];
const DIASTOLE: [u8; 3] = [0xF2, 0xDE, 0xE9];
const SECONDS: f32 = 20.0;
const SAMPLE_RATE: f32 = 2000.0;

/// A canvas of the given CSS size, laid out in the document.
fn canvas(css_width: u32, css_height: u32) -> HtmlCanvasElement {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("a document");
    let canvas: HtmlCanvasElement = document
        .create_element("canvas")
        .expect("a canvas")
        .unchecked_into();
    canvas
        .set_attribute(
            "style",
            &format!("display:block;width:{css_width}px;height:{css_height}px"),
        )
        .expect("style");
    document
        .body()
        .expect("a body")
        .append_child(&canvas)
        .expect("append");
    canvas
}

/// The canvas's bitmap, a row-major RGBA buffer.
struct Pixels {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

impl Pixels {
    fn of(canvas: &HtmlCanvasElement) -> Self {
        let context: CanvasRenderingContext2d = canvas
            .get_context("2d")
            .expect("context")
            .expect("a 2d context")
            .unchecked_into();
        let (width, height) = (canvas.width(), canvas.height());
        let data = context
            .get_image_data(0.0, 0.0, f64::from(width), f64::from(height))
            .expect("image data")
            .data()
            .0;
        Self {
            width: width as usize,
            height: height as usize,
            data,
        }
    }

    fn at(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 4;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// Pixels in columns `xs` and rows `ys` (fractions of the size) matching `keep`.
    fn count_in(&self, xs: (f32, f32), ys: (f32, f32), keep: impl Fn([u8; 3]) -> bool) -> usize {
        let px = |f: f32, n: usize| ((f * n as f32) as usize).min(n);
        let mut count = 0;
        for y in px(ys.0, self.height)..px(ys.1, self.height) {
            for x in px(xs.0, self.width)..px(xs.1, self.width) {
                count += usize::from(keep(self.at(x, y)));
            }
        }
        count
    }

    fn count(&self, keep: impl Fn([u8; 3]) -> bool) -> usize {
        self.count_in((0.0, 1.0), (0.0, 1.0), keep)
    }

    fn inked(&self) -> usize {
        self.count(|p| p != [255, 255, 255])
    }
}

fn is(colour: [u8; 3]) -> impl Fn([u8; 3]) -> bool {
    move |p| p.iter().zip(colour).all(|(&a, b)| a.abs_diff(b) <= 2)
}

/// Far from grey: heat-map cells rather than text, axes or white.
fn colourful(p: [u8; 3]) -> bool {
    let (lo, hi) = (p.iter().min(), p.iter().max());
    hi.zip(lo).is_some_and(|(hi, lo)| hi - lo > 40)
}

/// Columns around time `t` on a chart whose time axis is at `area`.
fn around(area: PlotArea, t: f32) -> (f32, f32) {
    let x = area.left + (area.right - area.left) * t / SECONDS;
    (x - 0.01, x + 0.01)
}

/// The synthetic heartbeat's period (s): 72 bpm.
const BEAT: f32 = 60.0 / 72.0;

/// 20 s of synthetic heart sounds: a 60 Hz S1 and a 90 Hz S2 burst per beat at 72 bpm.
fn heartbeat() -> Vec<f32> {
    let n = (SECONDS * SAMPLE_RATE) as usize;
    let beat = BEAT;
    (0..n)
        .map(|i| {
            let t = i as f32 / SAMPLE_RATE;
            let phase = t % beat;
            let burst = |at: f32, hz: f32| {
                let dt = phase - at;
                if (0.0..0.1).contains(&dt) {
                    (-dt * 40.0).exp() * (std::f32::consts::TAU * hz * dt).sin()
                } else {
                    0.0
                }
            };
            burst(0.0, 60.0) + 0.6 * burst(0.3, 90.0)
        })
        .collect()
}

/// The heartbeat's cycle as a segmentation reports it: S1 for the first 0.1 s of each beat, S2
/// from 0.3 s to 0.4 s, runs tiling the recording.
fn cycle() -> Vec<Segment> {
    let beats = (SECONDS / BEAT).ceil() as usize;
    let phases = [
        (State::S1, 0.0, 0.1),
        (State::Systole, 0.1, 0.3),
        (State::S2, 0.3, 0.4),
        (State::Diastole, 0.4, BEAT),
    ];
    (0..beats)
        .flat_map(|b| {
            phases.map(|(state, from, to)| Segment {
                state,
                start_s: b as f32 * BEAT + from,
                end_s: (b as f32 * BEAT + to).min(SECONDS),
            })
        })
        .filter(|s| s.end_s > s.start_s)
        .collect()
}

/// A recording's visual: the heartbeat's envelope and a log-mel-like image that is loud in
/// low bands, louder during beats.
fn visual() -> Visual {
    let frames = 1250;
    let rows = 32;
    let mut values = Vec::with_capacity(frames * rows);
    for f in 0..frames {
        let t = f as f32 * SECONDS / frames as f32;
        let beat = (-((t % (60.0 / 72.0)) * 12.0)).exp();
        for r in 0..rows {
            let low = 1.0 - r as f32 / rows as f32;
            values.push(-80.0 + 50.0 * low + 20.0 * beat * low);
        }
    }
    Visual {
        duration_s: SECONDS,
        waveform: Envelope::new(&heartbeat(), 480),
        spectrogram: Image::new(&values, rows, 480),
    }
}

/// 4 s windows every 2 s over the recording, with the given probabilities.
fn windows(probabilities: &[f32]) -> Vec<WindowScore> {
    probabilities
        .iter()
        .enumerate()
        .map(|(i, &probability)| WindowScore {
            start_s: 2.0 * i as f32,
            end_s: 2.0 * i as f32 + 4.0,
            probability,
        })
        .collect()
}

/// The first window abnormal, the other eight clearly normal.
fn one_abnormal() -> Vec<WindowScore> {
    windows(&[0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
}

fn set_device_pixel_ratio(ratio: f64) {
    let window = web_sys::window().expect("a window");
    // devicePixelRatio is [Replaceable]: assigning it shadows the browser's value.
    js_sys::Reflect::set(&window, &"devicePixelRatio".into(), &JsValue::from(ratio))
        .expect("set devicePixelRatio");
}

#[wasm_bindgen_test]
fn the_bitmap_is_the_css_size_times_the_pixel_ratio() {
    let original = web_sys::window().expect("a window").device_pixel_ratio();
    for ratio in [2.0, 1.5, original] {
        set_device_pixel_ratio(ratio);
        let c = canvas(320, 160);
        charts::waveform(&c, &visual(), &one_abnormal(), 0.5, &[]).expect("drawn");
        let expected = |css: f64| (css * ratio).round() as u32;
        assert_eq!(
            (c.width(), c.height()),
            (expected(320.0), expected(160.0)),
            "ratio {ratio}"
        );
        assert!(Pixels::of(&c).inked() > 5000, "ratio {ratio}");
    }
}

#[wasm_bindgen_test]
fn while_printing_charts_draw_at_least_two_device_pixels_per_css_pixel() {
    let original = web_sys::window().expect("a window").device_pixel_ratio();
    let c = canvas(300, 100);
    let draw = |ratio: f64, printing: bool| {
        set_device_pixel_ratio(ratio);
        charts::set_printing(printing);
        charts::window_probabilities(&c, &one_abnormal(), 0.5, SECONDS).expect("drawn");
        (c.width(), c.height())
    };
    let sizes = [draw(1.0, true), draw(3.0, true), draw(1.0, false)];
    set_device_pixel_ratio(original);
    assert_eq!(sizes, [(600, 200), (900, 300), (300, 100)]);
}

#[wasm_bindgen_test]
fn a_canvas_that_is_not_laid_out_keeps_its_size_across_redraws() {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("a document");
    let c: HtmlCanvasElement = document
        .create_element("canvas")
        .expect("a canvas")
        .unchecked_into();
    c.set_width(400);
    c.set_height(200);
    let original = web_sys::window().expect("a window").device_pixel_ratio();
    set_device_pixel_ratio(2.0);
    for _ in 0..3 {
        charts::waveform(&c, &visual(), &one_abnormal(), 0.5, &[]).expect("drawn");
    }
    set_device_pixel_ratio(original);
    assert_eq!((c.width(), c.height()), (400, 200));
}

#[wasm_bindgen_test]
fn the_waveform_flags_exactly_the_windows_at_or_above_the_threshold() {
    let c = canvas(600, 200);
    let area = charts::waveform(&c, &visual(), &one_abnormal(), 0.5, &[]).expect("drawn");
    assert!(
        0.0 < area.left && area.left < area.right && area.right <= 1.0,
        "{area:?}"
    );
    let pixels = Pixels::of(&c);
    // The first window spans 0–4 s: its strip is there; nothing after 6 s is flagged.
    assert!(pixels.count_in(around(area, 1.0), (0.0, 1.0), is(ABNORMAL)) > 10);
    assert!(pixels.count_in(around(area, 3.0), (0.0, 1.0), is(ABNORMAL)) > 10);
    assert_eq!(
        pixels.count_in(around(area, 9.0), (0.0, 1.0), is(ABNORMAL)),
        0
    );
    // The envelope itself: plenty of dark pixels across the plot.
    assert!(pixels.count(|p| p.iter().all(|&v| v < 100)) > 2000);

    let c = canvas(600, 200);
    charts::waveform(&c, &visual(), &windows(&[0.3; 9]), 0.5, &[]).expect("drawn");
    assert_eq!(
        Pixels::of(&c).count(is(ABNORMAL)),
        0,
        "nothing is at or above 0.5"
    );
}

#[wasm_bindgen_test]
fn the_waveform_marks_the_heart_cycle_in_a_lane_under_the_envelope() {
    let c = canvas(600, 200);
    let area = charts::waveform(&c, &visual(), &one_abnormal(), 0.5, &cycle()).expect("drawn");
    let pixels = Pixels::of(&c);
    // Every phase in its colour, in the lane along the bottom of the plot (the x axis is at
    // 79 % of the height) and nowhere over the envelope; the legend row is above 12 %.
    let (lane, over_envelope) = ((0.65, 0.8), (0.12, 0.65));
    for (name, colour) in [
        ("S1", S1),
        ("S2", S2),
        ("systole", SYSTOLE),
        ("diastole", DIASTOLE),
    ] {
        assert!(
            pixels.count_in((0.0, 1.0), lane, is(colour)) > 50,
            "{name} in the lane"
        );
        assert_eq!(
            pixels.count_in((0.0, 1.0), over_envelope, is(colour)),
            0,
            "{name} over the envelope"
        );
    }
    // On the time axis the cursor uses: S1 around the 10th beat's S1, S2 not there but a
    // quarter of a second later.
    let s1 = 10.0 * BEAT + 0.05;
    assert!(pixels.count_in(around(area, s1), lane, is(S1)) > 5);
    assert_eq!(pixels.count_in(around(area, s1), lane, is(S2)), 0);
    assert!(pixels.count_in(around(area, s1 + 0.3), lane, is(S2)) > 5);
    // The lane moves neither the time axis nor the flagged strip.
    let without = canvas(600, 200);
    assert_eq!(
        charts::waveform(&without, &visual(), &one_abnormal(), 0.5, &[]).expect("drawn"),
        area
    );
    assert_eq!(Pixels::of(&without).count(is(S1)), 0, "no cycle, no lane");
    assert!(pixels.count_in(around(area, 1.0), (0.0, 1.0), is(ABNORMAL)) > 10);

    // On a phone the legend wraps onto a second row rather than losing its last items.
    let narrow = canvas(320, 220);
    charts::waveform(&narrow, &visual(), &one_abnormal(), 0.5, &cycle()).expect("drawn");
    let key = Pixels::of(&narrow).count_in((0.0, 1.0), (0.0, 0.25), is(DIASTOLE));
    assert!(key > 40, "{key} pixels of the diastole swatch");
}

#[wasm_bindgen_test]
fn the_shading_deepens_with_probability() {
    let c = canvas(600, 200);
    let probabilities = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.45, 0.45, 0.45];
    let area = charts::waveform(&c, &visual(), &windows(&probabilities), 0.5, &[]).expect("drawn");
    let pixels = Pixels::of(&c);
    let warm = |p: [u8; 3]| p[0] > 200 && i32::from(p[0]) - i32::from(p[2]) > 20;
    // Warm background around the quiet top of the plot late (P 0.45), none early (P 0).
    assert!(pixels.count_in(around(area, 17.0), (0.1, 0.4), warm) > 20);
    assert_eq!(pixels.count_in(around(area, 3.0), (0.1, 0.4), warm), 0);
}

#[wasm_bindgen_test]
fn the_spectrogram_is_a_heat_map_with_low_frequencies_at_the_bottom() {
    let c = canvas(600, 220);
    let area = charts::spectrogram(&c, &visual(), 25.0, 400.0, FilterBank::Mel).expect("drawn");
    let pixels = Pixels::of(&c);
    let plot = (area.left + 0.01, area.right - 0.01);
    let mut colours = HashSet::new();
    let x = |f: f32| (f * pixels.width as f32) as usize;
    for y in pixels.height / 5..pixels.height * 3 / 5 {
        for px in x(plot.0)..x(plot.1) {
            colours.insert(pixels.at(px, y));
        }
    }
    assert!(colours.len() > 100, "{} colours", colours.len());
    assert!(!colours.contains(&[255, 255, 255]), "cells cover the plot");

    // Down the middle: the heat map (coloured pixels) gets brighter towards the bottom.
    let column = x((area.left + area.right) / 2.0);
    let brightness: Vec<u32> = (0..pixels.height)
        .map(|y| pixels.at(column, y))
        .filter(|&p| colourful(p))
        .map(|p| p.iter().map(|&v| u32::from(v)).sum())
        .collect();
    let quarter = brightness.len() / 4;
    assert!(quarter > 10, "{} heat pixels", brightness.len());
    let mean = |part: &[u32]| part.iter().sum::<u32>() / part.len() as u32;
    let (top, bottom) = (
        mean(&brightness[..quarter]),
        mean(&brightness[brightness.len() - quarter..]),
    );
    assert!(bottom > top + 100, "top {top}, bottom {bottom}");
}

#[wasm_bindgen_test]
fn the_time_axis_lines_up_across_a_recordings_charts() {
    let (w, h) = (500, 180);
    let a =
        charts::waveform(&canvas(w, h), &visual(), &one_abnormal(), 0.5, &cycle()).expect("drawn");
    let b =
        charts::spectrogram(&canvas(w, h), &visual(), 25.0, 400.0, FilterBank::Mel).expect("drawn");
    let c =
        charts::window_probabilities(&canvas(w, h), &one_abnormal(), 0.5, SECONDS).expect("drawn");
    assert_eq!(a, b);
    assert_eq!(a, c);
}

#[wasm_bindgen_test]
fn window_probabilities_mark_the_windows_over_the_threshold() {
    let c = canvas(500, 200);
    let area = charts::window_probabilities(&c, &one_abnormal(), 0.5, SECONDS).expect("drawn");
    let pixels = Pixels::of(&c);
    // The abnormal window is centred at 2 s; the normal ones are hollow blue circles.
    assert!(pixels.count_in(around(area, 2.0), (0.0, 1.0), is(ABNORMAL)) > 10);
    assert!(pixels.count(is(NORMAL)) > 50);
    // The dashed threshold: near-black pixels along a row in the quiet middle of the plot.
    assert!(pixels.count(|p| p.iter().all(|&v| v < 40)) > 100);

    let c = canvas(500, 200);
    charts::window_probabilities(&c, &windows(&[0.2; 9]), 0.5, SECONDS).expect("drawn");
    assert_eq!(Pixels::of(&c).count(is(ABNORMAL)), 0);
}

#[wasm_bindgen_test]
fn the_roc_chart_draws_curve_and_operating_point() {
    let points: Vec<RocPoint> = (0..=20)
        .map(|i| {
            let fpr = i as f32 / 20.0;
            RocPoint {
                fpr,
                tpr: fpr.powf(0.25),
            }
        })
        .collect();
    let operating = RocPoint {
        fpr: 0.15,
        tpr: 0.85,
    };
    let c = canvas(360, 300);
    charts::roc(&c, &points, Some(operating), Some(0.93)).expect("drawn");
    let pixels = Pixels::of(&c);
    assert!(pixels.count(is(NORMAL)) > 200, "the curve");
    assert!(pixels.count(is(ABNORMAL)) > 30, "the operating point");

    let c = canvas(360, 300);
    charts::roc(&c, &points, None, None).expect("drawn");
    assert_eq!(Pixels::of(&c).count(is(ABNORMAL)), 0);
}

#[wasm_bindgen_test]
fn training_curves_draw_every_series_in_its_own_colour() {
    let series: Vec<Series> = (0..6)
        .map(|k| Series {
            name: if k < 5 {
                format!("fold {k}")
            } else {
                "all".to_owned()
            },
            points: (0..40)
                .map(|e| (e as f32, 0.9 * (-(e as f32) / (8.0 + k as f32)).exp() + 0.1))
                .collect(),
        })
        .collect();
    let c = canvas(600, 280);
    charts::training_curves(&c, &series, "Loss").expect("drawn");
    let pixels = Pixels::of(&c);
    let colours = [
        NORMAL,
        ABNORMAL,
        [0x00, 0x9E, 0x73],
        [0xCC, 0x79, 0xA7],
        [0xE6, 0x9F, 0x00],
        [0x00, 0x00, 0x00],
    ];
    for colour in colours {
        assert!(pixels.count(is(colour)) > 20, "{colour:?}");
    }
}

#[wasm_bindgen_test]
fn the_histogram_colours_bins_by_side_of_the_threshold() {
    let probabilities: Vec<f32> = (0..200).map(|i| (i as f32 / 199.0).powf(1.5)).collect();
    // Below the legend row at the top, only bars carry the class colours.
    let bars = (0.0, 1.0);
    let below_legend = (0.25, 1.0);

    let c = canvas(500, 240);
    charts::histogram(&c, &probabilities, 0.5, 20).expect("drawn");
    let pixels = Pixels::of(&c);
    assert!(pixels.count_in(bars, below_legend, is(NORMAL)) > 500);
    assert!(pixels.count_in(bars, below_legend, is(ABNORMAL)) > 500);

    let c = canvas(500, 240);
    charts::histogram(&c, &probabilities, 1.5, 20).expect("drawn");
    let pixels = Pixels::of(&c);
    assert!(pixels.count_in(bars, below_legend, is(NORMAL)) > 500);
    assert_eq!(pixels.count_in(bars, below_legend, is(ABNORMAL)), 0);
}

#[wasm_bindgen_test]
fn bars_take_their_kinds_colour_and_survive_a_month_of_days() {
    let kinds = vec![
        Bar {
            label: "normal".to_owned(),
            value: 42.0,
            kind: BarKind::Normal,
        },
        Bar {
            label: "abnormal".to_owned(),
            value: 17.0,
            kind: BarKind::Abnormal,
        },
        Bar {
            label: "unsure".to_owned(),
            value: 5.0,
            kind: BarKind::Neutral,
        },
    ];
    let c = canvas(320, 200);
    charts::bars(&c, &kinds, "Recordings").expect("drawn");
    let pixels = Pixels::of(&c);
    assert!(pixels.count(is(NORMAL)) > 1000);
    assert!(pixels.count(is(ABNORMAL)) > 300);
    assert!(pixels.count(is([0x76, 0x76, 0x76])) > 50);

    let days: Vec<Bar> = (1..=30)
        .map(|d| Bar {
            label: format!("2025-06-{d:02}"),
            value: (d % 7) as f32,
            kind: BarKind::Neutral,
        })
        .collect();
    for width in [320, 900] {
        let c = canvas(width, 200);
        charts::bars(&c, &days, "Analyses").expect("drawn");
        assert!(Pixels::of(&c).inked() > 3000, "{width} px");
    }
}

#[wasm_bindgen_test]
fn degenerate_input_draws_axes_and_no_panic() {
    let silence = Visual {
        duration_s: 10.0,
        waveform: Envelope::new(&[0.0; 20_000], 480),
        spectrogram: Image::new(&[-40.0; 32 * 500], 32, 480),
    };
    let empty = Visual {
        duration_s: 0.0,
        waveform: Envelope::new(&[], 480),
        spectrogram: Image::new(&[], 32, 480),
    };
    let mut broken = visual();
    broken.duration_s = f32::NAN;
    broken.waveform.peak = f32::INFINITY;
    broken.waveform.high.truncate(3);
    broken.spectrogram.data.truncate(10);
    let nan_windows = [
        WindowScore {
            start_s: f32::NAN,
            end_s: 4.0,
            probability: 0.9,
        },
        WindowScore {
            start_s: 2.0,
            end_s: 1.0,
            probability: f32::INFINITY,
        },
        WindowScore {
            start_s: 0.0,
            end_s: 4.0,
            probability: f32::NAN,
        },
    ];

    // Past the end of every visual, with a run that starts at NaN and one that ends before it starts.
    let mut odd_cycle = cycle();
    odd_cycle.extend([
        Segment {
            state: State::S1,
            start_s: f32::NAN,
            end_s: 3.0,
        },
        Segment {
            state: State::S2,
            start_s: 5.0,
            end_s: 4.0,
        },
    ]);

    let drawn = |draw: &dyn Fn(&HtmlCanvasElement)| {
        let c = canvas(320, 180);
        draw(&c);
        let inked = Pixels::of(&c).inked();
        c.remove();
        assert!(inked > 500, "only {inked} pixels drawn");
    };
    for v in [&silence, &empty, &broken] {
        for threshold in [0.5, f32::NAN, -1.0, 2.0, f32::INFINITY] {
            for w in [&[][..], &nan_windows[..], &one_abnormal()[..]] {
                drawn(&|c| {
                    charts::waveform(c, v, w, threshold, &odd_cycle).expect("waveform");
                });
                drawn(&|c| {
                    charts::window_probabilities(c, w, threshold, v.duration_s)
                        .expect("window probabilities");
                });
            }
            drawn(&|c| {
                charts::histogram(c, &[], threshold, 0).expect("histogram");
            });
        }
        for (fmin, fmax) in [
            (25.0, 400.0),
            (400.0, 25.0),
            (f32::NAN, 1.0),
            (0.0, f32::INFINITY),
        ] {
            drawn(&|c| {
                charts::spectrogram(c, v, fmin, fmax, FilterBank::Mel).expect("spectrogram");
            });
        }
    }

    let nan_point = RocPoint {
        fpr: f32::NAN,
        tpr: 0.5,
    };
    let one = RocPoint { fpr: 0.2, tpr: 0.7 };
    drawn(&|c| charts::roc(c, &[], None, None).expect("roc"));
    drawn(&|c| charts::roc(c, &[one], Some(nan_point), Some(f32::NAN)).expect("roc"));
    drawn(&|c| charts::roc(c, &[nan_point], Some(one), Some(0.5)).expect("roc"));

    let flat = Series {
        name: "all".to_owned(),
        points: vec![(0.0, 0.5), (1.0, 0.5), (2.0, f32::NAN)],
    };
    let single = Series {
        name: "fold 0".to_owned(),
        points: vec![(3.0, 0.0)],
    };
    let nothing = Series {
        name: "fold 1".to_owned(),
        points: vec![(f32::NAN, f32::INFINITY)],
    };
    drawn(&|c| charts::training_curves(c, &[], "").expect("curves"));
    drawn(&|c| {
        charts::training_curves(c, &[flat.clone(), single.clone()], "Accuracy").expect("curves")
    });
    drawn(&|c| charts::training_curves(c, std::slice::from_ref(&nothing), "Loss").expect("curves"));

    drawn(&|c| charts::histogram(c, &[f32::NAN, 3.0, -1.0], 0.5, usize::MAX).expect("histogram"));
    drawn(&|c| charts::histogram(c, &[0.5], 0.5, 1).expect("histogram"));

    let odd = vec![
        Bar {
            label: String::new(),
            value: f32::NAN,
            kind: BarKind::Normal,
        },
        Bar {
            label: "minus".to_owned(),
            value: -3.0,
            kind: BarKind::Abnormal,
        },
    ];
    drawn(&|c| charts::bars(c, &[], "Count").expect("bars"));
    drawn(&|c| charts::bars(c, &odd, "Count").expect("bars"));
    drawn(&|c| charts::bars(c, &odd[..1], "Count").expect("bars"));
}
