// End-to-end tests of the built playground in headless Chromium (playwright-core).
// Usage: node e2e/e2e.mjs <dist-dir> <screenshot-dir>
// Prints `ok - …` / `not ok - …` lines and a closing `N passed, N failed`.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const dist = path.resolve(process.argv[2] ?? 'dist');
const shots = path.resolve(process.argv[3] ?? 'target/e2e');
fs.mkdirSync(shots, { recursive: true });

const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml' };
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  let file = path.join(dist, decodeURIComponent(url.pathname));
  if (!file.startsWith(dist)) { res.writeHead(403).end(); return; }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
  fs.readFile(file, (err, data) => {
    if (err) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    res.end(data);
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const errors = [];
page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });

let passed = 0, failed = 0;
async function check(name, fn) {
  try { await fn(); passed++; console.log(`ok - ${name}`); }
  catch (e) { failed++; console.log(`not ok - ${name}\n  ${String(e.message ?? e).split('\n').join('\n  ')}`); }
}
function expect(cond, msg) { if (!cond) throw new Error(msg); }

await check('page loads and renders the app', async () => {
  await page.goto(base);
  await page.waitForSelector('#editor', { timeout: 15000 });
  expect((await page.textContent('h1')) === 'layerbox', 'heading is not "layerbox"');
});
await check('editor holds the article\'s Python Dockerfile', async () => {
  const text = await page.inputValue('#editor');
  expect(text.startsWith('FROM python:3.9-slim\nWORKDIR /app\nCOPY . /app\n'), `editor: ${text}`);
  expect(text.includes('CMD ["python", "app.py"]'), 'no CMD line');
});
await check('status line says simulated and counts lines', async () => {
  const status = await page.textContent('#status');
  expect(status.includes('Simulated engine'), `status: ${status}`);
  expect(status.includes('Dockerfile: 7 lines'), `status: ${status}`);
});
await check('typing updates the status line', async () => {
  await page.fill('#editor', 'FROM alpine:3.20\nRUN echo hi\nCMD ["sh"]\n');
  await page.waitForFunction(() => document.querySelector('#status').textContent.includes('Dockerfile: 3 lines'));
});
await check('the core lints as you type, and a problem jumps to its line', async () => {
  await page.fill('#editor', 'FROM alpine:3.20\nCOPY onlyone\n');
  await page.waitForFunction(() => document.querySelector('#status').textContent.includes('problems: 1 error'));
  const item = page.locator('.diag.sev-error');
  expect((await item.textContent()).includes('COPY requires at least two arguments'), 'no COPY error listed');
  await item.locator('.where').click();
  const sel = await page.evaluate(() => {
    const t = document.querySelector('#editor');
    return t.value.slice(t.selectionStart, t.selectionEnd);
  });
  expect(sel.startsWith('COPY'), `selection is ${JSON.stringify(sel)}`);
});
await check('screenshot saved', async () => {
  await page.reload();
  await page.waitForSelector('#editor');
  const file = path.join(shots, 'playground.png');
  await page.screenshot({ path: file });
  expect(fs.statSync(file).size > 1000, 'screenshot is empty');
});
await check('no console errors', async () => {
  expect(errors.length === 0, errors.join('\n'));
});

await browser.close();
server.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
