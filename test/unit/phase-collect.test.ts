// collect, leak-scan, judge and shutdown against the fake lab, and the phase plan.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { boot } from '../../src/scenario/phases/boot.js';
import { collect, ioSeries } from '../../src/scenario/phases/collect.js';
import { connect, connectRace } from '../../src/scenario/phases/connect.js';
import { finish } from '../../src/scenario/phases/finish.js';
import { instrument } from '../../src/scenario/phases/instrument.js';
import { controllerName, judge } from '../../src/scenario/phases/judge.js';
import { leakScan } from '../../src/scenario/phases/leak-scan.js';
import { load } from '../../src/scenario/phases/load.js';
import { DURING, planFor } from '../../src/scenario/phases/plan.js';
import { resets } from '../../src/scenario/phases/resets.js';
import { shutdown } from '../../src/scenario/phases/shutdown.js';
import { target } from '../../src/scenario/phases/target.js';
import { watch } from '../../src/scenario/phases/watch.js';
import type { TimelineEvent } from '../../src/scenario/types.js';
import { fakeRun, quickSpec } from '../helpers/fake-lab-context.js';

const upToFinish = [boot, target, instrument, connect, load, resets, watch, finish];

t.test('the plan: the scenario picks its phases as data', async (t) => {
  const names = (s = quickSpec()) => planFor(s).map((p) => p.name);
  t.same(names(), ['boot', 'target', 'instrument', 'connect', 'load', 'resets', 'watch', 'finish', 'collect', 'leak-scan', 'judge', 'shutdown']);
  t.same(names(quickSpec({ during: 'connect' })), ['boot', 'target', 'instrument', 'connect-race', 'load', 'finish', 'collect', 'leak-scan', 'judge', 'shutdown']);
  t.same(Object.keys(DURING).sort(), ['connect', 'io', 'reconnect']);
});

t.test('collect: guest timelines and harness events on one clock, in order, written to timeline.json', async (t) => {
  const spec = quickSpec({ down_ms: 200, admin: { action: 'reset-controller', after_ms: 50 } });
  const { ctx, fake } = await fakeRun(spec, {}, upToFinish);
  fake.host.splats.push({ kind: 'warning', line: 'WARNING: CPU: 0 PID: 1 at x.c:1 f+0x0 ', at: Date.now() });
  // An attempt the guard refused (the guard is armed since the reset).
  await fake.host.agent.call('fabrics.connect', { options: 'x' }).catch(() => undefined);
  await collect.run(ctx);
  const kinds = (k: string) => ctx.events.filter((e) => e.kind === k);
  t.same(kinds('reset').map((e) => e.value), ['device gone', 'device back']);
  t.equal(kinds('admin').length, 1);
  t.equal(kinds('guard')[0]?.value, 'refused: fabrics.connect (a new NVMe-oF connect)');
  const states = ctx.events.filter((e) => e.key === 'nvme/nvme0').map((e) => e.value);
  t.equal(states[0], 'live');
  t.equal(states.filter((v) => v === 'resetting').length, 2, 'the sampler saw the reset and the admin reset');
  t.equal(states.at(-1), 'live');
  const sorted = [...ctx.events].sort((a, b) => a.t_ms - b.t_ms);
  t.same(ctx.events, sorted, 'in time order');
  const gone = kinds('reset')[0]!.t_ms;
  const firstConnecting = ctx.events.find((e) => e.value === 'connecting')!;
  t.ok(Math.abs(firstConnecting.t_ms - gone) < 100, 'guest and harness events on one clock');
  t.same(JSON.parse(readFileSync(join(ctx.runDir, 'timeline.json'), 'utf8')) as TimelineEvent[], ctx.events);
  t.ok(ctx.io.length > 10 && ctx.io.some((p) => p.completions === 0) && ctx.io.some((p) => p.completions > 0), 'the I/O series with its gap');
  t.ok(ctx.gaps.length >= 1);
  t.same(ctx.splatLines, ['host: WARNING: CPU: 0 PID: 1 at x.c:1 f+0x0']);
  await fake.kill();
});

