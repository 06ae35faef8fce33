// Request/response, RDMA nldev, rtnetlink and uevent codecs against a fake kernel
// that answers with hand-built messages.
import t from 'tap';
import {
  attr,
  decodeMsgs,
  encodeMsg,
  NetlinkError,
  NetlinkSocket,
  NLMSG_DONE,
  NLMSG_ERROR,
  RdmaNl,
  Rtnl,
  decodeLink,
  encodeNewLink,
  nldevType,
  parseUevent,
  uventMatches,
  UEVENT_SUBSYSTEMS,
  type NativeNetlink,
  type NlMsg,
} from '../../src/orchestrate/netlink/index.js';
import { settlesWithin } from '../../src/util/deadline.js';
import { DeadlineError, HarnessError } from '../../src/util/errors.js';

/** linux/netlink.h: a part of a multipart message (the kernel's dump answers). */
const NLM_F_MULTI = 0x02;
const hex = (s: string) => Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');

/** A fake NETLINK socket: `handler` sees each request and returns datagrams to queue. */
class FakeKernel implements NativeNetlink {
  sent: NlMsg[] = [];
  rx: Buffer[] = [];
  closed = false;
  constructor(public handler: (req: NlMsg) => Buffer[]) {}
  nlOpen() {
    return { fd: 42, portid: 777, extAck: true };
  }
  /** A kernel that never returns from the request (stock 6.1's DELLINK behind a connecting controller). */
  blocks = false;
  /** A send that fails this many ms after it started. */
  failLateMs: number | undefined;
  nlSendAsync(_fd: number, buf: Buffer) {
    for (const m of decodeMsgs(buf)) this.sent.push(m);
    if (this.blocks) return new Promise<number>(() => {});
    const late = this.failLateMs;
    if (late !== undefined) return new Promise<number>((_, reject) => setTimeout(() => reject(new Error('EINTR from a late send')), late));
    for (const m of decodeMsgs(buf)) this.rx.push(...this.handler(m));
    return Promise.resolve(buf.length);
  }
  async nlRecvAsync(_fd: number, timeoutMs: number) {
    if (!this.rx.length) await new Promise((r) => setTimeout(r, Math.min(timeoutMs, 20)));
    return this.rx.splice(0, 1);
  }
  nlClose() {
    this.closed = true;
  }
}

const ack = (req: NlMsg, errno = 0, tlvs: Buffer[] = []) =>
  encodeMsg({
    type: NLMSG_ERROR,
    flags: 0x100 | (tlvs.length ? 0x200 : 0),
    seq: req.seq,
    pid: 777,
    payload: Buffer.concat([Buffer.from(Int32Array.of(-errno).buffer), encodeMsg({ type: req.type, flags: req.flags, seq: req.seq }).subarray(0, 16), ...tlvs]),
  });
const done = (req: NlMsg) => encodeMsg({ type: NLMSG_DONE, flags: NLM_F_MULTI, seq: req.seq, pid: 777, payload: hex('00000000') });

t.test('request: stale replies are unsolicited, the ACK with our seq ends it', async (t) => {
  const k = new FakeKernel((req) => [
    encodeMsg({ type: 16, flags: 0, seq: req.seq - 1, payload: Buffer.alloc(16) }), // stale
    ack(req),
  ]);
  const s = NetlinkSocket.open(0, { native: k });
  const unsolicited: NlMsg[] = [];
  s.onUnsolicited = (m) => unsolicited.push(m);
  const r = await s.request(19, Buffer.alloc(16), { what: 'test' });
  t.same(r, []);
  t.equal(unsolicited.length, 1);
  t.equal(k.sent[0]!.flags & 0x5, 0x5, 'REQUEST|ACK');
  await s.close();
  t.ok(k.closed);
});

t.test('request: error ACK becomes NetlinkError with the kernel message and hint', async (t) => {
  const k = new FakeKernel((req) => [ack(req, 19, [attr.str(1, 'no such thing')])]);
  const s = NetlinkSocket.open(0, { native: k });
  await t.rejects(s.request(16, Buffer.alloc(16), { what: 'RTM_NEWLINK x', hint: (c) => (c === 'ENODEV' ? 'x is missing' : undefined) }), {
    name: 'NetlinkError',
    code: 'ENODEV',
    message: /RTM_NEWLINK x: ENODEV .*kernel says "no such thing"; x is missing/,
  });
  await s.close();
});

