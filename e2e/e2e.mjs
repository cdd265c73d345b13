// End-to-end tests of the built playground in headless Chromium (playwright-core).
// Usage: node e2e/e2e.mjs <dist-dir> <screenshot-dir>
// Prints `ok - …` / `not ok - …` lines and a closing `N passed, N failed`.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { serve, launch } from './serve.mjs';

const dist = path.resolve(process.argv[2] ?? 'dist');
const shots = path.resolve(process.argv[3] ?? 'target/e2e');
fs.mkdirSync(shots, { recursive: true });

const server = await serve(dist);
const base = server.base;
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const errors = [];
// Page errors, console errors and failed requests of `p` all count as failures.
function watch(p, what) {
  const tag = what ? ` (${what})` : '';
  p.on('pageerror', (e) => errors.push(`pageerror${tag}: ${e.message}`));
  p.on('console', (m) => { if (m.type() === 'error') errors.push(`console${tag}: ${m.text()}`); });
  p.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()}${tag} ${r.url()}`); });
}
watch(page);

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
await check('the core lints as you type in its worker, and a problem jumps to its line', async () => {
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

// The terminal: the article's Node example, built and run by the engine in the worker.
const transcript = () => page.textContent('#transcript');
async function typeIn(p, line) {
  const before = await p.locator('#transcript .t-input').count();
  await p.fill('#terminal-input', line);
  await p.press('#terminal-input', 'Enter');
  // Done when the status no longer says running and this command's line is echoed.
  await p.waitForFunction((n) => document.querySelectorAll('#transcript .t-input').length > n
    && !document.querySelector('.terminal .running'), before, { timeout: 60000 });
}
const type = (line) => typeIn(page, line);
await check('the Node example loads into the editor', async () => {
  await page.selectOption('#examples', 'node');
  await page.waitForFunction(() => document.querySelector('#editor').value.startsWith('FROM node:14\n'));
  const tabs = await page.locator('.tab').allTextContents();
  expect(tabs.includes('app.js') && tabs.includes('package.json'), `tabs: ${tabs}`);
});
await check('docker build -t my-app . builds the editor\'s files, progress as the core prints it', async () => {
  await type('docker build -t my-app .');
  const text = await transcript();
  expect(text.includes('$ docker build -t my-app .'), 'command not echoed');
  expect(text.includes('COPY package*.json ./'), `no COPY step: ${text}`);
  expect(text.includes('naming to docker.io/library/my-app'), `no naming line: ${text}`);
});
await check('the views module, loaded after the first paint, shows the image\'s layers', async () => {
  await page.waitForFunction(() => (document.querySelector('#views-root')?.textContent ?? '').includes('Layers of my-app'),
    null, { timeout: 30000 });
  const text = await page.textContent('#views-root');
  expect(text.includes('npm install'), `layers view: ${text.slice(0, 300)}`);
});
await check('an instruction picked in the editor (keyboard) marks its layer and its files; a picked layer marks its instruction', async () => {
  // The caret moved onto line 4, `RUN npm install`, with the arrow keys.
  await page.focus('#editor');
  await page.evaluate(() => document.querySelector('#editor').setSelectionRange(0, 0));
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
  const picked = page.locator('#views-root .layer.selected');
  await picked.waitFor({ timeout: 15000 });
  expect((await picked.textContent()).includes('RUN npm install'), `picked: ${await picked.textContent()}`);
  expect(await picked.locator('button').getAttribute('aria-pressed') === 'true', 'not pressed');
  expect((await page.textContent('#views-root .step-note')).startsWith('Dockerfile line 4: layer'), 'no note');
  expect((await page.textContent('.editor .gutter .selected')) === '4\n', 'gutter not marked');
  await page.waitForSelector('.editor .line-mark');
  // A layer picked in the view: its instruction is marked in the editor.
  await page.locator('#views-root .layer-button', { hasText: 'COPY package*.json ./' }).click();
  await page.waitForFunction(() => document.querySelector('.editor .gutter .selected')?.textContent === '3\n');
  expect((await page.locator('#views-root .layer.selected').textContent()).includes('COPY package*.json'), 'layer not picked');
  // The file view marks the files that layer added.
  await showView(page, 'Files');
  await page.fill('#views-root .file-search', '/usr/src/app');
  const touched = page.locator('#views-root .entry.touched', { hasText: 'package.json' });
  await touched.waitFor({ timeout: 15000 });
  expect((await page.textContent('#views-root .layer-label.selected')).includes('COPY package*.json'), 'legend not marked');
  // A layer picked in the file view's legend marks its instruction too.
  await page.locator('#views-root .layer-pick', { hasText: 'RUN npm install' }).click();
  await page.waitForFunction(() => document.querySelector('.editor .gutter .selected')?.textContent === '4\n');
  await page.fill('#views-root .file-search', '');
  await showView(page, 'Layers');
});
await check('docker images lists my-app', async () => {
  await type('docker images');
  const out = await page.locator('#transcript .t-out').last().textContent();
  expect(out.startsWith('REPOSITORY'), `images: ${out}`);
  expect(/my-app\s+latest/.test(out), `images: ${out}`);
});
await check('docker run -d -p 3000:3000 --name web my-app, then docker ps', async () => {
  await type('docker run -d -p 3000:3000 --name web my-app');
  const id = await page.locator('#transcript .t-out').last().textContent();
  expect(/^[0-9a-f]{64}\n$/.test(id), `run printed ${JSON.stringify(id)}`);
  await type('docker ps');
  const out = await page.locator('#transcript .t-out').last().textContent();
  expect(out.startsWith('CONTAINER ID'), `ps: ${out}`);
  expect(out.includes('0.0.0.0:3000->3000/tcp') && /\bweb\n/.test(out), `ps: ${out}`);
});
await check('the app panel shows the modelled Hello World, marked simulated', async () => {
  await page.waitForSelector('.browser[data-port="3000"] .page');
  const body = await page.textContent('.browser[data-port="3000"] .page');
  expect(body === 'Hello World\n', `page: ${JSON.stringify(body)}`);
  expect((await page.textContent('.browser .badge')) === 'simulated', 'no simulated badge');
});
await check('errors are shown on stderr, never a crash', async () => {
  await type('docker rm nope');
  const err = await page.locator('#transcript .t-err').last().textContent();
  expect(err.includes('No such container: nope'), `stderr: ${err}`);
});
await check('Tab completes commands and names; arrow up recalls', async () => {
  await page.fill('#terminal-input', 'docker hist');
  await page.press('#terminal-input', 'Tab');
  await page.waitForFunction(() => document.querySelector('#terminal-input').value === 'docker history ');
  await page.fill('#terminal-input', 'docker stop w');
  await page.press('#terminal-input', 'Tab');
  await page.waitForFunction(() => document.querySelector('#terminal-input').value === 'docker stop web ');
  await page.fill('#terminal-input', '');
  await page.press('#terminal-input', 'ArrowUp');
  const v = await page.inputValue('#terminal-input');
  expect(v === 'docker rm nope', `recalled ${JSON.stringify(v)}`);
  await page.press('#terminal-input', 'Control+c');
  expect((await page.inputValue('#terminal-input')) === '', 'Ctrl-C kept the line');
});
await check('exec -it web sh opens the container\'s shell; exit returns', async () => {
  await type('docker exec -it web sh');
  expect((await page.textContent('.prompt')) === '# ', 'prompt is not #');
  await type('pwd');
  const out = await page.locator('#transcript .t-out').last().textContent();
  expect(out === '/usr/src/app\n', `pwd: ${JSON.stringify(out)}`);
  await type('exit');
  expect((await page.textContent('.prompt')) === '$ ', 'prompt is not $ after exit');
});
await check('screenshot saved', async () => {
  const file = path.join(shots, 'playground.png');
  await page.screenshot({ path: file });
  expect(fs.statSync(file).size > 1000, 'screenshot is empty');
});
await check('a reload keeps the project and the engine\'s state', async () => {
  await page.reload();
  await page.waitForSelector('#editor');
  expect((await page.inputValue('#editor')).startsWith('FROM node:14\n'), 'project lost');
  await type('docker ps --format {{.Names}}');
  const out = await page.locator('#transcript .t-out').last().textContent();
  expect(out === 'web\n', `ps after reload: ${JSON.stringify(out)}`);
});
await check('presenter mode enlarges the text; the theme switches and both survive a reload', async () => {
  const size = () => page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
  const before = await size();
  await page.click('#presenter');
  await page.waitForFunction(() => document.documentElement.dataset.presenter === 'on');
  expect(await size() > before, 'text did not grow');
  await page.click('#theme'); // system → dark
  await page.click('#theme'); // dark → light
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(bg === 'rgb(246, 248, 250)', `light background: ${bg}`);
  await page.reload();
  await page.waitForSelector('#editor');
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'light'
    && document.documentElement.dataset.presenter === 'on');
  await page.screenshot({ path: path.join(shots, 'presenter-light.png') });
  await page.click('#presenter');
  await page.click('#theme'); // light → system
  await page.waitForFunction(() => !document.documentElement.dataset.theme
    && !document.documentElement.dataset.presenter);
});
await check('Ctrl-L clears the terminal', async () => {
  await page.press('#terminal-input', 'Control+l');
  expect((await page.locator('#transcript span').count()) === 0, 'transcript not cleared');
});
await check('a share link opened in a fresh browser restores the files', async () => {
  await page.click('#share');
  await page.waitForSelector('#share-link');
  const link = await page.inputValue('#share-link');
  expect(link.includes('#p='), `link: ${link}`);
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  other.on('pageerror', (e) => errors.push(`pageerror (shared): ${e.message}`));
  await other.goto(link);
  await other.waitForFunction(() => document.querySelector('#editor')?.value.startsWith('FROM node:14\n'));
  const tabs = await other.locator('.tab').allTextContents();
  expect(tabs.includes('app.js'), `tabs: ${tabs}`);
  expect(!other.url().includes('#p='), 'fragment left in the address bar');
  await fresh.close();
});
await check('a damaged share link gives a message and a clean start', async () => {
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  other.on('pageerror', (e) => errors.push(`pageerror (damaged): ${e.message}`));
  await other.goto(`${base}#p=AAAA`);
  await other.waitForSelector('.message');
  const msg = await other.textContent('.message');
  expect(msg.includes('damaged'), `message: ${msg}`);
  expect((await other.inputValue('#editor')).startsWith('FROM python:3.9-slim'), 'no clean start');
  await fresh.close();
});
await check('a corrupt saved project and engine state give a message and a clean start', async () => {
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  other.on('pageerror', (e) => errors.push(`pageerror (corrupt): ${e.message}`));
  await other.goto(base);
  await other.waitForSelector('#editor');
  await other.evaluate(() => {
    localStorage.setItem('layerbox.project', '{"not": "a project"');
    localStorage.setItem('layerbox.engine', 'garbage!');
  });
  await other.reload();
  await other.waitForFunction(() => (document.querySelector('.message')?.textContent ?? '').includes('engine state could not be read'));
  expect((await other.inputValue('#editor')).startsWith('FROM python:3.9-slim'), 'no clean start');
  await fresh.close();
});
await check('a picked rootfs tarball is imported as an image (docker import)', async () => {
  const root = fs.mkdtempSync(path.join(shots, 'rootfs-'));
  fs.mkdirSync(path.join(root, 'etc'));
  fs.writeFileSync(path.join(root, 'etc', 'motd'), 'hello from a tarball\n');
  const tarball = path.join(shots, 'My Root.tar');
  execFileSync('tar', ['-cf', tarball, '-C', root, '.']);
  await page.setInputFiles('#import-image', tarball);
  await page.waitForFunction(() => (document.querySelector('#transcript')?.textContent ?? '')
    .includes('$ docker import - myroot'));
  await page.waitForFunction(() => !document.querySelector('.terminal .running'));
  const out = await page.locator('#transcript .t-out').last().textContent();
  expect(/^sha256:[0-9a-f]{64}\n$/.test(out), `import printed ${JSON.stringify(out)}`);
  await type('docker images --format {{.Repository}}:{{.Tag}}');
  const list = await page.locator('#transcript .t-out').last().textContent();
  expect(list.includes('myroot:latest'), `images: ${list}`);
});
await check('docker save -o downloads a docker-archive of an image with real bytes; a modelled one says why not', async () => {
  const dockerfile = await page.inputValue('#editor');
  await page.fill('#editor', 'FROM scratch\nCOPY app.js /\nCMD ["/app.js"]\n');
  await type('docker build -q -t tiny .');
  const downloaded = page.waitForEvent('download', { timeout: 20000 });
  await type('docker save -o tiny.tar tiny');
  const download = await downloaded.catch(async (e) => {
    throw new Error(`${e.message}; terminal: ${(await transcript()).slice(-400)}`);
  });
  expect(download.suggestedFilename() === 'tiny.tar', download.suggestedFilename());
  const file = path.join(shots, 'tiny.tar');
  await download.saveAs(file);
  const members = execFileSync('tar', ['-tf', file]).toString().split('\n');
  expect(members.includes('manifest.json') && members.includes('repositories'), `members: ${members}`);
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', file, 'manifest.json']).toString());
  expect(manifest[0].RepoTags[0] === 'tiny:latest', `manifest: ${JSON.stringify(manifest)}`);
  await type('docker save -o app.tar my-app');
  const err = await page.locator('#transcript .t-err').last().textContent();
  expect(err.includes('is modelled by the simulation'), `save of a modelled image: ${err}`);
  await page.fill('#editor', dockerfile);
});
await check('Export saves the project as JSON; Import opens it in a fresh browser, a bad file is refused', async () => {
  await type('docker images');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  expect(download.suggestedFilename() === 'layerbox-project.json', download.suggestedFilename());
  const file = path.join(shots, 'layerbox-project.json');
  await download.saveAs(file);
  const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
  expect(saved.format === 'layerbox project' && saved.files.some((f) => f.path === 'app.js'),
    `export: ${JSON.stringify(saved).slice(0, 200)}`);
  expect(saved.history.at(-1) === 'docker images', `history: ${saved.history}`);
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  other.on('pageerror', (e) => errors.push(`pageerror (import): ${e.message}`));
  await other.goto(base);
  await other.waitForSelector('#editor');
  await other.setInputFiles('#import', file);
  await other.waitForFunction(() => document.querySelector('#editor').value.startsWith('FROM node:14\n'));
  const msg = await other.textContent('.message');
  expect(msg.includes('project imported'), `message: ${msg}`);
  await other.press('#terminal-input', 'ArrowUp');
  expect((await other.inputValue('#terminal-input')) === saved.history.at(-1), 'history not imported');
  const bad = path.join(shots, 'not-a-project.json');
  fs.writeFileSync(bad, '{"format":"layerbox project","version":1,"files":[{"path":"../x","contents":""}]}');
  await other.setInputFiles('#import', bad);
  await other.waitForFunction(() => (document.querySelector('.message')?.textContent ?? '').includes('not a layerbox project'));
  expect((await other.inputValue('#editor')).startsWith('FROM node:14\n'), 'a bad file changed the project');
  await fresh.close();
});
await check('after the first visit the playground works offline (service worker)', async () => {
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  other.on('pageerror', (e) => errors.push(`pageerror (offline): ${e.message}`));
  await other.goto(base);
  await other.waitForSelector('#editor');
  // Ready once installed: every built file, the package catalog too, is in its cache.
  await other.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  await fresh.setOffline(true);
  await other.reload();
  await other.waitForSelector('#editor');
  await other.fill('#terminal-input', 'docker build -t offline .');
  await other.press('#terminal-input', 'Enter');
  await other.waitForFunction(() => (document.querySelector('#transcript')?.textContent ?? '')
    .includes('naming to docker.io/library/offline'), null, { timeout: 60000 });
  await fresh.close();
});

