// The Playwright half of bench/web/run.sh: one headless Chromium, one local server, then
//   --tract FILE  tract's BENCH_MODEL_JSON → onnxruntime-web on the same tensor (model.mjs)
//   --core FILE   the core-pipeline BENCH_JSON, passed through
//   --profile FILE  tract's per-operator BENCH_PROFILE_JSON, passed through
//   --app         timings and transfer size of the built app (app.mjs)
// Prints one JSON object on stdout; exits 1 after printing it when a part failed (the outputs
// of the two engines disagree, or the app does not follow its DOM contract).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as app from './app.mjs';
import { launchChromium, log, serve } from './lib.mjs';
import * as model from './model.mjs';

const { values: args } = parseArgs({
  options: {
    tract: { type: 'string' },
    core: { type: 'string' },
    profile: { type: 'string' },
    app: { type: 'boolean', default: false },
  },
});
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

const server = await serve({ ...model.MOUNTS, ...app.MOUNTS });
const browser = await launchChromium();
const out = { bench: 'heartbeat-web', browser: { executable: process.env.CHROMIUM ?? '/usr/bin/chromium', version: browser.version() } };
const errors = [];
try {
  if (args.core) out.core_pipeline = readJson(args.core);
  if (args.profile) out.model_profile = readJson(args.profile);
  if (args.tract) {
    const { section, error } = await model.benchModel(browser, server, readJson(args.tract));
    out.model = section;
    if (error) errors.push(error);
  }
  if (args.app) {
    const { section, error } = await app.benchApp(browser, server);
    out.app = section;
    if (error) errors.push(error);
  }
} catch (err) {
  errors.push(err.stack ?? String(err));
} finally {
  await browser.close();
  await server.close();
}
if (errors.length) out.errors = errors;
console.log(JSON.stringify(out, null, 2));
for (const error of errors) log(`FAILED: ${error}`);
process.exitCode = errors.length ? 1 : 0;
