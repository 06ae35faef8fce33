// The stuck-reconnect classifier, fed with kernel log lines captured in the lab (the
// run times are those the harness put beside them in runs/*/host.kmsg.log).
import t from 'tap';
import { hostStory, stuckWhere, type LogLine } from '../../src/scenario/stuck-where.js';
import { decide } from '../../src/scenario/verdict.js';
import { findScenario } from '../../src/scenario/catalog.js';
import type { TimelineEvent } from '../../src/scenario/types.js';

const L = (ms: number, text: string): LogLine => ({ ms, text });

/** Stock 6.12 host-link-flap, 2026-12-01 (/tmp/h5/stock612): attempt 2 never ended. */
const HOST_612: LogLine[] = [
  L(47739, 'nvme nvme0: creating 1 I/O queues.'),
  L(47802, 'nvme nvme0: new ctrl: NQN "nqn.2026-11.dev.reset-bench:lab", addr 10.99.0.1:4420, hostnqn: nqn.2026-11.dev.reset-bench:host'),
  L(57485, 'infiniband rxe0: set down'),
  L(58009, 'nvme nvme0: SEND for CQE 0x000000004cde1f05 failed with status WR flushed (5)'),
  L(58010, 'nvme nvme0: starting error recovery'),
  L(58173, 'block nvme0n1: no usable path - requeuing I/O'),
  L(58341, 'nvme nvme0: Reconnecting in 1 seconds...'),
  L(59375, 'nvme nvme0: rdma_resolve_addr failed (-101).'),
  L(59376, 'nvme nvme0: Failed reconnect attempt 1/60'),
  L(59376, 'nvme nvme0: Reconnecting in 1 seconds...'),
  L(59674, 'infiniband rxe0: set active'),
  L(59883, 'infiniband rxe0: set active'),
];
const TARGET_612: LogLine[] = [
  L(47618, 'nvmet: creating nvm controller 1 for subsystem nqn.2026-11.dev.reset-bench:lab for NQN nqn.2026-11.dev.reset-bench:host.'),
  L(63092, 'nvmet: ctrl 1 keep-alive timer (5 seconds) expired!'),
  L(63096, 'nvmet: ctrl 1 fatal error occurred!'),
];
const GONE = 56496;
const END = 105026;

t.test('the attempts and what they failed with', async (t) => {
  const s = hostStory(HOST_612, 'nvme0', GONE);
  t.equal(s.recoveryMs, 58010);
  t.equal(s.attempts.length, 2);
  t.same(s.attempts[0], { n: 1, startMs: 59341, failedMs: 59376, errors: [{ ms: 59375, what: 'rdma_resolve_addr -101 (ENETUNREACH)' }] });
  t.equal(s.attempts[1]!.startMs, 60376);
  t.equal(s.attempts[1]!.failedMs, undefined, 'attempt 2 has no outcome');
  t.equal(hostStory(HOST_612, 'nvme1', GONE).attempts.length, 0, "another controller's lines are not read");
  // nvme-rdma's dev_err for a CM event it does not handle names the event by number.
  const odd = hostStory([L(1, 'nvme nvme0: Reconnecting in 1 seconds...'), L(2500, 'nvme nvme0: Unexpected RDMA CM event (11)')], 'nvme0', 0);
  t.same(odd.attempts[0]?.errors, [{ ms: 2500, what: 'unexpected rdma_cm event DEVICE_REMOVAL' }]);
});

