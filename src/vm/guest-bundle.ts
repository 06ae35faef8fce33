// The code a guest runs (its agent, which runs the loader's job itself: op load.run; and
// the CLI, for a command run in a guest by hand), bundled by esbuild into a
// few files under dist/guest-bundle/. Why: the guest reads the project over 9p, under
// TCG, where Node's module loading is one lookup and read per file per import: in a
// guest, importing execa took 2.3-4.5 s from dist's node_modules and 0.5-0.7 s bundled,
// zod 1.2-1.8 s. The bundle keeps the agent's lazy imports as chunks of their own
// (esbuild's code splitting), so what the agent does not import at boot still waits.
//
// Built from dist/ (what tsc wrote), never from src/: the guest runs what the host's
// tests ran. It is built again, before any VM boots (Machine.boot), whenever one of its
// inputs differs from when it was bundled, so a rebuilt dist/ or an updated dependency
// can never boot with the old bundle.
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { HarnessError } from '../util/errors.js';

/** The bundle's directory, two levels below the project root like dist/<dir>/*.js (util/project-root.ts). */
export const BUNDLE_DIR = join('dist', 'guest-bundle');
/** The entry points, as the guest runs them: `node <project>/dist/guest-bundle/<name>.js`. */
export const BUNDLE_ENTRIES = { agent: 'dist/guest/agent.js', main: 'dist/cli/main.js' } as const;
/** Bumped when the options below change: an older bundle is then built again. */
const BUNDLE_FORMAT = 2;
/** Written last by every build of the bundle, so its stamp (size, mtime) changes with every build (initramfsFor). */
export const BUNDLE_META = 'bundle-meta.json';

/** CommonJS dependencies (cross-spawn...) call require(): an ES module has none of its own. */
const REQUIRE_BANNER = "import { createRequire as __rbCreateRequire } from 'node:module'; const require = __rbCreateRequire(import.meta.url);";

/**
 * Each input's size and mtime when it was bundled. Any difference makes the bundle stale,
 * not only a newer mtime: npm extracts packages with a fixed old mtime, so a dependency
 * updated by `npm ci` is older than any bundle. package-lock.json is an input too.
 */
const Stamp = z.object({ mtimeMs: z.number(), size: z.number() });
const Meta = z.object({ format: z.number(), inputs: z.record(z.string(), Stamp) });
type Meta = z.infer<typeof Meta>;
const EXTRA_INPUTS = ['package-lock.json'];

async function stampOf(project: string, input: string): Promise<z.infer<typeof Stamp> | undefined> {
  const st = await stat(resolve(project, input)).catch(() => undefined);
  return st && { mtimeMs: st.mtimeMs, size: st.size };
}

/** The guest's path of an entry point. */
export function bundledEntry(project: string, entry: keyof typeof BUNDLE_ENTRIES): string {
  return join(project, BUNDLE_DIR, `${entry}.js`);
}

async function readMeta(dir: string): Promise<Meta | undefined> {
  try {
    return Meta.parse(JSON.parse(await readFile(join(dir, BUNDLE_META), 'utf8')));
  } catch {
    return undefined; // none yet, or unreadable: built again
  }
}

/** Whether the bundle in `dir` was built with these options from its inputs as they are now. */
export async function bundleIsCurrent(project: string, dir: string): Promise<boolean> {
  const meta = await readMeta(dir);
  if (!meta || meta.format !== BUNDLE_FORMAT) return false;
  const inputs = Object.entries(meta.inputs);
  if (!Object.values(BUNDLE_ENTRIES).every((e) => Object.hasOwn(meta.inputs, e))) return false;
  for (const [input, was] of inputs) {
    const now = await stampOf(project, input);
    if (!now || now.mtimeMs !== was.mtimeMs || now.size !== was.size) return false;
  }
  return true;
}

/** Builds the bundle into a scratch directory beside it, then puts it in place. */
async function build(project: string, dir: string): Promise<void> {
  const { build: esbuild } = await import('esbuild');
  const scratch = `${dir}.tmp-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  try {
    const r = await esbuild({
      absWorkingDir: project,
      entryPoints: Object.entries(BUNDLE_ENTRIES).map(([out, inp]) => ({ in: inp, out })),
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outdir: scratch,
      banner: { js: REQUIRE_BANNER },
      metafile: true,
      logLevel: 'silent',
    });
    // Stamped after the build: an input edited during it (under a second) is missed until
    // it changes again.
    const inputs: Meta['inputs'] = {};
    for (const input of [...Object.keys(r.metafile.inputs), ...EXTRA_INPUTS]) {
      const st = await stampOf(project, input);
      if (st) inputs[input] = st;
    }
    const meta: Meta = { format: BUNDLE_FORMAT, inputs };
    await writeFile(join(scratch, BUNDLE_META), `${JSON.stringify(meta)}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(scratch, dir);
  } catch (e) {
    await rm(scratch, { recursive: true, force: true });
    throw new HarnessError(`cannot bundle the guest's code into ${dir} (is dist/ built? run npm run build): ${e instanceof Error ? e.message : String(e)}`);
  }
}

const ready = new Map<string, Promise<string>>();

/** The bundle's directory, built first if it is missing or older than dist/; once per process and project. */
export function guestBundle(project: string): Promise<string> {
  let p = ready.get(project);
  if (!p) {
    const dir = join(project, BUNDLE_DIR);
    p = bundleIsCurrent(project, dir).then(async (current) => {
      if (!current) await build(project, dir);
      return dir;
    });
    ready.set(project, p);
    p.catch(() => ready.delete(project));
  }
  return p;
}
