import t from 'tap';
import { blockedTasks, describeTask, parseFrames } from '../../src/scenario/blocked-tasks.js';
import { connectOptions } from '../../src/scenario/connect-options.js';
import { createContext, type RunContext } from '../../src/scenario/context.js';
import { planFor } from '../../src/scenario/phases/plan.js';
import { settlesWithin } from '../../src/util/deadline.js';
import { loadScenarioFile, parseScenario, type ScenarioInput } from '../../src/scenario/spec.js';
import { decide, judgeRemoval } from '../../src/scenario/verdict.js';
import { qemuLab } from '../../src/scenario/real-lab.js';

const base: ScenarioInput = {
  name: 'x',
  side: 'host',
  reset: 'rdma-link',
  during: 'reconnect',
  connect: { host_traddr: true },
};

t.test('during: reconnect: defaults, and every wrong field named with its fix', async (t) => {
  const s = parseScenario(base);
  t.same(s.reconnect, { removal_within_ms: 30_000 }, 'reconnect filled in');
  t.equal(s.connect.host_traddr, true);
  t.equal(parseScenario({ ...base, during: 'io' }).reconnect, undefined, 'no reconnect settings elsewhere');
  t.throws(() => parseScenario({ ...base, side: 'target' }), /side: .*use side: host, not target/);
  t.throws(() => parseScenario({ ...base, reset: 'pci-rebind' }), /reset: .*use reset: rdma-link, not pci-rebind/);
  t.throws(() => parseScenario({ ...base, topology: 'loopback' }), /topology: .*use topology: pair, not loopback/);
  t.throws(() => parseScenario({ ...base, resets: 2 }), /resets: .*resets: 1/);
  t.throws(() => parseScenario({ ...base, during: 'io', reconnect: {} }), /reconnect: only with during: reconnect, not io/);
  t.throws(() => parseScenario({ ...base, reconnect: { removal_within_ms: 10 } }), /reconnect\.removal_within_ms/);
  t.throws(() => parseScenario({ ...base, reconnect: { hold: true } }), /hold/);
  t.throws(() => parseScenario({ ...base, admin: { action: 'reset-controller' } }), /admin: not with during: reconnect/);
  t.throws(() => parseScenario({ ...base, extra_controllers: ['subsystem'] }), /extra_controllers: only with topology pair or loopback and during: io/);
  t.throws(() => parseScenario({ ...base, during: 'io', topology: 'pair2' }), /connect\.host_traddr: only for the host's one controller/);
});

t.test('the scenario file parses: the bug and its control', async (t) => {
  const [bug, control] = await loadScenarioFile('scenarios/reconnect-removal-arp-held.yaml');
  t.equal(bug!.during, 'reconnect');
  t.equal(bug!.connect.host_traddr, true);
  t.equal(control!.connect.host_traddr, undefined, 'the control connects without a source address');
  t.equal(bug!.reconnect?.removal_within_ms, 20_000);
});

t.test('connect options: host_traddr becomes the host address, and only where one is known', async (t) => {
  const c = parseScenario(base).connect;
  t.same(connectOptions(c, '10.99.0.2'), { reconnect_delay: 1, ctrl_loss_tmo: 60, host_traddr: '10.99.0.2' });
  t.throws(() => connectOptions(c), /host_traddr/);
  t.same(connectOptions(parseScenario({ ...base, during: 'io', connect: { host_traddr: false } }).connect), { reconnect_delay: 1, ctrl_loss_tmo: 60 });
});

const ctxWith = (removal: RunContext['removal']): RunContext => {
  const ctx = createContext(parseScenario(base), { kernel: 'stock', resultsDir: '/tmp', iteration: 1, project: '/tmp' }, qemuLab);
  ctx.removal = removal;
  ctx.ctrl = { device: 'nvme0', namespace: '/dev/nvme0n1', options: '' };
  return ctx;
};

t.test('plan: the reconnect row, and a stuck removal skips the watch and the finish', async (t) => {
  const phases = planFor(parseScenario(base));
  const names = phases.map((p) => p.name);
  t.same(names.slice(names.indexOf('connect'), names.indexOf('collect')), ['connect', 'load', 'reconnect-reset', 'watch', 'finish']);
  const applies = (ctx: RunContext) => phases.filter((p) => !p.when || p.when(ctx)).map((p) => p.name);
  const rec = { heldMs: 1000, connectingMs: 3000, goneMs: 3000 };
  t.ok(applies(ctxWith({ ...rec, tookMs: 800 })).includes('watch'), 'a removal that returned: watched');
  const stuck = applies(ctxWith({ ...rec, stuck: { waitedMs: 25_000, blocked: [] } }));
  t.notOk(stuck.includes('watch') || stuck.includes('finish'), 'a stuck removal: no watch, no finish');
  t.ok(stuck.includes('judge') && stuck.includes('shutdown'), 'but judged and shut down');
});

// What /proc/<pid>/stack read on stock 6.1 would be (frames as the kernel prints them).
const RDMA_STACK = `[<0>] __schedule+0x34d/0x9e0
[<0>] schedule+0x5a/0xd0
[<0>] schedule_timeout+0x118/0x150
[<0>] wait_for_completion+0x86/0x160
[<0>] cma_process_remove+0x1e0/0x240 [rdma_cm]
[<0>] cma_remove_one+0x2b/0x50 [rdma_cm]
[<0>] remove_client_context+0x8b/0xd0 [ib_core]
[<0>] disable_device+0x8c/0x130 [ib_core]
[<0>] __ib_unregister_device+0x45/0xb0 [ib_core]
[<0>] ib_unregister_device_and_put+0x33/0x50 [ib_core]
`;
const KWORKER_STACK = `[<0>] wait_for_completion_interruptible+0x12/0x30
[<0>] nvme_rdma_alloc_queue+0x1b1/0x2d0 [nvme_rdma]
[<0>] nvme_rdma_setup_ctrl+0x55/0x7a0 [nvme_rdma]
[<0>] nvme_rdma_reset_ctrl_work+0x5e/0xb0 [nvme_rdma]
`;

t.test('blocked tasks: the RDMA and NVMe waiters, each by its first real frames', async (t) => {
  t.same(parseFrames('[<0>] cma_remove_one+0x2b/0x50 [rdma_cm]\n[<0>] kthread+0xe8/0x110\ngarbage'), ['cma_remove_one [rdma_cm]', 'kthread']);
  const b = blockedTasks([
    { pid: 400, comm: 'kworker/u2:3', stack: KWORKER_STACK },
    { pid: 1, comm: 'init', stack: '[<0>] do_wait+0x1/0x2\n' },
    { pid: 312, comm: 'rdma', stack: RDMA_STACK },
  ]);
  t.same(b.map((x) => x.pid), [312, 400], 'only the tasks in the RDMA or NVMe layers, by pid');
  t.equal(describeTask(b[0]!, 3), 'rdma (pid 312) in cma_process_remove [rdma_cm] < cma_remove_one [rdma_cm] < remove_client_context [ib_core]');
  t.equal(b[1]!.frames[0], 'nvme_rdma_alloc_queue [nvme_rdma]', 'the completion wait itself is left out');
});

t.test('verdict: a removal that never returned is a FAIL naming the waiters; one that returned says whether it met the resolution', async (t) => {
  const spec = parseScenario(base);
  const metrics = { outage_ms: null, recovery_ms: null, ctrl_live_ms: null, io_errors: 0, verify_errors: 0, lost_writes: 0, splats: 0 };
  const stuck = { heldMs: 1000, connectingMs: 3000, goneMs: 3200, stuck: { waitedMs: 25_000, blocked: ['rdma (pid 312) in cma_process_remove [rdma_cm]'] } };
  const v = decide({ spec, metrics, resets: [], events: [], controller: 'nvme0', endMs: 30_000, removal: stuck });
  t.equal(v.verdict, 'FAIL');
  t.match(v.reason, /rdma link delete, sent 200 ms after the controller read "connecting" \(ARP held back\), had not returned 25\.0 s later: the device removal hangs; waiting: rdma \(pid 312\) in cma_process_remove/);
  const back = { heldMs: 1000, connectingMs: 3000, goneMs: 3200, tookMs: 900 };
  const met = judgeRemoval(back, [{ ms: 3500, text: 'nvme nvme0: rdma connection establishment failed (-102)' }]);
  t.equal(met.fail, undefined);
  t.match(met.note, /took 0\.90 s; the removal ended the reconnect's CM wait \(0\.30 s after it/);
  t.match(judgeRemoval(back, [{ ms: 1000, text: 'nvme nvme0: rdma connection establishment failed (-102)' }]).note, /no connect attempt failure was logged after it/, 'a failure before the removal is not it');
  t.match(
    judgeRemoval(back, [{ ms: 6200, text: 'nvme nvme0: rdma connection establishment failed (-104)' }]).note,
    /the attempt in flight ended 3\.00 s after it with "rdma connection establishment failed \(-104\)", not ENETRESET/,
    'the control: a cm_id bound to no device times out as usual',
  );
});

t.test('settlesWithin: true for a promise that settles (even rejected) in time, false otherwise', async (t) => {
  t.equal(await settlesWithin(Promise.reject(new Error('x')), 100), true);
  t.equal(await settlesWithin(new Promise(() => {}), 20), false);
});