t.test('a silent attempt long past resolution is stuck in the rdma_cm exchange', async (t) => {
  const w = stuckWhere({ controller: 'nvme0', state: 'connecting', host: HOST_612, target: TARGET_612, sinceMs: GONE, endMs: END });
  t.equal(w.stage, 'rdma-cm');
  t.match(w.text, /^: reconnect attempt 2 \(started 44\.6 s before the end\) logged nothing past address and route resolution/);
  t.match(w.text, /waits in rdma_cm for the target's answer to its connect \(CM REQ sent, no REP/);
  t.match(w.text, /the target created no controller; attempt 1 failed: rdma_resolve_addr -101 \(ENETUNREACH\); its error recovery/);
});

/**
 * Stock 6.1 host-link-flap FAIL, 2026-12-01 (/work/s5/flap-stock-1 run 5): the teardown
 * ended 50 ms before rxe0 was back, attempt 1 never ended. Gone/back/end are the
 * harness's markers rounded (the batch was stopped before results.json).
 */
const HOST_61: LogLine[] = [
  L(36259, 'nvme nvme0: new ctrl: NQN "nqn.2026-11.dev.reset-bench:lab", addr 10.99.0.1:4420'),
  L(54359, 'infiniband rxe0: set down'),
  L(56480, 'nvme nvme0: SEND for CQE 0x00000000a2e6a3c2 failed with status local QP operation error (2)'),
  L(56481, 'nvme nvme0: starting error recovery'),
  L(56763, 'nvme nvme0: Reconnecting in 1 seconds...'),
  L(56813, 'infiniband rxe0: set active'),
];
/** Stock 6.1 PASS (same batch, run 4): the teardown waited for the keep-alive's timeout, well after rxe0 was back. */
const HOST_61_PASS: LogLine[] = [
  L(45445, 'infiniband rxe0: set down'),
  L(47001, 'nvme nvme0: SEND for CQE 0x00000000b52040e6 failed with status local QP operation error (2)'),
  L(47003, 'nvme nvme0: starting error recovery'),
  L(47712, 'infiniband rxe0: set active'),
  L(53058, 'nvme nvme0: I/O 1 QID 0 timeout'),
  L(53080, 'nvme nvme0: long keepalive RTT (6080 ms)'),
  L(53081, 'nvme nvme0: failed nvme_keep_alive_end_io error=10'),
  L(53148, 'nvme nvme0: Reconnecting in 1 seconds...'),
];

t.test('a teardown that ran while the link was down is named as the cause (the rxe GSI QP)', async (t) => {
  const w = stuckWhere({ controller: 'nvme0', state: 'connecting', host: HOST_61, sinceMs: 54300, endMs: 101450 });
  t.equal(w.stage, 'rdma-cm');
  t.match(w.text, /^: reconnect attempt 1 \(started 43\.7 s before the end\) logged nothing/);
  t.match(w.text, /tore the queues down \(sending the CM's DREQs\) while the link was down, ending 0\.1 s before rxe0 was active again/);
  t.match(w.text, /GSI QP \(QP1\) receives/);
  t.notMatch(w.text, /failed:/, 'no attempt failed before');
  const w612 = stuckWhere({ controller: 'nvme0', state: 'connecting', host: HOST_612, sinceMs: GONE, endMs: END });
  t.match(w612.text, /ending 1\.3 s before rxe0 was active again/);
  // The same teardown ending 6 s after the link came back: the DREQs went out on a live link.
  const late = [...HOST_61_PASS.slice(0, 4), HOST_61_PASS[7]!];
  const w2 = stuckWhere({ controller: 'nvme0', state: 'connecting', host: late, sinceMs: 45400, endMs: 100000 });
  t.equal(w2.stage, 'rdma-cm');
  t.notMatch(w2.text, /while the link was down/);
});

t.test('a young attempt is still resolving; before it starts, it is waiting to reconnect', async (t) => {
  const young = stuckWhere({ controller: 'nvme0', state: 'connecting', host: HOST_612, sinceMs: GONE, endMs: 62000 });
  t.equal(young.stage, 'resolving');
  t.match(young.text, /attempt 2 \(started 1\.6 s before the end\) is still resolving/);
  const before = stuckWhere({ controller: 'nvme0', state: 'connecting', host: HOST_612, sinceMs: GONE, endMs: 60000 });
  t.equal(before.stage, 'waiting-to-reconnect');
  t.match(before.text, /waiting 0\.4 s more to start reconnect attempt 2; attempt 1 failed/);
});

t.test('the target created a controller for the attempt: stuck after the NVMe Connect', async (t) => {
  const target = [...TARGET_612, L(61000, 'nvmet: creating nvm controller 2 for subsystem nqn.2026-11.dev.reset-bench:lab for NQN nqn.2026-11.dev.reset-bench:host.')];
  const w = stuckWhere({ controller: 'nvme0', state: 'connecting', host: HOST_612, target, sinceMs: GONE, endMs: END });
  t.equal(w.stage, 'after-connect');
  t.match(w.text, /the target created controller 2\) and hangs after it/);
});

t.test("an admin command's timeout in the attempt: waiting for the NVMe Connect", async (t) => {
  // 6.1's wording (drivers/nvme/host/rdma.c: nvme_rdma_timeout), as in a stock 6.1 run's log.
  const host = [...HOST_612, L(66000, 'nvme nvme0: I/O 1 QID 0 timeout')];
  const w = stuckWhere({ controller: 'nvme0', state: 'connecting', host, sinceMs: GONE, endMs: END });
  t.equal(w.stage, 'nvme-connect');
  t.match(w.text, /waiting for the NVMe Connect or a later admin command: I\/O 1 QID 0 timeout/);
});

t.test('other states', async (t) => {
  const recovering = stuckWhere({ controller: 'nvme0', state: 'resetting', host: HOST_612.slice(0, 5), sinceMs: GONE, endMs: 70010 });
  t.equal(recovering.stage, 'error-recovery');
  t.equal(recovering.text, ': still tearing down its queues since error recovery started 12.0 s before the end; no reconnect attempt started');
  t.equal(stuckWhere({ controller: 'nvme0', state: 'live', host: [], sinceMs: 0, endMs: 1 }).stage, 'never-noticed');
  const none = stuckWhere({ controller: 'nvme0', state: 'connecting', host: [], sinceMs: 0, endMs: 1 });
  t.equal(none.stage, 'unknown');
  t.equal(none.text, ': no reconnect attempt was logged and no error recovery');
});

t.test("the verdict's reason names where the reconnect is stuck", async (t) => {
  const ev = (t_ms: number, value: string): TimelineEvent => ({ t_ms, vm: 'host', kind: 'state', key: 'nvme/nvme0', value });
  const events = [ev(0, 'live'), ev(58010, 'resetting'), ev(58341, 'connecting')];
  const metrics = { outage_ms: 50884, recovery_ms: null, ctrl_live_ms: null, io_errors: 0, verify_errors: 0, lost_writes: 0, splats: 0 };
  const base = { spec: findScenario('host-link-flap'), metrics, resets: [{ goneMs: GONE, backMs: 60026 }], events, controller: 'nvme0', endMs: END };
  const v = decide({ ...base, kmsg: { host: HOST_612, target: TARGET_612 } });
  t.equal(v.verdict, 'FAIL');
  t.match(v.reason, /^controller nvme0 still connecting 45\.0 s after the device came back: reconnect attempt 2 .* waits in rdma_cm .*; no I\/O completed after the reset$/);
  t.equal(decide(base).reason, 'controller nvme0 still connecting 45.0 s after the device came back; no I/O completed after the reset', 'without logs, the reason as before');
});
