// The embedded default kernel: Debian bookworm's linux-image-amd64, resolved to one
// exact ABI and version, fetched with apt-get download and unpacked with dpkg-deb -x
// into the cache. No root install, no initramfs hooks. Idempotent and resumable:
// every step leaves a marker, downloads land under .partial/ and are checked against
// the archive's SHA256 before they are kept.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { z } from 'zod';
import { HarnessError } from '../util/errors.js';
import { run } from '../util/exec.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { bzImagePayload, decompressor } from './bzimage.js';
import { kernelLayout, type KernelLayout } from './cache.js';

export const Manifest = z.object({
  meta: z.literal('linux-image-amd64'),
  version: z.string(),
  abi: z.string(),
  series: z.string(),
  packages: z.array(z.object({ name: z.string(), file: z.string(), sha256: z.string() })),
});
export type Manifest = z.infer<typeof Manifest>;

export interface Fetched {
  manifest: Manifest;
  layout: KernelLayout;
}

export interface PackageRecord {
  package: string;
  version: string;
  depends: string;
  filename: string;
  sha256: string;
}

/** Parses `apt-cache show` output (RFC 822 stanzas) into records. */
export function parseAptShow(text: string): PackageRecord[] {
  const out: PackageRecord[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last = '';
    for (const line of stanza.split('\n')) {
      if (/^\s/.test(line) && last) fields.set(last, `${fields.get(last)}\n${line.trim()}`);
      else {
        const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
        if (m) {
          last = m[1]!.toLowerCase();
          fields.set(last, m[2]!);
        }
      }
    }
    if (!fields.has('package')) continue;
    out.push({
      package: fields.get('package')!,
      version: fields.get('version') ?? '',
      depends: fields.get('depends') ?? '',
      filename: fields.get('filename') ?? '',
      sha256: fields.get('sha256') ?? '',
    });
  }
  return out;
}

/** Compares Debian versions well enough for kernel packages (numeric runs, then text). */
export function compareDebVersions(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x === y) continue;
    if (i % 2 === 1) return (Number(x) || 0) - (Number(y) || 0);
    return x < y ? -1 : 1;
  }
  return 0;
}

/** From the newest linux-image-amd64 record: the image package it pins, its ABI and version. */
export function resolveMeta(records: PackageRecord[]): { version: string; abi: string; series: string } {
  const metas = records.filter((r) => r.package === 'linux-image-amd64');
  if (metas.length === 0) {
    throw new HarnessError('apt-cache knows no linux-image-amd64: run `apt-get update` first');
  }
  metas.sort((a, b) => compareDebVersions(b.version, a.version));
  const m = /linux-image-(\d+\.\d+)\.(\d+-\d+)-amd64 \(= ([^)]+)\)/.exec(metas[0]!.depends);
  if (!m) throw new HarnessError(`cannot read the image package from Depends: ${metas[0]!.depends}`);
  const series = m[1]!;
  return { series, abi: `${series}.${m[2]}-amd64`, version: m[3]! };
}

export function packageNames(abi: string, series: string): string[] {
  const common = abi.replace(/-amd64$/, '-common');
  return [
    `linux-image-${abi}`,
    `linux-headers-${abi}`,
    `linux-headers-${common}`,
    `linux-kbuild-${series}`,
    `linux-source-${series}`,
  ];
}

