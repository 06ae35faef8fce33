// Native multipath on pair2, end to end: one path's host device reset while the loader
// writes to the multipath head. Stock loses the path for good (its controller deleted);
// patched brings it back, and on both the I/O goes on over the other path.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { labOrSkip, project } from '../helpers/lab.js';
import { parseResults } from '../../src/report/results-json.js';
import { runStory, verdictMessage } from '../helpers/run-story.js';

const cli = join(project, 'dist', 'cli', 'main.js');
if (await labOrSkip()) {
  const out = mkdtempSync(join(tmpdir(), 'rb-mpath-'));
  const r = await execa('node', [cli, 'compare', 'mpath-host-rdma-link', '--results', out, '--json'], { reject: false, cwd: project, timeout: 900_000 });
  const runs = parseResults(r.stdout, 'compare --json').runs;
  const run = (kernel: string) => runs.find((x) => x.kernel === kernel)!;

  t.test('patched: PASS, both paths live, I/O never waited for the reset path', async (t) => {
    const p = run('patched');
    t.equal(p.verdict, 'PASS', verdictMessage(out, p, 'PASS'));
    t.match(p.reason, /2 of 2 paths live$/);
    t.ok(p.metrics.outage_ms !== null && p.metrics.outage_ms < 4000, `longest stall ${p.metrics.outage_ms} ms, under the 4 s outage`);
    if (p.metrics.outage_ms === null || p.metrics.outage_ms >= 4000) t.comment(runStory(out, p));
    t.equal(p.metrics.io_errors, 0);
    t.equal(p.metrics.verify_errors, 0);
    t.equal(p.metrics.lost_writes, 0);
    t.equal(p.metrics.splats, 0);
  });

  t.test('stock: FAIL, the reset path deleted, the other path carried the I/O', async (t) => {
    const s = run('stock');
    t.equal(s.verdict, 'FAIL', verdictMessage(out, s, 'FAIL'));
    t.match(s.reason, /paths: nvme\d+ \(link 0\) deleted, nvme\d+ \(link 1\) live; 1 of 2 paths live$/);
    t.equal(s.metrics.io_errors, 0, 'multipath failed the I/O over, no error reached the loader');
    t.equal(s.metrics.verify_errors, 0);
  });

  t.test('exit code 0: patched passed', async (t) => {
    t.equal(r.exitCode, 0, r.stderr.slice(-3000));
  });
}
