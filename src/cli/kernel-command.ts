// reset-bench kernel fetch | update | modules | build --debug, per series (6.1, 6.12),
// at the exact versions kernel-pins.json names.
import type { Command } from 'commander';
import { fetchKernel, newestPin } from '../kernel/debian.js';
import { buildVariantModules, VARIANTS, type Variant } from '../kernel/module-build.js';
import { pickSeries, pinChanges, pinsFile, readPins, writePins } from '../kernel/pins.js';
import { seriesDir } from '../kernel/resolve.js';
import { UsageError } from '../util/errors.js';
import { makeContext } from './context.js';
import { registerKernelBuildCommand } from './kernel-build-command.js';

interface SeriesOpts {
  series?: string;
  pins?: string;
  cacheDir?: string;
}

const seriesOptions = (c: Command): Command =>
  c
    .option('--series <series>', 'kernel series, e.g. 6.1 or 6.12 (default: the pins file\'s default)')
    .option('--pins <file>', 'the pins file (default <project>/kernel-pins.json, or $RESET_BENCH_PINS)')
    .option('--cache-dir <dir>', 'kernel cache (default $RESET_BENCH_CACHE or ~/.cache/reset-bench)');

/** Moves the pins of the given series (all when none) to the archive's newest; prints what changed. */
async function updatePins(o: SeriesOpts): Promise<void> {
  const ctx = makeContext({ cacheDir: o.cacheDir });
  const file = pinsFile(ctx.project, o.pins);
  const pins = await readPins(file);
  const names = o.series ? [pickSeries(pins, o.series).series] : Object.keys(pins.series);
  let moved = 0;
  for (const s of names) {
    const before = pins.series[s]!;
    const after = await newestPin(s, before.meta);
    const changes = pinChanges(before, after);
    if (changes.length === 0) {
      process.stdout.write(`${s}: up to date at ${before.version} (${before.abi})\n`);
      continue;
    }
    moved++;
    pins.series[s] = after;
    process.stdout.write(`${s}: ${changes.join('\n')}\n`);
  }
  if (moved) {
    await writePins(file, pins);
    process.stdout.write(`wrote ${file}: commit it, then \`reset-bench kernel fetch\` and rebuild what depends on it\n`);
  }
}

async function fetchPinned(o: SeriesOpts & { update?: boolean }): Promise<void> {
  if (o.update) await updatePins(o);
  const ctx = makeContext({ cacheDir: o.cacheDir });
  const { series, pin } = pickSeries(await readPins(pinsFile(ctx.project, o.pins)), o.series);
  const f = await fetchKernel({ cache: ctx.cache, series, pin, progress: ctx.progress, log: ctx.log });
  process.stdout.write(`${series} ${f.manifest.abi} ${f.manifest.version} ${f.layout.root}\n`);
}

export function registerKernelCommand(program: Command): void {
  const k = program.command('kernel').description('get and build kernels for the lab');
  seriesOptions(k.command('fetch'))
    .description("download and unpack a series' pinned Debian kernel (image, headers, kbuild, source) into the cache")
    .option('--update', 'first move the pin to the archive\'s newest (as `kernel update`)')
    .action((o: SeriesOpts & { update?: boolean }) => fetchPinned(o));
  seriesOptions(k.command('update'))
    .description('move the pins (of --series, else every series) to the newest kernel in the archive and print what changed')
    .action((o: SeriesOpts) => updatePins(o));
  registerKernelBuildCommand(k);
  seriesOptions(k.command('modules'))
    .description("build the variant's modules out of tree (distro: nvme-rdma, nvmet-rdma as shipped; stock: the lab patches (rdma_rxe fixes); patched: the whole series; each also builds every module its patches touch)")
    .option('--variant <variant>', 'distro, stock or patched', 'patched')
    .option('--patches <dir>', 'the series directory to apply for patched (default kernel-patches/<series>)')
    .option('--force', 'rebuild even if nothing changed')
    .action(async (o: SeriesOpts & { variant: string; patches?: string; force?: boolean }) => {
      if (!(VARIANTS as readonly string[]).includes(o.variant)) {
        throw new UsageError(`unknown variant ${JSON.stringify(o.variant)}; use ${VARIANTS.join(', ')}`, '--variant');
      }
      const ctx = makeContext({ cacheDir: o.cacheDir });
      const { series, pin } = pickSeries(await readPins(pinsFile(ctx.project, o.pins)), o.series);
      const fetched = await fetchKernel({ cache: ctx.cache, series, pin, progress: ctx.progress, log: ctx.log });
      const r = await buildVariantModules({
        fetched,
        variant: o.variant as Variant,
        seriesDir: o.patches ?? seriesDir(series),
        force: o.force,
        progress: ctx.progress,
      });
      process.stdout.write(
        `${r.variant}@${series}: ${r.modulesDir} (${r.rebuilt ? 'built' : 'up to date'}; ${r.modules.join(', ')}; ${r.patches.length} patch(es)${r.patches.length ? `: ${r.patches.join(', ')}` : ''}${r.lab.length ? `; lab: ${r.lab.join(', ')}` : ''})\n`,
      );
    });
}
