// The guest agent's runtime before the host's root is mounted: node, rdma and the
// shared libraries they need, on a read-only ext2 disk image the init mounts (vm/init).
// The init starts the agent from it before the snapshot point, so a saved VM state
// holds the agent started with its code loaded (snapshot-boot.ts). Not in the
// initramfs: x86 frees the initrd's memory filled with 0xcc (free_initrd_mem), so its
// pages are never zero and a saved state carries them in full, and the unpacked copy
// stays in RAM too: node's 99 MB would add about 200 MB to every state. From a disk,
// only the pages node touched are in the state.
//
// The image holds /node, /rdma, the native addon (RUNTIME_ADDON) and /lib/<name> for
// each library by the name a program (or the addon) asks for; the init runs them with LD_LIBRARY_PATH=/.rb/rt/lib (there is no
// ld.so.cache before the host's root), and the initramfs has one link: the programs'
// dynamic loader at the path their ELF header names, to /.rb/rt/lib.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import { HarnessError, errorMessage } from '../util/errors.js';
import { cacheDir } from '../kernel/cache.js';
import type { CpioEntry } from './cpio.js';
import { addonPath } from '../native-loader.js';
import { RUNTIME_ADDON } from '../guest/runtime-libs.js';

/** Where the images are kept: <cache>/guest-runtime (the kernel cache's root, `--cache-dir` or RESET_BENCH_CACHE). */
export function guestRuntimeDir(cache?: string): string {
  return join(cacheDir(cache), 'guest-runtime');
}

/** Where the init mounts the image, in the guest. */
export const RUNTIME_MOUNT = '/.rb/rt';

/** How many images the directory keeps (the most recently used): a node or libc update makes a new one. */
export const RUNTIME_IMAGES_KEPT = 3;

/** What `ldd` says a program loads: its libraries by the name it asks for, and its dynamic loader. */
export interface LddResult {
  libs: { name: string; file: string }[];
  /** The dynamic loader: the path in the program's ELF header, and the file. */
  interp?: { path: string; file: string };
}

/**
 * ldd's output. `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` is a library;
 * a line that starts with an absolute path is the loader, as the ELF header names it,
 * with the file it resolves to after `=>` on some distributions; the vDSO has no file.
 */
export function parseLdd(text: string): LddResult {
  const out: LddResult = { libs: [] };
  for (const line of text.split('\n')) {
    const missing = /^\s*(\S+) => not found/.exec(line);
    if (missing) throw new HarnessError(`ldd: ${missing[1]} not found`);
    const interp = /^\s*(\/\S+)(?: => (\/\S+))? \(0x[0-9a-f]+\)\s*$/.exec(line);
    if (interp) {
      out.interp = { path: interp[1]!, file: interp[2] ?? interp[1]! };
      continue;
    }
    const lib = /^\s*(\S+) => (\/\S+) \(0x[0-9a-f]+\)\s*$/.exec(line);
    if (lib) out.libs.push({ name: lib[1]!, file: lib[2]! });
  }
  return out;
}

async function lddOf(program: string): Promise<LddResult> {
  const r = await execa('ldd', [program], { reject: false });
  const text = `${String(r.stdout)}\n${String(r.stderr)}`;
  if (/not a dynamic executable/.test(text)) return { libs: [] }; // a static build
  if (r.exitCode !== 0) throw new HarnessError(`ldd ${program} failed (is libc-bin installed?): ${text.trim()}`);
  const found = parseLdd(String(r.stdout));
  return {
    libs: found.libs.map((l) => ({ ...l, file: realpathSync(l.file) })),
    interp: found.interp && { ...found.interp, file: realpathSync(found.interp.file) },
  };
}

/**
 * The programs the image carries, by their path on it: the node running the harness,
 * rdma when the host has it, and the project's native addon when it is built
 * (RUNTIME_ADDON: the agent loads it before the snapshot point, so a restored VM has it
 * loaded; from the project over 9p its first load took about 0.2 s of the run).
 */
function programs(): { name: string; file: string }[] {
  const rdma = ['/usr/sbin/rdma', '/usr/bin/rdma', '/sbin/rdma', '/bin/rdma'].find((p) => existsSync(p));
  return [
    { name: 'node', file: realpathSync(process.execPath) },
    ...(rdma ? [{ name: 'rdma', file: realpathSync(rdma) }] : []),
    ...(existsSync(addonPath) ? [{ name: RUNTIME_ADDON, file: realpathSync(addonPath) }] : []),
  ];
}

