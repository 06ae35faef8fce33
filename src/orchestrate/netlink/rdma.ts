// RDMA nldev over NETLINK_RDMA: devices, their restrack counts, NEWLINK (create an
// rxe/siw device on a netdev) and DELLINK.
import { UsageError } from '../../util/errors.js';
import { RXE_DELLINK_MS, RXE_NEWLINK_MS } from '../../util/timeouts.js';
import { Attrs, attr, type NlMsg } from './codec.js';
import {
  NETLINK_RDMA,
  RDMA_NLDEV_ATTR_CAP_FLAGS,
  RDMA_NLDEV_ATTR_DEV_INDEX,
  RDMA_NLDEV_ATTR_DEV_NAME,
  RDMA_NLDEV_ATTR_DEV_NODE_TYPE,
  RDMA_NLDEV_ATTR_DEV_PROTOCOL,
  RDMA_NLDEV_ATTR_FW_VERSION,
  RDMA_NLDEV_ATTR_LINK_TYPE,
  RDMA_NLDEV_ATTR_NDEV_NAME,
  RDMA_NLDEV_ATTR_NODE_GUID,
  RDMA_NLDEV_ATTR_PORT_INDEX,
  RDMA_NLDEV_ATTR_SYS_IMAGE_GUID,
  RDMA_NLDEV_CMD_DELLINK,
  RDMA_NLDEV_CMD_GET,
  RDMA_NLDEV_CMD_NEWLINK,
  RDMA_NLDEV_CMD_RES_GET,
  RDMA_NLDEV_ATTR_RES_SUMMARY,
  RDMA_NLDEV_ATTR_RES_SUMMARY_ENTRY,
  RDMA_NLDEV_ATTR_RES_SUMMARY_ENTRY_CURR,
  RDMA_NLDEV_ATTR_RES_SUMMARY_ENTRY_NAME,
  RDMA_NL_NLDEV,
  rdmaNlGetType,
  AF_INET,
  AF_INET6,
  RDMA_CM_LISTEN,
  RDMA_NLDEV_ATTR_RES_CM_ID,
  RDMA_NLDEV_ATTR_RES_CM_ID_ENTRY,
  RDMA_NLDEV_ATTR_RES_DST_ADDR,
  RDMA_NLDEV_ATTR_RES_KERN_NAME,
  RDMA_NLDEV_ATTR_RES_PS,
  RDMA_NLDEV_ATTR_RES_SRC_ADDR,
  RDMA_NLDEV_ATTR_RES_STATE,
  RDMA_NLDEV_CMD_RES_CM_ID_GET,
} from './constants.js';
import { NetlinkError, NetlinkSocket, type NetlinkOpenOptions } from './socket.js';

export const nldevType = (cmd: number): number => rdmaNlGetType(RDMA_NL_NLDEV, cmd);

export interface RdmaDevice {
  index: number;
  name: string;
  /** Number of ports (RDMA_NLDEV_ATTR_PORT_INDEX in a GET answer). */
  ports?: number;
  /** As `rdma dev` prints it: xxxx:xxxx:xxxx:xxxx. */
  nodeGuid?: string;
  sysImageGuid?: string;
  fwVersion?: string;
  nodeType?: number;
  /** "roce", "ib", "iw" */
  protocol?: string;
  capFlags?: bigint;
}

/** 64-bit GUID in host order -> "xxxx:xxxx:xxxx:xxxx" (iproute2's rdma prints it so). */
export function guidString(v: bigint): string {
  const h = v.toString(16).padStart(16, '0');
  return `${h.slice(0, 4)}:${h.slice(4, 8)}:${h.slice(8, 12)}:${h.slice(12, 16)}`;
}

