// Draws the app's install icons (public/icons/*.png) from the favicon's heart, in Debian's
// Chromium. Run after changing public/favicon.svg:  node scripts/icons.mjs
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const heart = readFileSync(join(ROOT, 'public/favicon.svg'), 'utf8');
const BRAND = '#b3123b';

// "any": the heart on a white rounded square. "maskable": full-bleed brand colour, the heart
// (white) inside the central 60 %, which every launcher's mask keeps.
const maskableHeart = heart.replace(/fill="#b3123b"/, 'fill="#fff"').replace(/stroke="#fff"/, `stroke="${BRAND}"`);
const icons = [
  { name: 'icon-192.png', size: 192, body: `<div class="any">${heart}</div>` },
  { name: 'icon-512.png', size: 512, body: `<div class="any">${heart}</div>` },
  { name: 'icon-maskable-512.png', size: 512, body: `<div class="maskable">${maskableHeart}</div>` },
];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
mkdirSync(join(ROOT, 'public/icons'), { recursive: true });
for (const { name, size, body } of icons) {
  const page = await browser.newPage({ viewport: { width: size, height: size } });
  await page.setContent(`<!DOCTYPE html><style>
    html, body { margin: 0; width: ${size}px; height: ${size}px; background: transparent; }
    div { width: 100%; height: 100%; display: grid; place-items: center; box-sizing: border-box; }
    .any { background: #fff; border-radius: 22%; padding: 10%; }
    .maskable { background: ${BRAND}; padding: 22%; }
    svg { width: 100%; height: 100%; }
  </style>${body}`);
  writeFileSync(join(ROOT, 'public/icons', name), await page.screenshot({ omitBackground: true }));
  await page.close();
}
await browser.close();
console.log('wrote public/icons/', icons.map((i) => i.name).join(', '));
