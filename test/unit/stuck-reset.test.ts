// A reset's trigger that blocks behind the controller's deletion ends the run (stock
// 6.1's PCI unbind returned after 93 s): the wait, the phase against the fake lab, the
// phases after it skipped, and the verdict.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { boot } from '../../src/scenario/phases/boot.js';
import { connect } from '../../src/scenario/phases/connect.js';
import { instrument } from '../../src/scenario/phases/instrument.js';
import { load } from '../../src/scenario/phases/load.js';
import { planFor } from '../../src/scenario/phases/plan.js';
import { endsAtDeletion, resets } from '../../src/scenario/phases/resets.js';
import { judgePaths, type PathEnd } from '../../src/scenario/phases/paths.js';
import { findScenario } from '../../src/scenario/catalog.js';
import { inFlightAtEarlyEnd } from '../../src/scenario/phases/extra-ctrls.js';
import type { RunContext } from '../../src/scenario/context.js';
import { collect } from '../../src/scenario/phases/collect.js';
import { judge } from '../../src/scenario/phases/judge.js';
import { shutdown } from '../../src/scenario/phases/shutdown.js';
import { runResult } from '../../src/scenario/result.js';
import { target } from '../../src/scenario/phases/target.js';
import { isBeingDeleted, stuckBehindDeletion } from '../../src/scenario/stuck-reset.js';
import { decide } from '../../src/scenario/verdict.js';
import type { LabAgent } from '../../src/orchestrate/nvme-lab.js';
import { fakeRun, quickSpec } from '../helpers/fake-lab-context.js';

const upToLoad = [boot, target, instrument, connect, load];

/** An agent whose controller reads the states given, one per read, the last one for good. */
function stateAgent(states: string[]): { agent: LabAgent; reads: () => number } {
  let n = 0;
  const fs = {
    readFile: (path: string) => {
      if (!path.endsWith('/nvme0/state')) return Promise.reject(new Error(`unexpected ${path}`));
      const st = states[Math.min(n++, states.length - 1)]!;
      return st === 'absent' ? Promise.reject(Object.assign(new Error('ENOENT'), { code: 'ENOENT' })) : Promise.resolve(`${st}\n`);
    },
  };
  return { agent: { fs: () => fs } as unknown as LabAgent, reads: () => n };
}

t.test('which states can never become live again', async (t) => {
  for (const s of ['deleting', 'deleting (no IO)', 'dead', 'absent']) t.ok(isBeingDeleted(s), s);
  for (const s of ['live', 'resetting', 'connecting', 'new']) t.notOk(isBeingDeleted(s), s);
});

t.test('the wait: a trigger that returns in the grace is never cut short; one that blocks ends at a deletion', async (t) => {
  const o = { graceMs: 100, pollMs: 20 };
  const quick = stateAgent(['deleting (no IO)']);
  t.equal(await stuckBehindDeletion(new Promise((r) => setTimeout(r, 30)), quick.agent, 'nvme0', o), undefined);
  t.equal(quick.reads(), 0, 'the state is not even read');
  const blocked = stateAgent(['connecting', 'connecting', 'deleting (no IO)']);
  const started = Date.now();
  t.equal(await stuckBehindDeletion(new Promise(() => {}), blocked.agent, 'nvme0', o), 'deleting (no IO)');
  t.ok(Date.now() - started >= 100, 'not before the grace');
  t.equal(blocked.reads(), 3);
  t.equal(await stuckBehindDeletion(new Promise(() => {}), stateAgent(['absent']).agent, 'nvme0', o), 'absent');
  const silent = { fs: () => ({ readFile: () => Promise.reject(Object.assign(new Error('readFile took longer than 5000 ms'), { code: 'ETIMEDOUT' })) }) } as unknown as LabAgent;
  await t.rejects(stuckBehindDeletion(new Promise(() => {}), silent, 'nvme0', o), { code: 'ETIMEDOUT' }, 'an agent that does not answer is an error, never read as a deletion');
  const late = Promise.reject(new Error('unbind failed'));
  t.equal(await stuckBehindDeletion(late, stateAgent(['live']).agent, 'nvme0', o), undefined, 'a failed trigger is the caller’s to see');
  await t.rejects(late, /unbind failed/);
});

t.test('which scenarios may end at a deletion', async (t) => {
  t.ok(endsAtDeletion(quickSpec({ reset: 'pci-rebind' })));
  t.notOk(endsAtDeletion(quickSpec({ expect: { controller: 'deleted', io_errors: 'allowed' } })), 'a deletion is what it waits for');
  t.ok(endsAtDeletion(findScenario('mpath-host-pci-rebind')), 'multipath: the reset path deleted can never be live at the end');
  t.ok(endsAtDeletion(findScenario('two-ctrl-connecting')), 'extra controllers: the loaded one deleted cannot recover either');
  const plan = planFor(findScenario('mpath-host-pci-rebind')).map((p) => p.name);
  t.ok(plan.indexOf('paths') > plan.indexOf('judge'), 'the paths are still judged after an early end (judge, then paths)');
});

