// The lab's kernels: Debian bookworm's image, headers, kbuild and source of a series
// (6.1, 6.12), at the exact versions kernel-pins.json names, fetched with apt-get download and unpacked with dpkg-deb -x
// into the cache. No root install, no initramfs hooks. Idempotent and resumable:
// every step leaves a marker, downloads land under .partial/ and are checked against
// the archive's SHA256 before they are kept.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { z } from 'zod';
import { HarnessError, UsageError } from '../util/errors.js';
import { run } from '../util/exec.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { bzImagePayload, decompressor } from './bzimage.js';
import { kernelLayout, type KernelLayout } from './cache.js';
import { withLock } from './lock.js';
import type { Pin } from './pins.js';
import { APT_DOWNLOAD_MS, SOURCE_UNPACK_MS } from '../util/timeouts.js';

export const Manifest = z.object({
  meta: z.string(),
  version: z.string(),
  abi: z.string(),
  series: z.string(),
  packages: z.array(z.object({ name: z.string(), version: z.string().optional(), file: z.string(), sha256: z.string() })),
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

/** dpkg's own ordering of Debian versions (epochs, ~, revisions): `dpkg --compare-versions`. */
export async function debVersionGreater(a: string, b: string): Promise<boolean> {
  const r = await execa('dpkg', ['--compare-versions', a, 'gt', b], { reject: false });
  if (r.exitCode !== 0 && r.exitCode !== 1) throw new HarnessError(`dpkg --compare-versions ${a} gt ${b}: ${String(r.stderr)}`);
  return r.exitCode === 0;
}

/** The newest of some records, by dpkg's ordering. */
export async function newestRecord(records: PackageRecord[]): Promise<PackageRecord | undefined> {
  let best: PackageRecord | undefined;
  for (const r of records) if (!best || (await debVersionGreater(r.version, best.version))) best = r;
  return best;
}

/** "linux-image-<abi> (= <version>)" in a meta package's Depends. */
export function imageOfMeta(depends: string): { abi: string; version: string } | undefined {
  const m = /linux-image-(\S+-amd64) \(= ([^)]+)\)/.exec(depends);
  return m ? { abi: m[1]!, version: m[2]! } : undefined;
}

/** From the headers package's Depends: its -common package and its kbuild package (with any version constraint). */
export function headersDeps(depends: string): { common?: string; kbuild?: string; kbuildExact?: string } {
  const parts = depends.split(',').map((s) => s.trim());
  const common = parts.map((p) => /^(linux-headers-\S+-common)\b/.exec(p)?.[1]).find(Boolean);
  const kb = parts.map((p) => /^(linux-kbuild-\S+?)(?:\s+\((=|>=) ([^)]+)\))?$/.exec(p)).find(Boolean);
  return { common, kbuild: kb?.[1], kbuildExact: kb?.[2] === '=' ? kb[3] : undefined };
}

async function aptShow(names: string[]): Promise<PackageRecord[]> {
  const r = await execa('apt-cache', ['show', ...names], { reject: false });
  return parseAptShow(String(r.stdout));
}

/** The newest kernel of a series in the archive, as a pin (what `kernel update` writes). */
export async function newestPin(series: string, meta: string): Promise<Pin> {
  const top = await newestRecord(await aptShow([meta]));
  if (!top) throw new UsageError(`apt-cache knows no ${meta}: run \`apt-get update\` first`, '--series');
  const image = imageOfMeta(top.depends);
  if (!image) throw new HarnessError(`cannot read the image package from ${meta}'s Depends: ${top.depends}`);
  const { abi, version } = image;
  const headers = (await aptShow([`linux-headers-${abi}=${version}`]))[0];
  if (!headers) throw new HarnessError(`apt-cache has no linux-headers-${abi}=${version}`);
  const deps = headersDeps(headers.depends);
  if (!deps.common || !deps.kbuild) throw new HarnessError(`cannot read -common and kbuild from linux-headers-${abi}'s Depends: ${headers.depends}`);
  const kbuild = deps.kbuildExact ?? (await newestRecord(await aptShow([deps.kbuild])))?.version;
  if (!kbuild) throw new HarnessError(`apt-cache knows no ${deps.kbuild}`);
  return {
    meta,
    version,
    abi,
    packages: {
      [`linux-image-${abi}`]: version,
      [`linux-headers-${abi}`]: version,
      [deps.common]: version,
      [deps.kbuild]: kbuild,
      [`linux-source-${series}`]: version,
    },
  };
}

