//! Every colour the charts use, in one place so the app's charts agree with each other.
//!
//! Hues come from the Okabe–Ito set, which stays distinguishable under the common forms of
//! colour blindness; the charts still pair each colour with a shape, pattern or label, so a
//! grey-scale printout keeps its meaning. Text and axes are dark enough for WCAG AA (≥ 4.5:1)
//! on the white background.

use plotters::style::RGBColor;

/// The "normal" class (Okabe–Ito blue).
pub const NORMAL: RGBColor = RGBColor(0x00, 0x72, 0xB2);
/// The "abnormal" class (Okabe–Ito vermillion), also the mark for "at or above the threshold".
pub const ABNORMAL: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
/// Bars that belong to neither class; 4.5:1 on white, so thin bars stay visible.
pub const NEUTRAL: RGBColor = RGBColor(0x76, 0x76, 0x76);
/// Text, axes and tick marks: 12.6:1 on white.
pub const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);
/// The decision threshold, drawn dashed so it reads as a rule rather than as data.
pub const THRESHOLD: RGBColor = RGBColor(0x1A, 0x1A, 0x1A);
/// Grid lines: visible enough to read values off, faint enough not to compete with data.
pub const GRID: RGBColor = RGBColor(0xE3, 0xE3, 0xE3);
/// The recording's waveform: neutral, so the class colours keep their meaning around it.
pub const SIGNAL: RGBColor = RGBColor(0x3A, 0x3A, 0x3A);
/// The chance diagonal of a ROC plot.
pub const CHANCE: RGBColor = RGBColor(0x88, 0x88, 0x88);
/// The first heart sound (Okabe–Ito bluish green): neither class colour, so a segmentation mark
/// never reads as a verdict.
pub const S1: RGBColor = RGBColor(0x00, 0x9E, 0x73);
/// The second heart sound (Okabe–Ito reddish purple).
pub const S2: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
/// Systole: a quarter of [`S1`] on white, the pale stretch after the sound that opens it.
pub const SYSTOLE: RGBColor = RGBColor(0xBF, 0xE7, 0xDC);
/// Diastole: a quarter of [`S2`] on white, the pale stretch after the sound that opens it.
pub const DIASTOLE: RGBColor = RGBColor(0xF2, 0xDE, 0xE9);

/// Colours for lines that are told apart by name (folds of a cross-validation). Okabe–Ito
/// without yellow, which is unreadable on white; black sixth, so the usual five folds plus
/// "all" draw the pooled curve in black.
pub const SERIES: [RGBColor; 7] = [
    NORMAL,
    ABNORMAL,
    S1,
    S2,
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
];

/// Viridis at nine evenly spaced levels (matplotlib's values). Interpolating between them stays
/// within a few units of the full map, keeps lightness rising monotonically (so the picture
/// reads the same in grey scale) and needs no 256-entry table in the binary.
const VIRIDIS: [[u8; 3]; 9] = [
    [0x44, 0x01, 0x54],
    [0x47, 0x2D, 0x7B],
    [0x3B, 0x52, 0x8B],
    [0x2C, 0x72, 0x8E],
    [0x21, 0x91, 0x8C],
    [0x28, 0xAE, 0x80],
    [0x5E, 0xC9, 0x62],
    [0xAD, 0xDC, 0x30],
    [0xFD, 0xE7, 0x25],
];

/// The viridis colour for `level` in `0..=1` (clamped; NaN is the lowest level).
pub fn viridis(level: f32) -> [u8; 3] {
    let level = if level.is_nan() {
        0.0
    } else {
        level.clamp(0.0, 1.0)
    };
    let at = level * (VIRIDIS.len() - 1) as f32;
    let i = (at.floor() as usize).min(VIRIDIS.len() - 2);
    let f = at - i as f32;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    std::array::from_fn(|k| {
        (f32::from(a[k]) + (f32::from(b[k]) - f32::from(a[k])) * f).round() as u8
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;
    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    /// WCAG relative luminance.
    fn luminance(c: [u8; 3]) -> f32 {
        let lin = |v: u8| {
            let v = f32::from(v) / 255.0;
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
    }

    fn contrast_on_white(c: RGBColor) -> f32 {
        1.05 / (luminance([c.0, c.1, c.2]) + 0.05)
    }

    #[test]
    fn text_and_marks_are_readable_on_white() {
        assert!(contrast_on_white(INK) >= 4.5);
        assert!(contrast_on_white(THRESHOLD) >= 4.5);
        assert!(contrast_on_white(NEUTRAL) >= 4.5);
        // Non-text marks need 3:1 (WCAG 1.4.11).
        for c in [NORMAL, ABNORMAL, SIGNAL, S1, S2] {
            assert!(contrast_on_white(c) >= 3.0, "{c:?}");
        }
    }

    #[test]
    fn the_cycles_pale_phases_are_their_sounds_a_quarter_strong_on_white() {
        let tint = |c: RGBColor| {
            let quarter = |v: u8| (f32::from(v) * 0.25 + 255.0 * 0.75).round() as u8;
            RGBColor(quarter(c.0), quarter(c.1), quarter(c.2))
        };
        assert_eq!(tint(S1), SYSTOLE);
        assert_eq!(tint(S2), DIASTOLE);
    }

    #[test]
    fn viridis_runs_dark_to_light_and_hits_its_ends() {
        assert_eq!(viridis(0.0), VIRIDIS[0]);
        assert_eq!(viridis(1.0), VIRIDIS[8]);
        assert_eq!(viridis(f32::NAN), VIRIDIS[0]);
        assert_eq!(viridis(7.0), VIRIDIS[8]);
        let lum: Vec<f32> = (0..=100)
            .map(|i| luminance(viridis(i as f32 / 100.0)))
            .collect();
        assert!(lum.windows(2).all(|w| w[1] >= w[0]), "{lum:?}");
    }
}