t.test('collect: the racing connect as two events before the reset', async (t) => {
  const spec = quickSpec({ during: 'connect', inject_after_ms: 20, down_ms: 100 });
  const { ctx, fake } = await fakeRun(spec, { connectWhileDown: 'refuse', connectMs: 60 }, [boot, target, instrument, connectRace, load, finish, collect]);
  const connects = ctx.events.filter((e) => e.key === 'connect');
  t.same(connects.map((e) => e.value), ['connect write started', 'connect refused: ECONNRESET']);
  t.ok(connects[0]!.t_ms <= ctx.resets[0]!.goneMs);
  t.equal(controllerName(ctx), 'nvme0');
  await fake.kill();
});

t.test('ioSeries: interval i at startNs + i * intervalNs on the run clock', async (t) => {
  const map = { vm: 'host', offsetNs: 1_000_000n, errorMs: 0, atNs: 0n };
  const tl = { startNs: 11_000_000, intervalNs: 10_000_000, reads: [1, 0], writes: [2, 0], errors: [0, 1], p50Ns: [], p99Ns: [], maxNs: [] };
  const load = { timeline: tl } as unknown as Parameters<typeof ioSeries>[0];
  t.same(ioSeries(load, map, 0n), [
    { t_ms: 10, completions: 3, errors: 0 },
    { t_ms: 20, completions: 0, errors: 1 },
  ]);
  t.same(ioSeries(undefined, map, 0n), []);
});

t.test('leak-scan: only where kmemleak was cleared, each leak a kernel report', async (t) => {
  const report = 'unreferenced object 0xffff888003a1b200 (size 64):\n  comm "kworker/0:1", pid 12\n  backtrace:\n    [<000000001>] kmalloc_trace+0x26/0x90\n    [<000000002>] nvme_rdma_alloc_queue+0x10/0x20\n';
  const { ctx, fake, said } = await fakeRun(quickSpec(), { kmemleak: { vms: ['host'], report } }, [...upToFinish, collect]);
  t.ok(leakScan.when!(ctx));
  await leakScan.run(ctx);
  t.equal(ctx.splatLines.length, 1);
  t.match(ctx.splatLines[0], /^host: kmemleak: unreferenced object 0xffff888003a1b200 \(size 64\) from kworker\/0:1: nvme_rdma_alloc_queue/);
  t.equal(fake.host.agent.ops('writeFile').filter((a) => a.data === 'scan').length, 2, 'two scans');
  t.equal(said.at(-1), 'quick-patched-1: kmemleak scan in host');
  const plain = await fakeRun(quickSpec(), {}, [boot, target, instrument]);
  t.notOk(leakScan.when!(plain.ctx), 'skipped without kmemleak');
  await fake.kill();
});

t.test('judge: metrics and verdict from the record; a kernel report fails an otherwise good run', async (t) => {
  const { ctx, fake } = await fakeRun(quickSpec(), {}, [...upToFinish, collect]);
  await judge.run(ctx);
  t.equal(ctx.judgement?.verdict, 'PASS', ctx.judgement?.reason ?? 'judged');
  t.equal(ctx.judgement?.metrics.splats, 0);
  ctx.splatLines.push('host: BUG: something');
  await judge.run(ctx);
  t.equal(ctx.judgement?.verdict, 'FAIL');
  t.match(ctx.judgement?.reason, /I\/O resumed, but the kernel reported: host: BUG: something/);
  await fake.kill();
});

t.test('shutdown: kernel logs saved with run times, then the lab killed (nothing of a guest outlives it)', async (t) => {
  const { ctx, fake } = await fakeRun(quickSpec(), {}, [boot, target, instrument]);
  fake.host.kmsg.push({ usec: 1_500_000, level: 6, text: 'nvme nvme0: new ctrl' } as (typeof fake.host.kmsg)[number]);
  await shutdown.run(ctx);
  t.equal(fake.state, 'killed');
  t.equal(ctx.labClosed, true);
  t.match(readFileSync(join(ctx.runDir, 'host.kmsg.log'), 'utf8'), /^\[1\.500000\] run=-?\d+ms <6> nvme nvme0: new ctrl$/m);
});
