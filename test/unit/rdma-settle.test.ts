// The runner's RDMA resource check after a recovery: a target that still holds the
// association the host gave up (a link flap ate the host's disconnect) is read again
// until its keep-alive can have ended it, so a growth that goes away is no FAIL, and
// one that stays still is.
import t from 'tap';
import { runScenario } from '../../src/scenario/runner.js';
import { parseScenario } from '../../src/scenario/spec.js';
import { FakeLab } from '../helpers/fake-lab.js';
import { tempDirSync } from '../helpers/temp-dir.js';

/** A fake lab whose target counts 3 QPs before the reset, 5 for `grownAsks` asks after, then 3 again. */
function labWithTargetQps(grownAsks: number): { lab: FakeLab; asks: () => number } {
  const lab = new FakeLab({ onReset: 'recovers', reconnectMs: 50 });
  let n = 0;
  lab.target.agent.handlers.set('rdma.resources', () => {
    n++;
    const qp = n === 1 || n > 1 + grownAsks ? 3 : 5;
    return [{ devName: 'rxe0', counts: { qp, cm_id: qp } }];
  });
  return { lab, asks: () => n };
}

const spec = parseScenario({ name: 'flap-settle', side: 'target', reset: 'rdma-link', down_ms: 200, pre_ms: 500, post_ms: 500, connect: { keep_alive_tmo: 1 } });

async function run(lab: FakeLab): Promise<{ verdict: string; reason: string; lines: string[] }> {
  const lines: string[] = [];
  const r = await runScenario(spec, { kernel: 'stock', resultsDir: tempDirSync('rb-settle-'), iteration: 1, project: '/project', progress: (m) => lines.push(m) }, lab.driver());
  return { verdict: r.verdict, reason: r.reason, lines };
}

t.test('a growth the target frees before its keep-alive deadline is no FAIL', async (t) => {
  const { lab, asks } = labWithTargetQps(2);
  const r = await run(lab);
  t.equal(r.verdict, 'PASS', r.reason);
  t.equal(asks(), 4, 'before, at collect, once more grown, then as before');
  t.ok(r.lines.some((l) => /target: cm_id 3 -> 5, qp 3 -> 5: reading the counts again until [\d.]+ s, when the target's keep-alive has ended any association the host gave up/.test(l)), 'the wait is said');
});

t.test('a growth that outlasts the keep-alive deadline is a FAIL', async (t) => {
  const { lab, asks } = labWithTargetQps(Infinity);
  const r = await run(lab);
  t.equal(r.verdict, 'FAIL');
  t.match(r.reason, /left more RDMA objects than it found \(target: cm_id 3 -> 5, qp 3 -> 5\)/);
  t.ok(asks() >= 4, `read again until the deadline (${asks()} asks)`);
});

t.test('no growth: read once, no wait', async (t) => {
  const { lab, asks } = labWithTargetQps(0);
  const r = await run(lab);
  t.equal(r.verdict, 'PASS', r.reason);
  t.equal(asks(), 2, 'before and at collect');
  t.notOk(r.lines.some((l) => /reading the counts again/.test(l)));
});
