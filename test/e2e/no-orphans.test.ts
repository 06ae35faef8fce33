// A harness killed midway leaves no QEMU behind.
import t from 'tap';
import { join } from 'node:path';
import { execa } from 'execa';
import { labOrSkip, pidAlive, project } from '../helpers/lab.js';

if (await labOrSkip()) {
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGKILL'] as const) {
    t.test(`${sig} to \`vm exec\` while the guest runs a command`, async (t) => {
      const child = execa('node', [join(project, 'dist', 'cli', 'main.js'), 'vm', 'exec', '--', 'sleep', '600'], {
        reject: false,
        cwd: project,
        all: true,
      });
      let seen = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the guest did not boot in 180 s:\n${seen}`)), 180_000);
        child.all.on('data', (b: Buffer) => {
          seen += b.toString();
          if (/ready in/.test(seen)) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const q = await execa('pgrep', ['-P', String(child.pid), 'qemu-system'], { reject: false });
      const qemu = q.stdout.split('\n').filter(Boolean).map(Number);
      t.equal(qemu.length, 1, 'one QEMU running under the harness');
      child.kill(sig);
      const r = await child;
      t.not(r.exitCode, 0, 'the harness reports it was stopped');
      // SIGKILL gives the harness no chance: the parent-death signal must do it.
      const deadline = Date.now() + 10_000;
      while (qemu.some(pidAlive) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
      t.notOk(qemu.some(pidAlive), 'QEMU is gone');
    });
  }
}
