// Why: a guest agent imports execa (its `exec`) only when asked (op `warm`) or at the
// first exec: it took seconds under TCG, and imported at boot it slowed the target
// phase. The runner asks where a VM has time: the host VM once booted (its loader starts
// through exec), every VM while the loader starts. And it waits for every agent to be
// warm before the first reset: a reset whose trigger ran a tool would otherwise time that
// import too (a module-reload's trigger time is judged against hold_tx.unload_within_ms).
import type { LabAgent } from '../orchestrate/nvme-lab.js';
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
