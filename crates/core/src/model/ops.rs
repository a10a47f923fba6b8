//! The ONNX operators HeartBeat's runtime knows, and no others.
//!
//! `tract_onnx::onnx()` registers a builder for each of the ~200 operators tract supports (LSTM,
//! DFT, tree ensembles, quantised ops, ...) as function pointers, so the linker keeps all of them
//! and everything they reach in tract. The browser build must stay under 2 MB gzipped: with the
//! full register its wasm was 6.65 MB after `wasm-opt -Oz` (2.13 MB gzipped), with this one
//! 5.67 MB (1.81 MB). Our CNNs (`training/heartbeat_training/onnx_export.py`) use the operators
//! below. Their builders follow tract-onnx 0.23's own, which are private, attribute for
//! attribute, so a model computes the same numbers bit for bit as with `tract_onnx::onnx()` (the
//! tests check it). A model using any other operator fails to load with
//! [`Error::UnsupportedOperators`], which names them, rather than deep inside tract.

use std::collections::BTreeSet;

use tract_onnx::model::{Onnx, OnnxOpRegister, ParsingContext};
use tract_onnx::pb::{ModelProto, NodeProto};
use tract_onnx::tract_hir::internal::*;
use tract_onnx::tract_hir::ops;
use tract_onnx::tract_hir::ops::cnn::{PaddingSpec, PoolSpec};
use tract_onnx::tract_hir::ops::nn::DataFormat;
use tract_onnx::tract_hir::tract_core::ops::change_axes::AxisOp;
use tract_onnx::tract_hir::tract_core::ops::einsum::EinSum;

use super::pool::{PoolAttributes, TiledMaxPool};
use crate::error::{Error, Result};

/// What a builder makes of one ONNX node: the operator, and the outer-scope names it closes on
/// (always none here: none of these operators has a subgraph).
type Built = (Box<dyn InferenceOp>, Vec<String>);

/// Same signature as tract-onnx's (private) `OpBuilder`.
type Builder = fn(&ParsingContext, &NodeProto) -> TractResult<Built>;

/// Every operator HeartBeat's runtime can load, by ONNX name, sorted.
const OPERATORS: [(&str, Builder); 15] = [
    ("Add", add),
    ("AveragePool", average_pool),
    ("Cast", cast),
    ("Constant", constant),
    ("Conv", conv),
    ("Div", div),
    ("Flatten", flatten),
    ("Gemm", gemm),
    ("GlobalAveragePool", global_average_pool),
    ("MatMul", mat_mul),
    ("MaxPool", max_pool),
    ("Mul", mul),
    ("Relu", relu),
    ("Reshape", reshape),
    ("Sigmoid", sigmoid),
];

/// Parses an ONNX model from its bytes into tract's inference model, with only [`OPERATORS`].
pub(super) fn read(bytes: &[u8]) -> Result<InferenceModel> {
    let mut op_register = OnnxOpRegister::default();
    for (name, builder) in OPERATORS {
        op_register.insert(name, builder);
    }
    let onnx = Onnx {
        op_register,
        ..Onnx::default()
    };
    let proto = onnx
        .proto_model_for_read(&mut std::io::Cursor::new(bytes))
        .map_err(|e| Error::Model(format!("not an ONNX model ({e:#})")))?;
    let missing = unsupported(&proto);
    if !missing.is_empty() {
        return Err(Error::UnsupportedOperators {
            missing,
            supported: OPERATORS.iter().map(|(name, _)| *name).collect(),
        });
    }
    onnx.model_for_proto_model(&proto).map_err(super::model_err)
}

