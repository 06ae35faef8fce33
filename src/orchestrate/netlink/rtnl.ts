// rtnetlink: links (query, up/down) and IPv4 addresses (add, delete, list), plus
// decoding of link/address multicast events.
import { UsageError } from '../../util/errors.js';
import { Attrs, attr, decodeMsgs, type NlMsg } from './codec.js';
import {
  AF_INET,
  AF_UNSPEC,
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFF_LOWER_UP,
  IFF_RUNNING,
  IFF_UP,
  IFLA_ADDRESS,
  IFLA_CARRIER,
  IFLA_IFNAME,
  IFLA_INFO_KIND,
  IFLA_LINK,
  IFLA_LINKINFO,
  IFLA_MASTER,
  IFLA_MTU,
  IFLA_OPERSTATE,
  NETLINK_ROUTE,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  OPERSTATES,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_LINK,
  RT_SCOPE_HOST,
  RT_SCOPE_UNIVERSE,
  SIZEOF_IFADDRMSG,
  SIZEOF_IFINFOMSG,
  type OperState,
} from './constants.js';
import { NetlinkError, NetlinkMonitor, NetlinkSocket, type MonitorOptions, type NetlinkOpenOptions } from './socket.js';
import type { ExtAck } from './codec.js';

// ---- struct ifinfomsg / ifaddrmsg -------------------------------------------

export interface IfInfoMsg {
  family: number;
  type: number;
  index: number;
  flags: number;
  change: number;
}

export function encodeIfinfomsg(m: Partial<IfInfoMsg>): Buffer {
  const b = Buffer.alloc(SIZEOF_IFINFOMSG);
  b.writeUInt8(m.family ?? AF_UNSPEC, 0);
  b.writeUInt16LE(m.type ?? 0, 2);
  b.writeInt32LE(m.index ?? 0, 4);
  b.writeUInt32LE((m.flags ?? 0) >>> 0, 8);
  b.writeUInt32LE((m.change ?? 0) >>> 0, 12);
  return b;
}

export function decodeIfinfomsg(p: Buffer): IfInfoMsg {
  if (p.length < SIZEOF_IFINFOMSG) throw new Error(`ifinfomsg of ${p.length} bytes is too short`);
  return {
    family: p.readUInt8(0),
    type: p.readUInt16LE(2),
    index: p.readInt32LE(4),
    flags: p.readUInt32LE(8),
    change: p.readUInt32LE(12),
  };
}

export interface IfAddrMsg {
  family: number;
  prefixlen: number;
  flags: number;
  scope: number;
  index: number;
}

export function encodeIfaddrmsg(m: IfAddrMsg): Buffer {
  const b = Buffer.alloc(SIZEOF_IFADDRMSG);
  b.writeUInt8(m.family, 0);
  b.writeUInt8(m.prefixlen, 1);
  b.writeUInt8(m.flags, 2);
  b.writeUInt8(m.scope, 3);
  b.writeUInt32LE(m.index >>> 0, 4);
  return b;
}

export function decodeIfaddrmsg(p: Buffer): IfAddrMsg {
  if (p.length < SIZEOF_IFADDRMSG) throw new Error(`ifaddrmsg of ${p.length} bytes is too short`);
  return { family: p.readUInt8(0), prefixlen: p.readUInt8(1), flags: p.readUInt8(2), scope: p.readUInt8(3), index: p.readUInt32LE(4) };
}

// ---- links ------------------------------------------------------------------

export interface LinkInfo {
  index: number;
  name: string;
  /** IFF_* flags. */
  flags: number;
  /** Administratively up (IFF_UP). */
  up: boolean;
  running: boolean;
  lowerUp: boolean;
  operstate: OperState;
  mtu?: number;
  /** MAC address as aa:bb:cc:dd:ee:ff. */
  address?: string;
  carrier?: boolean;
  /** IFLA_INFO_KIND: veth, virtio? (absent for plain hardware NICs). */
  kind?: string;
  /** IFLA_LINK: the peer/parent ifindex. */
  link?: number;
  master?: number;
}

const macString = (b: Buffer): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

