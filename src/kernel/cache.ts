// Where downloaded and built kernels live: --cache-dir, then RESET_BENCH_CACHE,
// then $XDG_CACHE_HOME/reset-bench, then ~/.cache/reset-bench.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function cacheDir(flag?: string): string {
  if (flag) return resolve(flag);
  if (process.env.RESET_BENCH_CACHE) return resolve(process.env.RESET_BENCH_CACHE);
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg ? resolve(xdg) : join(homedir(), '.cache'), 'reset-bench');
}

export interface KernelLayout {
  /** Where the .deb files are downloaded. */
  debs: string;
  /** dpkg-deb -x of image, headers, kbuild, source. */
  root: string;
  /** The uncompressed kernel (PVH boot: no decompressor under TCG). */
  vmlinux: string;
  bzImage: string;
  config: string;
  /** lib/modules/KVER of the distribution, as shipped. */
  modules: string;
  headers: string;
  /** The extracted linux-source tree. */
  source: string;
  /** Per-variant module trees: variants/<name>/lib/modules/KVER. */
  variants: string;
  manifest: string;
}

export function kernelLayout(cache: string, kver: string, sourceSeries: string): KernelLayout {
  const base = join(cache, 'kernels', kver);
  const root = join(base, 'root');
  return {
    debs: join(cache, 'debs'),
    root,
    vmlinux: join(base, 'vmlinux'),
    bzImage: join(root, 'boot', `vmlinuz-${kver}`),
    config: join(root, 'boot', `config-${kver}`),
    modules: join(root, 'lib', 'modules', kver),
    headers: join(base, 'headers'),
    source: join(base, 'source', `linux-source-${sourceSeries}`),
    variants: join(base, 'variants'),
    manifest: join(base, 'manifest.json'),
  };
}
