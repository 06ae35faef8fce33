import t from 'tap';
import { computeMetrics, controllerStates, countIoErrors, firstState, outageMs, stateAt } from '../../src/scenario/metrics.js';
import { ADMIN_DELETES, decide, earlyDeletion } from '../../src/scenario/verdict.js';
import { loadScenarioFile, type ScenarioSpec } from '../../src/scenario/spec.js';
import { findScenario } from '../../src/scenario/catalog.js';
import type { IoPoint, TimelineEvent } from '../../src/scenario/types.js';

const ev = (t_ms: number, value: string, key = 'nvme/nvme0'): TimelineEvent => ({ t_ms, vm: 'host', kind: 'state', key, value });

/** I/O every 10 ms from 0 to end, none in [from, to). */
function io(end: number, from: number, to: number, errorsAt: number[] = []): IoPoint[] {
  const out: IoPoint[] = [];
  for (let t = 0; t < end; t += 10) out.push({ t_ms: t, completions: t >= from && t < to ? 0 : 5, errors: errorsAt.includes(t) ? 1 : 0 });
  return out;
}

t.test('controller state in force and first time it reaches a state', async (t) => {
  const s = controllerStates([ev(0, 'live'), ev(1000, 'resetting'), ev(1010, 'connecting'), ev(6500, 'live')], 'nvme0');
  t.equal(stateAt(s, 500), 'live');
  t.equal(stateAt(s, 3000), 'connecting');
  t.equal(firstState(s, 'live', 6000), 6500);
  t.equal(firstState(s, 'live', 7000), 7000, 'already live counts from the moment asked');
  t.equal(firstState(s, 'deleting', 0), null);
});

t.test('outage is the longest gap touching the resets; an open gap runs to the end', async (t) => {
  const resets = [{ goneMs: 2000, backMs: 6000 }];
  t.equal(outageMs([{ startMs: 100, endMs: 900, open: false }, { startMs: 2010, endMs: 6300, open: false }], resets, 9000), 4290);
  t.equal(outageMs([{ startMs: 100, endMs: 900, open: false }], resets, 9000), 0, 'a gap long before the reset is not the outage');
  t.equal(outageMs([{ startMs: 2010, endMs: 2010, open: true }], resets, 9000), 6990);
});

t.test('patched-like run: metrics and a PASS that says how long', async (t) => {
  const resets = [{ goneMs: 2000, backMs: 6000 }];
  const events = [ev(0, 'live'), ev(2050, 'resetting'), ev(2060, 'connecting'), ev(6120, 'live')];
  const m = computeMetrics({
    io: io(9000, 2000, 6150),
    gaps: [{ startMs: 2000, endMs: 6150, open: false }],
    resets,
    events,
    controller: 'nvme0',
    endMs: 9000,
    ioErrors: 0,
    verifyErrors: 0,
    lostWrites: 0,
    splats: 0,
  });
  t.same(m, { outage_ms: 4150, recovery_ms: 150, ctrl_live_ms: 120, io_errors: 0, verify_errors: 0, lost_writes: 0, splats: 0 });
  const v = decide({ spec: findScenario('host-rdma-link'), metrics: m, resets, events, controller: 'nvme0', endMs: 9000 });
  t.equal(v.verdict, 'PASS');
  t.match(v.reason, /I\/O resumed 0\.15 s after the device came back \(controller live after 0\.12 s\); longest stall 4\.15 s/);
});

t.test('a recovery that leaves more RDMA objects than it found FAILs; an in-flight extra connect is exempt', async (t) => {
  const resets = [{ goneMs: 2000, backMs: 6000 }];
  const events = [ev(0, 'live'), ev(2050, 'resetting'), ev(2060, 'connecting'), ev(6120, 'live')];
  const m = { outage_ms: 4150, recovery_ms: 150, ctrl_live_ms: 120, io_errors: 0, verify_errors: 0, lost_writes: 0, splats: 0 };
  const base = { metrics: m, resets, events, controller: 'nvme0', endMs: 9000 };
  const grown = ['host: qp 3 -> 4'];
  const v = decide({ ...base, spec: findScenario('host-rdma-link'), rdmaGrowth: grown });
  t.equal(v.verdict, 'FAIL');
  t.match(v.reason, /left more RDMA objects than it found \(host: qp 3 -> 4\)/);
  t.equal(decide({ ...base, spec: findScenario('host-rdma-link'), rdmaGrowth: [] }).verdict, 'PASS', 'no growth');
  t.equal(decide({ ...base, spec: findScenario('two-ctrl-connecting'), rdmaGrowth: grown }).verdict, 'PASS', 'its new connect is not a leftover');
});

