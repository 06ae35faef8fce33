// Where the project is (src/util/project-root.ts): two levels above this tree's files,
// whatever RB_PROJECT says. Only the agent's copy of the guest bundle in a lab VM's
// initramfs (/.rb/agent) takes RB_PROJECT; a harness started with it in its
// environment (a shell in a guest, a user's own) must not use another checkout.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/util/project-root.js';

t.test('RB_PROJECT does not move the project of a harness that runs from its tree', async (t) => {
  const here = projectRoot();
  t.ok(existsSync(join(here, 'package.json')), `${here} is the project`);
  process.env.RB_PROJECT = '/somewhere/else';
  t.teardown(() => delete process.env.RB_PROJECT);
  t.equal(projectRoot(), here);
});
