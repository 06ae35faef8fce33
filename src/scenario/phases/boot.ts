// Boot: the kernel resolved (fetched or built ones from the cache, or the user's tree)
// and the scenario's topology booted.
import type { Phase } from './phase.js';

export const boot: Phase = {
  name: 'boot',
  async run(ctx) {
    const { spec, opts } = ctx;
    const kernel = await ctx.driver.resolveKernel(opts.kernel, { cache: opts.cache, progress: opts.progress ?? (() => {}) });
    ctx.kernelInfo = kernel.info;
    ctx.say(`booting ${spec.topology} on ${kernel.name}`);
    const lab = await ctx.driver.boot({ kind: spec.topology, kernel, project: opts.project, logDir: ctx.runDir, log: ctx.log });
    ctx.lab = lab;
    ctx.say(`booted (${lab.machines.map((m) => `${m.name} ${m.bootMs} ms`).join(', ')}); building the target`);
  },
};
