// The main job end to end: stock fails and patched passes, for host- and target-side
// device resets; the results directory has every output, and the report its parts.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { labUnavailable, project } from '../helpers/lab.js';
import { parseResults } from '../../src/report/results-json.js';

const why = await labUnavailable();
if (why) t.skip(`VM tests skipped: ${why}`);
else {
  const out = mkdtempSync(join(tmpdir(), 'rb-compare-'));
  const r = await execa('node', [join(project, 'dist', 'cli', 'main.js'), 'compare', 'host-rdma-link', 'target-rdma-link', '--results', out, '--json'], {
    reject: false,
    cwd: project,
    timeout: 1_800_000,
  });
  const results = parseResults(r.stdout, 'compare --json');
  const run = (scenario: string, kernel: string) => results.runs.find((x) => x.scenario === scenario && x.kernel === kernel)!;

  t.test('exit code 0: the patched kernel passed everything', async (t) => {
    t.equal(r.exitCode, 0, r.stderr.slice(-3000));
  });

  for (const scenario of ['host-rdma-link', 'target-rdma-link']) {
    t.test(`${scenario}: stock FAILs, patched PASSes`, async (t) => {
      const stock = run(scenario, 'stock');
      const patched = run(scenario, 'patched');
      t.equal(stock.verdict, 'FAIL', stock.reason);
      t.equal(patched.verdict, 'PASS', patched.reason);
      t.equal(stock.metrics.recovery_ms, null, 'stock: no I/O after the reset');
      t.ok(patched.metrics.recovery_ms !== null && patched.metrics.recovery_ms < 20_000, 'patched: I/O resumed');
      t.ok(patched.metrics.ctrl_live_ms !== null, 'patched: controller live again');
      t.equal(patched.metrics.io_errors, 0);
      t.equal(patched.metrics.verify_errors, 0);
      t.equal(patched.metrics.lost_writes, 0);
      t.equal(patched.metrics.splats, 0);
      t.ok(patched.io.length > 100, 'an I/O series for the timeline');
      t.ok(patched.events.some((e) => e.value === 'device gone') && patched.events.some((e) => e.value === 'device back'));
    });
  }

  t.test('host-side stock: the controller is deleted, as the seed says', async (t) => {
    t.match(run('host-rdma-link', 'stock').reason, /controller nvme\d+ deleted .* after the device went away/);
  });

  t.test('target-side stock: the port stays linked but the host never reconnects', async (t) => {
    const s = run('target-rdma-link', 'stock');
    t.match(s.reason, /controller nvme\d+ still (connecting|resetting)/);
    const port = s.events.filter((e) => e.vm === 'target' && e.key === 'nvmet-port/1');
    t.ok(port.length > 0 && port.every((e) => e.value !== 'unlinked'), 'nvmet port 1 stayed linked to the subsystem');
  });

  t.test('the results directory has every output', async (t) => {
    for (const f of ['results.json', 'results.tap', 'junit.xml', 'kcidb.json', 'report.html', 'reset-bench.log']) t.ok(existsSync(join(out, f)), f);
    const tap = readFileSync(join(out, 'results.tap'), 'utf8');
    t.match(tap, /^TAP version 13/);
    t.match(tap, /^not ok \d+ - host-rdma-link \[stock\]/m);
    t.match(tap, /^ok \d+ - host-rdma-link \[patched\]/m);
    t.match(tap, /^ {2}verdict: FAIL$/m);
    t.match(tap, /^ {4}outage_ms: \d+$/m);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    t.equal((html.match(/<svg/g) ?? []).length >= results.runs.length, true, 'an SVG timeline per run');
    t.match(html, /device gone/);
    t.match(html, /device back/);
    t.match(html, /controller live/);
    for (const x of results.runs) for (const a of Object.values(x.artifacts)) t.ok(existsSync(join(out, a)), `artifact ${a}`);
  });
}
