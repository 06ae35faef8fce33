// Out-of-tree builds of nvme-rdma.ko and nvmet-rdma.ko (both variants) and rdma_rxe.ko
// (patched only: the series carries an rxe prerequisite) from the kernel's own source,
// with kernel-patches/*.patch applied for the patched variant, installed into that
// variant's updates/. Rebuilds only when the sources or the patches change.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { HarnessError, UsageError } from '../util/errors.js';
import { run } from '../util/exec.js';
import { depmod, ensureVariantTree } from './modtree.js';
import type { Fetched } from './debian.js';

export type Variant = 'stock' | 'patched';

interface BuiltModule {
  dir: string;
  module: string;
  /** Objects for a Kbuild of our own; null builds with the directory's own Makefile. */
  objects: readonly string[] | null;
  variants: readonly Variant[];
}

/** The modules we build, where their source lives, and for which variants. */
export const BUILT_MODULES: readonly BuiltModule[] = [
  { dir: 'drivers/nvme/host', module: 'nvme-rdma', objects: ['rdma.o'], variants: ['stock', 'patched'] },
  { dir: 'drivers/nvme/target', module: 'nvmet-rdma', objects: ['rdma.o'], variants: ['stock', 'patched'] },
  // The stock variant keeps the distribution's rdma_rxe.ko.
  { dir: 'drivers/infiniband/sw/rxe', module: 'rdma_rxe', objects: null, variants: ['patched'] },
];

/** Bump when the way modules are built changes, so cached variants are rebuilt. */
const RECIPE = 2;

export function modulesFor(variant: Variant): BuiltModule[] {
  return BUILT_MODULES.filter((m) => m.variants.includes(variant));
}

export async function listPatches(patchDir: string): Promise<string[]> {
  if (!existsSync(patchDir)) return [];
  return (await readdir(patchDir)).filter((f) => /^\d{4}-.*\.patch$/.test(f) && !f.startsWith('0000-')).sort();
}

/** The content hash that decides whether a variant must be rebuilt. */
export async function buildHash(sourceRoot: string, patchDir: string, variant: Variant): Promise<string> {
  const h = createHash('sha256');
  h.update(`recipe=${RECIPE}\nvariant=${variant}\n`);
  for (const m of modulesFor(variant)) {
    const dir = join(sourceRoot, m.dir);
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

  const modules = modulesFor(opts.variant);
  const stage = join(variantRoot, 'build');
  await rm(stage, { recursive: true, force: true });
  await rm(join(modulesDir, 'updates'), { recursive: true, force: true });
  for (const m of modules) {
    await mkdir(join(stage, m.dir), { recursive: true });
    await cp(join(layout.source, m.dir), join(stage, m.dir), { recursive: true });
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
  for (const m of modules) {
    const dir = join(stage, m.dir);
    if (m.objects) {
      await writeFile(join(dir, 'Kbuild'), `obj-m := ${m.module}.o\n${m.module}-y := ${m.objects.join(' ')}\n`);
    }
    say(`building ${m.module}.ko (${opts.variant})`);
    try {
      await run('make', ['-C', layout.headers, `M=${dir}`, '-j2', 'modules'], { timeoutMs: 600_000 });
    } catch (err) {
      throw new HarnessError(`building ${m.module}.ko for ${opts.variant} failed`, { cause: err });
    }
    const ko = join(updates, `${m.module}.ko`);
    await copyFile(join(dir, `${m.module}.ko`), ko);
    // As INSTALL_MOD_STRIP=1 does: the guest reads every byte over 9p under TCG.
    await run('strip', ['--strip-debug', ko]);
  }
  await depmod(variantRoot, kver);
  await writeFile(stamp, `${hash}\n`);
  return { variant: opts.variant, modulesDir, rebuilt: true, patches };
}
