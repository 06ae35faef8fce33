// The guest's bundle: built with real esbuild from a scratch project's dist/, runnable,
// and built again when an input is newer than it, or when it is missing or corrupt.
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { BUNDLE_DIR, bundleIsCurrent, bundledEntry, guestBundle } from '../../src/vm/guest-bundle.js';

async function scratchProject(): Promise<string> {
  const p = await mkdtemp(join(tmpdir(), 'rb-bundle-'));
  await mkdir(join(p, 'dist', 'guest'), { recursive: true });
  await mkdir(join(p, 'dist', 'cli'), { recursive: true });
  await writeFile(join(p, 'dist', 'guest', 'lazy.js'), 'export const lazy = "lazy part";\n');
  await writeFile(join(p, 'dist', 'guest', 'agent.js'), 'const m = await import("./lazy.js");\nconsole.log("agent", m.lazy);\n');
  await writeFile(join(p, 'dist', 'cli', 'main.js'), 'console.log("main", process.argv.slice(2).join(" "));\n');
  return p;
}

t.test('built once, runnable, its lazy import a chunk of its own', async (t) => {
  const p = await scratchProject();
  t.teardown(() => rm(p, { recursive: true, force: true }));
  t.equal(await bundleIsCurrent(p, join(p, BUNDLE_DIR)), false, 'no bundle yet');
  t.equal(await guestBundle(p), join(p, BUNDLE_DIR));
  t.equal(await bundleIsCurrent(p, join(p, BUNDLE_DIR)), true);
  t.equal((await execa('node', [bundledEntry(p, 'agent')])).stdout, 'agent lazy part');
  t.equal((await execa('node', [bundledEntry(p, 'main'), 'load', '--job', 'x'])).stdout, 'main load --job x');
  const files = await readdir(join(p, BUNDLE_DIR));
  t.ok(files.some((f) => f.startsWith('lazy-')), `the dynamic import is its own chunk (${files.join(', ')})`);
  t.notOk(files.some((f) => f.includes('.tmp-')), 'no scratch directory left');
});

t.test('an input changed since the bundle makes it stale; so do a corrupt or missing meta file', async (t) => {
  const p = await scratchProject();
  t.teardown(() => rm(p, { recursive: true, force: true }));
  const dir = join(p, BUNDLE_DIR);
  await guestBundle(p);
  const later = new Date(Date.now() + 5000);
  await utimes(join(p, 'dist', 'guest', 'lazy.js'), later, later);
  t.equal(await bundleIsCurrent(p, dir), false, 'a lazily imported input changed');
  await writeFile(join(dir, 'bundle-meta.json'), '{"format": 2, "inputs": {"dist/guest/agent.js": "yesterday"');
  t.equal(await bundleIsCurrent(p, dir), false, 'corrupt meta: stale, not a crash');
  await rm(join(dir, 'bundle-meta.json'));
  t.equal(await bundleIsCurrent(p, dir), false, 'no meta');
});

t.test('an updated dependency with an older mtime (npm extracts at a fixed date) makes it stale too', async (t) => {
  const p = await scratchProject();
  t.teardown(() => rm(p, { recursive: true, force: true }));
  await mkdir(join(p, 'node_modules', 'dep'), { recursive: true });
  await writeFile(join(p, 'node_modules', 'dep', 'package.json'), '{"name": "dep", "type": "module", "main": "index.js"}');
  await writeFile(join(p, 'node_modules', 'dep', 'index.js'), 'export const v = 1;\n');
  await writeFile(join(p, 'dist', 'cli', 'main.js'), 'import { v } from "dep";\nconsole.log("main", v);\n');
  const old = new Date('1985-10-26T08:15:00Z');
  await utimes(join(p, 'node_modules', 'dep', 'index.js'), old, old);
  await guestBundle(p);
  t.equal((await execa('node', [bundledEntry(p, 'main')])).stdout, 'main 1');
  await writeFile(join(p, 'node_modules', 'dep', 'index.js'), 'export const v = 22;\n');
  await utimes(join(p, 'node_modules', 'dep', 'index.js'), old, old);
  t.equal(await bundleIsCurrent(p, join(p, BUNDLE_DIR)), false, 'same old mtime, another size');
});

t.test('a dist/ that cannot be bundled is a HarnessError saying to build it, and leaves nothing behind', async (t) => {
  const p = await mkdtemp(join(tmpdir(), 'rb-bundle-'));
  t.teardown(() => rm(p, { recursive: true, force: true }));
  await t.rejects(guestBundle(p), { name: 'HarnessError', message: /cannot bundle the guest's code .*run npm run build/ });
  t.same(await readdir(join(p, 'dist')).catch(() => []), [], 'no bundle and no scratch directory');
});
