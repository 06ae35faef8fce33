// Out-of-tree builds of the lab's modules from the kernel's own source, installed into a
// variant's updates/: distro builds nvme-rdma.ko and nvmet-rdma.ko unchanged; stock
// applies only the lab patches (kernel-patches/<series>/lab: fixes to rdma_rxe, the
// lab's emulated device) and patched the whole series (kernel-patches/<series>/series);
// each builds those two plus every lab module a patch touches (nvme-core, rdma_rxe, ...
// as the patches say). Rebuilds only when the sources or the patches change.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errorMessage, HarnessError, UsageError } from '../util/errors.js';
import { run } from '../util/exec.js';
import { applyPatches } from './apply.js';
import { kbuildFor, modulesOfObject } from './kbuild.js';
import { withLock } from './lock.js';
import { depmod, ensureVariantTree } from './modtree.js';
import { labPatches, patchedFiles, patchsetHash, seriesPatches, type SeriesPatch } from './series.js';
import type { Fetched } from './debian.js';
import { MODULE_BUILD_MS } from '../util/timeouts.js';

export const VARIANTS = ['distro', 'stock', 'patched'] as const;
export type Variant = (typeof VARIANTS)[number];

interface LabModule {
  dir: string;
  module: string;
}

/** The modules the lab loads that can be built out of tree, in build order. */
export const LAB_MODULES: readonly LabModule[] = [
  { dir: 'drivers/nvme/host', module: 'nvme-core' },
  { dir: 'drivers/nvme/host', module: 'nvme-fabrics' },
  { dir: 'drivers/nvme/host', module: 'nvme-rdma' },
  { dir: 'drivers/nvme/target', module: 'nvmet' },
  { dir: 'drivers/nvme/target', module: 'nvmet-rdma' },
  { dir: 'drivers/infiniband/sw/rxe', module: 'rdma_rxe' },
];

/** What every variant builds: distro and stock keep the distribution's other modules. */
export const STOCK_MODULES = ['nvme-rdma', 'nvmet-rdma'];

/** Bump when the way modules are built changes, so cached variants are rebuilt. */
const RECIPE = 4;

/**
 * The lab modules a set of patched files needs rebuilt: a .c file's module (from its
 * directory's Makefile), every lab module of the directory for anything else (a header).
 * A file outside the lab modules' directories cannot be built out of tree: an error.
 */
export async function touchedModules(sourceRoot: string, files: { file: string; patch: string }[]): Promise<string[]> {
  const out = new Set<string>();
  for (const { file, patch } of files) {
    const dir = dirname(file);
    const inDir = LAB_MODULES.filter((m) => m.dir === dir).map((m) => m.module);
    if (inDir.length === 0) {
      throw new UsageError(
        `touches ${file}, outside the modules the patched variant builds out of tree (${[...new Set(LAB_MODULES.map((m) => m.dir))].join(', ')}); ` +
          'use `reset-bench kernel build --debug` for an in-tree build',
        patch,
      );
    }
    if (!file.endsWith('.c')) {
      inDir.forEach((m) => out.add(m));
      continue;
    }
    const makefile = await readFile(join(sourceRoot, dir, 'Makefile'), 'utf8');
    const mods = modulesOfObject(makefile, basename(file).replace(/\.c$/, '.o')).filter((m) => inDir.includes(m));
    if (mods.length === 0) throw new UsageError(`touches ${file}, which no lab module in ${dir}/Makefile is built from`, patch);
    mods.forEach((m) => out.add(m));
  }
  return [...out];
}

/** The modules of a variant grouped by source directory, in LAB_MODULES order: one build each. */
export function buildDirs(modules: readonly string[]): { dir: string; modules: string[] }[] {
  const dirs = new Map<string, string[]>();
  for (const m of LAB_MODULES.filter((x) => modules.includes(x.module))) dirs.set(m.dir, [...(dirs.get(m.dir) ?? []), m.module]);
  return [...dirs].map(([dir, mods]) => ({ dir, modules: mods }));
}

/** The variant's patches (distro: none; stock: the lab patches; patched: the series) and the modules it builds. */
export async function variantPlan(
  sourceRoot: string,
  seriesDir: string,
  variant: Variant,
): Promise<{ patches: SeriesPatch[]; modules: string[]; lab: string[] }> {
  const lab = variant === 'distro' ? [] : await labPatches(seriesDir);
  const patches = variant === 'patched' ? await seriesPatches(seriesDir) : lab;
  const files: { file: string; patch: string }[] = [];
  for (const p of patches) for (const file of patchedFiles(await readFile(p.path, 'utf8'))) files.push({ file, patch: p.name });
  const touched = await touchedModules(sourceRoot, files);
  const modules = LAB_MODULES.map((m) => m.module).filter((m) => STOCK_MODULES.includes(m) || touched.includes(m));
  return { patches, modules, lab: lab.map((p) => p.name) };
}