t.test('dump: multipart across datagrams until DONE; timeout names the request', async (t) => {
  const k = new FakeKernel((req) => [
    encodeMsg({ type: 16, flags: NLM_F_MULTI, seq: req.seq, pid: 777, payload: Buffer.alloc(16, 1) }),
    Buffer.concat([
      encodeMsg({ type: 16, flags: NLM_F_MULTI, seq: req.seq, pid: 777, payload: Buffer.alloc(16, 2) }),
      done(req),
    ]),
  ]);
  const s = NetlinkSocket.open(0, { native: k });
  const msgs = await s.dump(18, Buffer.alloc(16), { what: 'dump' });
  t.equal(msgs.length, 2);
  t.equal(k.sent[0]!.flags, 0x301, 'REQUEST|DUMP');
  k.handler = () => [];
  await t.rejects(s.dump(18, Buffer.alloc(16), { what: 'silent dump', timeoutMs: 60 }), /silent dump: no answer from the kernel within 60 ms/);
  await s.close();
});

t.test('request: a kernel that holds the send does not hold the caller past its deadline', async (t) => {
  const k = new FakeKernel((req) => [ack(req)]);
  k.blocks = true;
  const s = NetlinkSocket.open(0, { native: k });
  let ticks = 0;
  const beat = setInterval(() => ticks++, 10);
  const started = Date.now();
  const req = s.request(20, Buffer.alloc(16), { what: 'RDMA_NLDEV_CMD_DELLINK rxe0', timeoutMs: 120 });
  // Bounded, and the interval cleared either way: a request that never settles fails
  // here, not at tap's timeout with the interval keeping the process alive.
  const settled = await settlesWithin(req, 1000).finally(() => clearInterval(beat));
  const elapsed = Date.now() - started;
  if (!settled) return t.fail('the request was still pending 1 s after its 120 ms deadline');
  const err = await req.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, DeadlineError);
  t.type(err, HarnessError, 'a HarnessError (exit 3)');
  t.match(err, {
    name: 'DeadlineError',
    message: /^timed out after 120 ms waiting for the kernel to return from RDMA_NLDEV_CMD_DELLINK rxe0 \(its send is still blocked\)$/,
  });
  t.ok(elapsed >= 100 && elapsed < 1000, `at the deadline (${elapsed} ms)`);
  t.ok(ticks >= 5, `the event loop ran meanwhile (${ticks} timer ticks)`);
  t.equal(k.sent.length, 1, 'the request was sent');
});

t.test('request: a send that fails after its deadline is no unhandled rejection', async (t) => {
  const k = new FakeKernel((req) => [ack(req)]);
  k.failLateMs = 80;
  const s = NetlinkSocket.open(0, { native: k });
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => process.off('unhandledRejection', onUnhandled));
  await t.rejects(s.request(20, Buffer.alloc(16), { what: 'late', timeoutMs: 30 }), DeadlineError);
  await new Promise((r) => setTimeout(r, 120)); // past the send's late failure
  t.same(unhandled, []);
});

// ---- RDMA nldev ----

t.test('nldev NEWLINK request bytes (rdma link add rxe0 type rxe netdev eth0)', async (t) => {
  t.equal(nldevType(3), 0x1403);
  t.same(
    encodeNewLink('rxe0', 'eth0', 'rxe'),
    hex(`0900 0200 72786530 00 000000
         0800 4100 727865 00
         0900 3300 65746830 00 000000`),
  );
});

const devMsg = (seq: number) =>
  encodeMsg({
    type: nldevType(1),
    flags: NLM_F_MULTI,
    seq,
    pid: 777,
    payload: Buffer.concat([
      attr.u32(1, 3), // DEV_INDEX
      attr.str(2, 'rxe0'), // DEV_NAME
      attr.u32(3, 1), // PORT_INDEX (= port count)
      attr.u64(6, 0x5054_00ff_fe12_3456n), // NODE_GUID
      attr.str(67, 'roce'), // DEV_PROTOCOL
    ]),
  });
t.test('nldev: device dump, newlink, dellink', async (t) => {
  const devices = new Map<number, boolean>([[3, true]]);
  const k = new FakeKernel((req) => {
    switch (req.type) {
      case nldevType(1):
        return devices.get(3) ? [devMsg(req.seq), done(req)] : [done(req)];
      case nldevType(3):
        devices.set(3, true);
        return [ack(req)];
      case nldevType(4):
        t.same(req.payload, attr.u32(1, 3), 'DELLINK by DEV_INDEX');
        devices.set(3, false);
        return [ack(req)];
      default:
        return [ack(req, 95)];
    }
  });
  const nl = RdmaNl.open({ native: k });
  const devs = await nl.listDevices();
  t.same(devs, [{ index: 3, name: 'rxe0', ports: 1, nodeGuid: '5054:00ff:fe12:3456', protocol: 'roce' }]);
  await nl.delLink('rxe0');
  t.same(await nl.listDevices(), []);
  await t.rejects(nl.delLink('rxe0'), { name: 'UsageError', message: /no RDMA device named "rxe0" \(present: none\)/ });
  const d = await nl.newLink('rxe0', 'eth0');
  t.equal(d.index, 3);
  await nl.close();
});

