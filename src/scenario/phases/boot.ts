// Boot: the kernel resolved (fetched or built ones from the cache, or the user's tree)
// and the scenario's topology booted.
import { startWarming } from '../agents-warm.js';
import { startInstrumenting } from './instrument.js';
import type { ScenarioSpec } from '../spec.js';
import { snapshotsDir } from '../../vm/snapshot-store.js';
import { guestRuntimeDir } from '../../vm/guest-runtime.js';
import type { Phase } from './phase.js';

/** The links whose rxe device the set-up uses: link 0, or on pair2 every link that carries RDMA (not an nvme-tcp one). */
export function rdmaLinksOf(spec: Pick<ScenarioSpec, 'topology' | 'paths'>): number[] {
  if (spec.topology !== 'pair2') return [0];
  return (spec.paths?.transports ?? ['rdma', 'rdma']).flatMap((t, i) => (t === 'rdma' ? [i] : []));
}

export const boot: Phase = {
  name: 'boot',
  async run(ctx) {
    const { spec, opts } = ctx;
    const kernel = await ctx.driver.resolveKernel(opts.kernel, { cache: opts.cache, progress: opts.progress ?? (() => {}) });
    ctx.kernelInfo = kernel.info;
    ctx.say(`booting ${spec.topology} on ${kernel.name}`);
    const lab = await ctx.driver.boot({
      kind: spec.topology,
      kernel,
      project: opts.project,
      logDir: ctx.runDir,
      log: ctx.log,
      rdmaLinks: rdmaLinksOf(spec),
      snapshots: snapshotsDir(opts.cache),
      runtimeDir: guestRuntimeDir(opts.cache),
    });
    ctx.lab = lab;
    // The host VM has time while the target is built: its set-up may start a modprobe.
    startWarming([lab.host]);
    // Its clock and sampler meanwhile too (the instrument phase waits for them).
    if (lab.host !== lab.target) startInstrumenting(ctx, [lab.host]);
    ctx.say(`booted (${lab.machines.map((m) => `${m.name} ${m.bootMs} ms, ${m.bootFrom}`).join('; ')}); building the target`);
  },
};
