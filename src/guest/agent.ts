// The in-guest agent: started by vm/init under node, it answers JSON-lines
// requests on the virtio-serial port "rb.agent" and streams the kernel log.
// Keep start-up lean: every module not needed to say "ready" is imported lazily (under
// TCG each costs; zod alone took seconds), even the built-in operations.
import { closeSync, createReadStream, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { uptime } from 'node:os';
import { AGENT_PORT } from './port-name.js';
import { adoptRuntimeLibs, runtimeAddon } from './runtime-libs.js';
import { PortWriter } from './port-writer.js';
import { AGENT_OP_SLACK_MS, AGENT_PORT_WRITE_MS } from '../util/timeouts.js';
import type { Op } from './ops.js';
import { LineDecoder, encode, parseKmsg, parseRequest, toWireError, type Request } from './wire.js';

/** Operations other parts of the project provide in the guest, loaded on first use. */
const lazyOps: Record<string, () => Promise<Record<string, Op>>> = {
  rdma: async () => (await import('./ops-net.js')).rdmaOps,
  rtnl: async () => (await import('./ops-net.js')).rtnlOps,
  fabrics: async () => (await import('./ops-net.js')).fabricsOps,
  timeline: async () => (await import('./ops-timeline.js')).timelineOps,
  nvmet: async () => (await import('./ops-nvmet.js')).nvmetOps,
  load: async () => (await import('./ops-load.js')).loadOps,
};

function findPort(): string {
  const base = '/sys/class/virtio-ports';
  for (const p of readdirSync(base)) {
    const name = readFileSync(`${base}/${p}/name`, 'utf8').trim();
    if (name === AGENT_PORT) return `/dev/${p}`;
  }
  throw new Error(`no virtio-serial port named ${AGENT_PORT}`);
}

const portPath = findPort();
const fd = openSync(portPath, 'r+');

// Writes keep their order and wait for the port without blocking the agent. A port the
// host has stopped reading is a dead channel: say so on the console and end the agent
// (the guest's init then says so on the console and powers off, and the host reports
// the console's tail).
const port = new PortWriter(fd, AGENT_PORT_WRITE_MS, (err) => {
  process.stderr.write(`reset-bench agent: ${err.message}\n`);
  process.exit(1);
});

function send(msg: unknown): void {
  port.send(Buffer.from(encode(msg)));
}

/**
 * Once the agent has said "ready", the code of the operations every run asks for of this
 * VM's role, in the order it asks: the target's nvmet apply (its set-up), then the rxe
 * device's netlink and the fabrics connect (connect, resets), then the timeline sampler
 * (instrument), then, where the host runs, the loader (load). The host VM never applies
 * an nvmet configuration, so it does not load that code, and the target VM never runs
 * the loader. Not execa (for `exec`): under TCG it took 3-9 s to
 * import (about 150 files), and imported here it held up the rxe device and the target's
 * configfs round trips, the whole target phase. The runner asks for it (op `warm`) where
 * a VM has time: the host VM once booted, every VM while the loader starts, and it waits
 * for every VM to be warm before a reset, so no reset's timing includes an import. A
 * request meanwhile shares the import under way. Where a VM state is saved, all of it is
 * loaded before the snapshot point (loadAllCode).
 */
const BASE_IMPORTS: readonly (() => Promise<unknown>)[] = [
  ...(process.env.RB_ROLE === 'host' ? [] : [() => import('./ops-nvmet.js')]),
  () => import('./ops-net.js'),
  () => import('./ops-timeline.js'),
  ...(process.env.RB_ROLE === 'target' ? [] : [() => import('./ops-load.js')]),
];
/** The builtin operations' execa (for `exec`), imported last. */
const EXECA_IMPORT = async (): Promise<void> => (await import('./ops.js')).warmUp();

/** Imports one after the other; rejects at the first that fails. */
const importInOrder = (imports: readonly (() => Promise<unknown>)[]): Promise<void> =>
  imports.reduce<Promise<unknown>>((done, next) => done.then(next), Promise.resolve()).then(() => undefined);

let base: Promise<void> | undefined;
let all: Promise<void> | undefined;
// A failed import is left to the operation that needs it, which says so.
const warmBase = (): Promise<void> => (base ??= importInOrder(BASE_IMPORTS).catch(() => undefined));
const warmAll = (): Promise<void> => (all ??= warmBase().then(EXECA_IMPORT).catch(() => undefined));

/**
 * Every import warmAll makes, and a failure is the agent's end: a module whose evaluation
 * threw stays failed, and must not be saved with a VM state (the init sees the exit).
 */
async function loadAllCode(): Promise<void> {
  await importInOrder([...BASE_IMPORTS, EXECA_IMPORT]);
  base = all = Promise.resolve();
  // The addon too (the sampler's uevent socket, netlink, the loader), from the runtime
  // disk. One that will not load is left to its first use, which loads the project's and
  // says what is wrong.
  const addon = runtimeAddon();
  if (addon) {
    const { loadAddon } = await import('../native-loader.js');
    try {
      loadAddon(addon);
    } catch {
      // see above
    }
  }
}

async function resolveOp(name: string): Promise<Op | undefined> {
  if (name === 'warm') return () => warmAll().then(() => null);
  // The imports under way finished: until then a module's evaluation can hold a request
  // (the runner's clock round trips must not wait behind one).
  if (name === 'settled') return () => (all ?? warmBase()).then(() => null);
  const { builtinOps } = await import('./ops.js');
  if (Object.hasOwn(builtinOps, name)) return builtinOps[name];
  if (name === 'poweroff') return poweroff;
  if (name === 'shell') return shell;
  const dot = name.indexOf('.');
  if (dot > 0) {
    const loader = lazyOps[name.slice(0, dot)];
    if (loader) return (await loader())[name.slice(dot + 1)];
  }
  return undefined;
}

/** Answers, then syncs and powers off once the answer is written to the port (not after a guessed pause). */
function poweroff(): Promise<null> {
  // setImmediate: handle() queues the answer in the microtasks after this resolves.
  setImmediate(() => {
    void port
      .idle()
      .then(() => import('node:child_process'))
      .then(({ spawnSync }) => {
        // busybox is what the initramfs uses too.
        spawnSync('/usr/bin/busybox', ['sync']);
        spawnSync('/usr/bin/busybox', ['poweroff', '-f']);
      });
  });
  return Promise.resolve(null);
}

/** An interactive shell on the virtconsole (a real tty, so job control works). */
async function shell(): Promise<{ exitCode: number | null }> {
  const { spawn } = await import('node:child_process');
  const tty = openSync('/dev/hvc0', 'r+');
  const child = spawn('setsid', ['-c', '-w', '/bin/bash', '-i'], {
    stdio: [tty, tty, tty],
    env: { ...process.env, TERM: process.env.TERM ?? 'xterm', PS1: '[reset-bench \\h \\w]# ' },
  });
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      closeSync(tty);
      resolve({ exitCode: code });
    }),
  );
}