export function decodeLink(m: NlMsg): LinkInfo {
  const ifi = decodeIfinfomsg(m.payload);
  const a = new Attrs(m.payload.subarray(SIZEOF_IFINFOMSG));
  const op = a.u8(IFLA_OPERSTATE);
  const link: LinkInfo = {
    index: ifi.index,
    name: a.str(IFLA_IFNAME) ?? `if${ifi.index}`,
    flags: ifi.flags,
    up: (ifi.flags & IFF_UP) !== 0,
    running: (ifi.flags & IFF_RUNNING) !== 0,
    lowerUp: (ifi.flags & IFF_LOWER_UP) !== 0,
    operstate: op !== undefined && op < OPERSTATES.length ? OPERSTATES[op]! : 'UNKNOWN',
  };
  const mtu = a.u32(IFLA_MTU);
  if (mtu !== undefined) link.mtu = mtu;
  const addr = a.raw(IFLA_ADDRESS);
  if (addr && addr.length) link.address = macString(addr);
  const carrier = a.u8(IFLA_CARRIER);
  if (carrier !== undefined) link.carrier = carrier !== 0;
  const kind = a.nested(IFLA_LINKINFO)?.str(IFLA_INFO_KIND);
  if (kind !== undefined) link.kind = kind;
  const parent = a.u32(IFLA_LINK);
  if (parent !== undefined) link.link = parent;
  const master = a.u32(IFLA_MASTER);
  if (master !== undefined) link.master = master;
  return link;
}

// ---- IPv4 addresses --------------------------------------------------------

export interface Ipv4Cidr {
  address: string;
  prefixlen: number;
  bytes: Buffer;
}

/** "10.0.0.1/24" (a bare address means /32). UsageError says what is wrong. */
export function parseIpv4Cidr(s: string): Ipv4Cidr {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(s.trim());
  if (!m) throw new UsageError(`"${s}" is not an IPv4 address with an optional /prefix (e.g. 10.0.0.1/24)`, 'address');
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) throw new UsageError(`"${s}": each part of an IPv4 address is 0-255`, 'address');
  const prefixlen = m[5] === undefined ? 32 : Number(m[5]);
  if (prefixlen > 32) throw new UsageError(`"${s}": the prefix length is 0-32`, 'address');
  return { address: octets.join('.'), prefixlen, bytes: Buffer.from(octets) };
}

function ipv4String(b: Buffer | undefined): string | undefined {
  return b && b.length === 4 ? [...b].join('.') : undefined;
}

export function ipv4Broadcast(c: Ipv4Cidr): string {
  const ip = c.bytes.readUInt32BE(0);
  const hostMask = c.prefixlen === 0 ? 0xffffffff : (2 ** (32 - c.prefixlen) - 1) >>> 0;
  const b = Buffer.alloc(4);
  b.writeUInt32BE((ip | hostMask) >>> 0);
  return [...b].join('.');
}

export interface AddrInfo {
  index: number;
  family: number;
  prefixlen: number;
  scope: number;
  /** IFA_LOCAL (the interface's own address), falling back to IFA_ADDRESS. */
  local?: string;
  address?: string;
  broadcast?: string;
  label?: string;
  /** "10.0.0.1/24" */
  cidr?: string;
  flags: number;
}

export function decodeAddr(m: NlMsg): AddrInfo {
  const ifa = decodeIfaddrmsg(m.payload);
  const a = new Attrs(m.payload.subarray(SIZEOF_IFADDRMSG));
  const info: AddrInfo = {
    index: ifa.index,
    family: ifa.family,
    prefixlen: ifa.prefixlen,
    scope: ifa.scope,
    flags: a.u32(IFA_FLAGS) ?? ifa.flags,
  };
  const address = ipv4String(a.raw(IFA_ADDRESS));
  const local = ipv4String(a.raw(IFA_LOCAL)) ?? address;
  if (address) info.address = address;
  if (local) {
    info.local = local;
    info.cidr = `${local}/${ifa.prefixlen}`;
  }
  const brd = ipv4String(a.raw(IFA_BROADCAST));
  if (brd) info.broadcast = brd;
  const label = a.str(IFA_LABEL);
  if (label !== undefined) info.label = label;
  return info;
}

