//! Signal processing: resampling, filtering, conditioning and the log-mel spectrogram.

pub mod condition;
pub mod filter;
pub mod mel;
pub mod resample;
pub mod spectrogram;