async function handle(line: string): Promise<void> {
  let req: Request;
  try {
    req = parseRequest(JSON.parse(line));
  } catch (e) {
    send({ event: 'protocol-error', data: { message: String(e), line: line.slice(0, 200) } });
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const op = await resolveOp(req.op);
    if (!op) throw Object.assign(new Error(`unknown agent operation ${req.op}`), { code: 'ENOSYS' });
    // Operations enforce their own deadline (and say what they waited for); this one
    // only catches an operation that does not, a little later.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error(`${req.op} took longer than ${req.deadlineMs} ms`), { code: 'ETIMEDOUT' })),
        req.deadlineMs + AGENT_OP_SLACK_MS,
      );
    });
    const result = await Promise.race([op(req.args, req.deadlineMs), deadline]);
    send({ id: req.id, ok: true, result: result ?? null });
  } catch (e) {
    send({ id: req.id, ok: false, error: toWireError(e) });
  } finally {
    clearTimeout(timer);
  }
}

function streamKmsg(): void {
  const s = createReadStream('/dev/kmsg', { highWaterMark: 8192 });
  s.on('data', (chunk) => {
    const rec = parseKmsg(chunk.toString('utf8'));
    if (rec) send({ event: 'kmsg', data: rec });
  });
  s.on('error', (e) => send({ event: 'agent-log', data: { message: `kmsg: ${String(e)}` } }));
}

const decoder = new LineDecoder();
const input = createReadStream('', { fd, autoClose: false, highWaterMark: 65536 });
input.on('data', (chunk) => {
  for (const line of decoder.push(chunk)) void handle(line);
});
input.on('error', (e) => {
  process.stderr.write(`reset-bench agent: ${String(e)}\n`);
  closeSync(fd);
  process.exit(1);
});

function sayReady(): void {
  send({
    event: 'ready',
    data: {
      monoNs: process.hrtime.bigint().toString(),
      uptimeS: uptime(),
      role: process.env.RB_ROLE ?? '',
      kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
      pid: process.pid,
    },
  });
  streamKmsg();
}

/** After ready: the code of the operations this role's runs ask for first (warmBase). */
function warmAfterReady(): void {
  // While the host is busy with "ready" (and, in a pair, waits for the other VM). A pair's
  // host VM loads execa too: its set-up may start a modprobe, and its part of the set-up
  // is a few sysfs reads (its rxe device is made at boot), so the import does not hold it
  // up; started here it overlaps the target VM's boot when that one is ready last.
  setImmediate(() => void (process.env.RB_ROLE === 'host' ? warmAll() : warmBase()));
}

/**
 * Started by the init (vm/init) before the snapshot point. Where a VM state is saved
 * there (RB_LOAD_ALL), all the code is loaded first, so the state holds it; then `warm`
 * on the FIFO the init waits on, and ready once the host's root is in place (the init
 * writes the other FIFO). With no point, the code loads after ready as it is asked for.
 */
async function startInInit(dir: string, loadAll: boolean): Promise<void> {
  if (loadAll) await loadAllCode();
  writeFileSync(`${dir}/warm`, 'w');
  await readFile(`${dir}/go`);
  sayReady();
  if (!loadAll) warmAfterReady();
}

const fifos = process.env.RB_STAGE1;
const loadAll = process.env.RB_LOAD_ALL === '1';
// Not for the processes it starts: they run on the host's root, with its ld.so.cache
// (the runtime disk's programs get its libraries back: runtime-libs.ts).
delete process.env.RB_STAGE1;
delete process.env.RB_LOAD_ALL;
adoptRuntimeLibs(process.env);
if (fifos) {
  startInInit(fifos, loadAll).catch((e: unknown) => {
    process.stderr.write(`reset-bench agent: the init's handshake failed: ${String(e)}\n`);
    process.exit(1);
  });
} else {
  // Started by hand (no init's FIFOs): ready at once.
  sayReady();
  warmAfterReady();
}
