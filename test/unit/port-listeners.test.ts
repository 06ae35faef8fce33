// The target's listeners: RES_CM_ID_GET answers decoded as the kernel builds them
// (fill_res_cm_id_entry: state, port space, sockaddr_storage addresses), the
// controller's port from its connect options, and the watch that requires the port
// listening again after a target-side reset.
import t from 'tap';
import { attr } from '../../src/orchestrate/netlink/codec.js';
import {
  RDMA_CM_LISTEN,
  RDMA_NLDEV_ATTR_DEV_INDEX,
  RDMA_NLDEV_ATTR_RES_CM_ID,
  RDMA_NLDEV_ATTR_RES_CM_ID_ENTRY,
  RDMA_NLDEV_ATTR_RES_DST_ADDR,
  RDMA_NLDEV_ATTR_RES_KERN_NAME,
  RDMA_NLDEV_ATTR_RES_PS,
  RDMA_NLDEV_ATTR_RES_SRC_ADDR,
  RDMA_NLDEV_ATTR_RES_STATE,
} from '../../src/orchestrate/netlink/constants.js';
import { decodeCmIds, sockaddrString } from '../../src/orchestrate/netlink/rdma.js';
import { controllerPort, judgeRelisten, relistenApplies, relistenEvents, watchRelisten } from '../../src/scenario/port-listeners.js';
import { quickSpec } from '../helpers/fake-lab-context.js';

/** A struct __kernel_sockaddr_storage (128 bytes) holding an IPv4 address. */
function sin(addr: string, port: number): Buffer {
  const b = Buffer.alloc(128);
  b.writeUInt16LE(2, 0);
  b.writeUInt16BE(port, 2);
  Buffer.from(addr.split('.').map(Number)).copy(b, 4);
  return b;
}

/** The same holding an IPv6 address, given as its 8 groups. */
function sin6(groups: number[], port: number): Buffer {
  const b = Buffer.alloc(128);
  b.writeUInt16LE(10, 0);
  b.writeUInt16BE(port, 2);
  groups.forEach((g, i) => b.writeUInt16BE(g, 8 + 2 * i));
  return b;
}

t.test('sockaddr_storage as "addr:port"', async (t) => {
  t.equal(sockaddrString(sin('10.99.0.1', 4420)), '10.99.0.1:4420');
  t.equal(sockaddrString(sin6([0xfe80, 0, 0, 0, 0, 0, 0, 1], 4420)), '[fe80::1]:4420', 'IPv6 in its shortest form');
  t.equal(sockaddrString(sin6([0x2001, 0xdb8, 0, 1, 0, 0, 0, 0], 8009)), '[2001:db8:0:1::]:8009');
  const ib = Buffer.alloc(128);
  ib.writeUInt16LE(27, 0); // AF_IB
  t.equal(sockaddrString(ib), undefined, 'another family: no address');
  t.equal(sockaddrString(Buffer.alloc(2)), undefined, 'too short');
});

t.test('a RES_CM_ID_GET answer: every cm_id, listening or not', async (t) => {
  const listening = attr.nested(RDMA_NLDEV_ATTR_RES_CM_ID_ENTRY, [
    attr.u32(RDMA_NLDEV_ATTR_RES_PS, 0x106),
    attr.u8(RDMA_NLDEV_ATTR_RES_STATE, RDMA_CM_LISTEN),
    attr.bytes(RDMA_NLDEV_ATTR_RES_SRC_ADDR, sin('10.99.0.1', 4420)),
    attr.str(RDMA_NLDEV_ATTR_RES_KERN_NAME, 'nvmet_rdma'),
  ]);
  const queue = attr.nested(RDMA_NLDEV_ATTR_RES_CM_ID_ENTRY, [
    attr.u32(RDMA_NLDEV_ATTR_RES_PS, 0x106),
    attr.u8(RDMA_NLDEV_ATTR_RES_STATE, 5),
    attr.bytes(RDMA_NLDEV_ATTR_RES_SRC_ADDR, sin('10.99.0.1', 4420)),
    attr.bytes(RDMA_NLDEV_ATTR_RES_DST_ADDR, sin('10.99.0.2', 51234)),
  ]);
  const stateless = attr.nested(RDMA_NLDEV_ATTR_RES_CM_ID_ENTRY, [attr.u32(RDMA_NLDEV_ATTR_RES_PS, 0x106)]);
  const payload = Buffer.concat([attr.u32(RDMA_NLDEV_ATTR_DEV_INDEX, 1), attr.nested(RDMA_NLDEV_ATTR_RES_CM_ID, [listening, queue, stateless])]);
  t.same(decodeCmIds({ type: 0, flags: 0, seq: 0, pid: 0, payload }), [
    { state: RDMA_CM_LISTEN, ps: 0x106, src: '10.99.0.1:4420', kernName: 'nvmet_rdma' },
    { state: 5, ps: 0x106, src: '10.99.0.1:4420', dst: '10.99.0.2:51234' },
  ]);
  t.same(decodeCmIds({ type: 0, flags: 0, seq: 0, pid: 0, payload: attr.u32(RDMA_NLDEV_ATTR_DEV_INDEX, 1) }), [], 'no table: none');
});

