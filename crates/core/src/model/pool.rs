//! The 2×2, stride-2 max pool our CNNs put after each convolution block, as an operator of our
//! own.
//!
//! tract's `MaxPool` has a vectorised path for stride 1 only; at stride 2 it visits every tap
//! of every output with bounds checks, and takes each maximum with `f32::max`, which wasm has
//! no instruction for (its `f32.max` treats NaN differently), so every one is a call to `fmaxf`.
//! In the browser that took 11 of the model's 29 ms on a 30 s recording (bench/web
//! `model_profile`), more than any convolution but one. This operator walks pairs of whole rows
//! instead, with a comparison and a select per maximum. It picks the same value as tract's
//! pool, NaN ignored as `f32::max` ignores it; only a tie between −0 and +0 could come out
//! with the other sign, which no sum downstream can tell apart (the parity tests compare the
//! two pools bit for bit).

use tract_onnx::tract_hir::internal::*;

/// ONNX `MaxPool` with a 2×2 kernel, strides 2, no padding, no dilation and `ceil_mode` 0, on
/// `[N, C, H, W]`: the output is `[N, C, H / 2, W / 2]` (rounded down, as ONNX does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(super) struct HalvingMaxPool;

/// An ONNX `MaxPool` node's attributes, as far as they decide which operator runs it.
#[derive(Debug, Clone, Copy)]
pub(super) struct PoolAttributes<'a> {
    pub(super) kernel: &'a [usize],
    pub(super) strides: Option<&'a [usize]>,
    pub(super) pads: Option<&'a [usize]>,
    pub(super) dilations: Option<&'a [usize]>,
    pub(super) ceil_mode: bool,
    pub(super) auto_pad: Option<&'a str>,
}

impl HalvingMaxPool {
    /// Whether a `MaxPool` with these attributes is exactly this operator.
    pub(super) fn matches(a: &PoolAttributes) -> bool {
        a.kernel == [2, 2]
            && a.strides == Some(&[2, 2])
            && a.pads.is_none_or(|p| p.iter().all(|&p| p == 0))
            && a.dilations.is_none_or(|d| d == [1, 1])
            && !a.ceil_mode
            && matches!(a.auto_pad, None | Some("NOTSET") | Some("VALID"))
    }
}

impl Expansion for HalvingMaxPool {
    fn name(&self) -> StaticName {
        "HalvingMaxPool".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 1)?;
        check_output_arity(outputs, 1)?;
        s.equals(&inputs[0].rank, 4)?;
        s.equals(&outputs[0].rank, 4)?;
        s.equals(&inputs[0].datum_type, f32::datum_type())?;
        s.equals(&outputs[0].datum_type, f32::datum_type())?;
        s.equals(&inputs[0].shape[0], &outputs[0].shape[0])?;
        s.equals(&inputs[0].shape[1], &outputs[0].shape[1])?;
        for axis in 2..4 {
            s.given(&inputs[0].shape[axis], move |s, d| {
                s.equals(&outputs[0].shape[axis], d / 2)
            })?;
        }
        Ok(())
    }

    fn wire(
        &self,
        name: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        model.wire_node(name, *self, inputs)
    }
}

impl Op for HalvingMaxPool {
    fn name(&self) -> StaticName {
        "HalvingMaxPool".into()
    }

    op_as_typed_op!();
}

impl EvalOp for HalvingMaxPool {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let &[n, c, h, w] = input.shape() else {
            bail!("HalvingMaxPool takes [N, C, H, W], got {:?}", input.shape());
        };
        let mut output = Tensor::zero::<f32>(&[n, c, h / 2, w / 2])?;
        {
            let source = input.try_as_plain_ram()?;
            let mut target = output.try_as_plain_ram_mut()?;
            halve(
                source.as_slice::<f32>()?,
                target.as_slice_mut::<f32>()?,
                h,
                w,
            );
        }
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for HalvingMaxPool {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let input = inputs[0];
        if input.rank() != 4 || input.datum_type != f32::datum_type() {
            bail!("HalvingMaxPool takes f32 [N, C, H, W], got {input:?}");
        }
        let shape = &input.shape;
        Ok(tvec!(f32::fact([
            shape[0].clone(),
            shape[1].clone(),
            shape[2].clone() / 2,
            shape[3].clone() / 2,
        ])))
    }

