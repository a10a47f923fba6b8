//! The max pools our CNNs put after their convolution blocks (2×2 in the 2D CNN, 1×2 in the
//! 1D one), as an operator of our own: non-overlapping tiles, the stride equal to the kernel.
//!
//! tract's `MaxPool` has a vectorised path for stride 1 only; at stride 2 it visits every tap
//! of every output with bounds checks, and takes each maximum with `f32::max`, which wasm has
//! no instruction for (its `f32.max` treats NaN differently), so every one is a call to `fmaxf`.
//! In the browser that took 11 of the 2D CNN's 29 ms on a 30 s recording (bench/web
//! `model_profile`), more than any convolution but one. This operator walks whole rows instead,
//! with a comparison and a select per maximum. It picks the same value as tract's pool, NaN
//! ignored as `f32::max` ignores it; only a tie between −0 and +0 could come out with the other
//! sign, which no sum downstream can tell apart (the parity tests compare the two pools bit for
//! bit).

use tract_onnx::tract_hir::internal::*;

/// ONNX `MaxPool` on `[N, C, H, W]` whose strides equal its `kh × kw` kernel, with no padding,
/// no dilation and `ceil_mode` 0: the output is `[N, C, H / kh, W / kw]` (rounded down, as ONNX
/// does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct TiledMaxPool {
    kh: usize,
    kw: usize,
}

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

impl TiledMaxPool {
    /// This operator, if a `MaxPool` with these attributes is exactly it.
    pub(super) fn from_attributes(a: &PoolAttributes) -> Option<Self> {
        let &[kh, kw] = a.kernel else { return None };
        let tiles = kh > 0
            && kw > 0
            && a.strides == Some(a.kernel)
            && a.pads.is_none_or(|p| p.iter().all(|&p| p == 0))
            && a.dilations.is_none_or(|d| d.iter().all(|&d| d == 1))
            && !a.ceil_mode
            && matches!(a.auto_pad, None | Some("NOTSET") | Some("VALID"));
        tiles.then_some(Self { kh, kw })
    }
}