async function aptShow(names: string[]): Promise<PackageRecord[]> {
  const r = await execa('apt-cache', ['show', ...names], { reject: false });
  return parseAptShow(String(r.stdout));
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function readManifest(path: string): Promise<Manifest | undefined> {
  if (!existsSync(path)) return undefined;
  return Manifest.parse(JSON.parse(await readFile(path, 'utf8')));
}

/** Finds an already fetched kernel in the cache (newest manifest), or undefined. */
export async function findFetched(cache: string): Promise<Fetched | undefined> {
  const dir = join(cache, 'kernels');
  if (!existsSync(dir)) return undefined;
  const found: Fetched[] = [];
  for (const kver of await readdir(dir)) {
    const m = await readManifest(join(dir, kver, 'manifest.json')).catch(() => undefined);
    if (m && existsSync(join(dir, kver, '.complete'))) found.push({ manifest: m, layout: kernelLayout(cache, m.abi, m.series) });
  }
  found.sort((a, b) => compareDebVersions(b.manifest.version, a.manifest.version));
  return found[0];
}

export interface FetchOptions {
  cache: string;
  refresh?: boolean;
  log?: Logger;
  progress?: (msg: string) => void;
}

/** Fetches and unpacks the default kernel; a second call with everything in place does nothing. */
export async function fetchDefaultKernel(opts: FetchOptions): Promise<Fetched> {
  const log = opts.log ?? silentLogger;
  const say = opts.progress ?? (() => {});
  if (!opts.refresh) {
    const have = await findFetched(opts.cache);
    if (have) return have;
  }
  const meta = resolveMeta(await aptShow(['linux-image-amd64']));
  const names = packageNames(meta.abi, meta.series);
  const records = await aptShow(names.map((n) => `${n}=${meta.version}`));
  const layout = kernelLayout(opts.cache, meta.abi, meta.series);
  const packages = names.map((name) => {
    const r = records.find((x) => x.package === name && x.version === meta.version);
    if (!r) throw new HarnessError(`apt-cache has no ${name}=${meta.version}: run \`apt-get update\``);
    return { name, file: r.filename.split('/').pop()!, sha256: r.sha256 };
  });
  const manifest: Manifest = { meta: 'linux-image-amd64', ...meta, packages };
  log.info({ abi: meta.abi, version: meta.version }, 'default kernel resolved');

  const partial = join(layout.debs, '.partial');
  await mkdir(partial, { recursive: true });
  for (const [i, p] of packages.entries()) {
    const dest = join(layout.debs, p.file);
    if (existsSync(dest) && (await sha256File(dest)) === p.sha256) continue;
    say(`[${i + 1}/${packages.length}] downloading ${p.name}=${meta.version}`);
    await rm(join(partial, p.file), { force: true });
    await run('apt-get', ['download', `${p.name}=${meta.version}`], { cwd: partial, timeoutMs: 900_000 });
    const sum = await sha256File(join(partial, p.file));
    if (sum !== p.sha256) throw new HarnessError(`${p.file}: SHA256 ${sum} does not match the archive's ${p.sha256}`);
    await rename(join(partial, p.file), dest);
  }

  await mkdir(layout.root, { recursive: true });
  for (const [i, p] of packages.entries()) {
    const marker = join(layout.root, `.extracted-${p.name}`);
    if (existsSync(marker)) continue;
    say(`[${i + 1}/${packages.length}] unpacking ${p.name}`);
    await run('dpkg-deb', ['-x', join(layout.debs, p.file), layout.root]);
    await writeFile(marker, `${meta.version}\n`);
  }
  await fixHeaders(layout, meta.abi);
  await extractSource(layout, meta.series, say);
  await extractVmlinux(layout, say);
  await writeFile(layout.manifest, JSON.stringify(manifest, null, 2));
  await writeFile(join(layout.root, '..', '.complete'), `${meta.version}\n`);
  say(`kernel ${meta.abi} (${meta.version}) ready in ${join(layout.root, '..')}`);
  return { manifest, layout };
}

/** The headers package's Makefile includes an absolute /usr/src path: point it at our copy. */
async function fixHeaders(layout: KernelLayout, abi: string): Promise<void> {
  const src = join(layout.root, 'usr', 'src');
  const dir = join(src, `linux-headers-${abi}`);
  const mk = join(dir, 'Makefile');
  const text = await readFile(mk, 'utf8');
  const fixed = text.replace(/include \/usr\/src\//g, `include ${src}/`);
  if (fixed !== text) await writeFile(mk, fixed);
  const link = layout.headers;
  if (!existsSync(link)) {
    const { symlink } = await import('node:fs/promises');
    await symlink(dir, link);
  }
}

async function extractSource(layout: KernelLayout, series: string, say: (m: string) => void): Promise<void> {
  const marker = join(layout.source, '.complete');
  if (existsSync(marker)) return;
  const parent = join(layout.source, '..');
  await rm(parent, { recursive: true, force: true });
  await mkdir(parent, { recursive: true });
  say(`unpacking linux-source-${series}.tar.xz`);
  const tarball = join(layout.root, 'usr', 'src', `linux-source-${series}.tar.xz`);
  await run('tar', ['-xf', tarball, '-C', parent], { timeoutMs: 900_000 });
  await writeFile(marker, 'ok\n');
}

async function extractVmlinux(layout: KernelLayout, say: (m: string) => void): Promise<void> {
  if (existsSync(layout.vmlinux)) return;
  say('extracting vmlinux for PVH boot');
  const image = await readFile(layout.bzImage);
  const payload = bzImagePayload(image);
  const [cmd, args] = decompressor(payload.format);
  const r = await execa(cmd, args, {
    input: image.subarray(payload.start, payload.start + payload.length),
    encoding: 'buffer',
    reject: false,
    stripFinalNewline: false,
  });
  const out = r.stdout as unknown as Uint8Array;
  if (!out || out.length < 4 || Buffer.from(out).readUInt32BE(0) !== 0x7f454c46) {
    throw new HarnessError(`could not decompress the ${payload.format} payload of ${layout.bzImage}`);
  }
  await writeFile(`${layout.vmlinux}.tmp`, out);
  await rename(`${layout.vmlinux}.tmp`, layout.vmlinux);
}
