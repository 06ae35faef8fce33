// The tiny initramfs: busybox-static, the modules the guest needs before its agent
// starts (virtio-pci, 9p, overlayfs to mount the shared root; the runtime disk's
// virtio-blk and ext4; the agent's virtio-serial port, the lab NIC, configfs), with their
// dependencies in load order, vm/init, the agent's bundle (/.rb/agent) and the links
// that let node and rdma on the runtime disk find their libraries (guest-runtime.ts).
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { HarnessError } from '../util/errors.js';
import { loadOrder, readModuleDeps } from '../kernel/modtree.js';
import { writeCpio, type CpioEntry } from './cpio.js';
import { BUNDLE_META } from './guest-bundle.js';
import type { GuestRuntime } from './guest-runtime.js';
import { brdParams, LAB_RAMDISK_MIB } from './ramdisk.js';

/**
 * What stage 1 loads: the root's mount and the runtime disk's (virtio_blk, ext4, which
 * asks for crc32c at every mount), then what used to be one modprobe in stage 2
 * (insmod from RAM is far cheaper under TCG than kmod from 9p). rdma_rxe needs a crc32
 * shash it does not declare (docs/kernel-notes.md), hence crc32_generic. Not
 * crc32_pclmul, though `-cpu max` has PCLMULQDQ and an rxe device would take it (the
 * higher priority): under TCG it hashed 4 KiB at 150-210 MB/s against crc32_generic's
 * 420-545 MB/s (tcrypt mode=300, patched 6.1, one boot), and rxe's ICRC runs on every
 * packet. Built-ins are skipped, and so are modules the kernel does not have.
 */
export const STAGE1_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay', 'configfs', 'virtio_console', 'virtio_net', 'crc32_generic', 'virtio_blk', 'crc32c_generic', 'ext4'];

/**
 * And after them, each role's lab modules. The set-up used to modprobe these once both
 * VMs were up: one kmod start from 9p each (about half a second of dynamic linking under
 * TCG) and two seconds in all, while insmod from RAM in stage 1 costs only the kernel's
 * own work, done while the other VM boots too. brd comes with the lab's usual shape
 * (MODULE_PARAMS); a scenario that wants another one has the set-up load it again
 * (ensureRamdisks in src/orchestrate/nvme-lab.ts). The set-up modprobes whatever a
 * kernel did not have here.
 */
export const ROLE_MODULES: Record<string, readonly string[]> = {
  target: ['rdma_rxe', 'nvmet_rdma', 'brd'],
  host: ['rdma_rxe', 'nvme_rdma'],
  both: ['rdma_rxe', 'nvmet_rdma', 'nvme_rdma', 'brd'],
};

/** Parameters stage 1 gives a module's insmod (brd: one ramdisk of the lab's size). */
export const MODULE_PARAMS: Record<string, readonly string[]> = {
  brd: brdParams(1, LAB_RAMDISK_MIB),
};

/** /mods/order: one module a line, in load order, with its insmod parameters after its name. */
export function orderFile(order: readonly string[]): string {
  return order.map((m) => `${[m, ...(MODULE_PARAMS[m] ?? [])].join(' ')}\n`).join('');
}

export const BUSYBOX_CANDIDATES = ['/usr/bin/busybox', '/bin/busybox'];

let busyboxFound: Promise<string> | undefined;

/** The host's static busybox (looked for once per process: `file -L` is a process start). */
export async function findBusybox(): Promise<string> {
  busyboxFound ??= lookForBusybox();
  return busyboxFound.catch((e: unknown) => {
    busyboxFound = undefined;
    throw e;
  });
}

async function lookForBusybox(): Promise<string> {
  for (const p of BUSYBOX_CANDIDATES) {
    if (!existsSync(p)) continue;
    const r = await execa('file', ['-L', p], { reject: false });
    if (r.exitCode !== 0 || /statically linked|static-pie/.test(String(r.stdout))) return p;
  }
  throw new HarnessError('no static busybox: install the busybox-static package');
}

/** Names in modules.builtin are part of the kernel image: nothing to insmod. */
export function builtinNames(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('/').pop()!.replace(/\.ko$/, '').replace(/-/g, '_')),
  );
}

