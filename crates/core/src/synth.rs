//! Synthetic recordings for tests and benchmarks, so neither needs data files.

/// A clean heartbeat at `bpm`: S1 and S2 as decaying 50 Hz and 70 Hz tones over faint
/// deterministic noise, the shape the rhythm estimator looks for.
pub fn heartbeat(bpm: f32, seconds: f32, sample_rate: u32) -> Vec<f32> {
    let fs = sample_rate as f32;
    let cycle = 60.0 / bpm;
    let mut seed = 0x2545_f491_u32;
    (0..(seconds * fs) as usize)
        .map(|i| {
            let t = i as f32 / fs;
            let phase = t % cycle;
            let sound = |start: f32, hz: f32, amp: f32| {
                let dt = phase - start;
                if (0.0..0.08).contains(&dt) {
                    amp * (-dt / 0.02).exp() * (std::f32::consts::TAU * hz * dt).sin()
                } else {
                    0.0
                }
            };
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let noise = (seed as f32 / u32::MAX as f32 - 0.5) * 0.01;
            sound(0.0, 50.0, 0.6) + sound(0.3 * cycle, 70.0, 0.4) + noise
        })
        .collect()
}
