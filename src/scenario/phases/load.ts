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

export const load: Phase = controllerPhase('load', async (ctx, { lab, ctrl }) => {
  // While the host VM starts the loader, the VMs whose reset runs a tool load execa (see agents-warm.ts).
  const tools = toolMachines(lab, ctx.spec);
  startWarming(tools);
  const loader = startLoader(lab.host.agent, ctx.spec, ctrl.namespace);
  ctx.loader = loader;
  if (!(await ioAfter(loader, 0, LOADER_FIRST_IO_MS)) && !loader.done()) {
    throw new HarnessError(`no I/O on ${ctrl.namespace} within ${LOADER_FIRST_IO_MS} ms of starting the loader`);
  }
  // The agents finish their imports meanwhile (they must before a reset: agents-warm.ts).
  await Promise.all([sleep(ctx.spec.pre_ms), agentsWarm(tools)]);
  if (loader.done()) {
    const r = await loader.exit;
    await writeFile(join(ctx.runDir, 'loader.json'), r.stdout);
    throw new HarnessError(`the loader stopped before the reset (exit ${r.exitCode}): ${r.stderr.trim().slice(-1000)}`);
  }
});
