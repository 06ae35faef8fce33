// More controllers on the one device than the loaded one: a second subsystem on the
// same port (two-ctrl) and a persistent discovery controller (discovery-persistent).
// A device reset takes them all; the verdict then asks what became of each. The loader
// stays on the lab's first subsystem.
import { CONNECT_LIVE_MS } from '../util/timeouts.js';
import { connectAndWaitLive, connectController, settleConnect, type ConnectOutcome, type FabricsOptions, type TargetConfigInput } from './configfs/index.js';
import {
  hostFabricsPort,
  LAB_NQN,
  labFabricsOptions,
  labTargetConfig,
  prepareHost,
  setupTarget,
  type ConnectOptions,
  type NvmeLab,
} from './nvme-lab.js';

export type ExtraKind = 'subsystem' | 'discovery';

/** An extra controller at the end of the run: its state, or "deleted". */
export interface ExtraEnd extends ExtraController {
  state: string;
  /** extra_in_flight_ms: what the cut-short connect came to. */
  note?: string;
}

/** The well-known NQN of discovery controllers (NVMe over Fabrics 1.1, 7.2.1). */
export const DISCOVERY_NQN = 'nqn.2014-08.org.nvmexpress.discovery';
/** The second subsystem's NQN and its ramdisk. */
export const SECOND_NQN = `${LAB_NQN}-2`;

export interface ExtraController {
  kind: ExtraKind;
  device: string;
}

/** The lab's target config plus a second subsystem on /dev/ram1 when asked (pure). */
export function extraTargetConfig(lab: Pick<NvmeLab, 'targetAddr'>, extra: readonly ExtraKind[]): TargetConfigInput {
  const cfg = labTargetConfig(lab);
  if (!extra.includes('subsystem')) return cfg;
  return {
    ...cfg,
    subsystems: [...(cfg.subsystems ?? []), { nqn: SECOND_NQN, allowAnyHost: true, namespaces: [{ nsid: 1, path: '/dev/ram1', backing: 'block', enable: true }] }],
    ports: (cfg.ports ?? []).map((p) => ({ ...p, subsystems: [...(p.subsystems ?? []), SECOND_NQN] })),
  };
}

/** Target: as the lab's, with a ramdisk per subsystem. */
export function setupTargetExtra(lab: NvmeLab, extra: readonly ExtraKind[]): Promise<void> {
  return setupTarget(lab, undefined, { config: extraTargetConfig(lab, extra), ramdisks: extra.includes('subsystem') ? 2 : 1 });
}

/** The NQN an extra controller connects to. */
export const nqnOf = (kind: ExtraKind): string => (kind === 'discovery' ? DISCOVERY_NQN : SECOND_NQN);

/** The fabrics options of an extra controller: the lab's, with its NQN. */
function extraOptions(lab: NvmeLab, kind: ExtraKind, opts: ConnectOptions): FabricsOptions {
  // A discovery controller has no I/O queues: the kernel refuses nr_io_queues for it.
  const { nr_io_queues: _q, queue_size: _s, ...common } = opts;
  return { ...labFabricsOptions(lab, kind === 'discovery' ? common : opts), nqn: nqnOf(kind) };
}

/** Connects each extra controller over the lab's device, each live before the next. */
export async function connectExtra(lab: NvmeLab, extra: readonly ExtraKind[], opts: ConnectOptions): Promise<ExtraController[]> {
  await prepareHost(lab);
  const out: ExtraController[] = [];
  for (const kind of extra) {
    const c = await connectAndWaitLive(hostFabricsPort(lab), lab.host.agent.fs(), extraOptions(lab, kind, opts), { deadlineMs: CONNECT_LIVE_MS });
    out.push({ kind, device: c.device });
  }
  return out;
}

/** An extra controller whose connect write was started and not awaited (extra_in_flight_ms). */
export interface ExtraInFlight {
  kind: ExtraKind;
  options: FabricsOptions;
  outcome: Promise<ConnectOutcome>;
  /** Run ms when the write returned; unset while it is in flight. */
  settledAt?: number;
}

/**
 * Starts every extra controller's connect write at once and returns without waiting:
 * the device is to go while they are in flight. The write may block for the whole
 * outage (the kernel retries inside it), hence its deadline.
 */
export function startExtraConnects(lab: NvmeLab, extra: readonly ExtraKind[], opts: ConnectOptions, writeDeadlineMs: number, nowMs: () => number): ExtraInFlight[] {
  return extra.map((kind) => {
    const options = extraOptions(lab, kind, opts);
    const timing: { settledAt?: number } = {};
    const outcome = settleConnect(connectController(hostFabricsPort(lab, writeDeadlineMs), options)).finally(() => {
      timing.settledAt = nowMs();
    });
    return Object.assign(timing, { kind, options, outcome });
  });
}

/** The administrator's new connect of a refused extra controller once the device is back: live, or why not. */
export async function reconnectExtra(lab: NvmeLab, options: FabricsOptions, deadlineMs: number): Promise<ConnectOutcome> {
  return settleConnect(connectAndWaitLive(hostFabricsPort(lab), lab.host.agent.fs(), options, { deadlineMs }));
}
