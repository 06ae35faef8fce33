// rtnetlink: what the guest agent does to links and addresses during a run: look a
// link up, set it up or down, add an IPv4 address, add or delete a virtual link. (The dumps and the event monitor
// the live test compares against iproute2 are test code: test/helpers/rtnl-dumps.ts.)
import { UsageError } from '../../util/errors.js';
import { VIRTUAL_LINK_ADD_MS } from '../../util/timeouts.js';
import { Attrs, attr, type NlMsg } from './codec.js';
import {
  AF_INET,
  AF_UNSPEC,
  IFA_ADDRESS,
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
  OPERSTATES,
  RTM_DELLINK,
  RTM_GETLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RT_SCOPE_HOST,
  RT_SCOPE_UNIVERSE,
  SIZEOF_IFADDRMSG,
  SIZEOF_IFINFOMSG,
  type OperState,
} from './constants.js';
import { NetlinkError, NetlinkSocket, type NetlinkOpenOptions } from './socket.js';
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

  /**
   * Administrative up/down (what `ip link set dev X up|down` does), with the MTU set in
   * the same request when `mtu` is given (`ip link set dev X mtu N up`).
   */
  async setLinkUp(ref: LinkRef, up: boolean, mtu?: number): Promise<void> {
    const index = await this.indexOf(ref);
    const msg = encodeIfinfomsg({ index, flags: up ? IFF_UP : 0, change: IFF_UP });
    await this.sock.request(RTM_NEWLINK, mtu === undefined ? msg : Buffer.concat([msg, attr.u32(IFLA_MTU, mtu)]), {
      what: `set link ${ref}${mtu === undefined ? '' : ` mtu ${mtu}`} ${up ? 'up' : 'down'}`,
      hint: linkHint(ref),
    });
  }

  /**
   * Creates a virtual link of `kind` (what `ip link add NAME type KIND` does), e.g. a
   * dummy netdev; the kernel loads the kind's module first if it has to (rtnl-link-KIND).
   */
  async addLink(name: string, kind: string, timeoutMs = VIRTUAL_LINK_ADD_MS): Promise<void> {
    const payload = Buffer.concat([
      encodeIfinfomsg({}),
      attr.str(IFLA_IFNAME, checkIfname(name)),
      attr.nested(IFLA_LINKINFO, [attr.str(IFLA_INFO_KIND, kind)]),
    ]);
    await this.sock.request(RTM_NEWLINK, payload, {
      what: `add link ${name} type ${kind}`,
      flags: NLM_F_CREATE | NLM_F_EXCL,
      timeoutMs,
      hint: (code) =>
        code === 'EEXIST' ? `a network interface named "${name}" exists already`
        : code === 'EOPNOTSUPP' || code === 'ENOTSUP' ? `the kernel has no "${kind}" link type (module ${kind} missing?)`
        : linkHint(name)(code, {}),
    });
  }

  /** Deletes a link by name or ifindex (what `ip link del` does). */
  async delLink(ref: LinkRef): Promise<void> {
    const index = await this.indexOf(ref);
    await this.sock.request(RTM_DELLINK, encodeIfinfomsg({ index }), { what: `delete link ${ref}`, hint: linkHint(ref) });
  }

  /**
   * Adds an IPv4 address ("10.0.0.1/24"). With `ifExists: 'ok'` an address already
   * there is not an error (idempotent); by default it is EEXIST.
   */
  async addAddr(ref: LinkRef, cidr: string, opts: { ifExists?: 'error' | 'ok' } = {}): Promise<void> {
    const c = parseIpv4Cidr(cidr);
    const index = await this.indexOf(ref);
    const attrs = [attr.bytes(IFA_LOCAL, c.bytes), attr.bytes(IFA_ADDRESS, c.bytes)];
    const scope = c.bytes[0] === 127 ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
    const payload = Buffer.concat([encodeIfaddrmsg({ family: AF_INET, prefixlen: c.prefixlen, flags: 0, scope, index }), ...attrs]);
    const what = `add address ${c.address}/${c.prefixlen} to ${ref}`;
    try {
      await this.sock.request(RTM_NEWADDR, payload, {
        what,
        flags: NLM_F_CREATE | NLM_F_EXCL,
        hint: (code) =>
          code === 'EEXIST' ? `${c.address}/${c.prefixlen} is already on ${ref}` : linkHint(ref)(code, {}),
      });
    } catch (e) {
      if (opts.ifExists === 'ok' && e instanceof NetlinkError && e.code === 'EEXIST') return;
      throw e;
    }
  }
}

function checkIfname(name: string): string {
  if (!name || name.length > 15 || /[\s/:]/.test(name))
    throw new UsageError(`"${name}" is not a valid network interface name (1-15 characters, no spaces, '/' or ':')`, 'netdev');
  return name;
}
