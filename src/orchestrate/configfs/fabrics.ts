// The NVMe-oF host: connect through /dev/nvme-fabrics, parse the controller the
// kernel returns, wait for it to be live, disconnect.
import { open } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import type { GuestFs } from '../guest-fs.js';
import { DeadlineError, errorMessage, HarnessError, UsageError } from '../../util/errors.js';
import { sleep } from '../../util/deadline.js';
import { CTRL_LIVE_AFTER_CONNECT_MS, GUEST_STATE_POLL_MS } from '../../util/timeouts.js';
import { ConfigfsError, errCode, toConfigfsError } from './errors.js';

export const NVME_FABRICS_DEV = '/dev/nvme-fabrics';
export const NVME_CLASS = '/sys/class/nvme';

type OptKind = 'string' | 'int' | 'flag';
interface OptSpec {
  kind: OptKind;
  min?: number;
  max?: number;
  help: string;
}

/** The /dev/nvme-fabrics options reset-bench passes through (drivers/nvme/host/fabrics.c). */
export const FABRICS_OPTIONS: Record<string, OptSpec> = {
  transport: { kind: 'string', help: 'rdma, tcp, loop or fc' },
  traddr: { kind: 'string', help: 'target address' },
  trsvcid: { kind: 'string', help: 'target port (4420)' },
  nqn: { kind: 'string', help: 'subsystem NQN' },
  hostnqn: { kind: 'string', help: 'host NQN' },
  hostid: { kind: 'string', help: 'host id (UUID)' },
  host_traddr: { kind: 'string', help: 'source address' },
  host_iface: { kind: 'string', help: 'source interface (tcp)' },
  reconnect_delay: { kind: 'int', min: 1, help: 'seconds between reconnect attempts' },
  ctrl_loss_tmo: { kind: 'int', min: -1, help: 'seconds before giving up reconnecting (-1: never)' },
  fast_io_fail_tmo: { kind: 'int', min: -1, help: 'seconds before failing I/O while reconnecting (-1: off)' },
  keep_alive_tmo: { kind: 'int', min: 0, help: 'keep-alive timeout in seconds' },
  nr_io_queues: { kind: 'int', min: 1, help: 'number of I/O queues' },
  nr_write_queues: { kind: 'int', min: 0, help: 'extra write queues' },
  nr_poll_queues: { kind: 'int', min: 0, help: 'polling queues' },
  queue_size: { kind: 'int', min: 16, max: 1024, help: 'I/O queue depth (16-1024)' },
  tos: { kind: 'int', min: -1, max: 255, help: 'type of service' },
  duplicate_connect: { kind: 'flag', help: 'allow a second controller to the same subsystem' },
  disable_sqflow: { kind: 'flag', help: 'disable SQ flow control' },
  hdr_digest: { kind: 'flag', help: 'header digest (tcp)' },
  data_digest: { kind: 'flag', help: 'data digest (tcp)' },
};

const ORDER = Object.keys(FABRICS_OPTIONS);
export type FabricsOptions = Record<string, string | number | boolean | undefined>;

/**
 * The option string for /dev/nvme-fabrics ("transport=rdma,traddr=...,nqn=..."), in
 * a fixed order. UsageError names any unknown option or bad value.
 */
export function buildFabricsOptions(opts: FabricsOptions): string {
  const parts: string[] = [];
  for (const key of Object.keys(opts)) {
    if (!(key in FABRICS_OPTIONS)) {
      const known = ORDER.join(', ');
      throw new UsageError(`unknown connect option "${key}" (known: ${known})`, 'connect');
    }
  }
  for (const key of ['transport', 'nqn'])
    if (opts[key] === undefined || opts[key] === '') throw new UsageError(`the connect option "${key}" is required`, 'connect');
  const transport = String(opts.transport);
  if (!['rdma', 'tcp', 'loop', 'fc'].includes(transport))
    throw new UsageError(`connect option "transport": "${transport}" is not rdma, tcp, loop or fc`, 'connect');
  if ((transport === 'rdma' || transport === 'tcp') && (opts.traddr === undefined || opts.traddr === ''))
    throw new UsageError(`the connect option "traddr" is required for ${transport}`, 'connect');
  for (const key of ORDER) {
    const v = opts[key];
    if (v === undefined) continue;
    const spec = FABRICS_OPTIONS[key]!;
    if (spec.kind === 'flag') {
      if (typeof v !== 'boolean') throw new UsageError(`connect option "${key}" is a flag: true or false, not ${JSON.stringify(v)}`, 'connect');
      if (v) parts.push(key);
      continue;
    }
    if (spec.kind === 'int') {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
      if (!Number.isInteger(n))
        throw new UsageError(`connect option "${key}" must be an integer (${spec.help}), not ${JSON.stringify(v)}`, 'connect');
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max))
        throw new UsageError(
          `connect option "${key}" = ${n} is out of range ${spec.min ?? '-inf'}..${spec.max ?? 'inf'} (${spec.help})`,
          'connect',
        );
      parts.push(`${key}=${n}`);
      continue;
    }
    const s = String(v);
    if (!s || /[,=\s\n]/.test(s))
      throw new UsageError(`connect option "${key}" = ${JSON.stringify(s)} must be non-empty without ',', '=' or spaces`, 'connect');
    parts.push(`${key}=${s}`);
  }
  return parts.join(',');
}