t.test('stock-like run: the controller is deleted and nothing completes after', async (t) => {
  const resets = [{ goneMs: 2000, backMs: 6000 }];
  const events = [ev(0, 'live'), ev(2080, 'absent')];
  const m = computeMetrics({
    io: io(9000, 2000, 9000, [2010, 2020]),
    gaps: [{ startMs: 2000, endMs: 2000, open: true }],
    resets,
    events,
    controller: 'nvme0',
    endMs: 9000,
    ioErrors: 2,
    verifyErrors: 0,
    lostWrites: 0,
    splats: 0,
  });
  t.equal(m.recovery_ms, null);
  t.equal(m.ctrl_live_ms, null);
  t.equal(m.outage_ms, 7000);
  const v = decide({ spec: findScenario('host-rdma-link'), metrics: m, resets, events, controller: 'nvme0', endMs: 9000 });
  t.equal(v.verdict, 'FAIL');
  t.equal(v.reason, 'controller nvme0 deleted 0.08 s after the device went away; no I/O completed after the reset');
});

t.test('a late-noticed reset: controller live is counted after it left live', async (t) => {
  const resets = [{ goneMs: 2000, backMs: 6000 }];
  const events = [ev(0, 'live'), ev(9000, 'resetting'), ev(9010, 'connecting'), ev(17000, 'live')];
  const m = computeMetrics({ io: io(20000, 9000, 17100), gaps: [], resets, events, controller: 'nvme0', endMs: 20000, ioErrors: 0, verifyErrors: 0, lostWrites: 0, splats: 0 });
  t.equal(m.ctrl_live_ms, 11000, 'not 0: the controller had not yet noticed at device back');
  t.equal(m.recovery_ms, 0, 'I/O kept completing until the host noticed');
});

t.test('a target-side reset on stock: controller stuck connecting', async (t) => {
  const resets = [{ goneMs: 2000, backMs: 6000 }];
  const events = [ev(0, 'live'), ev(2100, 'resetting'), ev(2110, 'connecting')];
  const m = computeMetrics({ io: io(26000, 2000, 26000), gaps: [], resets, events, controller: 'nvme0', endMs: 26000, ioErrors: 0, verifyErrors: 0, lostWrites: 0, splats: 0 });
  const v = decide({ spec: findScenario('target-rdma-link'), metrics: m, resets, events, controller: 'nvme0', endMs: 26000 });
  t.equal(v.verdict, 'FAIL');
  t.equal(v.reason, 'controller nvme0 still connecting 20.0 s after the device came back; no I/O completed after the reset');
});

t.test('I/O errors, lost writes and kernel reports each fail a recovered run', async (t) => {
  const resets = [{ goneMs: 2000, backMs: 6000 }];
  const events = [ev(0, 'live'), ev(6100, 'live')];
  const base = { outage_ms: 4000, recovery_ms: 100, ctrl_live_ms: 100, io_errors: 0, verify_errors: 0, lost_writes: 0, splats: 0 };
  const spec = findScenario('host-rdma-link');
  const d = (m: Partial<typeof base>, extra: { firstSplat?: string; firstIoError?: string } = {}) =>
    decide({ spec, metrics: { ...base, ...m }, resets, events, controller: 'nvme0', endMs: 9000, ...extra });
  t.match(d({ io_errors: 3 }, { firstIoError: 'EIO on write at 2100 ms' }).reason, /^3 I\/O error\(s\) during the reset \(first: EIO on write at 2100 ms\)/);
  t.equal(d({ lost_writes: 1 }).verdict, 'FAIL');
  t.match(d({ splats: 1 }, { firstSplat: 'host: WARNING: CPU: 0 PID: 1 at x' }).reason, /kernel reported: host: WARNING/);
  t.equal(d({ io_errors: 3 }).verdict, 'FAIL');
  const fast = decide({ spec: findScenario('fast-io-fail'), metrics: { ...base, io_errors: 3 }, resets, events, controller: 'nvme0', endMs: 9000 });
  t.equal(fast.verdict, 'PASS', 'fast-io-fail expects I/O errors');
});

