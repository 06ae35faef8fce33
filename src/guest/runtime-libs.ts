// The runtime disk's programs (node, rdma: src/vm/guest-runtime.ts) run with its
// libraries, the agent's children too. The init starts the agent with
// LD_LIBRARY_PATH=<disk>/lib; the agent takes it out of its own environment, so the
// host's programs it starts use the host's root and its ld.so.cache, and gives it back
// to a child that is one of the disk's programs. Without it a node the agent started
// (found first on PATH, on the disk; the loader ran that way before the agent ran its job
// itself, op load.run) loaded its libraries over 9p after a restore: `node -e 0` took
// 2.0-3.1 s instead of 0.8 s.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

interface RuntimeLibs {
  /** LD_LIBRARY_PATH as the init gave it. */
  libPath: string;
  /** The disk's mount point, and its programs by name. */
  root: string;
  programs: ReadonlySet<string>;
}

let runtime: RuntimeLibs | undefined;

/** The native addon's path on the disk (src/vm/guest-runtime.ts puts it there when it is built). */
export const RUNTIME_ADDON = 'addon/reset_bench_native.node';

/** The disk's copy of the native addon, when the agent runs from the disk and it has one. */
export function runtimeAddon(): string | undefined {
  const file = runtime && join(runtime.root, RUNTIME_ADDON);
  return file && isFile(file) ? file : undefined;
}

/** Whether `path` is a regular file; an entry that vanished or a dangling link is not one. */
function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The disk's programs: the regular files at its root (not its lib directory). */
function programsIn(root: string): Set<string> {
  const names = new Set<string>();
  for (const name of readdirSync(root)) {
    if (isFile(join(root, name))) names.add(name);
  }
  return names;
}

/**
 * Takes LD_LIBRARY_PATH out of `env` (the agent's own) and keeps it for the disk's
 * programs. A path with no readable disk behind it (an agent started by hand) is dropped.
 */
export function adoptRuntimeLibs(env: NodeJS.ProcessEnv): void {
  const libPath = env.LD_LIBRARY_PATH;
  delete env.LD_LIBRARY_PATH;
  runtime = undefined;
  if (!libPath || libPath.includes(':')) return;
  const root = dirname(libPath);
  try {
    runtime = { libPath, root, programs: programsIn(root) };
  } catch {
    runtime = undefined;
  }
}

/**
 * Whether `program` (a command's argv[0]) runs from the disk: its path there, or a bare
 * name the disk has (the disk comes first on the guest's PATH: vm/init).
 */
export function isRuntimeProgram(program: string): boolean {
  if (!runtime) return false;
  if (!program.includes('/')) return runtime.programs.has(program);
  return dirname(program) === runtime.root && runtime.programs.has(program.slice(runtime.root.length + 1));
}

/** The environment to start `program` with: `env` (the request's, if any), plus the disk's libraries for its programs. */
export function envFor(program: string, env: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!runtime || !isRuntimeProgram(program)) return env;
  return { ...env, LD_LIBRARY_PATH: runtime.libPath };
}
