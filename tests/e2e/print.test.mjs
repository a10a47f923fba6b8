// End-to-end: a result printed as the patient's one-page report. Headless Chromium prints the
// page to PDF as its print dialog would (print media, beforeprint and afterprint), and poppler
// reads it back: pdfinfo (pages), pdftotext (the fields) and pdftoppm (the charts' ink).
// Then the patient reference: kept with its result in this browser, and in no export.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium, openPage, physionetWav, scratch, serveDist, DATA } from './harness.mjs';

const ANALYSIS_TIMEOUT_MS = 60_000;
// a0003: 30.7 s, abnormal by PhysioNet.
const RECORD = 'a0003';
const REFERENCE = 'MRN 0042-7731 / J.D.';
const REFERENCES_KEY = 'heartbeat.patient-references';
// The charts' paper size in style/main.css, 180 mm, in CSS pixels; drawn at 2 device pixels per
// CSS pixel while printing (src/charts/canvas.rs).
const PRINT_WIDTH_PX = Math.round((180 / 25.4) * 96);

let server;
let browser;
let dir;
let wav;
let page;
let problems;

before(async () => {
  server = await serveDist();
  browser = await launchChromium();
  dir = scratch();
  wav = physionetWav(RECORD, dir);
  if (!wav && process.env.CI) throw new Error(`CI needs the PhysioNet data at ${DATA}`);
  ({ page, problems } = await openPage(browser));
  page.on('dialog', (d) => d.accept());
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** The text of the `<dd>` after the result's `<dt>` named `term`. */
const fact = (term) => page.locator(`[data-testid="result"] dt:text-is("${term}") + dd`).first().textContent();

/** Whitespace as one space (pdftotext breaks lines where the page does). */
const flat = (text) => text.replace(/\s+/g, ' ').trim();

/** Clicks `button` and returns the downloaded file's text. */
async function download(button) {
  const [file] = await Promise.all([page.waitForEvent('download'), button.click()]);
  return readFileSync(await file.path(), 'utf8');
}

/** Share of the pixels darker than near-white in rows `top`..`bottom` of a binary PGM. */
function inkShare(path, top, bottom) {
  const bytes = readFileSync(path);
  const header = bytes.toString('latin1', 0, 64).match(/^P5\s+(\d+)\s+(\d+)\s+255\s/);
  assert.ok(header, `${path} is a binary 8-bit PGM`);
  const width = Number(header[1]);
  const pixels = bytes.subarray(header[0].length);
  const [from, to] = [Math.ceil(top) + 1, Math.floor(bottom) - 1];
  assert.ok(to > from, `rows ${from}..${to}`);
  let ink = 0;
  for (let i = from * width; i < to * width; i++) if (pixels[i] < 235) ink++;
  return ink / ((to - from) * width);
}

describe('the printed report', () => {
  test('is one A4 page: the verdict and its numbers, the charts, the patient reference', async (t) => {
    if (!wav) return t.skip(`no PhysioNet data at ${DATA}`);
    await page.goto(server.appUrl);
    await page.locator('html[data-ready="true"]').waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
    await page.locator('#file-input').setInputFiles(wav);
    const result = page.getByTestId('result');
    await result.waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
    const shown = {
      label: await page.getByTestId('label').textContent(),
      probability: await page.getByTestId('probability').textContent(),
      threshold: (await fact('Decision threshold')).replace(/ \(.*/, ''),
      heartRate: await page.getByTestId('heart-rate').textContent(),
      quality: await page.getByTestId('quality').textContent(),
      duration: await page.getByTestId('duration').textContent(),
      analysed: await page.getByTestId('analysed').textContent(),
      model: await fact('Model'),
    };
    assert.match(shown.analysed, /^Analysed \S/);
    assert.match(shown.model, /^\S+ \d+\.\d+\.\d+$/);
    await page.getByLabel('Patient reference').fill(REFERENCE);

    // Listening after the app, so it sees the charts as the app redrew them for paper.
    await page.evaluate(() =>
      addEventListener('beforeprint', () => {
        const charts = document.querySelectorAll('.chart-waveform, .chart-windows');
        window.printedCharts = [...charts].map((c) => [c.clientWidth, c.width / c.clientWidth]);
      }),
    );
    // No emulateMedia('print') first: page.pdf() prints with print media anyway, and like the
    // print dialog it fires beforeprint while the page is still laid out for the screen, the
    // case the charts' paper sizing is for (emulated print media would hide it).
    const pdf = join(dir, 'report.pdf');
    await page.pdf({ path: pdf, format: 'A4' });

    const printed = await page.evaluate(() => window.printedCharts);
    assert.deepEqual(printed, [[PRINT_WIDTH_PX, 2], [PRINT_WIDTH_PX, 2]], 'charts redrawn for paper at 2×');

    const info = execFileSync('pdfinfo', [pdf], { encoding: 'utf8' });
    assert.match(info, /^Pages:\s+1$/m, info);
    assert.match(info, /^Page size:.*\(A4\)$/m, info);

    const text = flat(execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' }));
    const expected = {
      ...shown,
      title: 'HeartBeat heart-sound screening report',
      file: `Result for “${RECORD}.wav”`,
      reference: `Patient reference: ${REFERENCE}`,
      disclaimer: 'A screening aid, not a diagnosis.',
    };
    for (const [field, value] of Object.entries(expected)) {
      assert.ok(text.includes(flat(value)), `the report shows the ${field} “${flat(value)}”:\n${text}`);
    }
    for (const [name, words] of Object.entries({
      navigation: 'Analytics',
      picker: 'Choose recordings',
      'results table': 'Export CSV',
      'print button': 'Print report',
      spectrogram: 'spectrogram',
    })) {
      assert.ok(!text.includes(words), `the ${name} is not printed`);
    }

    // The two charts, drawn at their paper size. Chromium prints a 2D canvas as the vector
    // drawing it recorded (no image: `pdfimages -list` is empty), so the chart text is the PDF's
    // text, and the charts' regions are rendered (pdftoppm, 50 dpi, grey) and checked for ink.
    assert.deepEqual(text.match(/Time \(s\)/g), ['Time (s)', 'Time (s)'], 'both charts drew their axes');
    assert.ok(text.includes('threshold'), 'the per-window chart drew its threshold');
    const words = [
      ...execFileSync('pdftotext', ['-bbox', pdf, '-'], { encoding: 'utf8' }).matchAll(
        /<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)<\/word>/g,
      ),
    ].map(([, top, bottom, word]) => ({ word, top: Number(top), bottom: Number(bottom) }));
    const at = (word, nth = 0) => {
      const found = words.filter((w) => w.word === word)[nth];
      assert.ok(found, `“${word}” (#${nth + 1}) is on the page`);
      return found;
    };
    const regions = {
      // From the charts' heading down to the waveform's time axis title.
      waveform: [at('trouble').bottom, at('Time').top, 0.2],
      // From the per-window chart's top tick label down to its time axis title.
      windows: [at('1.00').top, at('Time', 1).top, 0.05],
    };
    execFileSync('pdftoppm', ['-r', '50', '-gray', '-singlefile', pdf, join(dir, 'page')]);
    for (const [chart, [top, bottom, least]] of Object.entries(regions)) {
      const ink = inkShare(join(dir, 'page.pgm'), (top * 50) / 72, (bottom * 50) / 72);
      assert.ok(ink > least, `the ${chart} chart has ink: ${(ink * 100).toFixed(1)} % of its region`);
    }

    // After printing, the charts are the screen's again.
    const canvases = await result.locator('canvas').evaluateAll((cs) =>
      cs.map((c) => [c.width, Math.round(c.clientWidth * devicePixelRatio)]),
    );
    for (const [bitmap, box] of canvases) assert.equal(bitmap, box, 'redrawn for the screen');
    assert.deepEqual(problems, []);
  });

  test('keeps the patient reference with its result, in this browser only, out of every export', async (t) => {
    if (!wav) return t.skip(`no PhysioNet data at ${DATA}`);
    const stored = () => page.evaluate((key) => localStorage.getItem(key), REFERENCES_KEY);
    assert.ok((await stored())?.includes(REFERENCE), 'kept in localStorage');

    // Not in the results' exports.
    for (const name of ['Export CSV', 'Export JSON']) {
      const text = await download(page.getByRole('button', { name }));
      assert.ok(text.includes(`${RECORD}.wav`) && !text.includes('7731'), `${name} holds no reference`);
    }

    // Another result starts without one: a reference belongs to one result.
    const copy = join(dir, `${RECORD}-again.wav`);
    execFileSync('cp', [wav, copy]);
    await page.locator('#file-input').setInputFiles(copy);
    await page.locator(`[data-testid="result"][data-name="${RECORD}-again.wav"]`).waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
    assert.equal(await page.getByLabel('Patient reference').inputValue(), '');

    // After a reload, the first result reopened from the History still has its own.
    await page.reload();
    await page.getByRole('link', { name: 'History', exact: true }).click();
    await page.getByTestId('history-entry').nth(1).waitFor();
    await page.getByRole('link', { name: `${RECORD}.wav`, exact: true }).click();
    await page.getByTestId('result').waitFor();
    assert.equal(await page.getByLabel('Patient reference').inputValue(), REFERENCE);
    assert.equal(await page.getByTestId('printed-reference').textContent(), REFERENCE);

    // Not in the history's export; deleting the entry deletes its reference.
    await page.getByRole('link', { name: '← All analyses' }).click();
    const history = await download(page.getByRole('button', { name: 'Export history' }));
    assert.ok(history.includes(`${RECORD}.wav`) && !history.includes('7731'), 'the history export holds no reference');
    await page.getByRole('button', { name: `Delete the analysis of ${RECORD}.wav`, exact: true }).click();
    await page.waitForFunction((key) => localStorage.getItem(key) === null, REFERENCES_KEY);
    assert.deepEqual(problems, []);
  });
});