/** The archive's record of every pinned package; a package it no longer holds is a usage error saying how to update. */
async function pinnedRecords(series: string, pin: Pin): Promise<PackageRecord[]> {
  const wanted = Object.entries(pin.packages);
  const records = await aptShow(wanted.map(([n, v]) => `${n}=${v}`));
  const missing = wanted.filter(([n, v]) => !records.some((r) => r.package === n && r.version === v));
  if (missing.length) {
    throw new UsageError(
      `the pinned ${series} kernel ${pin.version} (${pin.abi}) is not in the archive any more: apt-cache has no ${missing
        .map(([n, v]) => `${n}=${v}`)
        .join(', ')}. Run \`reset-bench kernel update --series ${series}\` to move the pin to the newest ` +
        '(and commit the pins file), or `apt-get update` if the package lists are old',
      `the pin of series ${series}`,
    );
  }
  return wanted.map(([n, v]) => records.find((r) => r.package === n && r.version === v)!);
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

/** The pinned kernel if it is complete in the cache, else undefined. */
export async function findFetched(cache: string, series: string, pin: Pin): Promise<Fetched | undefined> {
  const layout = kernelLayout(cache, pin.abi, series);
  const m = await readManifest(layout.manifest).catch(() => undefined);
  if (m && m.version === pin.version && existsSync(join(layout.root, '..', '.complete'))) return { manifest: m, layout };
  return undefined;
}

export interface FetchOptions {
  cache: string;
  series: string;
  pin: Pin;
  log?: Logger;
  progress?: (msg: string) => void;
}

/** Fetches and unpacks the pinned kernel of a series; a second call with everything in place does nothing. */
export async function fetchKernel(opts: FetchOptions): Promise<Fetched> {
  const say = opts.progress ?? (() => {});
  const { series, pin } = opts;
  const have = await findFetched(opts.cache, series, pin);
  if (have) return have;
  const layout = kernelLayout(opts.cache, pin.abi, series);
  const base = join(layout.root, '..');
  await mkdir(join(base, '..'), { recursive: true });
  return withLock(base, `the ${series} kernel ${pin.version}`, async () => (await findFetched(opts.cache, series, pin)) ?? fetchLocked(opts, layout), {
    say,
  });
}

async function fetchLocked(opts: FetchOptions, layout: KernelLayout): Promise<Fetched> {
  const log = opts.log ?? silentLogger;
  const say = opts.progress ?? (() => {});
  const { series, pin } = opts;
  const old = await readManifest(layout.manifest).catch(() => undefined);
  if (old && old.version !== pin.version) {
    say(`the cache holds ${old.version} of ${pin.abi}; the pin says ${pin.version}: replacing it`);
    await rm(join(layout.root, '..'), { recursive: true, force: true });
  }
  const records = await pinnedRecords(series, pin);
  const packages = records.map((r) => ({ name: r.package, version: r.version, file: r.filename.split('/').pop()!, sha256: r.sha256 }));
  const manifest: Manifest = { meta: pin.meta, version: pin.version, abi: pin.abi, series, packages };
  log.info({ series, abi: pin.abi, version: pin.version }, 'pinned kernel');

  await download(layout, packages, say);
  await mkdir(layout.root, { recursive: true });
  for (const [i, p] of packages.entries()) {
    const marker = join(layout.root, `.extracted-${p.name}`);
    if (existsSync(marker)) continue;
    say(`[${i + 1}/${packages.length}] unpacking ${p.name}`);
    await run('dpkg-deb', ['-x', join(layout.debs, p.file), layout.root]);
    await writeFile(marker, `${p.version}\n`);
  }
  await fixHeaders(layout, pin.abi);
  await extractSource(layout, series, say);
  await extractVmlinux(layout, say);
  await writeFile(layout.manifest, JSON.stringify(manifest, null, 2));
  await writeFile(join(layout.root, '..', '.complete'), `${pin.version}\n`);
  say(`kernel ${pin.abi} (${pin.version}) ready in ${join(layout.root, '..')}`);
  return { manifest, layout };
}

/** apt-get download into .partial/, checked against the archive's SHA256 before it is kept. */
async function download(layout: KernelLayout, packages: Manifest['packages'], say: (m: string) => void): Promise<void> {
  const partial = join(layout.debs, '.partial');
  await mkdir(partial, { recursive: true });
  for (const [i, p] of packages.entries()) {
    const dest = join(layout.debs, p.file);
    if (existsSync(dest) && (await sha256File(dest)) === p.sha256) continue;
    say(`[${i + 1}/${packages.length}] downloading ${p.name}=${p.version}`);
    await rm(join(partial, p.file), { force: true });
    await run('apt-get', ['download', `${p.name}=${p.version}`], { cwd: partial, timeoutMs: APT_DOWNLOAD_MS });
    const sum = await sha256File(join(partial, p.file));
    if (sum !== p.sha256) throw new HarnessError(`${p.file}: SHA256 ${sum} does not match the archive's ${p.sha256}`);
    await rename(join(partial, p.file), dest);
  }
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
  await run('tar', ['-xf', tarball, '-C', parent], { timeoutMs: SOURCE_UNPACK_MS });
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
  const out = r.stdout;
  if (!out || out.length < 4 || Buffer.from(out).readUInt32BE(0) !== 0x7f454c46) {
    throw new HarnessError(`could not decompress the ${payload.format} payload of ${layout.bzImage}`);
  }
  await writeFile(`${layout.vmlinux}.tmp`, out);
  await rename(`${layout.vmlinux}.tmp`, layout.vmlinux);
}
