// reset-during-connect: the device goes away while the host's connect write to
// /dev/nvme-fabrics is still in flight. Either the kernel refuses the connect cleanly
// (then an administrator's new connect after the device is back must work), or it
// accepts it and the controller must reach live by itself. Nothing may hang or leak: a
// removal still blocked RACE_REMOVAL_WITHIN_MS after it started ends the run, a FAIL.
import { agentsWarm, toolMachines } from './agents-warm.js';
import { connectOptions } from './connect-options.js';
import { connectController, listControllers, settleConnect, waitControllerState, type ConnectOutcome } from '../orchestrate/configfs/index.js';
import { findNamespace, hostFabricsPort, labFabricsOptions, prepareHost, type HostController } from '../orchestrate/nvme-lab.js';
import { sleep } from '../util/deadline.js';
import { DeadlineError } from '../util/errors.js';
import { FABRICS_CONNECT_WRITE_MS, RACE_REMOVAL_WITHIN_MS } from '../util/timeouts.js';
import { saveBlockedTasks } from './stuck-reset.js';
import type { ResetPlan, RunLab } from './lab.js';
import type { ResetWindow } from './metrics.js';
import type { ScenarioSpec } from './spec.js';

export interface ConnectRace {
  /** ms from starting the connect write to injecting the reset. */
  injectAfterMs: number;
  /** Whether the connect write was still in flight when the reset was injected. */
  inFlight: boolean;
  /** How long the first connect write took, ms. */
  connectMs: number;
  first: ConnectOutcome;
  /** The administrator's new connect once the device was back, when the first was refused. */
  retry?: ConnectOutcome;
  /** Whether the controller in use reached live (by itself, or after the retry). */
  live: boolean;
  /** Other NVMe controllers still in sysfs at the end: a refused connect must leave none. */
  leftover: string[];
  /** Why the controller in use did not come live: deleted, or still not live at the deadline. */
  notLive?: 'deleted' | 'deadline';
  /** The device's removal had not returned within the limit: the run ended there. */
  stuck?: { waitedMs: number; limitMs: number; blocked: string[] };
}

export interface RaceResult {
  race: ConnectRace;
  window: ResetWindow;
  /** The controller to run I/O on, when one is live. */
  ctrl?: HostController;
}

/** Whether `p` settles within `ms` (its failure is the caller's to see later). */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface RaceOptions {
  nowMs: () => number;
  say: (m: string) => void;
  /** Where the blocked tasks' stacks go when the removal hangs. */
  runDir: string;
  /** How long the removal may take (RACE_REMOVAL_WITHIN_MS). */
  removalWithinMs?: number;
}

export async function raceConnect(lab: RunLab, spec: ScenarioSpec, reset: ResetPlan, o: RaceOptions): Promise<RaceResult> {
  const { nowMs, say } = o;
  await Promise.all([prepareHost(lab), agentsWarm(toolMachines(lab, spec))]);
  const fs = lab.host.agent.fs();
  const options = labFabricsOptions(lab, connectOptions(spec.connect, lab.hostAddr));
  // The write may legitimately block for the whole outage (the kernel retries inside it).
  const writeDeadline = spec.down_ms + spec.recovery_deadline_ms + FABRICS_CONNECT_WRITE_MS;
  const t = nowMs();
  let settledAt: number | undefined;
  const first = settleConnect(connectController(hostFabricsPort(lab, writeDeadline), options)).finally(() => {
    settledAt = nowMs();
  });

  await sleep(spec.inject_after_ms);
  const inFlight = settledAt === undefined;
  const goneMs = nowMs();
  say(`reset during connect (${inFlight ? 'connect in flight' : 'connect already done'} after ${spec.inject_after_ms} ms): ${reset.describe}`);
  const trigger = reset.trigger();
  const limitMs = o.removalWithinMs ?? RACE_REMOVAL_WITHIN_MS;
  if (!(await settlesWithin(trigger, limitMs))) {
    trigger.catch(() => undefined); // it returns, or fails, after the run
    first.catch(() => undefined);
    const waitedMs = Math.round(nowMs() - goneMs);
    const blocked = await saveBlockedTasks(lab.host.agent, o.runDir);
    say(`the removal has not returned after ${(waitedMs / 1000).toFixed(1)} s with the connect in flight: the run ends here (${blocked.length} task(s) wait in the RDMA or NVMe layers)`);
    const race: ConnectRace = { injectAfterMs: spec.inject_after_ms, inFlight, connectMs: Math.round(nowMs() - t), first: { ok: false, error: 'still in flight' }, live: false, leftover: [], stuck: { waitedMs, limitMs, blocked } };
    return { race, window: { goneMs, backMs: nowMs() } };
  }
  await trigger;
  await sleep(spec.down_ms);
  await reset.restore();
  const backMs = nowMs();
  const outcome = await first;
  const race: ConnectRace = {
    injectAfterMs: spec.inject_after_ms,
    inFlight,
    connectMs: Math.round((settledAt ?? nowMs()) - t),
    first: outcome,
    live: false,
    leftover: [],
  };

  let use: ConnectOutcome = outcome;
  if (outcome.ok) {
    // Accepted: it must come live with no admin action.
    for (const m of lab.machines) m.agent.guard.arm();
    race.live = await waitControllerState(fs, outcome.device, { deadlineMs: spec.recovery_deadline_ms }).then(
      () => true,
      (e: unknown) => {
        race.notLive = e instanceof DeadlineError ? 'deadline' : 'deleted';
        return false;
      },
    );
  } else {
    // Refused: nothing was promised to the user, who connects again once the device is back.
    race.retry = await settleConnect(
      (async () => {
        const c = await connectController(hostFabricsPort(lab), options);
        await waitControllerState(fs, c.device, { deadlineMs: spec.recovery_deadline_ms });
        return c;
      })(),
    );
    use = race.retry;
    race.live = race.retry.ok;
    for (const m of lab.machines) m.agent.guard.arm();
  }

  const inUse = use.ok ? use.device : undefined;
  race.leftover = (await listControllers(fs)).map((c) => c.device).filter((d) => d !== inUse);
  const window = { goneMs, backMs };
  if (!use.ok || !race.live) return { race, window };
  return { race, window, ctrl: await findNamespace(lab, use.device, use.options) };
}
