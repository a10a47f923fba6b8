// End-to-end: live recording in the release build. Chromium's fake microphone plays a PhysioNet
// recording; the take must get the label the CLI gives that recording. Also: the microphone
// refused, missing or unplugged mid-take each say so, and the app stays usable.
// Run with `node --test tests/e2e/record.test.mjs` after `trunk build --release`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  cliClassify,
  launchChromium,
  openPage,
  physionetWav,
  scratch,
  serveDist,
  toneWav,
  DATA,
} from './harness.mjs';

// The first analysis waits for the model to load; generous for a loaded CI machine.
const ANALYSIS_TIMEOUT_MS = 60_000;
// a0003: 30.7 s, abnormal by PhysioNet and the CLI (p 0.93; its first 12 s alone 0.95, the
// threshold 0.54): long enough that a 12 s take never loops, far enough from the threshold that
// the capture's resampling and start cannot move it across.
const RECORD = 'a0003';
const TAKE_SECONDS = 12;

/** Chromium whose microphone, allowed without asking, plays `wav` (44.1 or 48 kHz) in a loop. */
const launchPlaying = (wav) =>
  launchChromium(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`]);

/**
 * Keeps what the page asked getUserMedia for and the stream it got (`window.__hbMic`), so a
 * test can read the track's settings or end the track as an unplugged device would.
 */
function spyOnMicrophone() {
  const devices = navigator.mediaDevices;
  const getUserMedia = devices.getUserMedia.bind(devices);
  devices.getUserMedia = async (constraints) => {
    window.__hbMic = { constraints };
    window.__hbMic.stream = await getUserMedia(constraints);
    return window.__hbMic.stream;
  };
}

let server;
let dir;

before(async () => {
  server = await serveDist();
  dir = scratch();
});

after(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Opens the app in `browser` and waits until it can analyse. */
async function openApp(browser) {
  const session = await openPage(browser);
  await session.page.addInitScript(spyOnMicrophone);
  await session.page.goto(server.appUrl);
  await session.page.locator('html[data-ready="true"]').waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
  return session;
}

/** Asserts the page logged no errors and contacted no other origin. */
function assertClean({ problems, requests }) {
  assert.deepEqual(problems, [], 'console errors or uncaught exceptions');
  const foreign = requests.filter(
    (u) => !u.startsWith(server.origin) && !u.startsWith('data:') && !u.startsWith('blob:'),
  );
  assert.deepEqual(foreign, [], 'requests to other origins');
}

/** Presses Record and waits until the take has `seconds`; returns the recorder section. */
async function record(page, seconds) {
  const recorder = page.getByTestId('recorder');
  await page.getByTestId('record').click();
  await recorder.and(page.locator('[data-phase="recording"]')).waitFor({ timeout: 10_000 });
  await recorded(page, seconds);
  return recorder;
}

/** Waits until the take in progress has `seconds`. */
function recorded(page, seconds) {
  return page.waitForFunction(
    (s) => Number(document.querySelector('[data-testid="recorder"]').dataset.seconds) >= s,
    seconds,
    { timeout: (seconds + 10) * 1000 },
  );
}

/** The error the recorder shows. */
const recorderError = (page) => page.getByTestId('record-error').textContent();

/** Picks a file and waits for its result: the app still analyses. */
async function stillAnalyses(page) {
  const wav = toneWav(dir, 'after-error.wav', 8);
  await page.locator('#file-input').setInputFiles(wav);
  const row = page.locator('[data-testid="job"][data-name="after-error.wav"]');
  await row.and(page.locator('[data-status="done"], [data-status="error"]')).waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
  assert.equal(await row.getAttribute('data-status'), 'done');
}

/** Reads a 16-bit mono WAV's rate and length. */
function wavInfo(bytes) {
  assert.equal(bytes.toString('latin1', 0, 4), 'RIFF');
  assert.equal(bytes.toString('latin1', 8, 12), 'WAVE');
  const rate = bytes.readUInt32LE(24);
  return { channels: bytes.readUInt16LE(22), rate, seconds: bytes.readUInt32LE(40) / 2 / rate };
}

describe('recording', () => {
  test('a PhysioNet recording played into the microphone gets the CLI label', async (t) => {
    const wav = physionetWav(RECORD, dir);
    if (!wav) {
      if (process.env.CI) throw new Error(`CI needs the PhysioNet data at ${DATA}`);
      return t.skip(`no PhysioNet data at ${DATA}`);
    }
    // Chromium's fake capture device reads 44.1/48 kHz files; PhysioNet's are 2 kHz.
    const fed = join(dir, `${RECORD}-48k.wav`);
    execFileSync('sox', [wav, '-r', '48000', fed]);
    const [cli] = cliClassify([wav]);
    const browser = await launchPlaying(fed);
    try {
      const session = await openApp(browser);
      const { page } = session;
      const hint = await page.getByTestId('recorder').textContent();
      assert.match(hint, /at least 6 s\b.*at most 10 min/i, 'the limits follow the card and the core');

      const recorder = await record(page, 2);
      const settings = await page.evaluate(() => window.__hbMic.stream.getAudioTracks()[0].getSettings());
      for (const processing of ['echoCancellation', 'noiseSuppression', 'autoGainControl']) {
        assert.equal(settings[processing], false, `${processing} is off`);
      }
      assert.equal((await page.evaluate(() => window.__hbMic.constraints)).audio.channelCount, 1);
      const ink = await recorder.locator('canvas.live-wave').evaluate((c) => {
        const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
        return data.filter((v, i) => i % 4 === 3 && v > 0).length;
      });
      assert.ok(ink > 500, `the live waveform is drawn (${ink} pixels)`);
      assert.match(await recorder.locator('.level').textContent(), /RMS -\d+ dBFS · peak -\d+ dBFS/);
      assert.equal(await page.getByTestId('record-warning').count(), 0, 'a0003 is neither quiet nor clipped');

      await recorded(page, TAKE_SECONDS);
      await page.getByTestId('stop').click();
      const row = page.locator('[data-testid="job"][data-name^="recording-"]');
      await row.and(page.locator('[data-status="done"], [data-status="error"]')).waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
      assert.equal(await row.getAttribute('data-status'), 'done', await row.textContent());
      assert.match(await row.getAttribute('data-name'), /^recording-\d{4}-\d\d-\d\d-\d{4}\.wav$/);
      assert.equal(await row.getAttribute('data-label'), cli.label, `the CLI says ${JSON.stringify(cli)}`);

      // The take saved as a WAV file: the take at the device's rate, and the CLI agrees.
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('save-take').click()]);
      const saved = join(dir, download.suggestedFilename());
      await download.saveAs(saved);
      const info = wavInfo(readFileSync(saved));
      assert.equal(info.channels, 1);
      assert.ok(info.rate >= 8000, `recorded at the device's rate (${info.rate} Hz)`);
      assert.ok(Math.abs(info.seconds - TAKE_SECONDS) < 1, `${info.seconds} s saved`);
      assert.equal(cliClassify([saved])[0].label, cli.label, 'the CLI labels the saved take alike');
      assertClean(session);
    } finally {
      await browser.close();
    }
  });

  test('warns while the level is too low, and while it clips', async () => {
    // 3 s of a faint tone (−76 dBFS), then 3 s of a full-scale square wave; the device loops it.
    const parts = [
      ['quiet.wav', 'sine', '0.00016'],
      ['loud.wav', 'square', '1'],
    ].map(([name, shape, volume]) => {
      const path = join(dir, name);
      execFileSync('sox', ['-n', '-r', '48000', '-b', '16', '-c', '1', path, 'synth', '3', shape, '60', 'vol', volume]);
      return path;
    });
    const fed = join(dir, 'quiet-then-clipping.wav');
    execFileSync('sox', [...parts, fed]);
    const browser = await launchPlaying(fed);
    try {
      const session = await openApp(browser);
      const { page } = session;
      await record(page, 0);
      for (const [warning, advice] of [
        ['too-quiet', /Too quiet: press the chest piece firmly/],
        ['clipping', /Clipping: .* Lower its input volume/],
      ]) {
        const shown = page.locator(`[data-testid="record-warning"][data-warning="${warning}"]`);
        await shown.waitFor({ timeout: 15_000 });
        assert.match(await shown.textContent(), advice);
      }
      await page.getByRole('button', { name: 'Discard' }).click();
      assert.equal(await page.getByTestId('record-warning').count(), 0);
      assert.equal(await page.locator('[data-testid="job"]').count(), 0, 'a discarded take is not analysed');
      assertClean(session);
    } finally {
      await browser.close();
    }
  });

  test('a refused microphone says how to allow it, and files still analyse', async () => {
    const browser = await launchChromium(['--use-fake-device-for-media-stream', '--deny-permission-prompts']);
    try {
      const session = await openApp(browser);
      const { page } = session;
      await page.getByTestId('record').click();
      assert.match(await recorderError(page), /not allowed to use the microphone: allow it/);
      assert.equal(await page.getByTestId('record').isEnabled(), true, 'Record can be pressed again');
      await stillAnalyses(page);
      assertClean(session);
    } finally {
      await browser.close();
    }
  });

  test('no microphone, a take too short and an unplugged microphone each say what to do', async () => {
    // Without the fake device, this machine has no microphone at all.
    const none = await launchChromium(['--use-fake-ui-for-media-stream']);
    try {
      const session = await openApp(none);
      await session.page.getByTestId('record').click();
      assert.match(await recorderError(session.page), /no microphone was found: connect/);
      assertClean(session);
    } finally {
      await none.close();
    }
    const browser = await launchChromium(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream']);
    try {
      const session = await openApp(browser);
      const { page } = session;
      await record(page, 1);
      await page.getByTestId('stop').click();
      assert.match(await recorderError(page), /lasted only 1\.\d s .* at least 6 s/);

      // An unplugged device ends its track; the take so far is too short to analyse.
      await record(page, 1);
      await page.evaluate(() => {
        const track = window.__hbMic.stream.getAudioTracks()[0];
        track.stop();
        track.dispatchEvent(new Event('ended'));
      });
      assert.match(await recorderError(page), /microphone was disconnected during the recording: reconnect/);
      assert.equal(await page.getByTestId('recorder').getAttribute('data-phase'), 'idle');
      assert.equal(await page.locator('[data-testid="job"]').count(), 0, 'nothing too short was queued');
      await stillAnalyses(page);
      assertClean(session);
    } finally {
      await browser.close();
    }
  });
});
