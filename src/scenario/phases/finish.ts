// Finish: the load ends. Recovered: I/O runs post_ms more to show it resumed, then
// SIGUSR2 (written to the loader's control file) ends it and the job reads back every
// acknowledged write (the host agent's load.run, the same job). Not recovered (or
// deleted, as expected or not): SIGINT stops it, no final pass.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from '../../util/deadline.js';
import { HarnessError } from '../../util/errors.js';
import { need } from '../context.js';
import { loaderJsonFile, parseLoaderOutput, stopLoader } from '../loader.js';
import { controllerPhase, type Phase } from './phase.js';

export const finish: Phase = controllerPhase('finish', async (ctx, { lab, ctrl }) => {
  const loader = need(ctx.loader, 'the loader');
  const host = lab.host;
  const gone = !(await host.agent.fs().exists(`/sys/class/nvme/${ctrl.device}`));
  const recovered = ctx.reachedExpected && !gone && ctx.spec.expect.controller === 'recovers';
  if (recovered) await sleep(ctx.spec.post_ms);
  if (loader.done() && recovered) {
    throw new HarnessError(`the loader's ${Math.round(loader.runtimeMs / 1000)} s runtime ran out before the scenario ended: this kernel is slower than the budget assumes`);
  }
  if (recovered) ctx.say('verifying every acknowledged write');
  const r = await stopLoader(host.agent, loader, recovered);
  if (r.timedOut) throw new HarnessError(`the loader in ${host.name} did not finish in time`);
  const result = parseLoaderOutput(r);
  await writeFile(join(ctx.runDir, 'loader.json'), loaderJsonFile(r));
  if (recovered && !result.verify.finalPass.ran) {
    throw new HarnessError(`the loader in ${host.name} ended without its final verify pass (exit ${r.exitCode})`);
  }
  ctx.load = result;
  ctx.endMs = ctx.nowMs();
});
