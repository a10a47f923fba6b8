// Runs models/heartbeat.onnx on onnxruntime-web's wasm backend in the page, for comparison with
// tract (bench.rs, test `bench_model_tract`). The input is built the same way as there: the
// stored parity windows, window i = stored window i mod 3. model.mjs serves this folder at
// /bench/, onnxruntime-web's dist/ at /ort/, models/ at /models/ and the parity fixtures at
// /fixtures/, all from 127.0.0.1.
import * as ort from '../ort/ort.wasm.min.mjs';

/** FNV-1a over the f32 bit patterns, as bench.rs computes it: proves the tensors are equal. */
function fnv1a(values) {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0');
}

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

/**
 * Times session creation and `session.run` on a [windows, 1, n_mels, frames] batch.
 * Returns timings in ms (raw lists; the driver takes medians) and the outputs.
 */
window.benchOrt = async ({ windows, warmup, runs, creations }) => {
  ort.env.wasm.numThreads = 1; // one thread, like tract in the app's worker
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = new URL('../ort/', import.meta.url).href;

  const [model, parity] = await Promise.all([
    fetchOk('../models/heartbeat.onnx').then((r) => r.arrayBuffer()).then((b) => new Uint8Array(b)),
    fetchOk('../fixtures/input.json').then((r) => r.json()),
  ]);
  const [stored, , nMels, frames] = parity.shape;
  const per = nMels * frames;
  const batch = new Float32Array(windows * per);
  for (let i = 0; i < windows; i++) {
    const from = (i % stored) * per;
    batch.set(parity.data.slice(from, from + per), i * per);
  }

  const options = { executionProviders: ['wasm'] };
  // The first creation also fetches and compiles ort's wasm runtime; later ones reuse it.
  let start = performance.now();
  const session = await ort.InferenceSession.create(model, options);
  const firstCreateMs = performance.now() - start;
  const createMs = [];
  for (let i = 0; i < creations; i++) {
    start = performance.now();
    const extra = await ort.InferenceSession.create(model, options);
    createMs.push(performance.now() - start);
    await extra.release();
  }

  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', batch, [windows, 1, nMels, frames]) };
  const outputName = session.outputNames[0];
  let result;
  for (let i = 0; i < warmup; i++) result = await session.run(feeds);
  const runMs = [];
  for (let i = 0; i < runs; i++) {
    start = performance.now();
    result = await session.run(feeds);
    runMs.push(performance.now() - start);
  }
  const output = result[outputName];
  const outputs = Array.from(output.data);
  await session.release();
  return {
    version: ort.env.versions?.web ?? null,
    input: { name: session.inputNames[0], shape: [windows, 1, nMels, frames], fnv1a_f32: fnv1a(batch) },
    output: { name: outputName, dims: output.dims },
    firstCreateMs,
    createMs,
    runMs,
    outputs,
  };
};