// A build shown as it runs, in pages of their own: at 1× the layers appear one at a time as the
// steps run (a cached step visibly skipped), step by step waits for Next, reduced motion shows
// the end at once. `recordBuild` types a build and records, at every change of the page until
// the build has played, how many layers the stack shows, whether a step is shown running, and
// whether the terminal already shows the build's end.
async function recordBuild(p, line) {
  const seen = p.evaluate(() => new Promise((resolve) => {
    const states = [];
    const sample = () => {
      const root = document.querySelector('#views-root');
      const s = {
        layers: root.querySelectorAll('.layer-stack .layer:not(.running)').length,
        cached: root.querySelectorAll('.layer-stack .layer.cached').length,
        running: root.querySelector('.layer.running') !== null,
        done: (document.querySelector('#transcript')?.textContent ?? '').includes('naming to docker.io/library/'),
        playing: document.querySelector('.terminal .running') !== null,
      };
      const last = states.at(-1);
      if (!last || Object.keys(s).some((k) => s[k] !== last[k])) states.push(s);
      return s;
    };
    const obs = new MutationObserver(() => {
      const s = sample();
      if (s.done && !s.playing && s.layers > 0) { obs.disconnect(); resolve(states); }
    });
    obs.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
    setTimeout(() => { obs.disconnect(); resolve(states); }, 45000);
  }));
  await p.fill('#terminal-input', line);
  await p.press('#terminal-input', 'Enter');
  return seen;
}
async function playgroundIn(context) {
  const p = await context.newPage();
  watch(p, 'playback');
  await p.goto(base);
  await p.waitForFunction(() => document.querySelector('#status')?.textContent.includes('engine: ready'));
  return p;
}
await check('a build at 1x: the layers appear one at a time as the steps run, then all', async () => {
  const context = await browser.newContext();
  const p = await playgroundIn(context);
  expect((await p.inputValue('#speed')) === '1', 'the speed is not 1x');
  const states = await recordBuild(p, 'docker build -t play .');
  const counts = [...new Set(states.map((s) => s.layers).filter((n) => n > 0))];
  const final = states.at(-1);
  expect(final.done && !final.playing, `did not finish: ${JSON.stringify(final)}`);
  // The base image's layers, then WORKDIR, COPY, RUN one by one, then the config-only entries.
  expect(counts.length >= 4 && counts.every((n, i) => i === 0 || n > counts[i - 1]),
    `layer counts seen: ${counts}`);
  expect(counts.slice(1, -1).every((n, i) => n - counts[i] === 1), `not one at a time: ${counts}`);
  expect(states.some((s) => s.running && !s.done), 'no step shown running');
  expect(states.some((s) => s.layers > 0 && s.layers < final.layers && !s.done),
    'the terminal did not follow the playback');
  // Built again: every step cached, visibly skipped one after another.
  const again = await recordBuild(p, 'docker build -t play .');
  const cached = [...new Set(again.map((s) => s.cached))];
  expect(cached.length >= 3 && cached.at(-1) === 3, `cached layers seen: ${cached}`);
  expect((await p.textContent('#transcript')).includes('CACHED'), 'no CACHED step');
  await context.close();
});
await check('step by step: each step waits for Next (button or Enter); Skip shows the end', async () => {
  const context = await browser.newContext();
  const p = await playgroundIn(context);
  await p.selectOption('#speed', 'step');
  await p.fill('#terminal-input', 'docker build -t stepped .');
  await p.press('#terminal-input', 'Enter');
  await p.waitForSelector('.speed .beat');
  const beat = () => p.textContent('.speed .beat');
  expect((await beat()).startsWith('step 1 of '), await beat());
  await p.waitForSelector('#views-root .layer-stack');
  const layers = () => p.locator('#views-root .layer-stack .layer:not(.running)').count();
  const first = await layers();
  // Nothing moves on its own.
  await p.waitForTimeout(1500);
  expect((await beat()).startsWith('step 1 of ') && (await layers()) === first, 'step mode did not wait');
  expect(!(await p.textContent('#transcript')).includes('naming to'), 'the end shows already');
  await p.click('#next');
  await p.waitForFunction(() => document.querySelector('.speed .beat')?.textContent.startsWith('step 2 of '));
  expect(await p.locator('#views-root .layer.running').count() === 1, 'the running step is not shown');
  await p.focus('#terminal-input');
  await p.press('#terminal-input', 'Enter');
  await p.waitForFunction(() => document.querySelector('.speed .beat')?.textContent.startsWith('step 3 of '));
  expect(await layers() === first + 1, `layers: ${await layers()} after one step from ${first}`);
  await p.click('#skip');
  await p.waitForFunction(() => !document.querySelector('.speed .beat')
    && document.querySelector('#transcript').textContent.includes('naming to docker.io/library/stepped'));
  expect(await layers() > first + 1, 'Skip did not show every layer');
  // The pick is kept.
  expect(await p.evaluate(() => localStorage.getItem('layerbox.speed')) === 'step', 'speed not kept');
  await p.reload();
  await p.waitForSelector('#speed');
  expect((await p.inputValue('#speed')) === 'step', 'speed lost on reload');
  expect(await p.evaluate(() => document.documentElement.dataset.speed) === 'step', 'no data-speed');
  // Another command's change (a container created) waits for Next too: the lifecycle view
  // keeps showing the state before it.
  await p.locator('#views-root .tabs button', { hasText: 'Lifecycle' }).click();
  await p.waitForFunction(() => (document.querySelector('#views-root .lifecycle')?.textContent ?? '').includes('stepped'));
  await p.fill('#terminal-input', 'docker create --name held stepped');
  await p.press('#terminal-input', 'Enter');
  await p.waitForFunction(() => document.querySelector('.speed .beat')?.textContent === 'step 1 of 2');
  const lifecycle = () => p.textContent('#views-root .lifecycle');
  await p.waitForTimeout(1000);
  expect(!(await lifecycle()).includes('held'), 'the change showed before Next');
  expect(/^[0-9a-f]{64}\n$/.test(await p.locator('#transcript .t-out').last().textContent()), 'no ID printed');
  await p.click('#next');
  await p.waitForFunction(() => (document.querySelector('#views-root .lifecycle')?.textContent ?? '').includes('held')
    && !document.querySelector('.speed .beat'));
  await context.close();
});
await check('reduced motion: a build shows its end at once, nothing animates, and the setting is followed live', async () => {
  const context = await browser.newContext({ reducedMotion: 'reduce' });
  const p = await playgroundIn(context);
  expect(await p.isVisible('.speed .reduced'), 'reduced motion not said');
  expect(await p.evaluate(() => document.documentElement.dataset.speed) === 'instant', 'not instant');
  const states = await recordBuild(p, 'docker build -t calm .');
  const shown = states.filter((s) => s.layers > 0);
  expect(shown.length > 0 && shown.every((s) => s.done && s.layers === shown[0].layers && !s.running),
    `partial states seen: ${JSON.stringify(shown)}`);
  const animated = await p.evaluate(() => [...document.querySelectorAll('#views-root .layer')]
    .filter((e) => getComputedStyle(e).animationName !== 'none').length);
  expect(animated === 0, `${animated} layers animate`);
  // The setting is followed while the page is open.
  await p.emulateMedia({ reducedMotion: 'no-preference' });
  await p.waitForFunction(() => !document.querySelector('.speed .reduced')
    && document.documentElement.dataset.speed !== 'instant', null, { timeout: 5000 });
  await p.emulateMedia({ reducedMotion: 'reduce' });
  await p.waitForFunction(() => document.querySelector('.speed .reduced')
    && document.documentElement.dataset.speed === 'instant', null, { timeout: 5000 });
  await context.close();
});