export function decodeDevice(m: NlMsg): RdmaDevice {
  const a = new Attrs(m.payload);
  const index = a.u32(RDMA_NLDEV_ATTR_DEV_INDEX);
  const name = a.str(RDMA_NLDEV_ATTR_DEV_NAME);
  if (index === undefined || name === undefined) throw new Error('nldev GET answer without DEV_INDEX/DEV_NAME');
  const d: RdmaDevice = { index, name };
  const ports = a.u32(RDMA_NLDEV_ATTR_PORT_INDEX);
  if (ports !== undefined) d.ports = ports;
  const guid = a.u64(RDMA_NLDEV_ATTR_NODE_GUID);
  if (guid !== undefined) d.nodeGuid = guidString(guid);
  const sig = a.u64(RDMA_NLDEV_ATTR_SYS_IMAGE_GUID);
  if (sig !== undefined) d.sysImageGuid = guidString(sig);
  const fw = a.str(RDMA_NLDEV_ATTR_FW_VERSION);
  if (fw !== undefined) d.fwVersion = fw;
  const nt = a.u8(RDMA_NLDEV_ATTR_DEV_NODE_TYPE);
  if (nt !== undefined) d.nodeType = nt;
  const proto = a.str(RDMA_NLDEV_ATTR_DEV_PROTOCOL);
  if (proto !== undefined) d.protocol = proto;
  const caps = a.u64(RDMA_NLDEV_ATTR_CAP_FLAGS);
  if (caps !== undefined) d.capFlags = caps;
  return d;
}

/** One device's restrack counts, as `rdma resource show` prints them: pd, cq, qp, cm_id, mr, ctx, srq. */
export interface RdmaResources {
  devName: string;
  counts: Record<string, number>;
}

export function decodeResSummary(m: NlMsg): RdmaResources {
  const a = new Attrs(m.payload);
  const devName = a.str(RDMA_NLDEV_ATTR_DEV_NAME);
  if (devName === undefined) throw new Error('nldev RES_GET answer without DEV_NAME');
  const counts: Record<string, number> = {};
  for (const e of a.nested(RDMA_NLDEV_ATTR_RES_SUMMARY)?.all(RDMA_NLDEV_ATTR_RES_SUMMARY_ENTRY) ?? []) {
    const entry = new Attrs(e.data);
    const name = entry.str(RDMA_NLDEV_ATTR_RES_SUMMARY_ENTRY_NAME);
    const curr = entry.u64(RDMA_NLDEV_ATTR_RES_SUMMARY_ENTRY_CURR);
    if (name !== undefined && curr !== undefined) counts[name] = Number(curr);
  }
  return { devName, counts };
}

/** One cm_id of a device, as `rdma resource show cm_id` prints it. */
export interface RdmaCmId {
  /** enum rdma_cm_state: 8 is LISTEN (RDMA_CM_LISTEN). */
  state: number;
  ps?: number;
  /** "10.0.0.1:4420", "[fe80::1]:4420"; absent while unbound. */
  src?: string;
  dst?: string;
  /** The owning kernel module ("nvmet_rdma"), absent for a user-space cm_id. */
  kernName?: string;
}

/**
 * A struct sockaddr_storage as "addr:port" (IPv6 in brackets), or undefined for a
 * family other than AF_INET/AF_INET6 or a buffer too short for it (pure).
 */
