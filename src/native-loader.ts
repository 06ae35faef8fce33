// The one loader of the native addon (build/Release/reset_bench_native.node): the io_uring
// engine (src/load/native.ts) and the netlink socket (src/orchestrate/netlink/native.ts)
// both take their part of it from here, so the path, the cache and the "rebuild it"
// message exist once.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { HarnessError } from './util/errors.js';
import { projectRoot } from './util/project-root.js';

/**
 * Found from the project root (util/project-root.ts): this file also runs from the guest's
 * bundle (dist/guest-bundle/, src/vm/guest-bundle.ts), where it sits at another depth.
 * RESET_BENCH_ADDON names another build of the addon: scripts/sanitize-addon.mjs runs the
 * tests against its ASan + UBSan build that way.
 */
export const addonPath = process.env.RESET_BENCH_ADDON || join(projectRoot(), 'build', 'Release', 'reset_bench_native.node');

let cached: Readonly<Record<string, unknown>> | undefined;

/**
 * The addon's exports, loaded once; HarnessError saying how to build it when it is
 * missing. `file` may name a copy of the project's build (the guest agent's, on its
 * runtime disk, loaded before the snapshot point: src/guest/agent.ts); whichever is
 * loaded first is the one every later call returns.
 */
export function loadAddon(file: string = addonPath): Readonly<Record<string, unknown>> {
  if (cached) return cached;
  if (!existsSync(file)) throw new HarnessError(`native addon not built: ${file} is missing (run npm install or npx node-gyp rebuild)`);
  const require = createRequire(import.meta.url);
  cached = require(file) as Record<string, unknown>;
  return cached;
}

/**
 * One part of the addon, typed: every name in `functions` must be a function there (an
 * addon built from older sources is caught here, not at the first call).
 */
export function addonPart<T>(what: string, functions: readonly (keyof T & string)[]): T {
  const mod = loadAddon();
  const missing = functions.filter((f) => typeof mod[f] !== 'function');
  if (missing.length > 0)
    throw new HarnessError(`native addon at ${addonPath} has no ${what} (${missing.join(', ')} missing): rebuild it (npx node-gyp rebuild)`);
  return mod as T;
}
