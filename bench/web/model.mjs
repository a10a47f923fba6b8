// The model alone, tract vs onnxruntime-web, on the same tensor (a 30 s recording's windows):
// takes tract's result (bench.rs, test `bench_model_tract`), runs ort.html in the page, checks the
// two engines' outputs agree within 1e-4 and reports both medians and their ratio.
import { ROOT, log, sizes, stats } from './lib.mjs';

/** Same counts as bench.rs, so both engines are timed alike. */
const WARMUP = 5;
const RUNS = 21;
/** Extra session creations after the first (which also compiles ort's wasm). */
const CREATIONS = 5;
/** The parity test's tolerance (tests/fixtures/parity/expected.json). */
const TOLERANCE = 1e-4;

/** Where ort.mjs expects each folder; merged into the server's mounts by browser.mjs. */
export const MOUNTS = {
  '/bench/': `${ROOT}/bench/web`,
  '/ort/': `${ROOT}/node_modules/onnxruntime-web/dist`,
  '/models/': `${ROOT}/models`,
  '/fixtures/': `${ROOT}/tests/fixtures/parity`,
};

/**
 * Runs onnxruntime-web in a fresh context and compares it with `tract` (the parsed
 * BENCH_MODEL_JSON). Returns { section, error }: error is set when the outputs disagree.
 */
export async function benchModel(browser, server, tract) {
  const windows = tract.input.shape[0];
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => msg.type() === 'error' && problems.push(`console.error: ${msg.text()}`));
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  const from = server.served.length;
  let ort;
  try {
    await page.goto(`${server.origin}/bench/ort.html`);
    await page.waitForFunction(() => typeof window.benchOrt === 'function', null, { timeout: 30_000 });
    log(`onnxruntime-web: ${CREATIONS + 1} session creations, ${WARMUP} + ${RUNS} runs of ${windows} windows`);
    ort = await page.evaluate((args) => window.benchOrt(args), { windows, warmup: WARMUP, runs: RUNS, creations: CREATIONS });
  } catch (err) {
    throw new Error(`the onnxruntime-web page failed: ${err.message}${problems.length ? `\n${problems.join('\n')}` : ''}`);
  } finally {
    await context.close();
  }

  // What the page fetched from onnxruntime-web's dist/: what ort would add to the app's download.
  const ortDir = MOUNTS['/ort/'];
  const runtime = [...new Set(server.served.slice(from).filter((r) => r.file?.startsWith(ortDir)).map((r) => r.file))]
    .map((file) => ({ file: file.slice(ROOT.length + 1), ...sizes(file) }));

  const diffs = tract.outputs.map((t, i) => Math.abs(t - ort.outputs[i]));
  const maxAbsDiff = Math.max(...diffs);
  const sameInput = tract.input.fnv1a_f32 === ort.input.fnv1a_f32;
  const agree = sameInput && tract.outputs.length === ort.outputs.length && maxAbsDiff <= TOLERANCE;
  const tractRun = tract.run;
  const ortRun = stats(ort.runMs);
  const section = {
    input: { ...tract.input, windows },
    tract: {
      engine: tract.engine,
      build: tract.build,
      model_load: tract.model_load,
      warmup_runs: tract.warmup_runs,
      run: tractRun,
    },
    ort: {
      engine: `onnxruntime-web ${ort.version}`,
      backend: 'wasm, numThreads 1, simd, no proxy worker',
      session_create_first_ms: Math.round(ort.firstCreateMs * 1000) / 1000,
      session_create: stats(ort.createMs),
      warmup_runs: WARMUP,
      run: ortRun,
      input_fnv1a_f32: ort.input.fnv1a_f32,
      runtime_files: runtime,
    },
    agreement: {
      ok: agree,
      same_input_tensor: sameInput,
      max_abs_diff: maxAbsDiff,
      tolerance: TOLERANCE,
      tract_outputs_first: tract.outputs.slice(0, 3),
      ort_outputs_first: ort.outputs.slice(0, 3),
    },
    model_ratio_tract_over_ort: Math.round((tractRun.median_ms / ortRun.median_ms) * 1000) / 1000,
  };
  let error = null;
  if (!agree) {
    error = !sameInput
      ? `tract and onnxruntime-web were given different tensors (fnv1a ${tract.input.fnv1a_f32} vs ${ort.input.fnv1a_f32})`
      : `tract and onnxruntime-web disagree: max |difference| ${maxAbsDiff} > ${TOLERANCE} ` +
        `(tract ${JSON.stringify(tract.outputs)}, ort ${JSON.stringify(ort.outputs)})`;
  }
  return { section, error };
}
