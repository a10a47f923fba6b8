//! The CNN, run by `tract-onnx`: loaded from bytes (no file system in the browser), planned
//! once for one window and reused for every window of every recording.
//!
//! One window at a time, because tract lowers a convolution best when it knows every dimension
//! of its input, and some lowerings (lazy im2col, which gathers patches inside the matrix
//! product instead of writing them all out first) take a single image only. With a symbolic
//! batch the browser spent 37 ms on a 30 s recording's 14 windows; one by one, 29 ms
//! (bench/web `model_profile`).

mod ops;
mod pool;
#[cfg(test)]
mod tests;

use tract_onnx::prelude::*;

use crate::error::{Error, Result};

type Plan = std::sync::Arc<TypedRunnableModel>;

/// A loaded, optimised model giving P(abnormal) for each `[1, bands, frames]` window.
pub struct Model {
    plan: Plan,
    bands: usize,
    frames: usize,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("bands", &self.bands)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

fn model_err(e: impl std::fmt::Display) -> Error {
    Error::Model(format!("{e:#}"))
}

impl Model {
    /// Loads an ONNX model from its bytes for windows of `bands × frames`.
    pub fn from_onnx(bytes: &[u8], bands: usize, frames: usize) -> Result<Self> {
        Self::plan(ops::read(bytes)?, bands, frames)
    }

    /// Parses an ONNX model with the operators HeartBeat knows (and its own max pool), as
    /// [`Self::from_onnx`] does, for benchmarks that plan it other ways.
    pub fn parse(bytes: &[u8]) -> Result<InferenceModel> {
        ops::read(bytes)
    }

    /// Fixes the input shape of a parsed model to one window, optimises it and makes the plan.
    /// Apart from [`Self::from_onnx`] so the tests can plan a model parsed with tract-onnx's
    /// full operator register exactly the same way.
    fn plan(mut model: InferenceModel, bands: usize, frames: usize) -> Result<Self> {
        model
            .set_input_fact(0, f32::fact([1, 1, bands, frames]).into())
            .map_err(model_err)?;
        let plan = model
            .into_optimized()
            .map_err(model_err)?
            .into_runnable()
            .map_err(model_err)?;
        Ok(Self {
            plan,
            bands,
            frames,
        })
    }

    /// P(abnormal) for each window of a `[n, 1, bands, frames]` batch.
    pub fn predict(&self, batch: &[f32]) -> Result<Vec<f32>> {
        let per = self.bands * self.frames;
        if per == 0 || !batch.len().is_multiple_of(per) {
            return Err(Error::Model(format!(
                "batch of {} values is not a whole number of windows",
                batch.len()
            )));
        }
        batch
            .chunks_exact(per)
            .map(|window| self.predict_one(window))
            .collect()
    }

    fn predict_one(&self, window: &[f32]) -> Result<f32> {
        let input =
            Tensor::from_shape(&[1, 1, self.bands, self.frames], window).map_err(model_err)?;
        let out = self.plan.run(tvec!(input.into())).map_err(model_err)?;
        let p = out[0].to_plain_array_view::<f32>().map_err(model_err)?;
        match p.as_slice() {
            Some(&[p]) => Ok(p),
            _ => Err(Error::Model(format!(
                "model gave {} outputs for one window",
                p.len()
            ))),
        }
    }
}
