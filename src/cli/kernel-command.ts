// reset-bench kernel fetch | modules | build --debug
import type { Command } from 'commander';
import { fetchDefaultKernel } from '../kernel/debian.js';
import { buildVariantModules, type Variant } from '../kernel/module-build.js';
import { defaultPatchDir } from '../kernel/resolve.js';
import { UsageError } from '../util/errors.js';
import { makeContext } from './context.js';
import { registerKernelBuildCommand } from './kernel-build-command.js';

export function registerKernelCommand(program: Command): void {
  const k = program.command('kernel').description('get and build kernels for the lab');
  k.command('fetch')
    .description("download and unpack Debian's default kernel (image, headers, kbuild, source) into the cache")
    .option('--cache-dir <dir>', 'kernel cache (default $RESET_BENCH_CACHE or ~/.cache/reset-bench)')
    .option('--refresh', 'resolve linux-image-amd64 again even if a kernel is cached')
    .action(async (o: { cacheDir?: string; refresh?: boolean }) => {
      const ctx = makeContext({ cacheDir: o.cacheDir });
      const f = await fetchDefaultKernel({ cache: ctx.cache, refresh: o.refresh, progress: ctx.progress, log: ctx.log });
      process.stdout.write(`${f.manifest.abi} ${f.manifest.version} ${f.layout.root}\n`);
    });
  registerKernelBuildCommand(k);
  k.command('modules')
    .description('build the variant\'s modules out of tree (stock: nvme-rdma, nvmet-rdma; patched: also nvme-core and rdma_rxe)')
    .option('--variant <variant>', 'stock or patched', 'patched')
    .option('--patches <dir>', 'the patch series to apply for patched', defaultPatchDir())
    .option('--force', 'rebuild even if nothing changed')
    .option('--cache-dir <dir>', 'kernel cache')
    .action(async (o: { variant: string; patches: string; force?: boolean; cacheDir?: string }) => {
      if (o.variant !== 'stock' && o.variant !== 'patched') {
        throw new UsageError(`unknown variant ${JSON.stringify(o.variant)}; use stock or patched`, '--variant');
      }
      const ctx = makeContext({ cacheDir: o.cacheDir });
      const fetched = await fetchDefaultKernel({ cache: ctx.cache, progress: ctx.progress, log: ctx.log });
      const r = await buildVariantModules({ fetched, variant: o.variant as Variant, patchDir: o.patches, force: o.force, progress: ctx.progress });
      process.stdout.write(
        `${r.variant}: ${r.modulesDir} (${r.rebuilt ? 'built' : 'up to date'}; ${r.patches.length} patch(es)${r.patches.length ? `: ${r.patches.join(', ')}` : ''})\n`,
      );
    });
}