/** How the image is made (buildImage's mke2fs options, its layout): a change here names new images. */
const IMAGE_FORMAT = 'ext2 4k, /node /rdma /addon/<addon> /lib/<name>, v3';

/** The image's name: how it is made, and the files it holds, by name, path, size and mtime. */
async function imageKey(files: { name: string; file: string }[]): Promise<string> {
  const h = createHash('sha256').update(`${IMAGE_FORMAT}\n`);
  for (const f of files) {
    const st = await stat(f.file);
    h.update(`${f.name}:${f.file}:${st.size}:${st.mtimeMs}\n`);
  }
  return h.digest('hex').slice(0, 32);
}

async function buildImage(image: string, progs: { name: string; file: string }[], libs: { name: string; file: string }[]): Promise<void> {
  const stage = await mkdtemp(`${image}.stage-`);
  const tmp = `${image}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  try {
    await mkdir(join(stage, 'lib'));
    for (const p of progs) {
      await mkdir(dirname(join(stage, p.name)), { recursive: true });
      await copyFile(p.file, join(stage, p.name));
    }
    for (const l of libs) await copyFile(l.file, join(stage, 'lib', l.name));
    let bytes = 0;
    for (const f of [...progs, ...libs]) bytes += (await stat(f.file)).size;
    const kib = Math.ceil((bytes * 1.1) / 1024) + 8192;
    await execa('mke2fs', ['-q', '-F', '-t', 'ext2', '-b', '4096', '-m', '0', '-N', '256', '-d', stage, tmp, `${kib}k`]).catch((e: unknown) => {
      const hint = (e as { code?: unknown }).code === 'ENOENT' ? 'mke2fs is not installed: install e2fsprogs' : errorMessage(e);
      throw new HarnessError(`cannot make the agent's runtime disk ${image}: ${hint}`, { cause: e });
    });
    await rename(tmp, image);
  } finally {
    await rm(stage, { recursive: true, force: true });
    await rm(tmp, { force: true });
  }
}

/** Keeps the `keep` most recently used images (their access time is set at each use). */
export async function pruneRuntimeImages(dir: string, keep = RUNTIME_IMAGES_KEPT): Promise<void> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.img'));
  const aged = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(dir, n))).atimeMs })));
  aged.sort((a, b) => b.t - a.t);
  for (const { n } of aged.slice(keep)) await rm(join(dir, n), { force: true });
}

export interface GuestRuntime {
  image: string;
  /** The initramfs's link: the dynamic loader's path to its file on the mounted image. */
  links: CpioEntry[];
}

/** The initramfs's entries for a loader at `interp`: its directories, then the link into the image. */
export function interpLink(interp: string): CpioEntry[] {
  const rel = interp.replace(/^\//, '');
  const parts = rel.split('/');
  const dirs = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
  return [...dirs.map((d): CpioEntry => ({ kind: 'dir', path: d })), { kind: 'symlink', path: rel, target: `${RUNTIME_MOUNT}/lib/${basename(interp)}` }];
}

const made = new Map<string, Promise<GuestRuntime>>();

/** The runtime image under `dir` (built once per set of files) and the initramfs's link into it. */
export function guestRuntime(dir: string): Promise<GuestRuntime> {
  let r = made.get(dir);
  if (!r) {
    r = makeRuntime(dir);
    made.set(dir, r);
    r.catch(() => made.delete(dir));
  }
  return r;
}

async function makeRuntime(dir: string): Promise<GuestRuntime> {
  const progs = programs();
  const libs = new Map<string, { name: string; file: string }>();
  let interp: LddResult['interp'];
  for (const p of progs) {
    const found = await lddOf(p.file);
    for (const l of found.libs) libs.set(l.name, l);
    interp ??= found.interp;
  }
  const onImage = [...libs.values(), ...(interp ? [{ name: basename(interp.path), file: interp.file }] : [])];
  await mkdir(dir, { recursive: true });
  const image = join(dir, `${await imageKey([...progs, ...onImage])}.img`);
  if (existsSync(image)) {
    // Its use on the access time: the modification time is in the saved states' key (machine.ts).
    await utimes(image, new Date(), (await stat(image)).mtime);
  } else {
    await buildImage(image, progs, onImage);
    // Whole milliseconds, which the access time's update above keeps as they are.
    await utimes(image, new Date(), new Date(Math.floor((await stat(image)).mtimeMs)));
    await pruneRuntimeImages(dir);
  }
  return { image, links: interp ? interpLink(interp.path) : [] };
}
