// Whether the target listens again on the port the host's controller connects to.
//
// nvmet-rdma enables a port by binding a cm_id to the port's address and listening on
// it; the RDMA core tracks that cm_id on the device that holds the address, so `rdma
// resource show cm_id` (RDMA_NLDEV_CMD_RES_CM_ID_GET) lists it as LISTEN. When that
// device goes away, the listener goes with it. Stock nvmet-rdma frees it and never binds
// again; the series keeps the port and binds it when the device (or the address) comes
// back: at once for a new device, within NVMET_RDMA_PORT_RETRY_SECS (5 s) otherwise.
//
// So a target-side reset has a second requirement besides the host's recovery: the
// port listens again within the scenario's relisten_within_ms (8 s) of the device's
// return. It is also what ends a stock run early: with no listener, every connect the
// host makes is refused (REJ, invalid service ID), and the host cannot recover
// whatever it waits for. The port must have been seen listening before the reset, by the same reading, or the
// requirement is not applied (a reading that cannot see the listener decides nothing).
import { z } from 'zod';
import type { LabAgent } from '../orchestrate/nvme-lab.js';
import { NETLINK_ANSWER_MS } from '../util/timeouts.js';
import type { ScenarioSpec } from './spec.js';
import type { TimelineEvent } from './types.js';

const Listeners = z.array(z.object({ device: z.string(), addr: z.string(), kernName: z.string().optional() }));
export type Listener = z.infer<typeof Listeners>[number];

/**
 * "addr:port" of the target port an rdma controller connects to, from its
 * /dev/nvme-fabrics options, written as the RDMA core's listing writes it; undefined
 * for another transport or options without traddr/trsvcid (pure).
 */
export function controllerPort(options: string): string | undefined {
  const opt = new Map(options.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
  const [transport, traddr, trsvcid] = [opt.get('transport'), opt.get('traddr'), opt.get('trsvcid')];
  if (transport !== 'rdma' || !traddr || !trsvcid) return undefined;
  return traddr.includes(':') ? `${new URL(`http://[${traddr}]/`).hostname}:${trsvcid}` : `${traddr}:${trsvcid}`;
}

/** Whether the scenario's reset takes the target's device away while the host is expected to recover. */
export function relistenApplies(spec: Pick<ScenarioSpec, 'side' | 'expect' | 'during'>): boolean {
  return spec.side !== 'host' && spec.expect.controller === 'recovers' && spec.during === 'io';
}

/** The listeners the target VM's RDMA core lists now, or why there is no answer (the agent's error, or what does not parse). */
export async function listenersOf(agent: Pick<LabAgent, 'call'>): Promise<Listener[] | { error: string }> {
  let answer: unknown;
  try {
    answer = await agent.call('rdma.listeners', {}, NETLINK_ANSWER_MS);
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  const r = Listeners.safeParse(answer);
  return r.success ? r.data : { error: `the answer does not parse: ${r.error.issues[0]?.message ?? ''}` };
}

/** What the watch saw of the port after the reset. */
export interface RelistenRecord {
  /** "10.99.0.1:4420" */
  port: string;
  /** Run ms the wait began (the device back, the scenario's admin steps done). */
  sinceMs: number;
  limitMs: number;
  /** Run ms of the first listing that had it again, and on which device. */
  listeningMs?: number;
  device?: string;
  /** Run ms of a listing, made limitMs or more after sinceMs, that still did not have it. */
  deafMs?: number;
  /** Why the last listing had no answer, if it had none. */
  lastError?: string;
}

export interface RelistenWatch {
  readonly record: RelistenRecord;
  /** Ends the polling; settles once no listing is in flight. Never rejects. */
  stop(): Promise<void>;
}

/**
 * Lists the target's listeners every pollMs until the port is among them, or a listing
 * made limitMs after the start still lacks it (record.deafMs), or stop(). A listing
 * that fails is not an answer: it decides nothing.
 */
export function watchRelisten(agent: Pick<LabAgent, 'call'>, port: string, nowMs: () => number, limitMs: number, pollMs: number): RelistenWatch {
  const record: RelistenRecord = { port, sinceMs: nowMs(), limitMs };
  let stopped = false;
  let wake = (): void => {};
  const nap = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  const loop = async (): Promise<void> => {
    while (!stopped) {
      const askedMs = nowMs();
      const answer = await listenersOf(agent);
      const ls = Array.isArray(answer) ? answer : undefined;
      if (!Array.isArray(answer)) record.lastError = answer.error;
      const found = ls?.find((l) => l.addr === port);
      if (found) {
        Object.assign(record, { listeningMs: askedMs, device: found.device });
        return;
      }
      if (ls && askedMs - record.sinceMs >= limitMs) {
        record.deafMs = askedMs;
        return;
      }
      if (!stopped) await nap(pollMs);
    }
  };
  const done = loop().catch(() => undefined);
  return {
    record,
    stop: async () => {
      stopped = true;
      wake();
      await done;
    },
  };
}

/** The record as timeline events of the target VM `vm` (pure). */
export function relistenEvents(r: RelistenRecord, vm: string): TimelineEvent[] {
  if (r.listeningMs !== undefined) return [{ t_ms: r.listeningMs, vm, kind: 'listener', key: r.port, value: `listening again (${r.device ?? '?'})` }];
  if (r.deafMs !== undefined) return [{ t_ms: r.deafMs, vm, kind: 'listener', key: r.port, value: `not listening ${r.limitMs} ms after the device came back` }];
  return [];
}

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/**
 * What the verdict says of the port: `fail` when the target was not listening on it
 * again in time, else a note on when it was (pure).
 */
export function judgeRelisten(r: RelistenRecord | undefined): { fail?: string; note: string } {
  if (r?.deafMs !== undefined) {
    return {
      fail: `the target was not listening on ${r.port} ${s(r.deafMs - r.sinceMs)} after the device came back (allowed ${s(r.limitMs)}): nvmet-rdma did not bind the port again, so every connect is refused and the run ended there`,
      note: '',
    };
  }
  if (r?.listeningMs !== undefined) return { note: `; the target listened on ${r.port} again by ${s(Math.max(0, r.listeningMs - r.sinceMs))} after the device came back` };
  if (r?.lastError !== undefined) return { note: `; the target's listeners could not be listed after the reset (${r.lastError})` };
  return { note: '' };
}