/** The trailer of a signed module (include/linux/module_signature.h: MODULE_SIG_STRING). */
const SIG_MAGIC = Buffer.from('~Module signature appended~\n');
/** struct module_signature: 12 bytes before the magic, its last four the signature's length (big-endian). */
const SIG_INFO_BYTES = 12;

/**
 * A module without its appended signature (the bytes before it, which are what was
 * signed), or as it is when it has none or the trailer does not add up. The kernel then
 * loads it unverified (no CONFIG_MODULE_SIG_FORCE in the kernels the lab runs) instead
 * of hashing it and checking an RSA signature: under TCG that was about a quarter of
 * stage 1's module loading (0.72-0.76 s without, 0.91-1.03 s with, loopback, three
 * boots each). The kernel is tainted E (unsigned module) once, as the lab's own
 * rdma_rxe build (not signed) does anyway.
 */
export function withoutSignature(ko: Buffer): Buffer {
  const end = ko.length - SIG_MAGIC.length;
  if (end < SIG_INFO_BYTES || !ko.subarray(end).equals(SIG_MAGIC)) return ko;
  const sigLen = ko.readUInt32BE(end - 4);
  const start = end - SIG_INFO_BYTES - sigLen;
  return start > 0 ? ko.subarray(0, start) : ko;
}

async function moduleBytes(path: string): Promise<Buffer> {
  const m = /\.(xz|zst|gz)$/.exec(path);
  if (!m) return withoutSignature(await readFile(path));
  const tool = { xz: 'xz', zst: 'zstd', gz: 'gzip' }[m[1] as 'xz' | 'zst' | 'gz'];
  const r = await execa(tool, ['-dc', path], { encoding: 'buffer', stripFinalNewline: false });
  return withoutSignature(Buffer.from(r.stdout));
}

/** The modules stage 1 loads for a VM of `role` (any role: the stage-1 ones), before built-ins and absent ones are dropped. */
export function stage1Wanted(role?: string): string[] {
  return [...STAGE1_MODULES, ...((role && ROLE_MODULES[role]) || [])];
}

/**
 * The kernel's module loader in a lab VM (/proc/sys/kernel/modprobe, which vm/init points
 * here once the host's root is in place; after the pivot the initramfs is at /.rb-init).
 * The kernel asks user space for modules it often has already: nvme-fabrics asks for
 * nvme-<transport> at every connect (request_module in nvmf_create_ctrl), and waits for
 * the answer. The host's modprobe, started over 9p, took 0.4-0.8 s under TCG to say a
 * module is loaded, most of a connect's time. A module that is live needs nothing, as
 * kmod would say (it returns 0 for a module already loaded, with no install command
 * run), so this says it from the initramfs's busybox; every other request (an alias, a
 * module not loaded or on its way in or out, another form of call) goes to the host's.
 */
export const LAB_MODPROBE = 'bin/rb-modprobe';
export const LAB_MODPROBE_SCRIPT = `#!/.rb-init/bin/busybox sh
# reset-bench: the kernel's modprobe in a lab VM (src/vm/initramfs.ts says why).
if [ $# = 3 ] && [ "$1" = -q ] && [ "$2" = -- ]; then
	m=\${3//-/_}
	if [ -r "/sys/module/$m/initstate" ] && read -r s <"/sys/module/$m/initstate" && [ "$s" = live ]; then
		exit 0
	fi
fi
exec /sbin/modprobe "$@"
`;

export interface InitramfsOptions {
  modulesDir: string;
  initScript: string;
  busybox?: string;
  role?: string;
  /** The agent's runtime disk (guest-runtime.ts): the initramfs links its programs' dynamic loader into it. */
  runtime?: GuestRuntime;
  /** The guest bundle's directory: the agent stage 1 starts, at /.rb/agent. */
  agentDir?: string;
}

