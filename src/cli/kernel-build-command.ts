// reset-bench kernel build --debug [--series S] [--jobs N] [--force]
import type { Command } from 'commander';
import { buildDebugKernel } from '../kernel/debug-build.js';
import { UsageError } from '../util/errors.js';
import { makeContext } from './context.js';

interface BuildOpts {
  debug?: boolean;
  jobs: string;
  nice: string;
  series?: string;
  patches?: string;
  force?: boolean;
  cacheDir?: string;
}

export function registerKernelBuildCommand(kernelCmd: Command): void {
  kernelCmd
    .command('build')
    .description(
      "build the debug kernel of a series (its linux-source with kernel-patches/<series> in-tree, KASAN, lockdep, kmemleak, hung task) into <cache>/debug-kernel/<series>; tens of minutes on 2 cores",
    )
    .option('--debug', 'the debug kernel (the only kind there is; required)')
    .option('--series <series>', "kernel series, e.g. 6.1 or 6.12 (default: the pins file's default)")
    .option('--jobs <n>', 'parallel make jobs', '2')
    .option('--nice <n>', 'nice level for make', '19')
    .option('--patches <dir>', 'the series directory to apply (default kernel-patches/<series>)')
    .option('--force', 'rebuild from a fresh tree even if nothing changed')
    .option('--cache-dir <dir>', 'kernel cache')
    .action(async (o: BuildOpts) => {
      if (!o.debug) throw new UsageError('only the debug kernel can be built: pass --debug', '--debug');
      const jobs = Number(o.jobs);
      if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs wants a positive integer, not ${JSON.stringify(o.jobs)}`, '--jobs');
      const nice = Number(o.nice);
      if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new UsageError(`--nice wants 0..19, not ${JSON.stringify(o.nice)}`, '--nice');
      const ctx = makeContext({ cacheDir: o.cacheDir });
      const r = await buildDebugKernel({ cache: ctx.cache, series: o.series, seriesDir: o.patches, jobs, nice, force: o.force, progress: ctx.progress });
      process.stdout.write(`debug ${r.kver} ${r.dir} (${r.rebuilt ? 'built' : 'up to date'})\n`);
    });
}
