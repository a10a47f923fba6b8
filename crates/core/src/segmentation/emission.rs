//! How likely each heart-cycle state is to sound like a frame: a small dense network (or a plain
//! softmax regression, with no hidden layer) trained on the annotated CirCor recordings.
//!
//! The network gives P(state | frame). The HSMM needs P(frame | state), which is that divided by
//! the state's prior up to a factor shared by all states (Springer et al. 2016, eq. 9), so the
//! priors of the training frames ship with the weights.

use serde::{Deserialize, Serialize};

use super::State;

/// A layer's non-linearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// max(0, x): hidden layers.
    Relu,
    /// The output layer: probabilities over the four states.
    Softmax,
}

/// One dense layer: `out = act(W · in + b)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    /// `outputs × inputs`, row-major by output.
    pub weights: Vec<Vec<f32>>,
    /// One per output.
    pub bias: Vec<f32>,
    /// Applied to the outputs.
    pub activation: Activation,
}

/// The emission model as `training/segmenter.py` writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Emission {
    /// The layers, input first; the last is a softmax over [`State::ALL`].
    pub layers: Vec<Layer>,
    /// Share of training frames in each state, in [`State::ALL`]'s order.
    pub priors: [f32; 4],
}

impl Emission {
    /// Checks that the layers chain from `inputs` to four softmax outputs.
    pub fn validate(&self, inputs: usize) -> Result<(), String> {
        let mut width = inputs;
        for (i, l) in self.layers.iter().enumerate() {
            if l.weights.len() != l.bias.len() || l.weights.iter().any(|r| r.len() != width) {
                return Err(format!("layer {i} does not take {width} inputs"));
            }
            width = l.bias.len();
        }
        match self.layers.last() {
            Some(l) if l.activation == Activation::Softmax && width == State::ALL.len() => {}
            _ => return Err("the last layer must be a softmax over the four states".into()),
        }
        if self.priors.iter().any(|&p| !(p > 0.0 && p < 1.0)) {
            return Err("every state's prior must lie strictly between 0 and 1".into());
        }
        Ok(())
    }

    /// Both views of every frame: what the HSMM decodes and what says how clearly a state was
    /// heard.
    pub fn evaluate(&self, stacked: &[f32], inputs: usize) -> Emissions {
        let n = stacked.len() / inputs.max(1);
        let column = || -> [Vec<f32>; 4] { std::array::from_fn(|_| Vec::with_capacity(n)) };
        let (mut posterior, mut log_likelihood) = (column(), column());
        let log_prior = self.priors.map(f32::ln);
        let mut a = Vec::new();
        let mut b = Vec::new();
        for x in stacked.chunks_exact(inputs) {
            a.clear();
            a.extend_from_slice(x);
            for l in &self.layers {
                b.clear();
                b.extend(
                    l.weights
                        .iter()
                        .zip(&l.bias)
                        .map(|(w, &bias)| bias + w.iter().zip(&a).map(|(w, v)| w * v).sum::<f32>()),
                );
                if l.activation == Activation::Relu {
                    b.iter_mut().for_each(|v| *v = v.max(0.0));
                }
                std::mem::swap(&mut a, &mut b);
            }
            // The last layer's logits: log-softmax, then divide by the prior.
            let max = a.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let log_sum = max + a.iter().map(|v| (v - max).exp()).sum::<f32>().ln();
            for s in 0..State::ALL.len() {
                let log_posterior = a[s] - log_sum;
                posterior[s].push(log_posterior.exp());
                log_likelihood[s].push(log_posterior - log_prior[s]);
            }
        }
        Emissions {
            posterior,
            log_likelihood,
        }
    }
}

/// Per frame and state (state-major: `[s][t]`), what the emission model says.
#[derive(Debug, Clone, PartialEq)]
pub struct Emissions {
    /// P(state | frame).
    pub posterior: [Vec<f32>; 4],
    /// log P(frame | state) up to a per-frame constant: the posterior over the prior.
    pub log_likelihood: [Vec<f32>; 4],
}

#[cfg(test)]
mod tests {
    use super::*;

    fn softmax_only() -> Emission {
        Emission {
            layers: vec![Layer {
                weights: vec![vec![1.0], vec![0.0], vec![-1.0], vec![0.0]],
                bias: vec![0.0; 4],
                activation: Activation::Softmax,
            }],
            priors: [0.25; 4],
        }
    }

    #[test]
    fn likelihoods_are_the_posterior_over_the_prior() {
        let e = softmax_only();
        e.validate(1).expect("valid");
        let ll = e.evaluate(&[2.0], 1).log_likelihood;
        let z = 2f32.exp() + 1.0 + (-2f32).exp() + 1.0;
        approx::assert_abs_diff_eq!(ll[0][0], (2f32.exp() / z / 0.25).ln(), epsilon = 1e-5);
        approx::assert_abs_diff_eq!(ll[2][0], ((-2f32).exp() / z / 0.25).ln(), epsilon = 1e-5);
    }

    #[test]
    fn a_network_that_does_not_chain_is_refused() {
        assert!(softmax_only().validate(2).is_err());
        let mut e = softmax_only();
        e.layers[0].activation = Activation::Relu;
        assert!(e.validate(1).is_err());
    }
}
