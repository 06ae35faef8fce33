// report.html in a real browser: Debian's headless Chromium (driven by playwright-core)
// loads the report written from fixture results, with a fresh profile and nothing from
// the network; every run's SVG timeline renders with its data (I/O line, markers,
// events) and the console shows no error (a CSP violation or a script error would).
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import t from 'tap';
import { writeReport } from '../../src/report/write-all.js';
import { failRun, kernelInfo, passRun, results } from './report-fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/** Deadline for Chromium to start (a loaded 2-core CI machine is slow to start it). */
const LAUNCH_DEADLINE_MS = 60_000;
/** Deadline for report.html to load. */
const LOAD_DEADLINE_MS = 30_000;

if (!existsSync(CHROMIUM)) {
  // CI installs chromium (.ci/packages.txt): there, a missing browser is a failure.
  if (process.env.CI) t.fail(`${CHROMIUM} is missing: install Debian's chromium package`);
  else t.test('report.html in headless Chromium', { skip: `${CHROMIUM} is missing (apt-get install chromium): the browser test needs it` }, async () => undefined);
} else {
  t.test('report.html renders its timelines in headless Chromium, no console error', async (t) => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'rb-browser-'));
    t.teardown(() => rm(tmp, { recursive: true, force: true }));
    const dir = path.join(tmp, 'results');
    const runs = [
      failRun({ kernel_info: kernelInfo('stock') }),
      passRun({ kernel_info: kernelInfo('patched'), phases_ms: { boot: 6500, setup: 4100, load: 12000 } }),
      passRun({ iteration: 2, io: [], events: [], markers: { device_gone_ms: null, device_back_ms: null, ctrl_live_ms: null }, verdict: 'ERROR', reason: 'qemu died' }),
    ];
    await writeReport(dir, results(runs));
    const context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      timeout: LAUNCH_DEADLINE_MS,
    });
    t.teardown(() => context.close());
    const page = context.pages()[0] ?? (await context.newPage());
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    const response = await page.goto(pathToFileURL(path.join(dir, 'report.html')).href, { waitUntil: 'load', timeout: LOAD_DEADLINE_MS });
    t.ok(response?.ok() ?? true, 'report.html loaded');
    t.match(await page.title(), /^reset-bench report /);

    const svgs = await page.$$eval('svg.tl', (els) =>
      els.map((svg) => {
        const box = svg.getBoundingClientRect();
        const line = svg.querySelector('polyline');
        const bbox = line ? (line as SVGGraphicsElement).getBBox() : null;
        return {
          width: box.width,
          height: box.height,
          points: line ? (line.getAttribute('points') ?? '').trim().split(/\s+/).length : 0,
          lineWidth: bbox?.width ?? 0,
          lineHeight: bbox?.height ?? 0,
          markers: [...svg.querySelectorAll('text')].map((x) => x.textContent ?? '').filter((s) => /^(device gone|device back|controller live) /.test(s)),
          eventTicks: svg.querySelectorAll('line > title').length,
          errorDots: svg.querySelectorAll('circle').length,
          noData: [...svg.querySelectorAll('text')].some((x) => x.textContent === 'no I/O data'),
        };
      }),
    );
    t.equal(svgs.length, runs.length, 'one timeline per run');
    for (const s of svgs) t.ok(s.width > 500 && s.height > 100, `timeline laid out (${s.width}x${s.height})`);
    const [fail, pass, error] = svgs;
    t.equal(pass!.points, runs[1]!.io.length, 'every I/O point drawn');
    t.ok(pass!.lineWidth > 400 && pass!.lineHeight > 50, `the I/O line has extent (${pass!.lineWidth}x${pass!.lineHeight})`);
    t.same(pass!.markers, ['device gone 5s', 'device back 6s', 'controller live 7.6s']);
    t.equal(pass!.eventTicks, 6, 'every event a tick');
    t.same(fail!.markers, ['device gone 5s', 'device back 6s'], 'no marker for a never');
    t.ok(fail!.errorDots > 0, 'I/O errors marked');
    t.ok(error!.noData, 'a run without I/O says so');

    t.equal(await page.$$eval('table.cmp tbody tr', (rows) => rows.length), 1, 'one comparison row');
    t.match(await page.$eval('#run-2 .phases', (el) => el.textContent ?? ''), /boot 6\.50 s · setup 4\.10 s · load 12\.00 s/);
    t.match(await page.$eval('#run-1 .kernel', (el) => el.textContent ?? ''), /Linux 6\.1\.0-41-amd64 · Debian 6\.1\.158-1 · stock/);
    t.equal(await page.$$eval('dd.never', (els) => els.length), 2, 'never shown for the two null metrics');
    const shot = await page.screenshot({ fullPage: true });
    t.ok(shot.length > 20_000, `a screenshot with content (${shot.length} bytes)`);
    t.same(problems, [], 'no console error, page error or failed request');

    // The listeners do catch an error: the same report with an inline script, which the
    // report's Content-Security-Policy refuses with a console error.
    const broken = path.join(dir, 'broken.html');
    await writeFile(broken, (await readFile(path.join(dir, 'report.html'), 'utf8')).replace('</body>', '<script>document.title = "x"</script></body>'));
    await page.goto(pathToFileURL(broken).href, { waitUntil: 'load', timeout: LOAD_DEADLINE_MS });
    t.ok(problems.some((p) => /Content Security Policy/i.test(p)), `a CSP violation is seen: ${problems.join('; ')}`);
    t.match(await page.title(), /^reset-bench report /, 'and the script did not run');
  });
}