// ---- events ----------------------------------------------------------------

export type RtnlEvent =
  | { kind: 'link'; action: 'new' | 'del'; link: LinkInfo }
  | { kind: 'addr'; action: 'new' | 'del'; addr: AddrInfo };

/** Link and address notifications (RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR); others are skipped. */
export function decodeRtnlEvent(m: NlMsg): RtnlEvent | undefined {
  switch (m.type) {
    case RTM_NEWLINK:
    case RTM_DELLINK:
      return { kind: 'link', action: m.type === RTM_NEWLINK ? 'new' : 'del', link: decodeLink(m) };
    case RTM_NEWADDR:
    case RTM_DELADDR:
      return { kind: 'addr', action: m.type === RTM_NEWADDR ? 'new' : 'del', addr: decodeAddr(m) };
    default:
      return undefined;
  }
}

// ---- the client ------------------------------------------------------------

function linkHint(name: string | number) {
  return (code: string, _e: ExtAck): string | undefined => {
    if (code === 'ENODEV') return `no network interface ${typeof name === 'number' ? `with index ${name}` : `named "${name}"`} in this network namespace`;
    if (code === 'EPERM') return 'needs CAP_NET_ADMIN (run as root)';
    return undefined;
  };
}

export type LinkRef = string | number;

export class Rtnl {
  private constructor(readonly sock: NetlinkSocket) {}

  static open(opts: Omit<NetlinkOpenOptions, 'groups'> = {}): Rtnl {
    return new Rtnl(NetlinkSocket.open(NETLINK_ROUTE, opts));
  }

  close(): Promise<void> {
    return this.sock.close();
  }

  async listLinks(): Promise<LinkInfo[]> {
    const msgs = await this.sock.dump(RTM_GETLINK, encodeIfinfomsg({ family: AF_UNSPEC }), { what: 'RTM_GETLINK dump' });
    return msgs.filter((m) => m.type === RTM_NEWLINK).map(decodeLink);
  }

  /** One link by name or ifindex; NetlinkError ENODEV (with a clear message) if absent. */
  async getLink(ref: LinkRef): Promise<LinkInfo> {
    const payload =
      typeof ref === 'number'
        ? encodeIfinfomsg({ index: ref })
        : Buffer.concat([encodeIfinfomsg({}), attr.str(IFLA_IFNAME, checkIfname(ref))]);
    const msgs = await this.sock.request(RTM_GETLINK, payload, { what: `RTM_GETLINK ${ref}`, hint: linkHint(ref) });
    const m = msgs.find((x) => x.type === RTM_NEWLINK);
    if (!m) throw new NetlinkError(`RTM_GETLINK ${ref}`, 19, 'ENODEV', {}, 'the kernel answered without a link');
    return decodeLink(m);
  }

  private async indexOf(ref: LinkRef): Promise<number> {
    return typeof ref === 'number' ? ref : (await this.getLink(ref)).index;
  }

  /** Administrative up/down (what `ip link set dev X up|down` does). */
  async setLinkUp(ref: LinkRef, up: boolean): Promise<void> {
    const index = await this.indexOf(ref);
    await this.sock.request(RTM_NEWLINK, encodeIfinfomsg({ index, flags: up ? IFF_UP : 0, change: IFF_UP }), {
      what: `set link ${ref} ${up ? 'up' : 'down'}`,
      hint: linkHint(ref),
    });
  }

  /** IPv4 addresses, of one link or all. */
  async listAddrs(ref?: LinkRef): Promise<AddrInfo[]> {
    const index = ref === undefined ? undefined : await this.indexOf(ref);
    const msgs = await this.sock.dump(
      RTM_GETADDR,
      encodeIfaddrmsg({ family: AF_INET, prefixlen: 0, flags: 0, scope: 0, index: 0 }),
      { what: 'RTM_GETADDR dump' },
    );
    return msgs
      .filter((m) => m.type === RTM_NEWADDR)
      .map(decodeAddr)
      .filter((a) => a.family === AF_INET && (index === undefined || a.index === index));
  }

