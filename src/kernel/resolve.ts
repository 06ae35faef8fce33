// Turns --kernel stock|patched|debug|DIR into what a VM boots: an image and a module tree.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../util/errors.js';
import { cacheDir } from './cache.js';
import { fetchDefaultKernel } from './debian.js';
import { buildVariantModules, type Variant } from './module-build.js';

export interface KernelSpec {
  /** stock, patched, debug, or the user's directory. */
  name: string;
  kver: string;
  /** vmlinux (PVH) or bzImage. */
  image: string;
  /** The lib/modules/KVER directory the guest sees at /lib/modules/KVER. */
  modulesDir: string;
}

export function projectRoot(): string {
  // dist/kernel/resolve.js -> project root
  return resolve(new URL('../..', import.meta.url).pathname);
}

export const defaultPatchDir = (): string => join(projectRoot(), 'kernel-patches');

/** A user's kernel: DIR with a bzImage (or vmlinux) and lib/modules/<one KVER>. */
export function userKernel(dir: string): KernelSpec {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new UsageError(`${dir} is not a directory; give stock, patched, debug or a directory holding a bzImage and lib/modules`, '--kernel');
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
  return { name: root, kver: kvers[0]!, image, modulesDir: join(mods, kvers[0]!) };
}

export async function resolveKernel(
  choice: string,
  opts: { cache?: string; progress?: (m: string) => void } = {},
): Promise<KernelSpec> {
  const cache = cacheDir(opts.cache);
  if (choice === 'stock' || choice === 'patched') {
    const fetched = await fetchDefaultKernel({ cache, progress: opts.progress });
    const mods = await buildVariantModules({
      fetched,
      variant: choice as Variant,
      patchDir: defaultPatchDir(),
      progress: opts.progress,
    });
    return { name: choice, kver: fetched.manifest.abi, image: fetched.layout.vmlinux, modulesDir: mods.modulesDir };
  }
  if (choice === 'debug') {
    const dir = join(cache, 'debug-kernel');
    if (!existsSync(dir)) throw new UsageError('no debug kernel built yet: run `reset-bench kernel build --debug` first', '--kernel');
    return { ...userKernel(dir), name: 'debug' };
  }
  return userKernel(choice);
}
