// Out-of-tree builds of nvme-rdma.ko and nvmet-rdma.ko (both variants), and of rdma_rxe.ko
// and nvme-core.ko (patched only: the series carries an rxe prerequisite and an
// nvme-multipath fix) from the kernel's own source, with kernel-patches/*.patch applied
// for the patched variant, installed into that variant's updates/. Rebuilds only when the
// sources or the patches change.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { HarnessError, UsageError } from '../util/errors.js';
import { run } from '../util/exec.js';
import { kbuildFor } from './kbuild.js';
import { depmod, ensureVariantTree } from './modtree.js';
import type { Fetched } from './debian.js';

export type Variant = 'stock' | 'patched';

interface BuiltModule {
  dir: string;
  module: string;
  variants: readonly Variant[];
}

/**
 * The modules we build, where their source lives, and for which variants. Each is built
 * from its directory's own Makefile lines (kbuild.ts). The stock variant keeps the
 * distribution's nvme-core.ko and rdma_rxe.ko.
 */
export const BUILT_MODULES: readonly BuiltModule[] = [
  { dir: 'drivers/nvme/host', module: 'nvme-core', variants: ['patched'] },
  { dir: 'drivers/nvme/host', module: 'nvme-rdma', variants: ['stock', 'patched'] },
  { dir: 'drivers/nvme/target', module: 'nvmet-rdma', variants: ['stock', 'patched'] },
  { dir: 'drivers/infiniband/sw/rxe', module: 'rdma_rxe', variants: ['patched'] },
];

/** Bump when the way modules are built changes, so cached variants are rebuilt. */
const RECIPE = 3;

/** The variant's modules grouped by source directory, in first-seen order: one build each. */
export function buildDirs(variant: Variant): { dir: string; modules: string[] }[] {
  const dirs = new Map<string, string[]>();
  for (const m of BUILT_MODULES.filter((x) => x.variants.includes(variant))) dirs.set(m.dir, [...(dirs.get(m.dir) ?? []), m.module]);
  return [...dirs].map(([dir, modules]) => ({ dir, modules }));
}

export async function listPatches(patchDir: string): Promise<string[]> {
  if (!existsSync(patchDir)) return [];
  return (await readdir(patchDir)).filter((f) => /^\d{4}-.*\.patch$/.test(f) && !f.startsWith('0000-')).sort();
}

/** The content hash that decides whether a variant must be rebuilt. */
export async function buildHash(sourceRoot: string, patchDir: string, variant: Variant): Promise<string> {
  const h = createHash('sha256');
  h.update(`recipe=${RECIPE}\nvariant=${variant}\n`);
  for (const { dir: rel } of buildDirs(variant)) {
    const dir = join(sourceRoot, rel);
    for (const f of (await readdir(dir)).sort()) {
      if (/\.(c|h)$/.test(f)) h.update(f).update(await readFile(join(dir, f)));
    }
  }
  if (variant === 'patched') {
    for (const p of await listPatches(patchDir)) h.update(p).update(await readFile(join(patchDir, p)));
  }
  return h.digest('hex');
}

export interface ModulesResult {
  variant: Variant;
  /** The variant's lib/modules/KVER. */
  modulesDir: string;
  rebuilt: boolean;
  patches: string[];
}

export async function buildVariantModules(opts: {
  fetched: Fetched;
  variant: Variant;
  patchDir: string;
  force?: boolean;
  progress?: (m: string) => void;
}): Promise<ModulesResult> {
  const { layout, manifest } = opts.fetched;
  const say = opts.progress ?? (() => {});
  const kver = manifest.abi;
  const variantRoot = join(layout.variants, opts.variant);
  const modulesDir = await ensureVariantTree(layout.modules, variantRoot, kver);
  const hash = await buildHash(layout.source, opts.patchDir, opts.variant);
  const patches = opts.variant === 'patched' ? await listPatches(opts.patchDir) : [];
  const stamp = join(variantRoot, '.build-hash');
  if (!opts.force && existsSync(stamp) && (await readFile(stamp, 'utf8')).trim() === hash) {
    return { variant: opts.variant, modulesDir, rebuilt: false, patches };
  }

  const dirs = buildDirs(opts.variant);
  const stage = join(variantRoot, 'build');
  await rm(stage, { recursive: true, force: true });
  await rm(join(modulesDir, 'updates'), { recursive: true, force: true });
  for (const { dir } of dirs) {
    await mkdir(join(stage, dir), { recursive: true });
    await cp(join(layout.source, dir), join(stage, dir), { recursive: true });
  }
  for (const p of patches) {
    say(`applying ${p}`);
    const r = await execa('patch', ['-p1', '--batch', '--forward', '-d', stage, '-i', join(opts.patchDir, p)], {
      reject: false,
    });
    if (r.exitCode !== 0) {
      throw new UsageError(
        `does not apply to linux-source ${manifest.version}:\n${String(r.stdout)}${String(r.stderr)}\nrebase the series onto that source`,
        `kernel-patches/${p}`,
      );
    }
  }
  const updates = join(modulesDir, 'updates');
  await mkdir(updates, { recursive: true });
  for (const { dir: rel, modules } of dirs) {
    const dir = join(stage, rel);
    const names = modules.map((m) => `${m}.ko`).join(', ');
    await writeFile(join(dir, 'Kbuild'), kbuildFor(await readFile(join(dir, 'Makefile'), 'utf8'), modules));
    say(`building ${names} (${opts.variant})`);
    try {
      await run('make', ['-C', layout.headers, `M=${dir}`, '-j2', 'modules'], { timeoutMs: 900_000 });
    } catch (err) {
      throw new HarnessError(`building ${names} for ${opts.variant} failed`, { cause: err });
    }
    for (const m of modules) {
      const ko = join(updates, `${m}.ko`);
      await copyFile(join(dir, `${m}.ko`), ko);
      // As INSTALL_MOD_STRIP=1 does: the guest reads every byte over 9p under TCG.
      await run('strip', ['--strip-debug', ko]);
    }
  }
  await depmod(variantRoot, kver);
  await writeFile(stamp, `${hash}\n`);
  return { variant: opts.variant, modulesDir, rebuilt: true, patches };
}
