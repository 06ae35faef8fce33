// reset-bench kernel build --debug [--series S]: the series' pinned linux-source with
// kernel-patches/<S>/ applied in-tree, configured from vm/lab.config + vm/debug.config on
// top of allnoconfig (KASAN, lockdep, DEBUG_ATOMIC_SLEEP, hung task, kmemleak), installed
// into <cache>/debug-kernel/<S> as bzImage + lib/modules/<kver>, which is what
// resolveKernel('debug@S') boots.
// Rebuilds only when the patches, the fragments or the source change (content hash).
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { copyFile, mkdir, open, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { z } from 'zod';
import { DeadlineError, HarnessError, UsageError } from '../util/errors.js';
import { run } from '../util/exec.js';
import { readJsonFile } from '../util/json-file.js';
import { applyPatches } from './apply.js';
import { fetchSeries } from './fetch.js';
import { projectRoot } from '../util/project-root.js';
import { patchedFiles, patchsetHash, seriesPatches, type SeriesPatch } from './series.js';
import { BUILD_PROGRESS_EVERY_MS, KCONFIG_MERGE_MS, KERNEL_BUILD_MS, KERNEL_TREE_COPY_MS } from '../util/timeouts.js';

/** Bump when the recipe below changes in a way that needs a fresh build. */
const RECIPE = 'debug-build/1';

/** The fragments, in merge order (later wins). */
export const FRAGMENTS = ['lab.config', 'debug.config'] as const;

export const fragmentDir = (): string => join(projectRoot(), 'vm');

/** One config fragment as symbol -> value ('n' for "# CONFIG_X is not set"). Duplicates are kept in order. */
export function parseFragment(text: string): Array<{ name: string; value: string; line: number }> {
  const out: Array<{ name: string; value: string; line: number }> = [];
  text.split('\n').forEach((raw, i) => {
    const l = raw.trim();
    let m = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/.exec(l);
    if (m) {
      out.push({ name: m[1]!, value: m[2]!, line: i + 1 });
      return;
    }
    m = /^# CONFIG_([A-Za-z0-9_]+) is not set$/.exec(l);
    if (m) out.push({ name: m[1]!, value: 'n', line: i + 1 });
  });
  return out;
}

/** Symbols a fragment (or a set of them) gives two different values. */
export function contradictions(fragments: Array<{ file: string; text: string }>): string[] {
  const seen = new Map<string, { value: string; where: string }>();
  const bad: string[] = [];
  for (const f of fragments) {
    for (const e of parseFragment(f.text)) {
      const prev = seen.get(e.name);
      const where = `${f.file}:${e.line}`;
      if (prev && prev.value !== e.value) bad.push(`CONFIG_${e.name}: ${prev.value} at ${prev.where}, ${e.value} at ${where}`);
      seen.set(e.name, { value: e.value, where });
    }
  }
  return bad;
}

/**
 * Requested values the final .config does not have (a dependency was missing, so
 * Kconfig dropped them). Returns "CONFIG_X=want (got ...)" lines.
 */
export function missingFromConfig(requested: Array<{ name: string; value: string }>, dotConfig: string): string[] {
  const actual = new Map(parseFragment(dotConfig).map((e) => [e.name, e.value]));
  const missing: string[] = [];
  for (const r of requested) {
    const got = actual.get(r.name) ?? 'n';
    if (got !== r.value) missing.push(`CONFIG_${r.name}=${r.value} (got ${got})`);
  }
  return missing;
}

async function readFragments(dir: string): Promise<Array<{ file: string; path: string; text: string }>> {
  const out = [];
  for (const f of FRAGMENTS) {
    const path = join(dir, f);
    if (!existsSync(path)) throw new UsageError(`missing config fragment ${path}`, `vm/${f}`);
    out.push({ file: f, path, text: await readFile(path, 'utf8') });
  }
  return out;
}

/** The hash that decides whether to rebuild: recipe, source version, fragments, patches. */
export async function debugBuildHash(opts: {
  sourceVersion: string;
  fragments: Array<{ file: string; text: string }>;
  patches: SeriesPatch[];
}): Promise<string> {
  const h = createHash('sha256');
  h.update(`${RECIPE}\nsource=${opts.sourceVersion}\n`);
  for (const f of opts.fragments) h.update(`fragment ${f.file}\n`).update(f.text);
  for (const p of opts.patches) h.update(`patch ${p.name}\n`).update(await readFile(p.path));
  return h.digest('hex');
}

async function lastLine(file: string): Promise<string> {
  try {
    const fh = await open(file, 'r');
    try {
      const { size } = await fh.stat();
      const len = Math.min(size, 4096);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, size - len);
      const lines = buf.toString('utf8').split('\n').map((s) => s.trim()).filter(Boolean);
      return lines.at(-1) ?? '';
    } finally {
      await fh.close();
    }
  } catch {
    return '';
  }
}