    as_op!();
}

/// Max-pools every `h × w` plane of `input` into its `(h / 2) × (w / 2)` plane of `output`.
fn halve(input: &[f32], output: &mut [f32], h: usize, w: usize) {
    let (oh, ow) = (h / 2, w / 2);
    if oh == 0 || ow == 0 {
        return;
    }
    for (plane, out_plane) in input
        .chunks_exact(h * w)
        .zip(output.chunks_exact_mut(oh * ow))
    {
        for (rows, out_row) in plane
            .chunks_exact(2 * w)
            .zip(out_plane.chunks_exact_mut(ow))
        {
            let (top, bottom) = rows.split_at(w);
            for ((out, top), bottom) in out_row
                .iter_mut()
                .zip(top.chunks_exact(2))
                .zip(bottom.chunks_exact(2))
            {
                *out = max(max(top[0], top[1]), max(bottom[0], bottom[1]));
            }
        }
    }
}

/// `f32::max` as a comparison and a select: NaN loses to any number.
#[inline(always)]
fn max(a: f32, b: f32) -> f32 {
    if b > a || a.is_nan() {
        b
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_each_plane_rounding_down() {
        // One image, two channels of 3 × 5: the last row and column are dropped.
        let input: Vec<f32> = (0..30).map(|v| (v * 7 % 11) as f32 - 5.0).collect();
        let mut output = vec![0.0; 2 * 2];
        halve(&input, &mut output, 3, 5);
        let at = |c: usize, y: usize, x: usize| input[c * 15 + y * 5 + x];
        let expected: Vec<f32> = (0..2)
            .flat_map(|c| {
                (0..2).map(move |x| {
                    [
                        at(c, 0, 2 * x),
                        at(c, 0, 2 * x + 1),
                        at(c, 1, 2 * x),
                        at(c, 1, 2 * x + 1),
                    ]
                    .into_iter()
                    .fold(f32::MIN, f32::max)
                })
            })
            .collect();
        assert_eq!(output, expected);
    }

    #[test]
    fn nan_loses_to_any_number_as_with_f32_max() {
        for (a, b) in [
            (f32::NAN, 1.0),
            (1.0, f32::NAN),
            (-2.0, 3.0),
            (3.0, -2.0),
            (f32::MIN, f32::MAX),
        ] {
            assert_eq!(max(a, b), a.max(b), "max({a}, {b})");
        }
        assert!(max(f32::NAN, f32::NAN).is_nan());
    }

    #[test]
    fn planes_too_small_to_pool_give_an_empty_output() {
        let mut output: Vec<f32> = Vec::new();
        halve(&[1.0, 2.0], &mut output, 1, 2);
        assert!(output.is_empty());
    }

    #[test]
    fn only_the_plain_halving_pool_matches() {
        let plain = PoolAttributes {
            kernel: &[2, 2],
            strides: Some(&[2, 2]),
            pads: None,
            dilations: None,
            ceil_mode: false,
            auto_pad: None,
        };
        let explicit = PoolAttributes {
            pads: Some(&[0, 0, 0, 0]),
            dilations: Some(&[1, 1]),
            auto_pad: Some("NOTSET"),
            ..plain
        };
        assert!(HalvingMaxPool::matches(&plain));
        assert!(HalvingMaxPool::matches(&explicit));
        let others = [
            PoolAttributes {
                strides: None,
                ..plain
            },
            PoolAttributes {
                kernel: &[3, 3],
                ..plain
            },
            PoolAttributes {
                pads: Some(&[1, 1, 1, 1]),
                ..plain
            },
            PoolAttributes {
                dilations: Some(&[2, 2]),
                ..plain
            },
            PoolAttributes {
                ceil_mode: true,
                ..plain
            },
            PoolAttributes {
                auto_pad: Some("SAME_UPPER"),
                ..plain
            },
        ];
        for other in others {
            assert!(!HalvingMaxPool::matches(&other), "{other:?}");
        }
    }
}
