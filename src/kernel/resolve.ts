// Turns --kernel distro|stock|patched|debug[@SERIES]|DIR into what a VM boots: an image, a
// module tree, and the record of exactly which kernel that is (series, Debian package
// version, ABI, variant, patchset) that every run carries.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { KernelInfo } from '../scenario/types.js';
import { UsageError } from '../util/errors.js';
import { cacheDir } from './cache.js';
import { debugKernelDir, debugStamp } from './debug-build.js';
import { defaultSeries, fetchSeries } from './fetch.js';
import { buildVariantModules } from './module-build.js';
import { projectRoot } from '../util/project-root.js';
import { SERIES_RE } from './pins.js';


export interface KernelSpec {
  /** The --kernel label: stock@6.12, patched, debug@6.1, or the user's directory. */
  name: string;
  kver: string;
  /** vmlinux (PVH) or bzImage. */
  image: string;
  /** The lib/modules/KVER directory the guest sees at /lib/modules/KVER. */
  modulesDir: string;
  /** Exactly which kernel (recorded with every run). */
  info: KernelInfo;
}

export const KERNEL_KINDS = ['distro', 'stock', 'patched', 'debug'] as const;
export type KernelKind = (typeof KERNEL_KINDS)[number];

/** A series directory of the project: kernel-patches/<series>. */
export const seriesDir = (series: string): string => join(projectRoot(), 'kernel-patches', series);

/** "patched@6.12" -> { kind: 'patched', series: '6.12' }; a directory -> undefined. */
export function parseKernelChoice(choice: string): { kind: KernelKind; series?: string } | undefined {
  const m = /^(distro|stock|patched|debug)(?:@(.*))?$/.exec(choice);
  if (!m) return undefined;
  const series = m[2];
  if (series !== undefined && !SERIES_RE.test(series)) {
    throw new UsageError(`${JSON.stringify(choice)}: the series after @ is like 6.1 or 6.12`, '--kernel');
  }
  return { kind: m[1] as KernelKind, series };
}

/** A user's kernel: DIR with a bzImage (or vmlinux) and lib/modules/<one KVER>. */
export function userKernel(dir: string): KernelSpec {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new UsageError(`${dir} is not a directory; give distro, stock, patched, debug (or KIND@SERIES) or a directory holding a bzImage and lib/modules`, '--kernel');
  }
  const candidates = ['bzImage', 'arch/x86/boot/bzImage', 'vmlinux', 'boot/vmlinuz'];
  const image = candidates.map((c) => join(root, c)).find((p) => existsSync(p));
  if (!image) throw new UsageError(`no bzImage in ${root} (looked for ${candidates.join(', ')})`, '--kernel');
  const mods = join(root, 'lib', 'modules');
  const kvers = existsSync(mods) ? readdirSync(mods) : [];
  if (kvers.length !== 1) {
    throw new UsageError(
      `${mods} must hold exactly one kernel version (found ${kvers.length}); run make modules_install INSTALL_MOD_PATH=${root}`,
      '--kernel',
    );
  }
  const kver = kvers[0]!;
  const series = /^(\d+\.\d+)/.exec(kver)?.[1] ?? '';
  return { name: root, kver, image, modulesDir: join(mods, kver), info: { series, package_version: '', abi: kver, variant: 'own' } };
}

export async function resolveKernel(
  choice: string,
  opts: { cache?: string; progress?: (m: string) => void } = {},
): Promise<KernelSpec> {
  const cache = cacheDir(opts.cache);
  const c = parseKernelChoice(choice);
  if (!c) return userKernel(choice);
  if (c.kind === 'debug') return debugKernel(cache, c.series ?? (await defaultSeries()), choice);
  const fetched = await fetchSeries({ cache, series: c.series, progress: opts.progress });
  const { series, version, abi } = fetched.manifest;
  const mods = await buildVariantModules({ fetched, variant: c.kind, seriesDir: seriesDir(series), progress: opts.progress });
  return {
    name: choice,
    kver: abi,
    image: fetched.layout.vmlinux,
    modulesDir: mods.modulesDir,
    info: { series, package_version: version, abi, variant: c.kind, patchset_hash: mods.patchset, lab_patches: mods.lab },
  };
}

async function debugKernel(cache: string, series: string, choice: string): Promise<KernelSpec> {
  const dir = debugKernelDir(cache, series);
  const stamp = await debugStamp(dir);
  if (!existsSync(dir) || !stamp) {
    throw new UsageError(`no debug kernel for ${series} built yet: run \`reset-bench kernel build --debug --series ${series}\` first`, '--kernel');
  }
  const k = userKernel(dir);
  return {
    ...k,
    name: choice,
    info: { series, package_version: stamp.source ?? '', abi: k.kver, variant: 'debug', patchset_hash: stamp.patchset ?? '' },
  };
}