t.test('multipath after an early end: the FAIL says why and what became of each path', async (t) => {
  const spec = findScenario('mpath-host-pci-rebind');
  const metrics = { outage_ms: null, recovery_ms: null, ctrl_live_ms: null, io_errors: 0, verify_errors: 0, lost_writes: 0, splats: 0 };
  const stuckReset = { goneMs: 9000, waitedMs: 3500, state: 'deleting (no IO)', blocked: [] };
  const v = decide({ spec, metrics, resets: [], events: [], controller: 'nvme1', endMs: 12_500, stuckReset });
  const ends: PathEnd[] = [
    { link: 0, transport: 'rdma', device: 'nvme1', state: 'deleting (no IO)' },
    { link: 1, transport: 'rdma', device: 'nvme0', state: 'live' },
  ];
  const j = judgePaths({ ...v, metrics }, ends, spec);
  t.equal(j.verdict, 'FAIL');
  t.match(j.reason, /^the host pci-rebind reset had not returned 3\.50 s after it started, and controller nvme1 is deleting \(no IO\): it cannot come back .*; paths: nvme1 \(link 0\) deleting \(no IO\), nvme0 \(link 1\) live; 1 of 2 paths live$/);
});

t.test('the phase: the run ends at the deletion, the waiting tasks saved, the later phases skipped', async (t) => {
  const spec = quickSpec({ reset: 'pci-rebind', down_ms: 200 });
  const { ctx, fake, said } = await fakeRun(spec, { onReset: 'trigger-blocks-deleting', deleteAfterMs: 60_000 }, upToLoad);
  fake.host.agent.files.seedFile('/proc/9/comm', 'kworker/u2:0\n');
  fake.host.agent.files.seedFile('/proc/9/stack', '[<0>] __flush_work+0x1/0x2\n[<0>] nvme_rdma_delete_ctrl+0x1/0x2 [nvme_rdma]\n');
  const started = Date.now();
  await resets.run(ctx);
  t.ok(Date.now() - started < 10_000, `ended after ${Date.now() - started} ms, not at the trigger's return (60 s)`);
  const st = ctx.stuckReset!;
  t.ok(st, 'recorded');
  t.equal(st.state, 'deleting (no IO)');
  t.ok(st.waitedMs >= 3000, 'after the grace');
  t.same(st.blocked.length, 1);
  t.match(await readFile(join(ctx.runDir, 'blocked-tasks.txt'), 'utf8'), /kworker\/u2:0 \(pid 9\)\n[^]*nvme_rdma_delete_ctrl/);
  t.same(ctx.resets, [], 'the device never came back');
  t.equal(ctx.reachedExpected, false);
  t.ok(said.some((m) => /has not returned after \d+\.\d s and nvme0 is deleting \(no IO\): it cannot come back/.test(m)));
  const skippedNow = planFor(spec).filter((p) => p.when && !p.when(ctx)).map((p) => p.name);
  const recorded = ctx.stuckReset;
  ctx.stuckReset = undefined;
  const skippedBefore = planFor(spec).filter((p) => p.when && !p.when(ctx)).map((p) => p.name);
  ctx.stuckReset = recorded;
  t.same(skippedNow.filter((n) => !skippedBefore.includes(n)), ['watch', 'finish'], 'the phases between the reset and collect are skipped');
  for (const p of [collect, judge]) await p.run(ctx);
  const result = runResult(ctx);
  t.equal(result.verdict, 'FAIL');
  t.equal(result.artifacts.blocked_tasks, join(ctx.runDir, 'blocked-tasks.txt').slice(ctx.opts.resultsDir.length + 1), 'the blocked tasks are an artifact');
  await shutdown.run(ctx);
  t.equal(fake.state, 'killed', 'killed, not powered off: the guest kernel would wait behind the removal');
});

t.test('the verdict: a FAIL that says the trigger never returned and where tasks wait', async (t) => {
  const spec = quickSpec({ reset: 'pci-rebind' });
  const metrics = { outage_ms: null, recovery_ms: null, ctrl_live_ms: null, io_errors: 0, verify_errors: 0, lost_writes: 0, splats: 0 };
  const stuckReset = { goneMs: 9000, waitedMs: 3500, state: 'deleting (no IO)', blocked: ['kworker/u2:0 (pid 9) in nvme_rdma_delete_ctrl [nvme_rdma]'] };
  const v = decide({ spec, metrics, resets: [], events: [], controller: 'nvme0', endMs: 12_500, stuckReset });
  t.equal(v.verdict, 'FAIL');
  t.match(v.reason, /^the host pci-rebind reset had not returned 3\.50 s after it started, and controller nvme0 is deleting \(no IO\): it cannot come back .*waiting: kworker\/u2:0 \(pid 9\) in nvme_rdma_delete_ctrl/);
});

t.test('extra controllers after an early end: each in-flight connect said as it stood, none waited for', async (t) => {
  const spec = findScenario('two-ctrl-connecting');
  const never = new Promise<never>(() => {});
  const ctx = {
    spec,
    stuckReset: { goneMs: 9000, waitedMs: 3500, state: 'deleting', blocked: [] },
    extraInFlight: [
      { kind: 'subsystem', options: {}, outcome: never },
      { kind: 'discovery', options: {}, outcome: Promise.resolve({ ok: true, device: 'nvme2', options: '' }), settledAt: 8000 },
      { kind: 'subsystem', options: {}, outcome: Promise.resolve({ ok: false, error: 'ECONNRESET' }), settledAt: 9100 },
    ],
  } as unknown as RunContext;
  const ends = await inFlightAtEarlyEnd(ctx, (d) => Promise.resolve(d === 'nvme2' ? 'live' : 'deleted'));
  t.same(ends, [
    { kind: 'subsystem', device: '-', state: 'not connected', note: 'connect still in flight when the run ended' },
    { kind: 'discovery', device: 'nvme2', state: 'live', note: 'connect accepted' },
    { kind: 'subsystem', device: '-', state: 'not connected', note: 'connect refused (ECONNRESET)' },
  ]);
  t.same(await inFlightAtEarlyEnd({ ...ctx, stuckReset: undefined }, () => Promise.resolve('live')), [], 'a run that did not end early settles them itself');
});