t.test('ctrl-loss-expiry expects a clean deletion', async (t) => {
  const spec = findScenario('ctrl-loss-expiry');
  const resets = [{ goneMs: 2000, backMs: 14000 }];
  const m = { outage_ms: 12000, recovery_ms: null, ctrl_live_ms: null, io_errors: 10, verify_errors: 0, lost_writes: 0, splats: 0 };
  const deleted = decide({ spec, metrics: m, resets, events: [ev(0, 'live'), ev(2050, 'connecting'), ev(7100, 'absent')], controller: 'nvme0', endMs: 20000 });
  t.equal(deleted.verdict, 'PASS');
  t.match(deleted.reason, /deleted cleanly 5\.10 s after the device went away \(ctrl_loss_tmo=5 s\)/);
  const kept = decide({ spec, metrics: m, resets, events: [ev(0, 'live'), ev(2050, 'connecting')], controller: 'nvme0', endMs: 20000 });
  t.equal(kept.verdict, 'FAIL');
  // Stock deletes at once: that is not ctrl_loss_tmo running out.
  const atOnce = decide({ spec, metrics: m, resets, events: [ev(0, 'live'), ev(2360, 'absent')], controller: 'nvme0', endMs: 20000 });
  t.equal(atOnce.verdict, 'FAIL');
  t.equal(atOnce.reason, 'controller nvme0 deleted 0.36 s after the device went away, before ctrl_loss_tmo=5 s could run out: it never waited to reconnect');
  // ctrl_loss_tmo=5 with reconnect_delay=1 is 5 attempts: one delay early is on time.
  t.equal(decide({ spec, metrics: m, resets, events: [ev(0, 'live'), ev(6100, 'absent')], controller: 'nvme0', endMs: 20000 }).verdict, 'PASS');
  t.equal(decide({ spec, metrics: m, resets, events: [ev(0, 'live'), ev(5900, 'absent')], controller: 'nvme0', endMs: 20000 }).verdict, 'FAIL');
});

t.test('earlyDeletion: the admin time, ctrl_loss_tmo less one reconnect_delay, or never for tmo <= 0', async (t) => {
  const del = findScenario('delete-during-recovery');
  t.match(earlyDeletion(del, 210) ?? '', /before the administrator acted \(3\.00 s in\)/);
  t.equal(earlyDeletion(del, 3010), undefined);
  const loss = findScenario('ctrl-loss-expiry');
  t.equal(earlyDeletion(loss, 3999), 'before ctrl_loss_tmo=5 s could run out');
  t.equal(earlyDeletion(loss, 4000), undefined);
  t.equal(earlyDeletion({ ...loss, connect: { ...loss.connect, ctrl_loss_tmo: -1 } }, 10), undefined, 'reconnect forever: any deletion is judged elsewhere');
});

