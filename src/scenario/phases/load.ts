// Load: the verifying loader started on the controller's namespace, I/O seen to flow,
// and pre_ms of it before anything happens to the device.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from '../../util/deadline.js';
import { HarnessError } from '../../util/errors.js';
import { LOADER_FIRST_IO_MS } from '../../util/timeouts.js';
import { agentsWarm, startWarming, toolMachines } from '../agents-warm.js';
import { ioAfter, startLoader } from '../loader.js';
import { controllerPhase, type Phase } from './phase.js';
import type { RunContext } from '../context.js';
import type { RunLab } from '../lab.js';
import { snapshotResources } from '../rdma-resources.js';
import { controllerPort, listenersOf, relistenApplies } from '../port-listeners.js';
import type { HostController } from '../../orchestrate/nvme-lab.js';

/**
 * The RDMA objects the connected controllers hold, for collect to compare with after the
 * run: counted during pre_ms, as the I/O runs, where the resets phase would count them
 * right before the first reset (0.4-0.7 s of netlink dumps between the end of pre_ms and
 * the device going, in the whole catalog's runs of session 23). Not where a connect is
 * started after the load (extra_in_flight_ms counts just before it) or the reset is not
 * the resets phase's (during: connect or reconnect: none are counted).
 */
async function countRdmaBefore(ctx: RunContext, lab: RunLab): Promise<void> {
  if (ctx.spec.during !== 'io' || ctx.spec.extra_in_flight_ms !== undefined) return;
  const t0 = Date.now();
  ctx.rdmaBefore = (await snapshotResources(lab)).totals;
  ctx.log.debug({ run: ctx.runName, ms: Date.now() - t0 }, 'RDMA objects counted');
}

/**
 * A target-side reset: the controller's port as the target lists its listeners during
 * pre_ms, so that the watch can require it listening again (port-listeners.ts). Left
 * unset, and the requirement with it, when the listing does not have it.
 */
async function seeListenerBefore(ctx: RunContext, lab: RunLab, ctrl: HostController): Promise<void> {
  const port = controllerPort(ctrl.options);
  if (!relistenApplies(ctx.spec) || port === undefined) return;
  const ls = await listenersOf(lab.target.agent);
  if (Array.isArray(ls) && ls.some((l) => l.addr === port)) ctx.listenedBefore = port;
  else ctx.log.warn({ run: ctx.runName, port, listeners: ls }, 'the target lists no listener on the port before the reset: not requiring one after it');
}

export const load: Phase = controllerPhase('load', async (ctx, { lab, ctrl }) => {
  // While the host VM starts the loader, the VMs whose reset runs a tool load execa (see agents-warm.ts).
  const tools = toolMachines(lab, ctx.spec);
  startWarming(tools);
  const loader = startLoader(lab.host.agent, ctx.spec, ctrl.namespace);
  ctx.loader = loader;
  if (!(await ioAfter(loader, 0, LOADER_FIRST_IO_MS)) && !loader.done()) {
    throw new HarnessError(`no I/O on ${ctrl.namespace} within ${LOADER_FIRST_IO_MS} ms of starting the loader`);
  }
  // The agents finish their imports meanwhile (they must before a reset: agents-warm.ts),
  // the RDMA objects the controllers hold are counted (the resets phase's otherwise),
  // and a target-side reset's port is seen listening.
  await Promise.all([sleep(ctx.spec.pre_ms), agentsWarm(tools), countRdmaBefore(ctx, lab), seeListenerBefore(ctx, lab, ctrl)]);
  if (loader.done()) {
    const r = await loader.exit;
    await writeFile(join(ctx.runDir, 'loader.json'), r.stdout);
    throw new HarnessError(`the loader stopped before the reset (exit ${r.exitCode}): ${r.stderr.trim().slice(-1000)}`);
  }
});