export interface ConnectedController {
  /** "nvme0" */
  device: string;
  instance: number;
  cntlid: number;
}

/** Parses the kernel's answer: "instance=0,cntlid=1\n". */
export function parseFabricsAnswer(answer: string): ConnectedController {
  const kv: Record<string, string> = {};
  for (const part of answer.trim().split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) kv[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const instance = kv.instance !== undefined && /^\d+$/.test(kv.instance) ? Number(kv.instance) : NaN;
  const cntlid = kv.cntlid !== undefined && /^\d+$/.test(kv.cntlid) ? Number(kv.cntlid) : NaN;
  if (!Number.isInteger(instance) || !Number.isInteger(cntlid))
    throw new HarnessError(`unexpected answer from ${NVME_FABRICS_DEV}: ${JSON.stringify(answer)}`);
  return { device: `nvme${instance}`, instance, cntlid };
}

/** Where the connect happens: in the guest (nodeFabricsPort) or through the agent. */
export interface FabricsPort {
  /** Writes the option string to /dev/nvme-fabrics and returns what the kernel answers
   * on the same fd. Rejects with an error carrying the errno `code`. */
  connect(options: string): Promise<string>;
}

/** In the guest: open /dev/nvme-fabrics, write the options, read the answer, on one fd. */
export async function fabricsConnectInGuest(options: string, dev = NVME_FABRICS_DEV): Promise<string> {
  const fh = await open(dev, 'r+');
  try {
    const data = Buffer.from(options, 'utf8');
    await fh.write(data, 0, data.length, null);
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}


function connectHint(code: string, opts: FabricsOptions): string | undefined {
  const where = `${opts.transport}://${opts.traddr ?? ''}:${opts.trsvcid ?? '4420'}`;
  switch (code) {
    case 'ENOENT':
      return `${NVME_FABRICS_DEV} is missing: load nvme-fabrics (and nvme-${opts.transport})`;
    case 'EINVAL':
      return `the kernel rejected an option (transport module nvme-${opts.transport} not loaded, bad address, or an option this kernel does not know)`;
    case 'EALREADY':
      return `already connected to ${opts.nqn} at ${where} (set duplicate_connect to allow a second controller)`;
    case 'ECONNREFUSED':
    case 'ECONNRESET':
      return `nothing accepts ${opts.nqn} at ${where} (port not enabled, subsystem not linked, or host not allowed)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'ENODEV':
      return `no route to ${where} (for rdma: no RDMA device on the interface towards it)`;
    case 'ETIMEDOUT':
      return `${where} did not answer in time`;
    case 'EIO':
      return `the target refused the connect (host NQN not allowed, or subsystem ${opts.nqn} not on that port?)`;
    default:
      return undefined;
  }
}

/** Connects a controller; the answer is parsed into its device name. */
export async function connectController(port: FabricsPort, opts: FabricsOptions): Promise<ConnectedController & { options: string }> {
  const options = buildFabricsOptions(opts);
  let answer: string;
  try {
    answer = await port.connect(options);
  } catch (e) {
    const code = errCode(e);
    throw new ConfigfsError('connect', NVME_FABRICS_DEV, code, connectHint(code, opts), options, e);
  }
  return { ...parseFabricsAnswer(answer), options };
}

/** /sys/class/nvme/nvmeN/state, or undefined once the controller is gone. */
export async function controllerState(fs: GuestFs, device: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(`${NVME_CLASS}/${device}/state`)).trim();
  } catch (e) {
    if (errCode(e) === 'ENOENT' || errCode(e) === 'ENODEV') return undefined;
    throw toConfigfsError(e, { op: 'read', path: `${NVME_CLASS}/${device}/state` });
  }
}

/**
 * Polls the controller state every `intervalMs` (default 20) until it is `want`
 * (default live). Throws DeadlineError with the last state seen, or HarnessError
 * if the controller disappears.
 */
export async function waitControllerState(
  fs: GuestFs,
  device: string,
  opts: { deadlineMs: number; want?: string; intervalMs?: number; onState?: (state: string | undefined, at: number) => void },
): Promise<void> {
  const want = opts.want ?? 'live';
  const end = Date.now() + opts.deadlineMs;
  let last: string | undefined = '';
  for (;;) {
    const s = await controllerState(fs, device);
    if (s !== last) opts.onState?.(s, Date.now());
    last = s;
    if (s === want) return;
    if (s === undefined) throw new HarnessError(`controller ${device} disappeared while waiting for it to be ${want}`);
    if (Date.now() >= end) throw new DeadlineError(`${device} to be ${want} (last state: ${s})`, opts.deadlineMs);
    await sleep(opts.intervalMs ?? GUEST_STATE_POLL_MS);
  }
}

/** Deletes a controller (what `nvme disconnect -d nvmeN` does). Gone already is fine. */
export async function disconnectController(fs: GuestFs, device: string): Promise<void> {
  const path = `${NVME_CLASS}/${device}/delete_controller`;
  try {
    await fs.writeFile(path, '1');
  } catch (e) {
    if (errCode(e) === 'ENOENT' || errCode(e) === 'ENODEV') return;
    throw toConfigfsError(e, { op: 'write', path, value: '1' });
  }
}

export interface ControllerInfo {
  device: string;
  state?: string;
  transport?: string;
  address?: string;
  subsysnqn?: string;
  cntlid?: number;
}

/** Every NVMe controller in /sys/class/nvme with its state, transport, address, NQN. */
export async function listControllers(fs: GuestFs): Promise<ControllerInfo[]> {
  let names: string[];
  try {
    names = await fs.readdir(NVME_CLASS);
  } catch (e) {
    if (errCode(e) === 'ENOENT') return [];
    throw e;
  }
  const out: ControllerInfo[] = [];
  for (const device of names.filter((n) => /^nvme\d+$/.test(n)).sort()) {
    const rd = async (f: string) => {
      try {
        return (await fs.readFile(`${NVME_CLASS}/${device}/${f}`)).trim();
      } catch {
        return undefined;
      }
    };
    const info: ControllerInfo = { device };
    const state = await rd('state');
    if (state !== undefined) info.state = state;
    const transport = await rd('transport');
    if (transport !== undefined) info.transport = transport;
    const address = await rd('address');
    if (address !== undefined) info.address = address;
    const nqn = await rd('subsysnqn');
    if (nqn !== undefined) info.subsysnqn = nqn;
    const cntlid = await rd('cntlid');
    if (cntlid !== undefined && /^\d+$/.test(cntlid)) info.cntlid = Number(cntlid);
    out.push(info);
  }
  return out;
}

/**
 * connect + wait for live: the usual host setup. On a wait failure the controller is
 * left as it is (its state is evidence); the caller decides to disconnect.
 */
export async function connectAndWaitLive(
  port: FabricsPort,
  fs: GuestFs,
  opts: FabricsOptions,
  wait: { deadlineMs: number; intervalMs?: number } = { deadlineMs: CTRL_LIVE_AFTER_CONNECT_MS },
): Promise<ConnectedController & { options: string }> {
  const c = await connectController(port, opts);
  await waitControllerState(fs, c.device, wait);
  return c;
}

/** What a connect write came to: the controller, or the error in brief. */
export type ConnectOutcome = { ok: true; device: string; options: string } | { ok: false; error: string };

/** A connect write's outcome, never a rejection: refused connects are part of these scenarios. */
export const settleConnect = (p: Promise<{ device: string; options: string }>): Promise<ConnectOutcome> =>
  p.then(
    (c) => ({ ok: true as const, device: c.device, options: c.options }),
    (e: unknown) => ({ ok: false as const, error: briefError(e) }),
  );

/**
 * An errno libuv has no name for, by the kernel's name: node says "Unknown system error
 * -102" for ENETRESET, the errno nvme-rdma returns when a device removal ends its
 * connect (host patch 1).
 */
export function errnoName(n: number): string | undefined {
  return Object.entries(osConstants.errno).find(([, v]) => v === Math.abs(n))?.[0];
}

/** "ECONNRESET" rather than the whole connect line with its options and hint. */
export function briefError(e: unknown): string {
  const msg = errorMessage(e).split('\n')[0]!;
  const unknown = /Unknown system error (-?\d+)/.exec(msg);
  if (unknown) return errnoName(Number(unknown[1])) ?? `errno ${unknown[1]}`;
  const code = /failed: (E[A-Z0-9]+)\b/.exec(msg)?.[1] ?? /\b(E[A-Z]{3,})\b/.exec(msg)?.[1];
  return code ?? msg.slice(0, 160);
}