t.test('reset during connect: refused cleanly then a new connect works is a PASS; leftovers and hangs fail', async (t) => {
  const spec = findScenario('reset-during-connect');
  const resets = [{ goneMs: 1050, backMs: 5050 }];
  const events = [ev(0, 'absent'), ev(6000, 'connecting'), ev(6300, 'live')];
  const m = computeMetrics({
    io: io(12000, 0, 7000),
    gaps: [],
    resets,
    events,
    controller: 'nvme0',
    endMs: 12000,
    ioErrors: 0,
    verifyErrors: 0,
    lostWrites: 0,
    splats: 0,
  });
  const base = { spec, metrics: m, resets, events, controller: 'nvme0', endMs: 12000 };
  const refused = { injectAfterMs: 50, inFlight: true, connectMs: 400, first: { ok: false as const, error: 'connect: ENODEV' }, live: true, leftover: [] };
  const ok = decide({ ...base, race: { ...refused, retry: { ok: true as const, device: 'nvme0', options: '' } } });
  t.equal(ok.verdict, 'PASS');
  t.match(ok.reason, /connect refused during the reset \(connect: ENODEV\); a new connect after the device came back worked/);

  const leak = decide({ ...base, race: { ...refused, retry: { ok: true as const, device: 'nvme1', options: '' }, leftover: ['nvme0'] } });
  t.equal(leak.verdict, 'FAIL');
  t.match(leak.reason, /nvme0 were left behind/);

  const retryFails = decide({ ...base, race: { ...refused, live: false, retry: { ok: false as const, error: 'connect: EIO' } } });
  t.equal(retryFails.verdict, 'FAIL');
  t.match(retryFails.reason, /a new connect after the device came back failed too: connect: EIO/);

  const accepted = { ...refused, first: { ok: true as const, device: 'nvme0', options: '' } };
  const stuck = decide({ ...base, race: { ...accepted, live: false } });
  t.equal(stuck.verdict, 'FAIL');
  t.match(stuck.reason, /accepted as nvme0 .* never came live \(waited 20\.0 s after the device came back\)$/);
  t.match(decide({ ...base, race: { ...accepted, live: false, notLive: 'deleted' as const } }).reason, /never came live \(it was deleted\)$/);
  const survived = decide({ ...base, race: accepted });
  t.equal(survived.verdict, 'PASS');
  t.match(survived.reason, /live 1\.25 s after the device came back with no admin action/);

  const late = decide({ ...base, race: { ...refused, inFlight: false } });
  t.equal(late.verdict, 'SKIP', 'a connect that finished before the reset raced nothing');

  const splat = decide({ ...base, metrics: { ...m, splats: 1 }, firstSplat: 'host: WARNING: at rxe_pool.c', race: { ...accepted } });
  t.equal(splat.verdict, 'FAIL');

  const hung = { ...refused, first: { ok: false as const, error: 'still in flight' }, live: false, stuck: { waitedMs: 10_020, limitMs: 10_000, blocked: ['node (pid 177): cma_remove_one <- nldev_dellink'] } };
  const removalHangs = decide({ ...base, race: hung });
  t.equal(removalHangs.verdict, 'FAIL');
  t.equal(
    removalHangs.reason,
    'the host rdma-link reset, 50 ms into the connect (still in flight), had not returned 10.0 s later (allowed 10.0 s): the device removal hangs behind the connect; waiting: node (pid 177): cma_remove_one <- nldev_dellink',
  );
  const afterConnect = decide({ ...base, race: { ...hung, inFlight: false } });
  t.equal(afterConnect.verdict, 'FAIL', 'a hung removal fails the run even when the connect had finished');
  t.match(afterConnect.reason, /^the host rdma-link reset, 50 ms into the connect \(which had returned\), had not returned 10\.0 s later \(allowed 10\.0 s\): the device removal hangs; waiting:/, 'not said to hang behind a connect that had returned');
});