// A learner's walk through the whole article in a page of its own: edit, build, images, run,
// ps, exec (a copy-up and a whiteout in the file view), stop, commit, rm, rmi, prune, then the
// Node example with its port; a screenshot of each view; then its share link, opened in a
// fresh browser, replays to the same images and containers.
const walkContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const walk = await walkContext.newPage();
watch(walk, 'walk');
const views = (p) => p.locator('#views-root');
async function showView(p, name) {
  await p.locator('#views-root .tabs button', { hasText: name }).click();
}
async function shot(p, locator, name) {
  const file = path.join(shots, `${name}.png`);
  // Animations are taken to their end, so that the picture shows what they lead to.
  await locator.screenshot({ path: file, animations: 'disabled' });
  expect(fs.statSync(file).size > 1000, `screenshot ${name} is empty`);
}
const lastOut = (p) => p.locator('#transcript .t-out').last().textContent();
await check('walk: the page opens on the Python example, the engine ready', async () => {
  await walk.goto(base);
  await walk.waitForFunction(() => document.querySelector('#status')?.textContent.includes('engine: ready'));
  await shot(walk, walk.locator('.panel.editor'), 'editor');
});
await check('walk: edit the Dockerfile and build it; the layers view shows the new step', async () => {
  const text = await walk.inputValue('#editor');
  await walk.fill('#editor', text.replace('ENV NAME World', 'ENV NAME World\nLABEL course="layers"'));
  await walk.waitForFunction(() => document.querySelector('#status').textContent.includes('Dockerfile: 8 lines'));
  await typeIn(walk, 'docker build -t my-python-app .');
  expect((await walk.textContent('#transcript')).includes('naming to docker.io/library/my-python-app'), 'no naming line');
  await walk.waitForFunction(() => {
    const v = document.querySelector('#views-root')?.textContent ?? '';
    return v.includes('Layers of my-python-app') && v.includes('LABEL course');
  }, null, { timeout: 30000 });
  await shot(walk, views(walk), 'layers');
});
await check('walk: images, run -d, ps', async () => {
  await typeIn(walk, 'docker images');
  expect(/my-python-app\s+latest/.test(await lastOut(walk)), 'image not listed');
  await typeIn(walk, 'docker run -d --name py my-python-app');
  expect(/^[0-9a-f]{64}\n$/.test(await lastOut(walk)), 'no container ID');
  await typeIn(walk, 'docker ps');
  const ps = await lastOut(walk);
  expect(/my-python-app .*Up .* py\n/s.test(ps), `ps: ${ps}`);
});
await check('walk: exec writes a file: the file view shows it copied up into the container layer', async () => {
  await typeIn(walk, 'docker exec py sh -c "echo \'# changed\' >> /app/app.py"');
  await showView(walk, 'Files');
  const row = walk.locator('#views-root .entry.copied-up', { hasText: 'app.py' });
  await row.waitFor({ timeout: 15000 });
  expect((await walk.textContent('#views-root .files-view h2')).includes('py'), 'not the container\'s files');
  expect((await row.locator('.origin').textContent()) === 'RW', 'not from the writable layer');
});
await check('walk: exec deletes a file: the file view shows its whiteout', async () => {
  await typeIn(walk, 'docker exec py rm /app/requirements.txt');
  const row = walk.locator('#views-root .entry.deleted', { hasText: 'requirements.txt' });
  await row.waitFor({ timeout: 15000 });
  expect((await row.textContent()).includes('whiteout'), 'no whiteout badge');
  await shot(walk, views(walk), 'files');
});
await check('walk: stop, commit: the lifecycle shows the committed image', async () => {
  await typeIn(walk, 'docker stop py');
  expect((await lastOut(walk)) === 'py\n', 'stop did not print the name');
  await typeIn(walk, 'docker commit py my-python-app:changed');
  expect(/^sha256:[0-9a-f]{64}\n$/.test(await lastOut(walk)), 'commit printed no ID');
  await showView(walk, 'Lifecycle');
  await walk.waitForFunction(() => {
    const t = document.querySelector('#views-root .lifecycle')?.textContent ?? '';
    return t.includes('my-python-app:changed') && t.includes('py');
  }, null, { timeout: 15000 });
  expect(await walk.locator('#views-root .node.state-exited').count() >= 1, 'no exited container');
  await shot(walk, views(walk), 'lifecycle');
});
await check('walk: rm, rmi, prune', async () => {
  await typeIn(walk, 'docker rm py');
  expect((await lastOut(walk)) === 'py\n', 'rm did not print the name');
  await typeIn(walk, 'docker rmi my-python-app:changed');
  const rmi = await lastOut(walk);
  expect(rmi.startsWith('Untagged: my-python-app:changed\n') && rmi.includes('Deleted: sha256:'), `rmi: ${rmi}`);
  await typeIn(walk, 'docker create --name scratchpad my-python-app');
  await typeIn(walk, 'docker container prune -f');
  const prune = await lastOut(walk);
  expect(prune.startsWith('Deleted Containers:\n') && prune.includes('Total reclaimed space'), `prune: ${prune}`);
  await typeIn(walk, 'docker ps -a -q');
  expect((await walk.locator('#transcript span').last().textContent()) === '$ docker ps -a -q\n', 'containers left');
});
await check('walk: a volume keeps data out of the container layer; the file view shows it apart', async () => {
  await typeIn(walk, 'docker run -d --name vol -v notes:/data my-python-app');
  await typeIn(walk, 'docker exec vol sh -c "echo kept > /data/note.txt"');
  await showView(walk, 'Files');
  const row = walk.locator('#views-root .entry', { hasText: 'note.txt' });
  await row.waitFor({ timeout: 15000 });
  expect((await row.locator('.origin').textContent()) === 'VOL', 'not from the volume');
  expect(await walk.locator('#views-root .layer-label.volume', { hasText: 'volume notes at /data' }).count() === 1, 'no volume in the legend');
  await typeIn(walk, 'docker diff vol');
  expect((await lastOut(walk)) === 'A /data\n', 'the volume\'s file is among the container\'s changes');
  await typeIn(walk, 'docker rm -f vol');
  await typeIn(walk, 'docker run --rm -v notes:/data my-python-app cat /data/note.txt');
  expect((await lastOut(walk)) === 'kept\n', 'the next container did not find the file');
});
await check('walk: the Node example runs with -p 3000:3000 and its app says Hello World', async () => {
  await walk.selectOption('#examples', 'node');
  await walk.waitForFunction(() => document.querySelector('#editor').value.startsWith('FROM node:14\n'));
  await typeIn(walk, 'docker build -t node-app .');
  await typeIn(walk, 'docker run -d -p 3000:3000 --name node node-app');
  await walk.waitForSelector('.browser[data-port="3000"] .page');
  expect((await walk.textContent('.browser[data-port="3000"] .page')) === 'Hello World\n', 'no Hello World');
  await shot(walk, walk.locator('.app-panel'), 'app-panel');
  await shot(walk, walk.locator('.panel.terminal'), 'terminal');
});
const engineState = async (p) => {
  await typeIn(p, 'docker images --format "{{.Repository}}:{{.Tag}} {{.Size}}"');
  const images = await lastOut(p);
  await typeIn(p, 'docker ps -a --format "{{.Names}} {{.Image}} {{.State}} {{.Ports}}"');
  return { images, containers: await lastOut(p) };
};
await check('walk: its share link, opened in a fresh browser, replays to the same images and containers', async () => {
  const before = await engineState(walk);
  expect(before.containers.includes('node node-app running 0.0.0.0:3000->3000/tcp'), `ps: ${before.containers}`);
  await walk.click('#share');
  await walk.waitForSelector('#share-link');
  const link = await walk.inputValue('#share-link');
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  watch(other, 'walk, shared');
  await other.goto(link);
  await other.waitForFunction(() => document.querySelector('#editor')?.value.startsWith('FROM node:14\n'));
  await other.waitForFunction(() => (document.querySelector('#transcript')?.textContent ?? '').includes('$ docker run -d -p 3000:3000 --name node node-app')
    && !document.querySelector('.terminal .running'), null, { timeout: 60000 });
  const after = await engineState(other);
  expect(after.images === before.images, `images:\n${after.images}\nwanted:\n${before.images}`);
  expect(after.containers === before.containers, `containers:\n${after.containers}\nwanted:\n${before.containers}`);
  await other.waitForSelector('.browser[data-port="3000"] .page');
  await fresh.close();
});
await walkContext.close();

await check('no console errors', async () => {
  expect(errors.length === 0, errors.join('\n'));
});

await browser.close();
server.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
