// End-to-end: the release build in dist/, served from a sub-path, driven in headless Chromium.
// Run with `node --test tests/e2e/` after `trunk build --release` (scripts/test.sh does both).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  corruptWav,
  launchChromium,
  modelIsTrained,
  openPage,
  physionetWav,
  scratch,
  serveDist,
  DATA,
} from './harness.mjs';

// The first analysis also loads the model; a 30 s recording takes about a second in the
// release build, so this leaves plenty of room on a loaded CI machine.
const ANALYSIS_TIMEOUT_MS = 60_000;

let server;
let browser;
let dir;
let goodWav;

before(async () => {
  server = await serveDist();
  browser = await launchChromium();
  dir = scratch();
  // a0003: 30.7 s, labelled abnormal by PhysioNet, with a clear rhythm.
  goodWav = physionetWav('a0003', dir);
  if (!goodWav && process.env.CI) throw new Error(`CI needs the PhysioNet data at ${DATA}`);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Opens the app and waits for it to render. */
async function openApp() {
  const session = await openPage(browser);
  await session.page.goto(server.appUrl);
  await session.page.getByRole('heading', { name: 'HeartBeat' }).waitFor();
  return session;
}

/** Asserts the page logged no errors and contacted no other origin. */
function assertClean({ problems, requests }) {
  assert.deepEqual(problems, [], 'console errors or uncaught exceptions');
  const foreign = requests.filter((u) => !u.startsWith(server.origin) && !u.startsWith('data:'));
  assert.deepEqual(foreign, [], 'requests to other origins');
}

describe('the app', () => {
  test('renders its title, disclaimer and model, without errors', async () => {
    const session = await openApp();
    const { page } = session;
    assert.equal(await page.title(), 'HeartBeat');
    await page.getByText('HeartBeat is a screening aid, not a diagnosis.').waitFor();
    const model = await page.getByTestId('model').textContent();
    assert.match(model, /Model: \S+ \S+/);
    const warnings = await page.getByTestId('untrained-warning').count();
    assert.equal(warnings, modelIsTrained() ? 0 : 1, 'untrained banner exactly when trained = false');
    assertClean(session);
    await page.close();
  });

  test('analyses a real WAV recording', async (t) => {
    if (!goodWav) return t.skip(`no PhysioNet data at ${DATA}`);
    const session = await openApp();
    const { page } = session;
    await page.getByLabel('Choose a heart-sound recording (WAV)').setInputFiles(goodWav);
    const report = page.getByTestId('report');
    await report.waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
    assert.match(await report.getByTestId('label').textContent(), /^(Normal|Abnormal)$/);
    assert.match(await report.getByTestId('probability').textContent(), /^\d+\.\d %$/);
    const bpm = Number((await report.getByTestId('heart-rate').textContent()).match(/^(\d+) bpm$/)?.[1]);
    assert.ok(bpm >= 40 && bpm <= 160, `heart rate ${bpm}`);
    assert.equal(await report.getByTestId('duration').textContent(), '30.7 s');
    assert.match(await report.getByTestId('quality').textContent(), /^(Good|Poor)/);
    assert.match(await report.locator('h3').textContent(), /a0003\.wav/);
    assertClean(session);
    await page.close();
  });

  test('explains a corrupt file and stays usable', async (t) => {
    const session = await openApp();
    const { page } = session;
    const input = page.getByLabel('Choose a heart-sound recording (WAV)');
    await input.setInputFiles(corruptWav(dir));
    const error = page.getByTestId('error');
    await error.waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
    const message = await error.textContent();
    assert.match(message, /Could not analyse “corrupt\.wav”: this is not an audio file HeartBeat can read/);
    assert.match(message, /Choose another file/);
    assert.equal(await page.getByTestId('report').count(), 0);

    if (!goodWav) return t.skip(`no PhysioNet data at ${DATA} for the recovery half`);
    await input.setInputFiles(goodWav);
    await page.getByTestId('report').waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
    assert.equal(await page.getByTestId('error').count(), 0, 'the old error is cleared');
    assertClean(session);
    await page.close();
  });

  test('asks for WAV when given FLAC', async (t) => {
    const flac = join(DATA, 'training-a', 'a0003.flac');
    if (!existsSync(flac)) return t.skip(`no PhysioNet data at ${DATA}`);
    const session = await openApp();
    const { page } = session;
    await page.getByLabel('Choose a heart-sound recording (WAV)').setInputFiles(flac);
    const error = page.getByTestId('error');
    await error.waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
    assert.match(await error.textContent(), /FLAC files cannot be read in the browser yet: convert the recording to WAV/);
    assertClean(session);
    await page.close();
  });

  test('works inside an iframe on a host page', async () => {
    const session = await openPage(browser);
    const { page } = session;
    await page.goto(server.hostUrl);
    const app = page.frameLocator('#app');
    await app.getByRole('heading', { name: 'HeartBeat' }).waitFor();
    await app.getByText('HeartBeat is a screening aid, not a diagnosis.').waitFor();
    assert.equal(await app.getByLabel('Choose a heart-sound recording (WAV)').count(), 1);
    assertClean(session);
    await page.close();
  });
});
