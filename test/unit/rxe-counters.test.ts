// The RDMA port counters saved when a multipath run's paths FAIL a run the common
// verdict passed: every device's hw_counters of every VM, in one grep per VM.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeLab } from '../helpers/fake-lab.js';
import { ok } from '../helpers/fake-lab-agent.js';
import { tempDirSync } from '../helpers/temp-dir.js';
import { saveRxeCounters } from '../../src/scenario/rxe-counters.js';

t.test("every device's counters, per VM; a VM with none says so", async (t) => {
  const fake = new FakeLab({});
  const hw = '/sys/class/infiniband/rxe1/ports/1/hw_counters';
  const values = new Map([
    [`${hw}/sent_pkts`, '120'],
    [`${hw}/retry_exceeded_err`, '1'],
    ['/sys/class/infiniband/rxe0/ports/1/hw_counters/sent_pkts', '7'],
  ]);
  for (const [f, v] of values) fake.host.agent.files.seedFile(f, `${v}\n`);
  const greps: string[][] = [];
  fake.host.agent.execHandlers.push((argv) => {
    if (argv[0] !== 'grep') return undefined;
    greps.push(argv);
    return ok(argv.slice(3).map((f) => `${f}:${values.get(f) ?? '?'}\n`).join(''));
  });
  const dir = tempDirSync('rb-rxe-');
  t.equal(await saveRxeCounters({ machines: [fake.host, fake.target] }, dir), 'rxe-counters.txt');
  t.equal(greps.length, 1, 'one grep for the VM that has counters');
  t.same(greps[0]!.slice(0, 3), ['grep', '-H', ''], 'file names printed, no shell');
  const text = readFileSync(join(dir, 'rxe-counters.txt'), 'utf8');
  t.match(text, /^--- host ---\n/);
  t.match(text, new RegExp(`${hw}/retry_exceeded_err:1\n`));
  t.match(text, /rxe0\/ports\/1\/hw_counters\/sent_pkts:7\n/);
  t.match(text, /--- target ---\n\(no RDMA device with counters under \/sys\/class\/infiniband\)\n$/);
  await fake.kill();
});

t.test('the paths phase saves them only when it FAILs a run the common verdict passed', async (t) => {
  const { judgeMultipath } = await import('../../src/scenario/phases/paths.js');
  const { boot } = await import('../../src/scenario/phases/boot.js');
  const { fakeRun, quickSpec } = await import('../helpers/fake-lab-context.js');
  const metrics = { outage_ms: 10, recovery_ms: 5, ctrl_live_ms: 0, io_errors: 0, verify_errors: 0, lost_writes: 0, splats: 0 };
  for (const [common, nvme1, saved] of [
    ['PASS', 'connecting', true],
    ['PASS', 'live', false],
    ['FAIL', 'connecting', false],
  ] as const) {
    const { ctx, fake, said } = await fakeRun(quickSpec({ topology: 'pair2', paths: { connect: [0, 1], reset: [0] } }), {}, [boot]);
    fake.host.agent.files.seedFile('/sys/class/nvme/nvme0/state', 'live\n');
    fake.host.agent.files.seedFile('/sys/class/nvme/nvme1/state', `${nvme1}\n`);
    ctx.paths = [
      { link: 0, transport: 'rdma', device: 'nvme0' },
      { link: 1, transport: 'rdma', device: 'nvme1' },
    ];
    ctx.judgement = { verdict: common, reason: 'common', metrics };
    await judgeMultipath.run(ctx);
    t.equal(ctx.rxeCounters, saved ? 'rxe-counters.txt' : undefined, `${common}, nvme1 ${nvme1}`);
    t.equal(said.some((l) => l.includes('RDMA port counters saved')), saved);
    await fake.kill();
  }
});
