// Netlink message codecs: nlmsghdr, nlattr (nested too), NLMSG_ERROR with the
// extended ACK TLVs. Host byte order is little-endian (x86_64/aarch64 guests); the
// few NLA_F_NET_BYTEORDER attributes are read big-endian by their users.
import { getSystemErrorName } from 'node:util';
import {
  NLA_F_NESTED,
  NLA_F_NET_BYTEORDER,
  NLA_HDRLEN,
  NLA_TYPE_MASK,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSGERR_ATTR_COOKIE,
  NLMSGERR_ATTR_MISS_TYPE,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
} from './constants.js';

export const align4 = (n: number): number => (n + 3) & ~3;

export interface NlMsg {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** Everything after the 16-byte header, up to nlmsg_len (not padded). */
  payload: Buffer;
}

/** One netlink message, padded to 4 bytes. */
export function encodeMsg(m: { type: number; flags: number; seq: number; pid?: number; payload?: Buffer }): Buffer {
  const payload = m.payload ?? Buffer.alloc(0);
  const len = NLMSG_HDRLEN + payload.length;
  const buf = Buffer.alloc(align4(len));
  buf.writeUInt32LE(len, 0);
  buf.writeUInt16LE(m.type, 4);
  buf.writeUInt16LE(m.flags, 6);
  buf.writeUInt32LE(m.seq >>> 0, 8);
  buf.writeUInt32LE((m.pid ?? 0) >>> 0, 12);
  payload.copy(buf, NLMSG_HDRLEN);
  return buf;
}

export class NetlinkCodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetlinkCodecError';
  }
}

/** All messages in one datagram. Throws on a truncated or malformed header. */
export function decodeMsgs(buf: Buffer): NlMsg[] {
  const out: NlMsg[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length)
      throw new NetlinkCodecError(`bad nlmsg_len ${len} at offset ${off} of a ${buf.length}-byte datagram`);
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  if (off < buf.length && buf.length - off >= 1 && out.length === 0)
    throw new NetlinkCodecError(`datagram of ${buf.length} bytes is shorter than a netlink header`);
  return out;
}

// ---- attributes -----------------------------------------------------------

export interface NlAttr {
  /** Type without the NESTED / NET_BYTEORDER flag bits. */
  type: number;
  nested: boolean;
  netByteOrder: boolean;
  data: Buffer;
}

/** One attribute (header + data + padding). */
export function encodeAttr(type: number, data: Buffer, opts: { nested?: boolean } = {}): Buffer {
  const len = NLA_HDRLEN + data.length;
  const buf = Buffer.alloc(align4(len));
  buf.writeUInt16LE(len, 0);
  buf.writeUInt16LE(type | (opts.nested ? NLA_F_NESTED : 0), 2);
  data.copy(buf, NLA_HDRLEN);
  return buf;
}

export const attr = {
  u8: (t: number, v: number) => encodeAttr(t, Buffer.from([v & 0xff])),
  u16: (t: number, v: number) => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v);
    return encodeAttr(t, b);
  },
  u32: (t: number, v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return encodeAttr(t, b);
  },
  u64: (t: number, v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    return encodeAttr(t, b);
  },
  /** NUL-terminated string (NLA_NUL_STRING / NLA_STRING both accept it). */
  str: (t: number, v: string) => encodeAttr(t, Buffer.concat([Buffer.from(v, 'utf8'), Buffer.from([0])])),
  bytes: (t: number, v: Buffer) => encodeAttr(t, v),
  /** A nested attribute; the NLA_F_NESTED bit is set unless `flag` is false (some old
   * rtnetlink nests, like IFLA_LINKINFO, are accepted either way). */
  nested: (t: number, children: Buffer[], flag = true) => encodeAttr(t, Buffer.concat(children), { nested: flag }),
};

/** All attributes in a buffer. A trailing fragment shorter than a header is ignored
 * (as the kernel's nla_for_each_attr does); an attribute overrunning the buffer throws. */