/// The operators of `proto`'s graph missing from [`OPERATORS`], sorted, each once. Checked before
/// parsing because tract would parse them as placeholders and fail later with a message about
/// tract's internals.
fn unsupported(proto: &ModelProto) -> Vec<String> {
    proto
        .graph
        .iter()
        .flat_map(|graph| &graph.node)
        .map(|node| &node.op_type)
        .filter(|op| !OPERATORS.iter().any(|(name, _)| name == op))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn add(_: &ParsingContext, _: &NodeProto) -> TractResult<Built> {
    Ok((ops::math::Add.into_hir(), vec![]))
}

fn div(_: &ParsingContext, _: &NodeProto) -> TractResult<Built> {
    Ok((ops::math::Div.into_hir(), vec![]))
}

/// Our exports store weights as int8 codes times a scale per output channel; like the casts,
/// the products are folded into float32 constants when tract optimises the model.
fn mul(_: &ParsingContext, _: &NodeProto) -> TractResult<Built> {
    Ok((ops::math::Mul.into_hir(), vec![]))
}

fn relu(_: &ParsingContext, _: &NodeProto) -> TractResult<Built> {
    Ok((expand(ops::activations::Clip::new(Some(0.0), None)), vec![]))
}

fn sigmoid(_: &ParsingContext, _: &NodeProto) -> TractResult<Built> {
    Ok((ops::nn::sigmoid().into_hir(), vec![]))
}

/// Our exports store weights as int8 codes or float16 (a quarter or half the download) and cast
/// them to float32 in the graph; tract folds those casts into float32 constants when it optimises the model, so the
/// arithmetic stays float32. Casting to int64 would need tract-onnx's `TDim` mapping for shape
/// arithmetic, which none of our graphs do, so it is refused by name.
fn cast(_: &ParsingContext, node: &NodeProto) -> TractResult<Built> {
    let to = node.get_attr::<DatumType>("to")?;
    if to == i64::datum_type() || to == String::datum_type() {
        bail!("Cast to {to:?} is not supported: HeartBeat's graphs only cast numeric weights")
    }
    Ok((Box::new(ops::cast::cast(to)), vec![]))
}

fn global_average_pool(_: &ParsingContext, _: &NodeProto) -> TractResult<Built> {
    Ok((expand(ops::nn::GlobalAvgPool), vec![]))
}

fn mat_mul(_: &ParsingContext, _: &NodeProto) -> TractResult<Built> {
    Ok((expand(ops::matmul::MatMulInference::default()), vec![]))
}

fn flatten(_: &ParsingContext, node: &NodeProto) -> TractResult<Built> {
    let axis: i64 = node.get_attr_opt("axis")?.unwrap_or(1);
    Ok((expand(ops::array::Flatten::new(axis)), vec![]))
}

fn reshape(_: &ParsingContext, node: &NodeProto) -> TractResult<Built> {
    // `allowzero` came with operator set 14; absent, it is 0.
    let allowzero = node.get_attr_opt::<i64>("allowzero")?.unwrap_or(0) != 0;
    Ok((expand(ops::array::Reshape::new(allowzero)), vec![]))
}

fn constant(ctx: &ParsingContext, node: &NodeProto) -> TractResult<Built> {
    let value = if let Some(v) = node.get_attr_opt("value")? {
        ctx.load_tensor(v)?
    } else if let Some(i) = node.get_attr_opt::<i64>("value_int")? {
        tensor0(i)
    } else if let Some(v) = node.get_attr_opt::<f32>("value_float")? {
        tensor0(v)
    } else if let Some(ints) = node.get_attr_opt_slice::<i64>("value_ints")? {
        tensor1(ints)
    } else if let Some(floats) = node.get_attr_opt_slice::<f32>("value_floats")? {
        tensor1(floats)
    } else {
        bail!("Constant has no numeric value (value, value_int(s) or value_float(s))")
    };
    Ok((
        Box::new(ops::konst::Const::new(value.into_arc_tensor())?),
        vec![],
    ))
}

fn conv(_: &ParsingContext, node: &NodeProto) -> TractResult<Built> {
    let mut op = ops::cnn::Conv::default().padding(padding(node, false)?);
    if let Some(kernel_shape) = node.get_attr_opt_tvec("kernel_shape")? {
        op = op.kernel_shape(kernel_shape);
    }
    if let Some(group) = node.get_attr_opt("group")? {
        op = op.group(group);
    }
    if let Some(dilations) = node.get_attr_opt_tvec("dilations")? {
        op = op.dilations(dilations);
    }
    if let Some(strides) = node.get_attr_opt_tvec("strides")? {
        op = op.strides(strides);
    }
    if node.input.len() == 3 {
        op = op.bias_input(2);
    }
    Ok((expand(op), vec![]))
}

fn max_pool(_: &ParsingContext, node: &NodeProto) -> TractResult<Built> {
    if node.output.get(1).is_some_and(|name| !name.is_empty()) {
        bail!(
            "MaxPool's second output (the indices of the maxima) is not supported: export the \
             pooling without return_indices"
        );
    }
    let (kernel, strides, pads, dilations) = (
        node.get_attr_tvec::<usize>("kernel_shape")?,
        node.get_attr_opt_tvec::<usize>("strides")?,
        node.get_attr_opt_tvec::<usize>("pads")?,
        node.get_attr_opt_tvec::<usize>("dilations")?,
    );
    let attributes = PoolAttributes {
        kernel: &kernel,
        strides: strides.as_deref(),
        pads: pads.as_deref(),
        dilations: dilations.as_deref(),
        ceil_mode: node.get_attr_opt::<isize>("ceil_mode")?.unwrap_or(0) == 1,
        auto_pad: node.get_attr_opt::<&str>("auto_pad")?,
    };
    if let Some(pool) = TiledMaxPool::from_attributes(&attributes) {
        return Ok((expand(pool), vec![]));
    }
    Ok((
        expand(ops::cnn::HirMaxPool::new(pool_spec(node)?, None)),
        vec![],
    ))
}

fn average_pool(_: &ParsingContext, node: &NodeProto) -> TractResult<Built> {
    let count_include_pad = node.get_attr_opt("count_include_pad")?.unwrap_or(false);
    Ok((
        expand(ops::cnn::HirSumPool::new(
            pool_spec(node)?,
            count_include_pad,
            true,
        )),
        vec![],
    ))
}

fn pool_spec(node: &NodeProto) -> TractResult<PoolSpec> {
    Ok(PoolSpec::new(
        DataFormat::NCHW,
        node.get_attr_tvec("kernel_shape")?,
        padding(node, true)?,
        node.get_attr_opt_tvec("dilations")?,
        node.get_attr_opt_tvec("strides")?,
        0,
        0,
    ))
}

/// ONNX's padding attributes: explicit `pads` win over `auto_pad`; with neither, no padding.
/// Pools (`pool_rules`) also honour `ceil_mode`, which convolutions do not have.
fn padding(node: &NodeProto, pool_rules: bool) -> TractResult<PaddingSpec> {
    let ceil_mode = node.get_attr_opt::<isize>("ceil_mode")?.unwrap_or(0) == 1;
    let explicit = |before: TVec<usize>, after: TVec<usize>| {
        if pool_rules {
            PaddingSpec::ExplicitOnnxPool(before, after, ceil_mode)
        } else {
            PaddingSpec::Explicit(before, after)
        }
    };
    if let Some(pads) = node.get_attr_opt_tvec::<usize>("pads")? {
        let (before, after) = pads.split_at(pads.len() / 2);
        return Ok(explicit(before.into(), after.into()));
    }
    let unpadded = match node.get_attr_opt_vec::<isize>("kernel_shape")? {
        Some(shape) => explicit(tvec!(0; shape.len()), tvec!(0; shape.len())),
        None => PaddingSpec::Valid,
    };
    Ok(match node.get_attr_opt::<&str>("auto_pad")? {
        None | Some("NOTSET") => unpadded,
        Some("VALID") => PaddingSpec::Valid,
        Some("SAME_UPPER") => PaddingSpec::SameUpper,
        Some("SAME_LOWER") => PaddingSpec::SameLower,
        Some(other) => {
            bail!("auto_pad {other:?} is not one of NOTSET, VALID, SAME_UPPER and SAME_LOWER")
        }
    })
}

fn gemm(_: &ParsingContext, node: &NodeProto) -> TractResult<Built> {
    let op = Gemm {
        alpha: node.get_attr_opt("alpha")?.unwrap_or(1.0),
        beta: node.get_attr_opt("beta")?.unwrap_or(1.0),
        trans_a: node.get_attr_opt("transA")?.unwrap_or(false),
        trans_b: node.get_attr_opt("transB")?.unwrap_or(false),
    };
    Ok((expand(op), vec![]))
}

/// ONNX's `Y = alpha · A′ · B′ + beta · C` (′: transposed if asked), as tract-onnx expands it:
/// an [`EinSum`], then a multiplication and an addition only where alpha and beta ask for one.
#[derive(Debug, Clone)]
struct Gemm {
    alpha: f32,
    beta: f32,
    trans_a: bool,
    trans_b: bool,
}

impl Expansion for Gemm {
    fn name(&self) -> StaticName {
        "Gemm".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        if inputs.len() < 2 {
            bail!(
                "Gemm needs at least 2 inputs, the node has {}",
                inputs.len()
            );
        }
        if inputs.len() == 3 {
            s.equals(&inputs[2].datum_type, &outputs[0].datum_type)?;
        }
        s.equals(&inputs[0].rank, 2)?;
        s.equals(&inputs[1].rank, 2)?;
        check_output_arity(outputs, 1)?;
        s.equals(&outputs[0].rank, 2)?;
        s.equals(&inputs[0].datum_type, &outputs[0].datum_type)?;
        s.equals(&inputs[1].datum_type, &outputs[0].datum_type)?;
        let (ca, ra) = if self.trans_a { (0, 1) } else { (1, 0) };
        let (cb, rb) = if self.trans_b { (0, 1) } else { (1, 0) };
        s.equals(&inputs[0].shape[ra], &outputs[0].shape[0])?;
        s.equals(&inputs[0].shape[ca], &inputs[1].shape[rb])?;
        s.equals(&inputs[1].shape[cb], &outputs[0].shape[1])?;
        Ok(())
    }

    fn wire(
        &self,
        name: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        let (a, b) = (inputs[0], inputs[1]);
        let axes = AxesMapping::for_numpy_matmul(2, self.trans_a, self.trans_b, false)?;
        let mut wire = model.wire_node(
            format!("{name}.ab"),
            EinSum::new(axes, model.outlet_fact(a)?.datum_type),
            &[a, b],
        )?[0];
        if self.alpha != 1.0 {
            let alpha = tensor0(self.alpha).broadcast_into_rank(model.outlet_fact(wire)?.rank())?;
            let alpha = model.add_const(format!("{name}.alpha_ab.cst"), alpha)?;
            wire =
                model.wire_node(format!("{name}.alpha_ab"), ops::math::mul(), &[alpha, wire])?[0];
        }
        if let Some(&c) = inputs.get(2).filter(|_| self.beta != 0.0) {
            let mut c = c;
            while model.outlet_fact(wire)?.rank() > model.outlet_fact(c)?.rank() {
                c = model.wire_node(
                    format!("{name}.c_add_axis_{}", model.outlet_fact(c)?.rank()),
                    AxisOp::Add(0),
                    &[c],
                )?[0];
            }
            let beta = tensor0(self.beta).broadcast_into_rank(model.outlet_fact(wire)?.rank())?;
            let beta = model.add_const(format!("{name}.beta_c.cst"), beta)?;
            let beta_c =
                model.wire_node(format!("{name}.beta_c"), ops::math::mul(), &[beta, c])?[0];
            wire = model.wire_node(name, ops::math::add(), &[wire, beta_c])?[0];
        }
        Ok(tvec!(wire))
    }
}
