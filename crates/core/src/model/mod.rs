//! The CNN, run by `tract-onnx`: loaded from bytes (no file system in the browser), shape fixed
//! but for a symbolic batch, optimised once and reused for every recording.

mod ops;
#[cfg(test)]
mod tests;

use tract_onnx::prelude::*;

use crate::error::{Error, Result};

type Plan = std::sync::Arc<TypedRunnableModel>;

/// A loaded, optimised model taking `[N, 1, n_mels, frames]` and giving P(abnormal) per window.
pub struct Model {
    plan: Plan,
    n_mels: usize,
    frames: usize,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("n_mels", &self.n_mels)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

fn model_err(e: impl std::fmt::Display) -> Error {
    Error::Model(format!("{e:#}"))
}

impl Model {
    /// Loads an ONNX model from its bytes for windows of `n_mels × frames`.
    pub fn from_onnx(bytes: &[u8], n_mels: usize, frames: usize) -> Result<Self> {
        Self::plan(ops::read(bytes)?, n_mels, frames)
    }

    /// Fixes the input shape of a parsed model, optimises it and makes the plan. Apart from
    /// [`Self::from_onnx`] so the tests can plan a model parsed with tract-onnx's full operator
    /// register exactly the same way.
    fn plan(mut model: InferenceModel, n_mels: usize, frames: usize) -> Result<Self> {
        let batch = model.symbols.sym("N");
        let shape: TVec<TDim> = tvec![batch.into(), 1.into(), n_mels.into(), frames.into()];
        model
            .set_input_fact(0, f32::fact(shape).into())
            .map_err(model_err)?;
        let plan = model
            .into_optimized()
            .map_err(model_err)?
            .into_runnable()
            .map_err(model_err)?;
        Ok(Self {
            plan,
            n_mels,
            frames,
        })
    }

    /// P(abnormal) for each window of a `[n, 1, n_mels, frames]` batch. Takes the batch by value:
    /// it becomes the input tensor without a copy.
    pub fn predict(&self, batch: Vec<f32>) -> Result<Vec<f32>> {
        let per = self.n_mels * self.frames;
        if per == 0 || !batch.len().is_multiple_of(per) {
            return Err(Error::Model(format!(
                "batch of {} values is not a whole number of windows",
                batch.len()
            )));
        }
        let n = batch.len() / per;
        let input = tract_ndarray::Array4::from_shape_vec((n, 1, self.n_mels, self.frames), batch)
            .map_err(model_err)?;
        let out = self
            .plan
            .run(tvec!(input.into_tensor().into()))
            .map_err(model_err)?;
        let p = out[0].to_plain_array_view::<f32>().map_err(model_err)?;
        if p.len() != n {
            return Err(Error::Model(format!(
                "model gave {} outputs for {n} windows",
                p.len()
            )));
        }
        Ok(p.iter().copied().collect())
    }
}
