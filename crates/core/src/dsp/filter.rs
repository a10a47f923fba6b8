//! Butterworth band-pass as cascaded biquads (RBJ cookbook), run forward and backward so the
//! filtered heart sounds stay aligned in time with the waveform the user sees.

use std::f32::consts::PI;

/// One second-order section, direct form I coefficients normalised by a0.
#[derive(Debug, Clone, Copy)]
struct Biquad {
    b: [f32; 3],
    a: [f32; 2],
}

/// Q factors of a 4th-order Butterworth split into two biquads.
const BUTTERWORTH4_Q: [f32; 2] = [0.541_196_1, 1.306_563];

impl Biquad {
    fn low_pass(fs: f32, f0: f32, q: f32) -> Self {
        let (cos, alpha) = Self::angles(fs, f0, q);
        let b1 = 1.0 - cos;
        Self::normalised(
            [b1 / 2.0, b1, b1 / 2.0],
            [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
        )
    }

    fn high_pass(fs: f32, f0: f32, q: f32) -> Self {
        let (cos, alpha) = Self::angles(fs, f0, q);
        let b1 = 1.0 + cos;
        Self::normalised(
            [b1 / 2.0, -b1, b1 / 2.0],
            [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
        )
    }

    fn angles(fs: f32, f0: f32, q: f32) -> (f32, f32) {
        let w0 = 2.0 * PI * f0 / fs;
        (w0.cos(), w0.sin() / (2.0 * q))
    }

    fn normalised(b: [f32; 3], a: [f32; 3]) -> Self {
        Self {
            b: [b[0] / a[0], b[1] / a[0], b[2] / a[0]],
            a: [a[1] / a[0], a[2] / a[0]],
        }
    }

    fn run(&self, x: &mut [f32]) {
        let (mut x1, mut x2, mut y1, mut y2) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
        for v in x.iter_mut() {
            let y =
                self.b[0] * *v + self.b[1] * x1 + self.b[2] * x2 - self.a[0] * y1 - self.a[1] * y2;
            x2 = x1;
            x1 = *v;
            y2 = y1;
            y1 = y;
            *v = y;
        }
    }
}

/// Zero-phase 4th-order Butterworth band-pass (8th order in effect, as it runs twice).
pub fn band_pass(x: &mut [f32], fs: f32, low_hz: f32, high_hz: f32) {
    let sections: Vec<Biquad> = BUTTERWORTH4_Q
        .iter()
        .flat_map(|&q| {
            [
                Biquad::high_pass(fs, low_hz, q),
                Biquad::low_pass(fs, high_hz, q),
            ]
        })
        .collect();
    for s in &sections {
        s.run(x);
    }
    x.reverse();
    for s in &sections {
        s.run(x);
    }
    x.reverse();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gain_at(freq: f32) -> f32 {
        let fs = 2000.0;
        let mut x: Vec<f32> = (0..8000)
            .map(|i| (2.0 * PI * freq * i as f32 / fs).sin())
            .collect();
        band_pass(&mut x, fs, 25.0, 400.0);
        let mid = &x[2000..6000];
        (mid.iter().map(|v| v * v).sum::<f32>() / mid.len() as f32 * 2.0).sqrt()
    }

    #[test]
    fn passes_heart_sounds_and_rejects_rumble_and_hiss() {
        assert!(
            (gain_at(100.0) - 1.0).abs() < 0.02,
            "100 Hz: {}",
            gain_at(100.0)
        );
        assert!(gain_at(5.0) < 0.01, "5 Hz: {}", gain_at(5.0));
        assert!(gain_at(900.0) < 0.01, "900 Hz: {}", gain_at(900.0));
        // Butterworth: -3 dB per pass at the corner, so about half amplitude after two passes.
        assert!(
            (gain_at(400.0) - 0.5).abs() < 0.05,
            "400 Hz: {}",
            gain_at(400.0)
        );
    }

    #[test]
    fn zero_phase_keeps_a_pulse_in_place() {
        let mut x = vec![0.0f32; 2001];
        x[1000] = 1.0;
        band_pass(&mut x, 2000.0, 25.0, 400.0);
        let peak = x
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .map(|(i, _)| i);
        assert_eq!(peak, Some(1000));
    }
}