/** The content hash that decides whether a variant must be rebuilt. */
export async function buildHash(sourceRoot: string, plan: { patches: SeriesPatch[]; modules: string[] }, variant: Variant): Promise<string> {
  const h = createHash('sha256');
  h.update(`recipe=${RECIPE}\nvariant=${variant}\nmodules=${plan.modules.join(',')}\n`);
  for (const { dir: rel } of buildDirs(plan.modules)) {
    const dir = join(sourceRoot, rel);
    for (const f of (await readdir(dir)).sort()) {
      if (/\.(c|h)$/.test(f) || f === 'Makefile') h.update(f).update(await readFile(join(dir, f)));
    }
  }
  for (const p of plan.patches) h.update(p.name).update(await readFile(p.path));
  return h.digest('hex');
}

export interface ModulesResult {
  variant: Variant;
  /** The variant's lib/modules/KVER. */
  modulesDir: string;
  rebuilt: boolean;
  /** The applied patches, relative to the series directory. */
  patches: string[];
  /** KCIDB's patchset hash of the applied patches ("" for none). */
  patchset: string;
  /** The lab patches among them (stock and patched), relative to the series directory. */
  lab: string[];
  modules: string[];
}

export async function buildVariantModules(opts: {
  fetched: Fetched;
  variant: Variant;
  /** The series directory, e.g. kernel-patches/6.12. */
  seriesDir: string;
  force?: boolean;
  progress?: (m: string) => void;
}): Promise<ModulesResult> {
  const { layout, manifest } = opts.fetched;
  const say = opts.progress ?? (() => {});
  const kver = manifest.abi;
  const variantRoot = join(layout.variants, opts.variant);
  const modulesDir = await ensureVariantTree(layout.modules, variantRoot, kver);
  const plan = await variantPlan(layout.source, opts.seriesDir, opts.variant);
  const hash = await buildHash(layout.source, plan, opts.variant);
  const result = {
    variant: opts.variant,
    modulesDir,
    patches: plan.patches.map((p) => p.name),
    patchset: await patchsetHash(plan.patches),
    lab: plan.lab,
    modules: plan.modules,
  };
  const stamp = join(variantRoot, '.build-hash');
  const upToDate = async (): Promise<boolean> => !opts.force && existsSync(stamp) && (await readFile(stamp, 'utf8')).trim() === hash;
  if (await upToDate()) return { ...result, rebuilt: false };
  return withLock(variantRoot, `the ${opts.variant}@${manifest.series} modules`, async () => {
    // Another process may have built it while this one waited.
    if (await upToDate()) return { ...result, rebuilt: false };
    await build(opts.fetched, opts.variant, plan, modulesDir, say);
    await writeFile(stamp, `${hash}\n`);
    return { ...result, rebuilt: true };
  }, { say });
}

async function build(fetched: Fetched, variant: Variant, plan: { patches: SeriesPatch[]; modules: string[] }, modulesDir: string, say: (m: string) => void): Promise<void> {
  const { layout, manifest } = fetched;
  const kver = manifest.abi;
  const variantRoot = join(layout.variants, variant);
  const dirs = buildDirs(plan.modules);
  const stage = join(variantRoot, 'build');
  await rm(stage, { recursive: true, force: true });
  await rm(join(modulesDir, 'updates'), { recursive: true, force: true });
  for (const { dir } of dirs) {
    await mkdir(join(stage, dir), { recursive: true });
    await cp(join(layout.source, dir), join(stage, dir), { recursive: true });
  }
  await applyPatches({
    tree: stage,
    patches: plan.patches,
    source: `linux-source ${manifest.version}`,
    seriesLabel: `kernel-patches/${manifest.series}`,
    say,
  });
  const updates = join(modulesDir, 'updates');
  await mkdir(updates, { recursive: true });
  for (const { dir: rel, modules } of dirs) await buildDir(join(stage, rel), modules, layout.headers, updates, variant, say);
  await depmod(variantRoot, kver);
}

async function buildDir(dir: string, modules: string[], headers: string, updates: string, variant: Variant, say: (m: string) => void): Promise<void> {
  const names = modules.map((m) => `${m}.ko`).join(', ');
  await writeFile(join(dir, 'Kbuild'), kbuildFor(await readFile(join(dir, 'Makefile'), 'utf8'), modules));
  say(`building ${names} (${variant})`);
  try {
    await run('make', ['-C', headers, `M=${dir}`, '-j2', 'modules'], { timeoutMs: MODULE_BUILD_MS });
  } catch (err) {
    throw new HarnessError(`building ${names} for ${variant} failed: ${errorMessage(err)}`, { cause: err });
  }
  for (const m of modules) {
    const ko = join(updates, `${m}.ko`);
    await copyFile(join(dir, `${m}.ko`), ko);
    // As INSTALL_MOD_STRIP=1 does: the guest reads every byte over 9p under TCG.
    await run('strip', ['--strip-debug', ko]);
  }
}
