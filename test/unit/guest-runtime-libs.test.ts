// The agent's children: the runtime disk's programs get its libraries back, the host's
// programs run without them (src/guest/runtime-libs.ts).
import t from 'tap';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUNTIME_ADDON, adoptRuntimeLibs, envFor, isRuntimeProgram, runtimeAddon } from '../../src/guest/runtime-libs.js';
import { tempDirSync } from '../helpers/temp-dir.js';

function disk(): string {
  const root = tempDirSync('rb-rt-');
  writeFileSync(join(root, 'node'), '');
  writeFileSync(join(root, 'rdma'), '');
  mkdirSync(join(root, 'lib'));
  return root;
}

t.test('the disk programs get LD_LIBRARY_PATH, the others do not; the agent has none', async (t) => {
  const root = disk();
  const env: NodeJS.ProcessEnv = { LD_LIBRARY_PATH: join(root, 'lib'), PATH: '/usr/bin' };
  adoptRuntimeLibs(env);
  t.equal(env.LD_LIBRARY_PATH, undefined, 'taken out of the agent environment');
  t.ok(isRuntimeProgram('node'), 'a bare name the disk has (first on PATH)');
  t.ok(isRuntimeProgram(join(root, 'rdma')), 'its path on the disk');
  t.notOk(isRuntimeProgram('nvme'), 'a host program');
  t.notOk(isRuntimeProgram('/usr/bin/node'), 'the host node by its path');
  t.notOk(isRuntimeProgram('lib'), 'the library directory is no program');
  t.same(envFor('node', undefined), { LD_LIBRARY_PATH: join(root, 'lib') });
  t.same(envFor('node', { A: '1' }), { A: '1', LD_LIBRARY_PATH: join(root, 'lib') }, 'added to the request env');
  t.equal(envFor('modprobe', undefined), undefined, 'host programs: the request env as it is');
  t.same(envFor('modprobe', { A: '1' }), { A: '1' });
});

t.test('no disk behind the path, or no path: nothing is added', async (t) => {
  const none: NodeJS.ProcessEnv = { LD_LIBRARY_PATH: '/nonexistent-rb/rt/lib' };
  adoptRuntimeLibs(none);
  t.equal(none.LD_LIBRARY_PATH, undefined);
  t.notOk(isRuntimeProgram('node'));
  t.equal(envFor('node', undefined), undefined);
  const unset: NodeJS.ProcessEnv = {};
  adoptRuntimeLibs(unset);
  t.notOk(isRuntimeProgram('node'), 'an agent started by hand');
});

t.test('a dangling link on the disk is skipped, not the whole disk', async (t) => {
  const root = disk();
  symlinkSync(join(root, 'gone'), join(root, 'stale'));
  adoptRuntimeLibs({ LD_LIBRARY_PATH: join(root, 'lib') });
  t.ok(isRuntimeProgram('node'), 'the other programs still get the libraries');
  t.notOk(isRuntimeProgram('stale'), 'the dangling entry is no program');
});

t.test("the disk's copy of the native addon: its path when the disk has one, else none", async (t) => {
  const root = disk();
  adoptRuntimeLibs({ LD_LIBRARY_PATH: join(root, 'lib') });
  t.equal(runtimeAddon(), undefined, 'a disk made without it (the addon not built)');
  mkdirSync(join(root, 'addon'));
  writeFileSync(join(root, RUNTIME_ADDON), '');
  t.equal(runtimeAddon(), join(root, 'addon', 'reset_bench_native.node'));
  t.notOk(isRuntimeProgram('addon'), 'its directory is no program');
  adoptRuntimeLibs({});
  t.equal(runtimeAddon(), undefined, 'an agent started by hand');
});
