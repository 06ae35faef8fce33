#!/usr/bin/env node
// Renders a report (a fixture, or DIR/results.json when DIR is given) and takes a PNG
// screenshot of report.html with headless Chromium. Needs `npx tsc -p .` first (uses dist/)
// and chromium (`apt-get install -y chromium`). DIR/results.json may be version 1 or 2.
//   node scripts/report-screenshot.mjs [--out PNG] [DIR]
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { writeReport } = await import(pathToFileURL(path.join(root, 'dist/report/write-all.js')).href);
const { readResultsJson } = await import(pathToFileURL(path.join(root, 'dist/report/results-json.js')).href);

const args = process.argv.slice(2);
let out = path.join(os.tmpdir(), 'reset-bench-report.png');
let dir;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--out') out = path.resolve(args[++i]);
  else dir = path.resolve(args[i]);
}

function ioSeries(endMs, gapFrom, gapTo, errFrom = 0, errTo = 0) {
  const pts = [];
  for (let t = 0; t <= endMs; t += 250) {
    const gap = t >= gapFrom && t < gapTo;
    pts.push({ t_ms: t, completions: gap ? 0 : 1150 + ((t / 250) % 7) * 20, errors: t >= errFrom && t < errTo && t % 1000 === 0 ? 4 : 0 });
  }
  return pts;
}
const ev = (t_ms, vm, kind, key, value) => ({ t_ms, vm, kind, key, value });
function run(scenario, kernel, iteration, pass, outage) {
  const side = scenario.split('-')[0];
  const back = 6000;
  const live = pass ? back + outage - 1400 : null;
  return {
    scenario, kernel, iteration,
    verdict: pass ? 'PASS' : 'FAIL',
    reason: pass
      ? `controller nvme0 reconnected ${((live - back) / 1000).toFixed(2)} s after the device came back; I/O resumed after ${((outage - 1000) / 1000).toFixed(2)} s`
      : 'controller nvme0 deleted 0.08 s after the device went away; no I/O completed after the reset',
    metrics: pass
      ? { outage_ms: outage, recovery_ms: outage - 1000, ctrl_live_ms: live - back, io_errors: 0, verify_errors: 0, lost_writes: 0, splats: 0 }
      : { outage_ms: 7000, recovery_ms: null, ctrl_live_ms: null, io_errors: 16, verify_errors: 0, lost_writes: 0, splats: 1 },
    topology: 'pair', side, reset: 'rdma-link',
    started_at: new Date(Date.UTC(2025, 0, 15, 10, iteration)).toISOString(),
    duration_ms: 12500,
    markers: { device_gone_ms: 5000, device_back_ms: back, ctrl_live_ms: live },
    io: pass ? ioSeries(12000, 5000, 5000 + outage) : ioSeries(12000, 5000, 1e9, 5000, 9000),
    events: pass
      ? [ev(5000, side, 'reset', 'rdma-link', 'down'), ev(5020, 'host', 'ctrl', 'nvme0', 'resetting'), ev(5100, 'host', 'ctrl', 'nvme0', 'connecting'), ev(back, side, 'reset', 'rdma-link', 'up'), ev(live, 'host', 'ctrl', 'nvme0', 'live'), ev(5010, 'target', 'log', 'nvmet', 'port disconnected')]
      : [ev(5000, side, 'reset', 'rdma-link', 'down'), ev(5080, 'host', 'ctrl', 'nvme0', 'deleting'), ev(back, side, 'reset', 'rdma-link', 'up')],
    splat_lines: pass ? [] : ['[   12.3] WARNING: CPU: 0 PID: 42 at drivers/nvme/host/rdma.c:1234 nvme_rdma_free_queue+0x12/0x40'],
    artifacts: { 'host console': `${scenario}/${kernel}/${iteration}/host-console.log` },
    clock: { method: 'agent-ping', error_bound_ms: 2 },
  };
}

let tmp;
let results;
if (dir) {
  results = await readResultsJson(dir);
} else {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rb-shot-'));
  dir = tmp;
  results = {
    version: 2,
    generated_at: '2025-01-15T10:20:00.000Z',
    tool: { name: 'reset-bench', version: '0.1.0' },
    runs: [
      run('host-rdma-link', 'stock', 1, false),
      run('host-rdma-link', 'patched', 1, true, 3000),
      run('host-rdma-link', 'patched', 2, true, 3400),
      run('target-rdma-link', 'stock', 1, false),
      run('target-rdma-link', 'patched', 1, true, 2600),
    ],
  };
  await writeReport(dir, results);
}
const html = path.join(dir, 'report.html');
const profile = await mkdtemp(path.join(os.tmpdir(), 'rb-chromium-'));
try {
  await execa('chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, `--screenshot=${out}`, '--window-size=1400,2000',
    '--hide-scrollbars', pathToFileURL(html).href,
  ], { timeout: 60_000 });
} finally {
  await rm(profile, { recursive: true, force: true });
}
const st = await stat(out);
if (st.size < 1000) throw new Error(`screenshot ${out} looks empty (${st.size} bytes)`);
process.stdout.write(`${out}\n${tmp ? `report: ${html}\n` : ''}`);