  /**
   * Adds an IPv4 address ("10.0.0.1/24"). `broadcast: true` sets the subnet's
   * broadcast address (like `ip addr add ... brd +`). With `ifExists: 'ok'` an
   * address already there is not an error (idempotent); by default it is EEXIST.
   */
  async addAddr(ref: LinkRef, cidr: string, opts: { broadcast?: boolean; ifExists?: 'error' | 'ok' | 'replace' } = {}): Promise<void> {
    const c = parseIpv4Cidr(cidr);
    const index = await this.indexOf(ref);
    const attrs = [attr.bytes(IFA_LOCAL, c.bytes), attr.bytes(IFA_ADDRESS, c.bytes)];
    if (opts.broadcast) attrs.push(attr.bytes(IFA_BROADCAST, parseIpv4Cidr(ipv4Broadcast(c)).bytes));
    const scope = c.bytes[0] === 127 ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
    const payload = Buffer.concat([encodeIfaddrmsg({ family: AF_INET, prefixlen: c.prefixlen, flags: 0, scope, index }), ...attrs]);
    const what = `add address ${c.address}/${c.prefixlen} to ${ref}`;
    const flags = NLM_F_CREATE | (opts.ifExists === 'replace' ? NLM_F_REPLACE : NLM_F_EXCL);
    try {
      await this.sock.request(RTM_NEWADDR, payload, {
        what,
        flags,
        hint: (code) =>
          code === 'EEXIST' ? `${c.address}/${c.prefixlen} is already on ${ref}` : linkHint(ref)(code, {}),
      });
    } catch (e) {
      if (opts.ifExists === 'ok' && e instanceof NetlinkError && e.code === 'EEXIST') return;
      throw e;
    }
  }

  /** Removes an IPv4 address; `ifMissing: 'ok'` makes a missing one not an error. */
  async delAddr(ref: LinkRef, cidr: string, opts: { ifMissing?: 'error' | 'ok' } = {}): Promise<void> {
    const c = parseIpv4Cidr(cidr);
    const index = await this.indexOf(ref);
    const payload = Buffer.concat([
      encodeIfaddrmsg({ family: AF_INET, prefixlen: c.prefixlen, flags: 0, scope: 0, index }),
      attr.bytes(IFA_LOCAL, c.bytes),
    ]);
    try {
      await this.sock.request(RTM_DELADDR, payload, {
        what: `delete address ${c.address}/${c.prefixlen} from ${ref}`,
        hint: (code) =>
          code === 'EADDRNOTAVAIL' ? `${c.address}/${c.prefixlen} is not on ${ref}` : linkHint(ref)(code, {}),
      });
    } catch (e) {
      if (opts.ifMissing === 'ok' && e instanceof NetlinkError && e.code === 'EADDRNOTAVAIL') return;
      throw e;
    }
  }

  /** Removes every IPv4 address of a link. */
  async flushAddrs(ref: LinkRef): Promise<void> {
    for (const a of await this.listAddrs(ref)) if (a.cidr) await this.delAddr(ref, a.cidr, { ifMissing: 'ok' });
  }
}

function checkIfname(name: string): string {
  if (!name || name.length > 15 || /[\s/:]/.test(name))
    throw new UsageError(`"${name}" is not a valid network interface name (1-15 characters, no spaces, '/' or ':')`, 'netdev');
  return name;
}

/** Link and IPv4 address notifications (RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR). */
export class RtnlMonitor {
  private constructor(private readonly mon: NetlinkMonitor) {}

  static open(opts: Omit<MonitorOptions, 'groups'> = {}): RtnlMonitor {
    return new RtnlMonitor(NetlinkMonitor.open(NETLINK_ROUTE, { ...opts, groups: [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR] }));
  }

  start(onEvent: (ev: RtnlEvent, receivedAt: number) => void): void {
    this.mon.start((buf, t) => {
      for (const m of decodeMsgs(buf)) {
        const ev = decodeRtnlEvent(m);
        if (ev) onEvent(ev, t);
      }
    });
  }

  stop(): Promise<void> {
    return this.mon.stop();
  }
}