/** prepared.json (a prepared tree) and stamp.json (an installed kernel), both written by buildDebugKernel. */
const Prepared = z.object({ hash: z.string() });
const Stamp = Prepared.extend({
  kver: z.string(),
  series: z.string().optional(),
  patches: z.array(z.string()).optional(),
  patchset: z.string().optional(),
  source: z.string().optional(),
  abi: z.string().optional(),
  seconds: z.number().optional(),
});
export type DebugStamp = z.infer<typeof Stamp>;
const REBUILD = 'delete it and build the debug kernel again (reset-bench kernel build --debug)';

/** The hash a build recorded in `file`; undefined when there is none, or when it is unreadable (said, then built again). */
async function stampHash(file: string, say: (m: string) => void): Promise<string | undefined> {
  try {
    return (await readJsonFile(file, Prepared, REBUILD))?.hash;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    say(`${e.message}: building again`);
    return undefined;
  }
}

export interface DebugBuildOptions {
  cache: string;
  /** The kernel series (default: the pins file's default). */
  series?: string;
  /** The series directory (default <project>/kernel-patches/<series>). */
  seriesDir?: string;
  jobs?: number;
  progress?: (m: string) => void;
  force?: boolean;
  /** nice level for make (default 19: the lab's VMs share the cores). */
  nice?: number;
  /** Where lab.config and debug.config are (default <project>/vm). */
  fragmentDir?: string;
}

export async function buildDebugKernel(opts: DebugBuildOptions): Promise<{ dir: string; kver: string; rebuilt: boolean }> {
  const say = opts.progress ?? (() => {});
  const jobs = opts.jobs ?? 2;
  const niceLevel = opts.nice ?? 19;
  const fetched = await fetchSeries({ cache: opts.cache, series: opts.series, progress: opts.progress });
  const series = fetched.manifest.series;
  const seriesDir = opts.seriesDir ?? join(projectRoot(), 'kernel-patches', series);
  const out = debugKernelDir(opts.cache, series);
  const build = join(out, 'build');
  const src = join(build, 'src');
  const obj = join(build, 'obj');
  const makeLog = join(build, 'make.log');
  const stampFile = join(out, 'stamp.json');
  const preparedFile = join(build, 'prepared.json');

  const pristine = fetched.layout.source;
  if (!existsSync(join(pristine, 'Makefile'))) throw new HarnessError(`no linux source at ${pristine}: run reset-bench kernel fetch`);
  const fragments = await readFragments(opts.fragmentDir ?? fragmentDir());
  const bad = contradictions(fragments);
  if (bad.length) throw new UsageError(`config fragments contradict each other:\n${bad.join('\n')}`, 'vm/*.config');
  const patches = await seriesPatches(seriesDir);
  const hash = await debugBuildHash({ sourceVersion: fetched.manifest.version, fragments, patches });
  const applied = patches.map((p) => p.name);
  const patchset = await patchsetHash(patches);

  if (!opts.force && (await stampHash(stampFile, say)) === hash) {
    const kver = await currentKver(out);
    if (kver && existsSync(join(out, 'bzImage'))) return { dir: out, kver, rebuilt: false };
  }

  // 1. A private tree: hard links to the pristine source, real copies of what the series patches.
  //    Output goes to obj/ (O=), so make never writes into the linked source.
  const prepared = !opts.force && (await stampHash(preparedFile, say)) === hash && existsSync(join(obj, '.config'));
  if (prepared) {
    say(`resuming the build in ${build}`);
  } else {
    // obj/ is kept when it exists: make then rebuilds only what the new tree changes
    // (patched files get fresh mtimes; the hard links keep the pristine ones). --force
    // starts from nothing.
    say(`preparing ${src} from ${pristine}${existsSync(obj) && !opts.force ? ' (keeping obj/ for an incremental build)' : ''}`);
    await rm(opts.force ? build : src, { recursive: true, force: true });
    await mkdir(build, { recursive: true });
    await run('cp', ['-al', pristine, src], { timeoutMs: KERNEL_TREE_COPY_MS });
    const texts = await Promise.all(patches.map((p) => readFile(p.path, 'utf8')));
    for (const f of new Set(texts.flatMap(patchedFiles))) {
      const target = join(src, f);
      if (!existsSync(target)) continue;
      await copyFile(target, `${target}.rb-unshare`);
      await rename(`${target}.rb-unshare`, target);
    }
    await applyPatches({ tree: src, patches, source: `linux-source ${fetched.manifest.version}`, seriesLabel: `kernel-patches/${series}`, say });
    say(`configuring: allnoconfig + ${FRAGMENTS.join(' + ')}`);
    await mkdir(obj, { recursive: true });
    await run('scripts/kconfig/merge_config.sh', ['-n', '-O', obj, ...fragments.map((f) => f.path)], { cwd: src, timeoutMs: KCONFIG_MERGE_MS });
    const dotConfig = await readFile(join(obj, '.config'), 'utf8');
    const requested = new Map<string, { name: string; value: string }>();
    for (const f of fragments) for (const e of parseFragment(f.text)) requested.set(e.name, e);
    const missing = missingFromConfig([...requested.values()], dotConfig);
    if (missing.length) {
      throw new UsageError(`the final .config lost requested options (unmet dependencies?):\n${missing.join('\n')}`, 'vm/*.config');
    }
    await writeFile(preparedFile, `${JSON.stringify({ hash, patches: applied, at: new Date().toISOString() })}\n`);
  }

  // 2. Build, the output in make.log, its last line as progress every 30 s.
  const t0 = Date.now();
  say(`building bzImage + modules with -j${jobs} (nice ${niceLevel}); log: ${makeLog}`);
  await makeLogged(niceLevel, ['-C', obj, `-j${jobs}`, 'bzImage', 'modules'], makeLog, say, t0);

  // 3. Install: modules (stripped) under <out>/lib/modules/<kver>, the image as <out>/bzImage.
  const kver = (await readFile(join(obj, 'include', 'config', 'kernel.release'), 'utf8')).trim();
  await rm(stampFile, { force: true });
  await rm(join(out, 'lib'), { recursive: true, force: true });
  say(`installing modules for ${kver}`);
  await makeLogged(niceLevel, ['-C', obj, `INSTALL_MOD_PATH=${out}`, 'INSTALL_MOD_STRIP=1', 'modules_install'], makeLog, say, t0);
  const modDir = join(out, 'lib', 'modules', kver);
  for (const l of ['build', 'source']) await rm(join(modDir, l), { force: true });
  await copyFile(join(obj, 'arch', 'x86', 'boot', 'bzImage'), join(out, 'bzImage.new'));
  await rename(join(out, 'bzImage.new'), join(out, 'bzImage'));
  await writeFile(
    stampFile,
    `${JSON.stringify({ hash, kver, series, patches: applied, patchset, source: fetched.manifest.version, abi: fetched.manifest.abi, seconds: Math.round((Date.now() - t0) / 1000) })}\n`,
  );
  say(`debug kernel ${kver} in ${out} (${Math.round((Date.now() - t0) / 1000)} s)`);
  return { dir: out, kver, rebuilt: true };
}