t.test("the controller's port, from its connect options", async (t) => {
  t.equal(controllerPort('transport=rdma,traddr=10.99.0.1,trsvcid=4420,nqn=x,reconnect_delay=1'), '10.99.0.1:4420');
  t.equal(controllerPort('transport=rdma,traddr=fe80:0::1,trsvcid=4420'), '[fe80::1]:4420', 'IPv6 written as the listing writes it');
  t.equal(controllerPort('transport=tcp,traddr=10.99.0.1,trsvcid=4420'), undefined, 'not an RDMA listener');
  t.equal(controllerPort('transport=rdma,traddr=10.99.0.1'), undefined, 'no service id');
});

t.test('required only where the target device goes while the host is expected to recover', async (t) => {
  t.equal(relistenApplies(quickSpec({ side: 'target' })), true);
  t.equal(relistenApplies(quickSpec({ side: 'both' })), true);
  t.equal(relistenApplies(quickSpec({ side: 'host' })), false);
  t.equal(relistenApplies(quickSpec({ side: 'target', expect: { controller: 'deleted', io_errors: 'allowed' } })), false);
  t.equal(relistenApplies(quickSpec({ side: 'target', during: 'connect' })), false);
});

/** A target agent whose listing answers, call by call, from `answers` (the last repeats); 'fail' rejects. */
function agentAnswering(answers: ('listening' | 'none' | 'fail')[]) {
  let n = 0;
  return {
    calls: () => n,
    call: (op: string) => {
      if (op !== 'rdma.listeners') return Promise.reject(new Error(`unexpected ${op}`));
      const a = answers[Math.min(n++, answers.length - 1)];
      if (a === 'fail') return Promise.reject(new Error('agent gone'));
      return Promise.resolve(a === 'listening' ? [{ device: 'rxe1', addr: '10.99.0.1:4420', kernName: 'nvmet_rdma' }] : []);
    },
  } as const;
}

const clock = () => {
  const t0 = Date.now();
  return () => Date.now() - t0;
};

t.test('the watch: listening again on the third listing', async (t) => {
  const agent = agentAnswering(['none', 'none', 'listening']);
  const w = watchRelisten(agent as never, '10.99.0.1:4420', clock(), 5000, 20);
  await new Promise((r) => setTimeout(r, 200));
  await w.stop();
  t.equal(agent.calls(), 3, 'stopped listing once it was there');
  t.ok(w.record.listeningMs !== undefined && w.record.listeningMs >= 30, `listening after two polls (${w.record.listeningMs} ms)`);
  t.equal(w.record.device, 'rxe1');
  t.equal(w.record.deafMs, undefined);
  t.same(relistenEvents(w.record, 'target').map((e) => e.value), ['listening again (rxe1)']);
  t.match(judgeRelisten(w.record), { fail: undefined, note: /^; the target listened on 10\.99\.0\.1:4420 again by 0\.\d\d s after the device came back$/ });
});

t.test('the watch: still not listening in a listing made at the limit', async (t) => {
  const agent = agentAnswering(['none']);
  const w = watchRelisten(agent as never, '10.99.0.1:4420', clock(), 150, 20);
  await new Promise((r) => setTimeout(r, 400));
  const calls = agent.calls();
  await w.stop();
  t.ok(w.record.deafMs !== undefined && w.record.deafMs >= 150, `deaf from a listing at or after 150 ms (${w.record.deafMs} ms)`);
  t.equal(agent.calls(), calls, 'no listing after it was decided');
  t.equal(w.record.listeningMs, undefined);
  t.same(relistenEvents(w.record, 'target').map((e) => e.value), ['not listening 150 ms after the device came back']);
  t.match(judgeRelisten(w.record).fail, /^the target was not listening on 10\.99\.0\.1:4420 0\.\d\d s after the device came back \(allowed 0\.15 s\): nvmet-rdma did not bind the port again/);
});

t.test('the watch: listings that fail decide nothing, and stop() ends it at once', async (t) => {
  const agent = agentAnswering(['fail']);
  const w = watchRelisten(agent as never, '10.99.0.1:4420', clock(), 50, 1000);
  await new Promise((r) => setTimeout(r, 150));
  const t0 = Date.now();
  await w.stop();
  t.ok(Date.now() - t0 < 200, `stop() did not wait out the poll (${Date.now() - t0} ms)`);
  t.same([w.record.deafMs, w.record.listeningMs], [undefined, undefined], 'no answer: neither');
  t.equal(w.record.lastError, 'agent gone', 'why, kept');
  t.same(judgeRelisten(w.record), { note: "; the target's listeners could not be listed after the reset (agent gone)" });
  t.same(judgeRelisten(undefined), { note: '' });
});