export function sockaddrString(b: Buffer): string | undefined {
  if (b.length < 4) return undefined;
  const family = b.readUInt16LE(0);
  const port = b.readUInt16BE(2);
  if (family === AF_INET && b.length >= 8) return `${[...b.subarray(4, 8)].join('.')}:${port}`;
  if (family !== AF_INET6 || b.length < 24) return undefined;
  const groups: string[] = [];
  for (let i = 8; i < 24; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // WHATWG URL parsing writes an IPv6 address in its shortest form, "[fe80::1]"
  return `${new URL(`http://[${groups.join(':')}]/`).hostname}:${port}`;
}

/** The cm_ids in one RES_CM_ID_GET dump answer (pure). */
export function decodeCmIds(m: NlMsg): RdmaCmId[] {
  const out: RdmaCmId[] = [];
  for (const e of new Attrs(m.payload).nested(RDMA_NLDEV_ATTR_RES_CM_ID)?.all(RDMA_NLDEV_ATTR_RES_CM_ID_ENTRY) ?? []) {
    const a = new Attrs(e.data);
    const state = a.u8(RDMA_NLDEV_ATTR_RES_STATE);
    if (state === undefined) continue;
    const id: RdmaCmId = { state };
    const ps = a.u32(RDMA_NLDEV_ATTR_RES_PS);
    if (ps !== undefined) id.ps = ps;
    const src = a.raw(RDMA_NLDEV_ATTR_RES_SRC_ADDR);
    if (src) id.src = sockaddrString(src);
    const dst = a.raw(RDMA_NLDEV_ATTR_RES_DST_ADDR);
    if (dst) id.dst = sockaddrString(dst);
    const kern = a.str(RDMA_NLDEV_ATTR_RES_KERN_NAME);
    if (kern !== undefined) id.kernName = kern;
    out.push(id);
  }
  return out;
}

/** A cm_id listening on a bound address: what an nvmet-rdma port holds while it is enabled. */
export interface RdmaListener {
  device: string;
  /** "10.0.0.1:4420" */
  addr: string;
  kernName?: string;
}

/** The NEWLINK request payload (exported for tests). */
export function encodeNewLink(name: string, netdev: string, type: string): Buffer {
  return Buffer.concat([
    attr.str(RDMA_NLDEV_ATTR_DEV_NAME, name),
    attr.str(RDMA_NLDEV_ATTR_LINK_TYPE, type),
    attr.str(RDMA_NLDEV_ATTR_NDEV_NAME, netdev),
  ]);
}

export type RdmaDevRef = string | number;

export class RdmaNl {
  private constructor(readonly sock: NetlinkSocket) {}

  /** Throws a HarnessError saying ib_core is missing when NETLINK_RDMA does not exist. */
  static open(opts: Omit<NetlinkOpenOptions, 'groups'> = {}): RdmaNl {
    try {
      return new RdmaNl(NetlinkSocket.open(NETLINK_RDMA, opts));
    } catch (e) {
      if ((e as { code?: string }).code === 'EPROTONOSUPPORT')
        throw new NetlinkError('open NETLINK_RDMA socket', 93, 'EPROTONOSUPPORT', {}, 'ib_core is not loaded (modprobe ib_core / rdma_rxe)');
      throw e;
    }
  }

  close(): Promise<void> {
    return this.sock.close();
  }

  async listDevices(): Promise<RdmaDevice[]> {
    const msgs = await this.sock.dump(nldevType(RDMA_NLDEV_CMD_GET), Buffer.alloc(0), { what: 'RDMA_NLDEV_CMD_GET dump' });
    return msgs.filter((m) => m.type === nldevType(RDMA_NLDEV_CMD_GET)).map(decodeDevice);
  }

  async findDevice(ref: RdmaDevRef): Promise<RdmaDevice | undefined> {
    const devs = await this.listDevices();
    return devs.find((d) => (typeof ref === 'number' ? d.index === ref : d.name === ref));
  }

  /** The device, or a UsageError naming the devices that do exist. */
  async getDevice(ref: RdmaDevRef): Promise<RdmaDevice> {
    const devs = await this.listDevices();
    const d = devs.find((x) => (typeof ref === 'number' ? x.index === ref : x.name === ref));
    if (!d)
      throw new UsageError(
        `no RDMA device ${typeof ref === 'number' ? `with index ${ref}` : `named "${ref}"`} (present: ${devs.map((x) => x.name).join(', ') || 'none'})`,
        'rdma device',
      );
    return d;
  }

  /** Every device's resource summary (RDMA_NLDEV_CMD_RES_GET dump, `rdma resource show`). */
  async resources(): Promise<RdmaResources[]> {
    const msgs = await this.sock.dump(nldevType(RDMA_NLDEV_CMD_RES_GET), Buffer.alloc(0), { what: 'RDMA_NLDEV_CMD_RES_GET dump' });
    return msgs.filter((m) => m.type === nldevType(RDMA_NLDEV_CMD_RES_GET)).map(decodeResSummary);
  }

  /** One device's cm_ids (RDMA_NLDEV_CMD_RES_CM_ID_GET dump: the kernel wants the device's index). */
  async cmIds(devIndex: number): Promise<RdmaCmId[]> {
    const msgs = await this.sock.dump(nldevType(RDMA_NLDEV_CMD_RES_CM_ID_GET), attr.u32(RDMA_NLDEV_ATTR_DEV_INDEX, devIndex), {
      what: `RDMA_NLDEV_CMD_RES_CM_ID_GET dump of device ${devIndex}`,
    });
    return msgs.filter((m) => m.type === nldevType(RDMA_NLDEV_CMD_RES_CM_ID_GET)).flatMap(decodeCmIds);
  }

  /**
   * Every listening cm_id bound to an address, on every device (`rdma resource show
   * cm_id` with state LISTEN). A wildcard listener is bound to no device and is not here.
   */
  async listeners(): Promise<RdmaListener[]> {
    const out: RdmaListener[] = [];
    for (const d of await this.listDevices()) {
      for (const id of await this.cmIds(d.index)) {
        if (id.state !== RDMA_CM_LISTEN || !id.src) continue;
        out.push(id.kernName === undefined ? { device: d.name, addr: id.src } : { device: d.name, addr: id.src, kernName: id.kernName });
      }
    }
    return out;
  }

  /** Creates an RDMA link (`rdma link add NAME type TYPE netdev NETDEV`) and returns the device. */
  async newLink(name: string, netdev: string, type = 'rxe', timeoutMs = RXE_NEWLINK_MS): Promise<RdmaDevice> {
    if (!name || name.length > 63 || name.includes('%'))
      throw new UsageError(`"${name}" is not a valid RDMA device name (1-63 characters, no '%')`, 'rdma device');
    if (!netdev || netdev.length > 15) throw new UsageError(`"${netdev}" is not a valid network interface name`, 'netdev');
    await this.sock.request(nldevType(RDMA_NLDEV_CMD_NEWLINK), encodeNewLink(name, netdev, type), {
      what: `RDMA_NLDEV_CMD_NEWLINK ${name} type ${type} netdev ${netdev}`,
      timeoutMs,
      hint: (code) => {
        switch (code) {
          case 'ENODEV':
            return `no network interface named "${netdev}" in this network namespace`;
          case 'EEXIST':
            return `${netdev} already has an ${type} device`;
          case 'ENFILE':
            return `an RDMA device named "${name}" already exists`;
          case 'EINVAL':
            return `link type "${type}" is unknown (module rdma_${type} not loadable?) or the name is invalid`;
          case 'EPERM':
            return `${type} cannot be created on ${netdev} (a VLAN device?) or CAP_NET_ADMIN is missing`;
          case 'ENOENT':
            return `the ${type} driver could not initialise (rdma_rxe on 6.1 needs crc32_generic loaded first)`;
          default:
            return undefined;
        }
      },
    });
    const d = await this.findDevice(name);
    if (!d) throw new NetlinkError(`RDMA_NLDEV_CMD_NEWLINK ${name}`, 19, 'ENODEV', {}, 'the kernel acknowledged it but the device is not listed');
    return d;
  }

  /** Deletes an RDMA link (`rdma link delete NAME`), by name or device index. */
  async delLink(ref: RdmaDevRef, timeoutMs = RXE_DELLINK_MS): Promise<void> {
    const d = await this.getDevice(ref);
    await this.sock.request(nldevType(RDMA_NLDEV_CMD_DELLINK), attr.u32(RDMA_NLDEV_ATTR_DEV_INDEX, d.index), {
      what: `RDMA_NLDEV_CMD_DELLINK ${d.name} (index ${d.index})`,
      timeoutMs,
      hint: (code) =>
        code === 'EINVAL'
          ? `${d.name} is gone or its driver does not allow deleting it from user space (only rxe and siw do)`
          : undefined,
    });
  }
}