export function decodeAttrs(buf: Buffer): NlAttr[] {
  const out: NlAttr[] = [];
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = buf.readUInt16LE(off);
    const rawType = buf.readUInt16LE(off + 2);
    if (len < NLA_HDRLEN || off + len > buf.length)
      throw new NetlinkCodecError(`bad nla_len ${len} (type ${rawType & NLA_TYPE_MASK}) at offset ${off} of ${buf.length}`);
    out.push({
      type: rawType & NLA_TYPE_MASK,
      nested: (rawType & NLA_F_NESTED) !== 0,
      netByteOrder: (rawType & NLA_F_NET_BYTEORDER) !== 0,
      data: buf.subarray(off + NLA_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** Typed read access to a list of attributes (the first of each type wins, like
 * nla_parse; `all()` returns repeats). */
export class Attrs {
  readonly list: NlAttr[];
  private readonly byType = new Map<number, NlAttr>();
  constructor(bufOrList: Buffer | NlAttr[]) {
    this.list = Buffer.isBuffer(bufOrList) ? decodeAttrs(bufOrList) : bufOrList;
    for (const a of this.list) if (!this.byType.has(a.type)) this.byType.set(a.type, a);
  }
  raw(t: number): Buffer | undefined {
    return this.byType.get(t)?.data;
  }
  all(t: number): NlAttr[] {
    return this.list.filter((a) => a.type === t);
  }
  u8(t: number): number | undefined {
    const d = this.raw(t);
    return d && d.length >= 1 ? d.readUInt8(0) : undefined;
  }
  u32(t: number): number | undefined {
    const d = this.raw(t);
    return d && d.length >= 4 ? d.readUInt32LE(0) : undefined;
  }
  u64(t: number): bigint | undefined {
    const d = this.raw(t);
    return d && d.length >= 8 ? d.readBigUInt64LE(0) : undefined;
  }
  /** A string attribute, without its terminating NUL. */
  str(t: number): string | undefined {
    const d = this.raw(t);
    if (!d) return undefined;
    const nul = d.indexOf(0);
    return d.subarray(0, nul < 0 ? d.length : nul).toString('utf8');
  }
  nested(t: number): Attrs | undefined {
    const d = this.raw(t);
    return d ? new Attrs(d) : undefined;
  }
}

// ---- NLMSG_ERROR / NLMSG_DONE ----------------------------------------------

export interface ExtAck {
  /** NLMSGERR_ATTR_MSG: the kernel's human-readable reason. */
  msg?: string;
  /** NLMSGERR_ATTR_OFFS: byte offset of the offending attribute in the request. */
  offset?: number;
  cookie?: Buffer;
  /** NLMSGERR_ATTR_MISS_TYPE: a required attribute that was missing. */
  missingType?: number;
}

export interface NlError {
  /** 0 for an ACK, otherwise a positive errno. */
  errno: number;
  /** errno name ("ENODEV"), '' for an ACK. */
  code: string;
  /** Header of the request this answers. */
  request: { len: number; type: number; flags: number; seq: number; pid: number };
  extAck: ExtAck;
}

export function errnoName(errno: number): string {
  if (errno === 0) return '';
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `E${errno}`;
  }
}

function parseExtAck(tlvs: Buffer): ExtAck {
  const a = new Attrs(tlvs);
  const ext: ExtAck = {};
  const msg = a.str(NLMSGERR_ATTR_MSG);
  if (msg !== undefined) ext.msg = msg;
  const offs = a.u32(NLMSGERR_ATTR_OFFS);
  if (offs !== undefined) ext.offset = offs;
  const cookie = a.raw(NLMSGERR_ATTR_COOKIE);
  if (cookie) ext.cookie = Buffer.from(cookie);
  const miss = a.u32(NLMSGERR_ATTR_MISS_TYPE);
  if (miss !== undefined) ext.missingType = miss;
  return ext;
}

/** Decodes an NLMSG_ERROR message: struct nlmsgerr { int error; struct nlmsghdr msg; }
 * then the echoed request payload unless NLM_F_CAPPED, then TLVs if NLM_F_ACK_TLVS. */
export function decodeError(m: NlMsg): NlError {
  if (m.type !== NLMSG_ERROR) throw new NetlinkCodecError(`not an NLMSG_ERROR (type ${m.type})`);
  const p = m.payload;
  if (p.length < 4 + NLMSG_HDRLEN) throw new NetlinkCodecError(`NLMSG_ERROR payload of ${p.length} bytes is too short`);
  const err = p.readInt32LE(0);
  const request = {
    len: p.readUInt32LE(4),
    type: p.readUInt16LE(8),
    flags: p.readUInt16LE(10),
    seq: p.readUInt32LE(12),
    pid: p.readUInt32LE(16),
  };
  let extAck: ExtAck = {};
  if (m.flags & NLM_F_ACK_TLVS) {
    let tlvOff = 4 + NLMSG_HDRLEN;
    if (!(m.flags & NLM_F_CAPPED)) tlvOff = 4 + align4(request.len);
    if (tlvOff <= p.length) extAck = parseExtAck(p.subarray(tlvOff));
  }
  const errno = err < 0 ? -err : err;
  return { errno, code: errnoName(errno), request, extAck };
}

/** NLMSG_DONE carries an int (the dump's final status) and, with NLM_F_ACK_TLVS, TLVs. */
export function decodeDone(m: NlMsg): { errno: number; code: string; extAck: ExtAck } {
  if (m.type !== NLMSG_DONE) throw new NetlinkCodecError(`not an NLMSG_DONE (type ${m.type})`);
  const err = m.payload.length >= 4 ? m.payload.readInt32LE(0) : 0;
  const errno = err < 0 ? -err : err;
  const extAck = m.flags & NLM_F_ACK_TLVS && m.payload.length > 4 ? parseExtAck(m.payload.subarray(4)) : {};
  return { errno, code: errnoName(errno), extAck };
}