/** The files of the bundle a file names as "./<name>.js": its imports and esbuild's chunks, static or dynamic. */
export function namedFiles(code: string): string[] {
  return [...code.matchAll(/["']\.\/([\w.-]+\.js)["']/g)].map((m) => m[1]!);
}

/**
 * The agent's files in the guest bundle: agent.js and every file it reaches through
 * namedFiles, not the CLI's (main.js and what only it loads: about 1.5 MB the initramfs
 * would carry, unpacked into a VM state's memory, for nothing). A name that is not a file
 * of the bundle is not followed.
 */
export async function agentFiles(dir: string): Promise<Map<string, Buffer>> {
  const present = new Set(await readdir(dir));
  const files = new Map<string, Buffer>();
  const queue = ['agent.js'];
  for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
    if (files.has(name) || !present.has(name)) continue;
    const data = await readFile(join(dir, name));
    files.set(name, data);
    queue.push(...namedFiles(data.toString('utf8')));
  }
  if (!files.has('agent.js')) throw new HarnessError(`no agent.js in the guest bundle ${dir}: build the project (npm run build)`);
  return files;
}

/** The agent stage 1 starts before the snapshot point, at /.rb/agent. */
async function agentEntries(dir: string): Promise<CpioEntry[]> {
  const files = [...(await agentFiles(dir))].sort(([a], [b]) => a.localeCompare(b));
  return [{ kind: 'dir', path: '.rb/agent' }, ...files.map(([n, data]): CpioEntry => ({ kind: 'file', path: `.rb/agent/${n}`, data }))];
}

export async function buildInitramfs(opts: InitramfsOptions): Promise<Buffer> {
  const deps = await readModuleDeps(opts.modulesDir);
  const builtinFile = join(opts.modulesDir, 'modules.builtin');
  const builtin = existsSync(builtinFile) ? builtinNames(await readFile(builtinFile, 'utf8')) : new Set<string>();
  const wanted = stage1Wanted(opts.role).filter((m) => !builtin.has(m) && deps.has(m));
  const order = loadOrder(deps, wanted);
  const busybox = opts.busybox ?? (await findBusybox());

  const entries: CpioEntry[] = [
    ...['bin', 'dev', 'proc', 'sys', 'newroot', 'lower', 'upper', 'mods'].map(
      (d): CpioEntry => ({ kind: 'dir', path: d }),
    ),
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', path: 'bin/busybox', data: await readFile(busybox), mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
    { kind: 'file', path: 'init', data: await readFile(opts.initScript), mode: 0o755 },
    { kind: 'file', path: LAB_MODPROBE, data: Buffer.from(LAB_MODPROBE_SCRIPT), mode: 0o755 },
    { kind: 'file', path: 'mods/order', data: Buffer.from(orderFile(order)) },
  ];
  for (const m of order) {
    const entry = deps.get(m)!;
    entries.push({ kind: 'file', path: `mods/${m}.ko`, data: await moduleBytes(join(opts.modulesDir, entry.path)) });
  }
  if (opts.runtime || opts.agentDir) entries.push({ kind: 'dir', path: '.rb' }, { kind: 'dir', path: '.rb/rt' });
  if (opts.runtime) entries.push(...opts.runtime.links);
  if (opts.agentDir) entries.push(...(await agentEntries(opts.agentDir)));
  return writeCpio(entries);
}

const built = new Map<string, Promise<Buffer>>();

/**
 * buildInitramfs, once per process for the same inputs: a bench or a catalog boots the
 * same kernel again and again, and building one took about half a second before each
 * boot (modules.dep read, busybox checked, the modules read). The key holds what the
 * content comes from: the module tree's modules.dep and the init script, by path, size
 * and mtime, the role, busybox, the runtime image and the guest bundle (its
 * bundle-meta.json, written last by every build of it: guest-bundle.ts).
 */
export async function initramfsFor(opts: InitramfsOptions): Promise<Buffer> {
  const stamp = async (p: string): Promise<string> => {
    const st = await stat(p).catch((e: unknown) => {
      throw new Error(`the initramfs cannot be built: ${p} is missing (${(e as NodeJS.ErrnoException).code ?? String(e)}); run \`reset-bench kernel modules\` for the kernel, or build the project again (npm run build)`);
    });
    return `${p}:${st.size}:${st.mtimeMs}`;
  };
  const agent = opts.agentDir ? await stamp(join(opts.agentDir, BUNDLE_META)) : '';
  const key = JSON.stringify([await stamp(join(opts.modulesDir, 'modules.dep')), await stamp(opts.initScript), opts.role ?? '', opts.busybox ?? '', opts.runtime?.image ?? '', agent]);
  let b = built.get(key);
  if (!b) {
    b = buildInitramfs(opts);
    built.set(key, b);
    b.catch(() => built.delete(key));
  }
  return b;
}
