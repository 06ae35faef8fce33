// Why: the live netlink test checks what the harness's rtnetlink client does (getLink,
// setLinkUp, addAddr) against iproute2, and for that it needs the kernel's link and
// address dumps, which the harness itself never reads. They live here, on the client's
// socket, so src/ holds only what a run uses.
import { Attrs } from '../../src/orchestrate/netlink/codec.js';
import { AF_INET, AF_UNSPEC, IFA_ADDRESS, IFA_LOCAL, RTM_GETLINK, RTM_NEWADDR, RTM_NEWLINK, SIZEOF_IFADDRMSG } from '../../src/orchestrate/netlink/constants.js';
import { decodeLink, encodeIfaddrmsg, encodeIfinfomsg, type LinkInfo, type Rtnl } from '../../src/orchestrate/netlink/rtnl.js';

/** linux/rtnetlink.h: the address dump request. */
const RTM_GETADDR = 22;

/** Every link of the socket's network namespace (RTM_GETLINK dump). */
export async function listLinks(r: Rtnl): Promise<LinkInfo[]> {
  const msgs = await r.sock.dump(RTM_GETLINK, encodeIfinfomsg({ family: AF_UNSPEC }), { what: 'RTM_GETLINK dump' });
  return msgs.filter((m) => m.type === RTM_NEWLINK).map(decodeLink);
}

/** The IPv4 addresses ("a.b.c.d/len") of the link with this ifindex (RTM_GETADDR dump). */
export async function listIpv4(r: Rtnl, index: number): Promise<string[]> {
  const req = encodeIfaddrmsg({ family: AF_INET, prefixlen: 0, flags: 0, scope: 0, index: 0 });
  const msgs = await r.sock.dump(RTM_GETADDR, req, { what: 'RTM_GETADDR dump' });
  const out: string[] = [];
  for (const m of msgs) {
    if (m.type !== RTM_NEWADDR || m.payload.readUInt8(0) !== AF_INET || m.payload.readUInt32LE(4) !== index) continue;
    const a = new Attrs(m.payload.subarray(SIZEOF_IFADDRMSG));
    const local = a.raw(IFA_LOCAL) ?? a.raw(IFA_ADDRESS);
    if (local?.length === 4) out.push(`${[...local].join('.')}/${m.payload.readUInt8(1)}`);
  }
  return out;
}