t.test('admin actions during recovery: a failed delete fails; a refused reset is reported, not failed', async (t) => {
  const resets = [{ goneMs: 2000, backMs: 8000 }];
  const delSpec = findScenario('delete-during-recovery');
  const gone = [ev(0, 'live'), ev(2050, 'connecting'), ev(5010, 'absent')];
  const mGone = computeMetrics({ io: io(9000, 2000, 9000), gaps: [], resets, events: gone, controller: 'nvme0', endMs: 9000, ioErrors: 3, verifyErrors: 0, lostWrites: 0, splats: 0 });
  const what = 'echo 1 > /sys/class/nvme/nvme0/delete_controller';
  const del = decide({ spec: delSpec, metrics: mGone, resets, events: gone, controller: 'nvme0', endMs: 9000, admin: [{ action: 'delete-controller', what, ok: true }] });
  t.equal(del.verdict, 'PASS');
  t.match(del.reason, /deleted cleanly 3\.01 s after the device went away \("echo 1 > \/sys\/class\/nvme\/nvme0\/delete_controller"\)/);
  const delFailed = decide({ spec: delSpec, metrics: mGone, resets, events: gone, controller: 'nvme0', endMs: 9000, admin: [{ action: 'delete-controller', what, ok: false, error: 'EBUSY' }] });
  t.equal(delFailed.verdict, 'FAIL');
  // Stock deleted it by itself before the administrator did anything.
  const stockGone = [ev(0, 'live'), ev(2210, 'absent')];
  const early = decide({ spec: delSpec, metrics: mGone, resets, events: stockGone, controller: 'nvme0', endMs: 9000, admin: [{ action: 'delete-controller', what, ok: true }] });
  t.equal(early.verdict, 'FAIL');
  t.match(early.reason, /deleted 0\.21 s after the device went away, before the administrator acted \(3\.00 s in\): it never waited to reconnect/);

  const resetSpec = findScenario('reset-ctrl-during-recovery');
  const back = [ev(0, 'live'), ev(2050, 'connecting'), ev(8100, 'live')];
  const mBack = computeMetrics({ io: io(12000, 2000, 8150), gaps: [{ startMs: 2000, endMs: 8150, open: false }], resets, events: back, controller: 'nvme0', endMs: 12000, ioErrors: 0, verifyErrors: 0, lostWrites: 0, splats: 0 });
  const r = decide({
    spec: resetSpec,
    metrics: mBack,
    resets,
    events: back,
    controller: 'nvme0',
    endMs: 12000,
    admin: [{ action: 'reset-controller', what: 'echo 1 > reset_controller', ok: false, error: 'write: EBUSY' }],
  });
  t.equal(r.verdict, 'PASS');
  t.match(r.reason, /during recovery: echo 1 > reset_controller: write: EBUSY/);
});

t.test('EAGAIN completions the loader resubmitted are retries, not I/O errors', async (t) => {
  const rec = (code: string, phase = 'run') => ({ code, phase });
  t.same(countIoErrors(3, [rec('EAGAIN'), rec('EAGAIN'), rec('EIO')]), { errors: 1, eagain: 2 });
  t.same(countIoErrors(2, [rec('EAGAIN', 'verify'), rec('EIO')]), { errors: 2, eagain: 0 }, 'the verify pass is not discounted');
  t.same(countIoErrors(10_005, Array.from({ length: 10_000 }, () => rec('EAGAIN'))), { errors: 5, eagain: 10_000 }, 'errors past the record limit all count');
  const resets = [{ goneMs: 2000, backMs: 6000 }];
  const events = [ev(0, 'live'), ev(2050, 'connecting'), ev(6120, 'live')];
  const m = computeMetrics({ io: io(9000, 2000, 6150), gaps: [{ startMs: 2000, endMs: 6150, open: false }], resets, events, controller: 'nvme0', endMs: 9000, ioErrors: 0, verifyErrors: 0, lostWrites: 0, splats: 0 });
  const v = decide({ spec: findScenario('host-rdma-link'), metrics: m, resets, events, controller: 'nvme0', endMs: 9000, eagainRetried: 30 });
  t.equal(v.verdict, 'PASS');
  t.match(v.reason, /; 30 EAGAIN completion\(s\) resubmitted$/);
});

