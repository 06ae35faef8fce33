// The RDMA resource counts: the RES_GET answer decoded as the kernel builds it
// (nested summary entries of name and u64 count), summed per VM, and compared.
import t from 'tap';
import { attr } from '../../src/orchestrate/netlink/codec.js';
import {
  RDMA_NLDEV_ATTR_DEV_INDEX,
  RDMA_NLDEV_ATTR_DEV_NAME,
  RDMA_NLDEV_ATTR_RES_SUMMARY,
  RDMA_NLDEV_ATTR_RES_SUMMARY_ENTRY,
  RDMA_NLDEV_ATTR_RES_SUMMARY_ENTRY_CURR,
  RDMA_NLDEV_ATTR_RES_SUMMARY_ENTRY_NAME,
} from '../../src/orchestrate/netlink/constants.js';
import { decodeResSummary } from '../../src/orchestrate/netlink/rdma.js';
import { performance } from 'node:perf_hooks';
import { NVME_DEFAULT_KATO_S, resourceChanges, resourceGrowth, settleGrowth, settleUntilMs, sumResources } from '../../src/scenario/rdma-resources.js';
import { RDMA_SETTLE_POLL_MS, RDMA_TEARDOWN_MS } from '../../src/util/timeouts.js';

const entry = (name: string, n: number) =>
  attr.nested(RDMA_NLDEV_ATTR_RES_SUMMARY_ENTRY, [attr.str(RDMA_NLDEV_ATTR_RES_SUMMARY_ENTRY_NAME, name), attr.u64(RDMA_NLDEV_ATTR_RES_SUMMARY_ENTRY_CURR, BigInt(n))]);

t.test('a RES_GET answer: the device and its counts', async (t) => {
  const payload = Buffer.concat([
    attr.u32(RDMA_NLDEV_ATTR_DEV_INDEX, 3),
    attr.str(RDMA_NLDEV_ATTR_DEV_NAME, 'rxe0'),
    attr.nested(RDMA_NLDEV_ATTR_RES_SUMMARY, [entry('pd', 3), entry('cq', 10), entry('qp', 6), entry('cm_id', 5), entry('mr', 0)]),
  ]);
  const r = decodeResSummary({ type: 0, flags: 0, seq: 0, pid: 0, payload });
  t.same(r, { devName: 'rxe0', counts: { pd: 3, cq: 10, qp: 6, cm_id: 5, mr: 0 } });
  t.throws(() => decodeResSummary({ type: 0, flags: 0, seq: 0, pid: 0, payload: attr.u32(RDMA_NLDEV_ATTR_DEV_INDEX, 1) }), /without DEV_NAME/);
  t.same(decodeResSummary({ type: 0, flags: 0, seq: 0, pid: 0, payload: attr.str(RDMA_NLDEV_ATTR_DEV_NAME, 'siw0') }).counts, {}, 'no summary: no counts');
});

t.test('per VM: summed over devices; changes named per VM and resource', async (t) => {
  t.same(sumResources([{ devName: 'rxe0', counts: { qp: 6, cq: 10 } }, { devName: 'rxe1', counts: { qp: 2 } }]), { qp: 8, cq: 10 });
  const before = { host: { qp: 6, cq: 10, pd: 2 }, target: { qp: 7, cm_id: 6 } };
  t.same(resourceChanges(before, { host: { qp: 6, cq: 10, pd: 2 }, target: { qp: 7, cm_id: 6 } }), [], 'all back as before');
  t.same(resourceChanges(before, { host: { qp: 0, cq: 0, pd: 0 }, target: { qp: 1, cm_id: 1 } }), ['host: cq 10 -> 0, pd 2 -> 0, qp 6 -> 0', 'target: cm_id 6 -> 1, qp 7 -> 1']);
  t.same(resourceChanges(before, { host: { qp: 7, cq: 10, pd: 2, mr: 1 } }), ['host: mr 0 -> 1, qp 6 -> 7'], 'a VM missing after is skipped; a new kind counts from 0');
});

t.test('growth: only what is more after than before, per VM', async (t) => {
  const before = { host: { qp: 3, cq: 2, mr: 160 }, target: { qp: 3, cm_id: 3 } };
  t.same(resourceGrowth(before, { host: { qp: 3, cq: 2, mr: 160 }, target: { qp: 3, cm_id: 3 } }), [], 'all as before');
  t.same(resourceGrowth(before, { host: { qp: 2, cq: 2, mr: 0 }, target: { qp: 1, cm_id: 1 } }), [], 'fewer is not growth');
  t.same(resourceGrowth(before, { host: { qp: 4, cq: 2, mr: 160, pd: 1 }, target: { qp: 3, cm_id: 5 } }), ['host: pd 0 -> 1, qp 3 -> 4', 'target: cm_id 3 -> 5']);
  t.same(resourceGrowth(before, {}), [], 'a VM with no answer after is not growth');
});

t.test('settle: until the target can have timed out an association the host gave up', async (t) => {
  t.equal(settleUntilMs(7358, NVME_DEFAULT_KATO_S), 7358 + 10_000 + RDMA_TEARDOWN_MS, 'kato 5 s: twice kato after the device went, and the teardown');
  t.equal(settleUntilMs(7358, 2), 7358 + 4_000 + RDMA_TEARDOWN_MS);
  t.equal(settleUntilMs(7358, 0), 7358, 'no keep-alive: nothing ends it, no wait');
});

/** A lab of one target VM whose counts are `answers`, one per ask, the last repeated. */
function countingLab(answers: ({ qp: number } | 'refuse')[]): { lab: { machines: { name: string; agent: { call(): Promise<unknown> } }[] }; asks: () => number } {
  let n = 0;
  const call = (): Promise<unknown> => {
    const a = answers[Math.min(n++, answers.length - 1)]!;
    return a === 'refuse' ? Promise.reject(new Error('refused')) : Promise.resolve([{ devName: 'rxe0', counts: a }]);
  };
  return { lab: { machines: [{ name: 'target', agent: { call } }] }, asks: () => n };
}

t.test('settle: read again while grown, until it is not or time is up', async (t) => {
  const before = { target: { qp: 3 } };
  const start = performance.now();
  const now = (): number => performance.now() - start;
  const lab = countingLab([{ qp: 5 }, { qp: 3 }]);
  const settled = await settleGrowth(lab.lab as never, before, { target: { qp: 5 } }, 10_000, now);
  t.same(settled, { target: { qp: 3 } }, 'the old association freed: as before');
  t.equal(lab.asks(), 2, 'asked until the growth was gone');

  const leak = countingLab([{ qp: 5 }]);
  const held = await settleGrowth(leak.lab as never, before, { target: { qp: 5 } }, now() + 1200, now);
  t.same(held, { target: { qp: 5 } }, 'still grown when time is up: the growth stands');
  t.ok(leak.asks() >= 1 && leak.asks() <= 2, `${leak.asks()} asks in 1.2 s at ${RDMA_SETTLE_POLL_MS} ms`);

  const quiet = countingLab(['refuse']);
  t.same(await settleGrowth(quiet.lab as never, before, { target: { qp: 5 } }, now() + 700, now), { target: { qp: 5 } }, 'a VM that stops answering keeps its last counts');
  t.same(await settleGrowth(quiet.lab as never, before, { target: { qp: 3 } }, now() + 10_000, now), { target: { qp: 3 } }, 'no growth: no wait');
});
