// Why: a guest agent imports execa (its `exec`) only when asked (op `warm`) or at the
// first exec: it took seconds under TCG, and imported at boot it slowed the target
// phase. The runner asks the host VM once booted (its set-up may start a modprobe), and
// the VMs where the scenario's reset or admin action starts a process as the loader
// starts; it waits for those to be warm before the first reset: a reset whose trigger ran
// a tool would otherwise time that import too (the device's going-away time, and a
// module-reload's trigger time, judged against hold_tx.unload_within_ms). A VM that runs
// no tool (an rdma-link reset's target) never imports execa.
import type { LabAgent } from '../orchestrate/nvme-lab.js';
import { adminSide } from './admin-actions.js';
import type { LabVm, RunLab } from './lab.js';
import type { ScenarioSpec } from './spec.js';
import { AGENT_WARM_MS } from '../util/timeouts.js';

/** Asks these agents to load the code of all their operations, without waiting (agentsWarm waits). */
export function startWarming(machines: readonly { agent: Pick<LabAgent, 'call'> }[]): void {
  for (const m of machines) void m.agent.call('warm', {}, AGENT_WARM_MS).catch(() => undefined);
}

/**
 * Every VM's agent has finished the imports it has under way (the ones it does after
 * ready, and execa where it was asked to warm): a module's evaluation holds the agent's
 * loop, so a round trip timed meanwhile (the clock's alignment) would be long.
 */
export async function agentsSettled(machines: readonly { agent: Pick<LabAgent, 'call'> }[]): Promise<void> {
  await Promise.all(machines.map((m) => m.agent.call('settled', {}, AGENT_WARM_MS)));
}

/** Every VM's agent has loaded the code of all its operations. */
export async function agentsWarm(machines: readonly { agent: Pick<LabAgent, 'call'> }[]): Promise<void> {
  await Promise.all(machines.map((m) => m.agent.call('warm', {}, AGENT_WARM_MS)));
}

/** The VMs where the scenario's reset (trigger, restore) or its admin action starts a process. */
export function toolMachines(lab: Pick<RunLab, 'machines' | 'resetPlan' | 'host' | 'target'>, spec: ScenarioSpec): LabVm[] {
  const names = new Set(lab.resetPlan(spec).toolVms);
  if (spec.admin) names.add(lab[adminSide(spec.admin.action)].name);
  return lab.machines.filter((m) => names.has(m.name));
}
