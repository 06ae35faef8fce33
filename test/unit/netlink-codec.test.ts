// Netlink codecs on hand-built byte sequences (layouts from linux/netlink.h,
// rtnetlink.h, if_link.h, if_addr.h and rdma/rdma_netlink.h).
import t from 'tap';
import {
  Attrs,
  attr,
  decodeAttrs,
  decodeDone,
  decodeError,
  decodeMsgs,
  encodeMsg,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  RTM_GETLINK,
} from '../../src/orchestrate/netlink/index.js';

const hex = (s: string) => Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');

t.test('nlmsghdr encode: RTM_GETLINK dump request', async (t) => {
  const m = encodeMsg({ type: RTM_GETLINK, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 1, payload: Buffer.alloc(16) });
  t.same(
    m,
    hex(`
      20000000 1200 0103 01000000 00000000
      00000000 00000000 00000000 00000000`),
  );
});

t.test('nlmsghdr encode pads to 4 bytes but nlmsg_len is unpadded', async (t) => {
  const m = encodeMsg({ type: 0x10, flags: 1, seq: 7, pid: 9, payload: Buffer.from([1, 2, 3]) });
  t.equal(m.length, 20);
  t.equal(m.readUInt32LE(0), 19);
  t.same(m.subarray(16), Buffer.from([1, 2, 3, 0]));
});

t.test('decodeMsgs: two messages in one datagram, padding honoured', async (t) => {
  const buf = Buffer.concat([
    encodeMsg({ type: 16, flags: 2, seq: 5, pid: 0, payload: Buffer.from([0xaa]) }),
    encodeMsg({ type: NLMSG_DONE, flags: 2, seq: 5, pid: 0, payload: hex('00000000') }),
  ]);
  const msgs = decodeMsgs(buf);
  t.equal(msgs.length, 2);
  t.equal(msgs[0]!.type, 16);
  t.same(msgs[0]!.payload, Buffer.from([0xaa]));
  t.equal(msgs[1]!.type, NLMSG_DONE);
  t.equal(decodeDone(msgs[1]!).errno, 0);
});

t.test('decodeMsgs rejects a length that overruns the datagram', async (t) => {
  const b = hex('40000000 1000 0000 00000000 00000000');
  t.throws(() => decodeMsgs(b), /bad nlmsg_len 64/);
});

t.test('nlattr: string, u32, u8, padding', async (t) => {
  t.same(attr.str(3, 'lo'), hex('0700 0300 6c6f00 00'));
  t.same(attr.u32(4, 1500), hex('0800 0400 dc050000'));
  t.same(attr.u8(16, 6), hex('0500 1000 06 000000'));
});

t.test('nlattr: nested IFLA_LINKINFO { IFLA_INFO_KIND "veth" }', async (t) => {
  const n = attr.nested(18, [attr.str(1, 'veth')]);
  t.same(n, hex('1000 1280  0900 0100 76657468 00 000000'));
  const outer = decodeAttrs(n);
  t.equal(outer.length, 1);
  t.equal(outer[0]!.type, 18);
  t.equal(outer[0]!.nested, true);
  t.equal(new Attrs(n).nested(18)?.str(1), 'veth');
});

t.test('Attrs typed getters and a truncated attribute', async (t) => {
  const b = Buffer.concat([attr.u64(6, 0x0102030405060708n), attr.u32(1, 7), attr.str(2, 'rxe0'), attr.u32(1, 8)]);
  const a = new Attrs(b);
  t.equal(a.u64(6), 0x0102030405060708n);
  t.equal(a.u32(1), 7, 'first of a repeated type wins');
  t.equal(a.all(1).length, 2);
  t.equal(a.str(2), 'rxe0');
  t.equal(a.u32(99), undefined);
  t.throws(() => decodeAttrs(hex('0c00 0100 00000000')), /bad nla_len 12/);
});

// NLMSG_ERROR for RTM_NEWADDR 192.0.2.1/24 that already exists, as the kernel sends it
// with NETLINK_EXT_ACK: capped (only the request header echoed) + MSG and OFFS TLVs.
const EEXIST_ACK = hex(`
  50000000 0200 0003 05000000 d2040000
  efffffff
  28000000 1400 0506 05000000 00000000
  2300 0100 69707634 3a204164 64726573 7320616c 72656164 79206173 7369676e 656400 00
  0800 0200 18000000`);

t.test('NLMSG_ERROR with extended ACK (capped, TLVs)', async (t) => {
  const [m] = decodeMsgs(EEXIST_ACK);
  t.equal(m!.type, NLMSG_ERROR);
  const e = decodeError(m!);
  t.equal(e.errno, 17);
  t.equal(e.code, 'EEXIST');
  t.same(e.request, { len: 0x28, type: 20, flags: 0x605, seq: 5, pid: 0 });
  t.equal(e.extAck.msg, 'ipv4: Address already assigned');
  t.equal(e.extAck.offset, 24);
});

t.test('NLMSG_ERROR uncapped: TLVs follow the whole echoed request', async (t) => {
  const req = encodeMsg({ type: 20, flags: 5, seq: 9, payload: Buffer.alloc(8, 0x11) }); // 24 bytes
  const payload = Buffer.concat([hex('eaffffff'), req, attr.str(1, 'bad')]); // -22
  const m = encodeMsg({ type: NLMSG_ERROR, flags: 0x200, seq: 9, payload });
  const e = decodeError(decodeMsgs(m)[0]!);
  t.equal(e.code, 'EINVAL');
  t.equal(e.request.seq, 9);
  t.equal(e.extAck.msg, 'bad');
});

t.test('ACK (error 0) and NLMSG_DONE carrying an error', async (t) => {
  const ack = encodeMsg({ type: NLMSG_ERROR, flags: 0x100, seq: 3, payload: Buffer.concat([hex('00000000'), Buffer.alloc(16)]) });
  t.equal(decodeError(decodeMsgs(ack)[0]!).errno, 0);
  t.equal(decodeError(decodeMsgs(ack)[0]!).code, '');
  const done = encodeMsg({ type: NLMSG_DONE, flags: 0x202, seq: 3, payload: Buffer.concat([hex('eaffffff'), attr.str(1, 'dump failed')]) });
  const d = decodeDone(decodeMsgs(done)[0]!);
  t.equal(d.code, 'EINVAL');
  t.equal(d.extAck.msg, 'dump failed');
});