t.test('unrelated device adds: the admin action is no deletion; a deletion before ctrl_loss_tmo could run out FAILs, one at it PASSes', async (t) => {
  const [spec] = await loadScenarioFile('scenarios/unrelated-device-adds.yaml');
  const s = spec!;
  // ctrl_loss_tmo=10, reconnect_delay=2: 5 attempts; one delay early (8 s) is on time.
  t.equal(earlyDeletion(s, 7999), 'before ctrl_loss_tmo=10 s could run out', 'judged against ctrl_loss_tmo, not after_ms (1.5 s)');
  t.equal(earlyDeletion(s, 8000), undefined);
  t.equal(ADMIN_DELETES[s.admin!.action], false);
  const resets = [{ goneMs: 2000, backMs: 22_000 }];
  const adds = Array.from({ length: 8 }, (_, i) => ({ action: 'add-unrelated-rdma-devices' as const, what: `add rbrxe${i}`, ok: true }));
  const judge = (deletedAtMs: number) => {
    const events = [ev(0, 'live'), ev(2050, 'connecting'), ev(deletedAtMs, 'absent')];
    const m = computeMetrics({ io: io(23_000, 2000, 23_000), gaps: [], resets, events, controller: 'nvme0', endMs: 23_000, ioErrors: 40, verifyErrors: 0, lostWrites: 0, splats: 0 });
    return decide({ spec: s, metrics: m, resets, events, controller: 'nvme0', endMs: 23_000, admin: adds });
  };
  // v1: each .add kick used up an attempt, 5 attempts gone 4 s in.
  const early = judge(6000);
  t.equal(early.verdict, 'FAIL');
  t.equal(early.reason, 'controller nvme0 deleted 4.00 s after the device went away, before ctrl_loss_tmo=10 s could run out: it never waited to reconnect');
  const onTime = judge(12_400);
  t.equal(onTime.verdict, 'PASS');
  t.equal(onTime.reason, 'controller nvme0 deleted cleanly 10.4 s after the device went away (ctrl_loss_tmo=10 s)', 'credited to ctrl_loss_tmo, not to the additions');
  const failedAdd = decide({ ...judgeInputs(s, resets), admin: [...adds.slice(0, 2), { action: 'add-unrelated-rdma-devices', what: 'add rbrxe2', ok: false, error: 'ENOTSUP' }] });
  t.equal(failedAdd.verdict, 'FAIL', 'an addition that did not happen cannot prove anything');
  t.match(failedAdd.reason, /"add rbrxe2" during recovery failed: ENOTSUP/);
});

/** A deletion on time, for checks that differ only in the admin record. */
function judgeInputs(spec: ScenarioSpec, resets: { goneMs: number; backMs: number }[]) {
  const events = [ev(0, 'live'), ev(12_400, 'absent')];
  const metrics = computeMetrics({ io: io(23_000, 2000, 23_000), gaps: [], resets, events, controller: 'nvme0', endMs: 23_000, ioErrors: 0, verifyErrors: 0, lostWrites: 0, splats: 0 });
  return { spec, metrics, resets, events, controller: 'nvme0', endMs: 23_000 };
}

t.test('port enabled while absent: stock refuses the link (FAIL naming it); patched accepts it and the host is live again (PASS)', async (t) => {
  const spec = findScenario('port-enabled-while-absent');
  const resets = [{ goneMs: 2000, backMs: 12_000 }];
  const removed = { action: 'recreate-target-port' as const, what: 'rm .../ports/1/subsystems/lab; rmdir .../ports/1', ok: true };
  const what = 'mkdir /sys/kernel/config/nvmet/ports/1 (rdma 10.99.0.1:4420) and link lab, while the device is away';
  const stuck = [ev(0, 'live'), ev(2100, 'connecting')];
  const mStuck = computeMetrics({ io: io(45_000, 2000, 45_000), gaps: [], resets, events: stuck, controller: 'nvme0', endMs: 45_000, ioErrors: 0, verifyErrors: 0, lostWrites: 0, splats: 0 });
  const stock = decide({ spec, metrics: mStuck, resets, events: stuck, controller: 'nvme0', endMs: 45_000, admin: [removed, { action: 'recreate-target-port', what, ok: false, error: 'linking ... failed: ENODEV' }] });
  t.equal(stock.verdict, 'FAIL');
  t.match(stock.reason, /while the device is away" during recovery failed: linking \.\.\. failed: ENODEV/);
  const back = [ev(0, 'live'), ev(2100, 'connecting'), ev(12_900, 'live')];
  const mBack = computeMetrics({ io: io(16_000, 2000, 12_950), gaps: [{ startMs: 2000, endMs: 12_950, open: false }], resets, events: back, controller: 'nvme0', endMs: 16_000, ioErrors: 0, verifyErrors: 0, lostWrites: 0, splats: 0 });
  const patched = decide({ spec, metrics: mBack, resets, events: back, controller: 'nvme0', endMs: 16_000, admin: [removed, { action: 'recreate-target-port', what, ok: true }] });
  t.equal(patched.verdict, 'PASS');
  t.match(patched.reason, /controller live after 0\.90 s.*during recovery: rm .*: ok, mkdir .*while the device is away: ok/);
});
