// Regenerates docs/screenshot.png: the release build in dist/ analysing two real PhysioNet
// recordings (a0003 as WAV, e00002 as FLAC) in headless Chromium.
//   trunk build --release && node scripts/screenshot.mjs
import { join } from 'node:path';
import { launchChromium, physionetFlac, physionetWav, scratch, serveDist, ROOT } from '../tests/e2e/harness.mjs';

const wav = physionetWav('a0003', scratch());
const flac = physionetFlac('e00002');
if (!wav || !flac) throw new Error('needs the PhysioNet data next to the clone (or HEARTBEAT_DATA)');
const server = await serveDist();
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(server.appUrl);
  await page.locator('html[data-ready="true"]').waitFor({ timeout: 60_000 });
  await page.locator('#file-input').setInputFiles([wav, flac]);
  await page.locator('[data-testid="job"][data-status="done"][data-name="e00002.flac"]').waitFor({ timeout: 60_000 });
  await page.getByTestId('result').waitFor();
  const out = join(ROOT, 'docs', 'screenshot.png');
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await server.close();
}