impl Expansion for TiledMaxPool {
    fn name(&self) -> StaticName {
        "TiledMaxPool".into()
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
        for (axis, k) in [(2, self.kh), (3, self.kw)] {
            s.given(&inputs[0].shape[axis], move |s, d| {
                s.equals(&outputs[0].shape[axis], d / k)
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

impl Op for TiledMaxPool {
    fn name(&self) -> StaticName {
        "TiledMaxPool".into()
    }

    op_as_typed_op!();
}

impl EvalOp for TiledMaxPool {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let &[n, c, h, w] = input.shape() else {
            bail!("TiledMaxPool takes [N, C, H, W], got {:?}", input.shape());
        };
        let mut output = Tensor::zero::<f32>(&[n, c, h / self.kh, w / self.kw])?;
        {
            let source = input.try_as_plain_ram()?;
            let mut target = output.try_as_plain_ram_mut()?;
            self.pool(
                source.as_slice::<f32>()?,
                target.as_slice_mut::<f32>()?,
                h,
                w,
            );
        }
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for TiledMaxPool {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let input = inputs[0];
        if input.rank() != 4 || input.datum_type != f32::datum_type() {
            bail!("TiledMaxPool takes f32 [N, C, H, W], got {input:?}");
        }
        let shape = &input.shape;
        Ok(tvec!(f32::fact([
            shape[0].clone(),
            shape[1].clone(),
            shape[2].clone() / self.kh,
            shape[3].clone() / self.kw,
        ])))
    }

    as_op!();
}

impl TiledMaxPool {
    /// Max-pools every `h × w` plane of `input` into its `(h / kh) × (w / kw)` plane of
    /// `output`: each output row is the first of its `kh` input rows folded in tiles of `kw`,
    /// then each further row folded into it.
    fn pool(&self, input: &[f32], output: &mut [f32], h: usize, w: usize) {
        let (kh, kw) = (self.kh, self.kw);
        let (oh, ow) = (h / kh, w / kw);
        if oh == 0 || ow == 0 {
            return;
        }
        for (plane, out_plane) in input
            .chunks_exact(h * w)
            .zip(output.chunks_exact_mut(oh * ow))
        {
            for (rows, out_row) in plane
                .chunks_exact(kh * w)
                .zip(out_plane.chunks_exact_mut(ow))
            {
                for (ky, row) in rows.chunks_exact(w).enumerate() {
                    let taps = &row[..ow * kw];
                    match (ky, kw) {
                        (0, 2) => fold(out_row, taps, |_, t| max(t[0], t[1])),
                        (_, 2) => fold(out_row, taps, |o, t| max(o, max(t[0], t[1]))),
                        (0, _) => fold(out_row, taps, |_, t| tile_max(t)),
                        _ => fold(out_row, taps, |o, t| max(o, tile_max(t))),
                    }
                }
            }
        }
    }
}

/// `out[x] = f(out[x], taps[x·k .. x·k + k])` for every column, `k` being `taps.len() / out.len()`.
#[inline(always)]
fn fold(out: &mut [f32], taps: &[f32], f: impl Fn(f32, &[f32]) -> f32) {
    let k = taps.len() / out.len();
    for (o, t) in out.iter_mut().zip(taps.chunks_exact(k)) {
        *o = f(*o, t);
    }
}

/// The maximum of a non-empty tile.
fn tile_max(tile: &[f32]) -> f32 {
    tile[1..].iter().fold(tile[0], |m, &v| max(m, v))
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

    /// The pool computed tap by tap, as tract's generic loop does.
    fn reference(input: &[f32], c: usize, h: usize, w: usize, kh: usize, kw: usize) -> Vec<f32> {
        let (oh, ow) = (h / kh, w / kw);
        let mut out = Vec::new();
        for ch in 0..c {
            for y in 0..oh {
                for x in 0..ow {
                    let mut m = f32::MIN;
                    for ty in 0..kh {
                        for tx in 0..kw {
                            m = m.max(input[ch * h * w + (y * kh + ty) * w + x * kw + tx]);
                        }
                    }
                    out.push(m);
                }
            }
        }
        out
    }

    #[test]
    fn pools_each_plane_in_tiles_rounding_down() {
        // Two channels of 5 × 7: each tiling drops the rows and columns left over.
        let (c, h, w) = (2, 5, 7);
        let input: Vec<f32> = (0..c * h * w).map(|v| (v * 7 % 11) as f32 - 5.0).collect();
        for (kh, kw) in [(2, 2), (1, 2), (2, 3), (1, 1), (3, 1)] {
            let mut output = vec![0.0; c * (h / kh) * (w / kw)];
            TiledMaxPool { kh, kw }.pool(&input, &mut output, h, w);
            assert_eq!(output, reference(&input, c, h, w, kh, kw), "{kh}×{kw}");
        }
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
        TiledMaxPool { kh: 2, kw: 2 }.pool(&[1.0, 2.0], &mut output, 1, 2);
        assert!(output.is_empty());
    }

    #[test]
    fn only_pools_in_whole_tiles_are_ours() {
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
        let one_by_two = PoolAttributes {
            kernel: &[1, 2],
            strides: Some(&[1, 2]),
            ..plain
        };
        let ours = |a| TiledMaxPool::from_attributes(&a);
        assert_eq!(ours(plain), Some(TiledMaxPool { kh: 2, kw: 2 }));
        assert_eq!(ours(explicit), Some(TiledMaxPool { kh: 2, kw: 2 }));
        assert_eq!(ours(one_by_two), Some(TiledMaxPool { kh: 1, kw: 2 }));
        let others = [
            PoolAttributes {
                strides: None,
                ..plain
            },
            PoolAttributes {
                strides: Some(&[1, 1]),
                ..plain
            },
            PoolAttributes {
                kernel: &[3, 3],
                ..plain
            },
            PoolAttributes {
                kernel: &[2, 2, 2],
                strides: Some(&[2, 2, 2]),
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
            assert_eq!(ours(other), None, "{other:?}");
        }
    }
}
