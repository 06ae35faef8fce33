// The guest's nvmet.apply op (src/guest/ops-nvmet.ts): what it refuses before touching
// configfs, and that the apply's own errors come back as they are. The apply itself is
// tested on the in-memory configfs (configfs-nvmet.test.ts) and in a real guest by the
// VM tests (every run's target phase).
import t from 'tap';
import { existsSync } from 'node:fs';
import { nvmetOps } from '../../src/guest/ops-nvmet.js';
import { NVMET_ROOT } from '../../src/orchestrate/configfs/nvmet-apply.js';

const apply = (args: Record<string, unknown>): Promise<unknown> => nvmetOps.apply!(args, 5000);

t.test('a config without its lists is refused with EINVAL, naming the argument', async (t) => {
  for (const config of [undefined, {}, { hosts: [], subsystems: [] }, { hosts: [], subsystems: 'x', ports: [] }]) {
    await t.rejects(apply({ config }), { code: 'EINVAL', message: /^argument config: expected a checked TargetConfig \(hosts, subsystems, ports\), got / }, JSON.stringify(config) ?? 'none');
  }
});

t.test("the apply's own error comes back: no nvmet configfs on this machine", { skip: existsSync(NVMET_ROOT) && 'nvmet is loaded here' }, async (t) => {
  await t.rejects(apply({ config: { hosts: [], subsystems: [], ports: [] } }), { message: /\/sys\/kernel\/config\/nvmet does not exist: load nvmet/ });
});