t.test('nldev NEWLINK errors name the likely cause', async (t) => {
  for (const [errno, re] of [
    [19, /no network interface named "eth9"/],
    [17, /eth9 already has an rxe device/],
    [23, /an RDMA device named "rxe0" already exists/],
    [2, /crc32_generic/],
  ] as const) {
    const k = new FakeKernel((req) => [ack(req, errno)]);
    const nl = RdmaNl.open({ native: k });
    await t.rejects(nl.newLink('rxe0', 'eth9'), re);
    await nl.close();
  }
  const nl = RdmaNl.open({ native: new FakeKernel((r) => [ack(r)]) });
  await t.rejects(nl.newLink('bad%d', 'eth0'), { name: 'UsageError' });
  await nl.close();
});

// ---- rtnetlink ----

t.test('RTM_NEWADDR request bytes for 192.0.2.1/24 on ifindex 3', async (t) => {
  const k = new FakeKernel((req) => [ack(req)]);
  const r = Rtnl.open({ native: k });
  await r.addAddr(3, '192.0.2.1/24');
  const m = k.sent[0]!;
  t.equal(m.type, 20);
  t.equal(m.flags, 0x605, 'REQUEST|ACK|EXCL|CREATE');
  t.same(m.payload, hex('02 18 00 00 03000000  0800 0200 c0000201  0800 0100 c0000201'));
  await r.setLinkUp(3, false);
  t.same(k.sent[1]!.payload, hex('00 00 0000 03000000 00000000 01000000'), 'ifinfomsg: flags 0, change IFF_UP');
  await r.setLinkUp(3, true, 9000);
  t.same(k.sent[2]!.payload, hex('00 00 0000 03000000 01000000 01000000  0800 0400 28230000'), 'IFF_UP with IFLA_MTU (4) 9000 in the same request');
  await r.close();
});

t.test('addAddr/parse errors are clear', async (t) => {
  const k = new FakeKernel((req) => [ack(req, 17, [attr.str(1, 'ipv4: Address already assigned')])]);
  const r = Rtnl.open({ native: k });
  await t.rejects(r.addAddr(3, '192.0.2.1/24'), /already assigned"; 192.0.2.1\/24 is already on 3/);
  await r.addAddr(3, '192.0.2.1/24', { ifExists: 'ok' });
  await t.rejects(r.addAddr(3, '192.0.2.300/24'), { name: 'UsageError', message: /0-255/ });
  await t.rejects(r.addAddr(3, '10.0.0.1/33'), { name: 'UsageError', message: /prefix length/ });
  await t.rejects(r.addAddr(3, 'fe80::1'), { name: 'UsageError' });
  await r.close();
});

t.test('RTM_NEWLINK decode (hand-built)', async (t) => {
  const payload = Buffer.concat([
    hex('00 00 0100 03000000 43100100 00000000'), // ifinfomsg: ARPHRD_ETHER, index 3, flags UP|BROADCAST|RUNNING|MULTICAST|LOWER_UP
    attr.str(3, 'va'),
    attr.u32(4, 1500),
    attr.u8(16, 6), // IF_OPER_UP
    attr.bytes(1, hex('bed068eda437')),
    attr.nested(18, [attr.str(1, 'veth')]),
  ]);
  t.same(decodeLink({ type: 16, flags: 0, seq: 0, pid: 0, payload }), {
    index: 3,
    name: 'va',
    flags: 0x11043,
    up: true,
    running: true,
    lowerUp: true,
    operstate: 'UP',
    mtu: 1500,
    address: 'be:d0:68:ed:a4:37',
    kind: 'veth',
  });
});

// ---- uevents ----

t.test('uevent parse and filter', async (t) => {
  const raw = Buffer.from(
    'remove@/devices/virtual/infiniband/rxe0\0ACTION=remove\0DEVPATH=/devices/virtual/infiniband/rxe0\0SUBSYSTEM=infiniband\0NAME=rxe0\0SEQNUM=4711\0',
  );
  const ev = parseUevent(raw)!;
  t.equal(ev.action, 'remove');
  t.equal(ev.devpath, '/devices/virtual/infiniband/rxe0');
  t.equal(ev.subsystem, 'infiniband');
  t.equal(ev.seqnum, 4711);
  t.equal(ev.env.NAME, 'rxe0');
  t.ok(uventMatches(ev, UEVENT_SUBSYSTEMS));
  t.notOk(uventMatches({ ...ev, subsystem: 'tty' }, UEVENT_SUBSYSTEMS));
  t.ok(uventMatches({ ...ev, subsystem: 'nvme-fabrics' }, UEVENT_SUBSYSTEMS));
  t.equal(parseUevent(Buffer.from('libudev\0\xfe\xed\xca\xfe', 'latin1')), undefined, 'udevd re-broadcast skipped');
  t.equal(parseUevent(Buffer.from('garbage')), undefined);
});

t.test('NetlinkError is a HarnessError (exit 3)', async (t) => {
  t.equal(new NetlinkError('x', 1, 'EPERM').exitCode, 3);
});
