// The guest agent's runtime before the host's root is mounted: node, rdma and the
// shared libraries they need, on a read-only ext2 disk image stage 1 mounts (vm/init).
// Stage 1 starts the agent from it before the snapshot point, so a saved VM state
// holds the agent started with its code loaded (snapshot-boot.ts). Not in the
// initramfs: x86 frees the initrd's memory filled with 0xcc (free_initrd_mem), so its
// pages are never zero and a saved state carries them in full, and the unpacked copy
// stays in RAM too: node's 99 MB would add about 200 MB to every state. From a disk,
// only the pages node touched are in the state.
import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { HarnessError } from '../util/errors.js';
import { cacheDir } from '../kernel/cache.js';
import type { CpioEntry } from './cpio.js';

/** Where the images are kept: <cache>/guest-runtime (the kernel cache's root, `--cache-dir` or RESET_BENCH_CACHE). */
export function guestRuntimeDir(cache?: string): string {
  return join(cacheDir(cache), 'guest-runtime');
}

/** Where stage 1 mounts the image, in the guest. */
export const RUNTIME_MOUNT = '.rb/rt';

/** A shared library a program loads: the path its dynamic loader looks for, and the file. */
export interface RuntimeLib {
  path: string;
  file: string;
}

export interface GuestRuntime {
  image: string;
  /** Where the guest's dynamic loader finds each library: links into the mounted image. */
  links: CpioEntry[];
}

/** The libraries in `ldd` output, and the dynamic loader (its absolute path, no arrow). */
export function parseLdd(text: string): RuntimeLib[] {
  const libs: RuntimeLib[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(?:\S+ => )?(\/\S+) \(0x[0-9a-f]+\)\s*$/.exec(line);
    if (m) libs.push({ path: m[1]!, file: m[1]! });
  }
  return libs;
}

async function librariesOf(program: string): Promise<RuntimeLib[]> {
  const r = await execa('ldd', [program], { reject: false });
  if (/not a dynamic executable/.test(`${String(r.stdout)}${String(r.stderr)}`)) return []; // a static build
  if (r.exitCode !== 0) throw new HarnessError(`ldd ${program} failed (install libc-bin): ${String(r.stderr)}`);
  return parseLdd(String(r.stdout)).map((l) => ({ ...l, file: realpathSync(l.file) }));
}

/** The programs the runtime carries: the node running the harness, and rdma when the host has it. */
function programs(): string[] {
  const rdma = ['/usr/sbin/rdma', '/usr/bin/rdma', '/sbin/rdma', '/bin/rdma'].find((p) => existsSync(p));
  return [realpathSync(process.execPath), ...(rdma ? [realpathSync(rdma)] : [])];
}

/** How the image is made (buildImage's mke2fs options, its layout): a change here names new images. */
const IMAGE_FORMAT = 'ext2 4k, /node /rdma /lib/*, v1';

/** The image's name: how it is made, and the files it holds, by path, size and mtime. */
async function imageKey(files: string[]): Promise<string> {
  const h = createHash('sha256').update(`${IMAGE_FORMAT}\n`);
  for (const f of files) {
    const st = await stat(f);
    h.update(`${f}:${st.size}:${st.mtimeMs}\n`);
  }
  return h.digest('hex').slice(0, 32);
}

/** The initramfs's links: each library's path (and the loader's) to its file in the mounted image. */
export function linkEntries(libs: readonly RuntimeLib[]): CpioEntry[] {
  const dirs = new Set<string>();
  const entries: CpioEntry[] = [];
  for (const l of libs) {
    const rel = l.path.replace(/^\//, '');
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    entries.push({ kind: 'symlink', path: rel, target: `/${RUNTIME_MOUNT}/lib/${basename(l.path)}` });
  }
  return [...[...dirs].sort().map((d): CpioEntry => ({ kind: 'dir', path: d })), ...entries];
}

async function buildImage(image: string, progs: string[], libs: RuntimeLib[]): Promise<void> {
  const stage = await mkdtemp(`${image}.stage-`);
  try {
    await mkdir(join(stage, 'lib'));
    for (const p of progs) await copyFile(p, join(stage, basename(p)));
    for (const l of libs) await copyFile(l.file, join(stage, 'lib', basename(l.path)));
    let bytes = 0;
    for (const f of [...progs, ...libs.map((l) => l.file)]) bytes += (await stat(f)).size;
    const kib = Math.ceil((bytes * 1.1) / 1024) + 8192;
    const tmp = `${image}.${process.pid}.tmp`;
    await execa('mke2fs', ['-q', '-F', '-t', 'ext2', '-b', '4096', '-m', '0', '-N', '256', '-d', stage, tmp, `${kib}k`]);
    await rename(tmp, image);
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

const made = new Map<string, Promise<GuestRuntime>>();

/** The runtime image under `dir` (built once per set of files) and the initramfs's links into it. */
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
  const libs = new Map<string, RuntimeLib>();
  for (const p of progs) for (const l of await librariesOf(p)) libs.set(l.path, l);
  const all = [...libs.values()];
  await mkdir(dir, { recursive: true });
  const image = join(dir, `${await imageKey([...progs, ...all.map((l) => l.file)])}.img`);
  if (!existsSync(image)) await buildImage(image, progs, all);
  return { image, links: linkEntries(all) };
}
