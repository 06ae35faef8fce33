// The agent's boot-time module preload (src/guest/preload.ts), on real processes: a
// stand-in for modprobe that records its arguments, since loading modules into the
// machine running the tests is not a test's business.
import t from 'tap';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPreload } from '../../src/guest/preload.js';

t.test('one modprobe -a of the whole list; later calls share its outcome', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-preload-'));
  const tool = join(dir, 'modprobe');
  writeFileSync(tool, `#!/bin/sh\necho "$@" >>${dir}/calls\necho "modprobe: FATAL: Module nvme_rdma not found" >&2\nexit 1\n`);
  chmodSync(tool, 0o755);
  const first = await startPreload(['rdma_rxe', 'nvme_rdma'], tool);
  t.same([first.modules, first.exitCode, first.stderr], [['rdma_rxe', 'nvme_rdma'], 1, 'modprobe: FATAL: Module nvme_rdma not found']);
  t.ok(first.ms >= 0);
  const again = await startPreload(['other'], tool);
  t.equal(again, first, 'the same outcome: the preload runs once per agent');
  t.equal(readFileSync(join(dir, 'calls'), 'utf8'), '-a rdma_rxe nvme_rdma\n');
});