/** Where the debug kernel of a series is installed. */
export const debugKernelDir = (cache: string, series: string): string => join(cache, 'debug-kernel', series);

/** What the last debug build of a series recorded (stamp.json), if there is one; a corrupt one is a UsageError saying so. */
export function debugStamp(dir: string): Promise<DebugStamp | undefined> {
  return readJsonFile(join(dir, 'stamp.json'), Stamp, REBUILD);
}

async function currentKver(out: string): Promise<string | undefined> {
  const mods = join(out, 'lib', 'modules');
  if (!existsSync(mods)) return undefined;
  const k = await readdir(mods);
  return k.length === 1 ? k[0] : undefined;
}

async function makeLogged(
  niceLevel: number,
  args: string[],
  log: string,
  say: (m: string) => void,
  t0: number,
): Promise<void> {
  await mkdir(dirname(log), { recursive: true });
  const ws = createWriteStream(log, { flags: 'a' });
  const [file, argv] = niceLevel > 0 ? ['nice', ['-n', String(niceLevel), 'make', ...args]] : ['make', args];
  const sub = execa(file, argv, { reject: false, buffer: false, stdin: 'ignore', timeout: KERNEL_BUILD_MS });
  sub.stdout?.pipe(ws, { end: false });
  sub.stderr?.pipe(ws, { end: false });
  const timer = setInterval(() => {
    void lastLine(log).then((l) => say(`[${Math.round((Date.now() - t0) / 1000)} s] ${l}`));
  }, BUILD_PROGRESS_EVERY_MS);
  try {
    const r = await sub;
    if (r.timedOut) throw new DeadlineError(`make ${args.join(' ')} (see ${log})`, KERNEL_BUILD_MS);
    if (r.exitCode !== 0) {
      const tail = (await readFile(log, 'utf8')).split('\n').filter((l) => /error|Error/.test(l)).slice(-15).join('\n');
      throw new HarnessError(`make ${args.join(' ')} exited with ${r.exitCode ?? r.signal}; see ${log}:\n${tail}`);
    }
  } finally {
    clearInterval(timer);
    await new Promise<void>((res) => ws.end(() => res()));
  }
}
