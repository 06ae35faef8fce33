#!/usr/bin/env node
// npm run bench:loader: boots one lab VM and compares the loader's IOPS with fio's
// io_uring engine on null_blk and on an nvme-rdma namespace (loopback rxe), bs=4k,
// iodepth 32, randread and randwrite. Last line: ratio_min=<lowest loader/fio ratio>.
// Options: --runtime S (per run, default 5), --kernel K (default stock).
import { argv } from 'node:process';
import { join } from 'node:path';
import { resolveKernel } from '../dist/kernel/resolve.js';
import { projectRoot } from '../dist/util/project-root.js';
import { bootLab } from '../dist/vm/topology.js';
import { setupTarget, connectHost } from '../dist/orchestrate/nvme-lab.js';

const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i > 0 ? argv[i + 1] : dflt;
};
const runtime = opt('--runtime', '5');
const project = projectRoot();
const kernel = await resolveKernel(opt('--kernel', 'stock'));
const lab = await bootLab({ kind: 'loopback', kernel, project, logDir: join(project, 'results', 'bench-loader') });
const cli = join(project, 'dist', 'cli', 'main.js');
const ratios = [];
try {
  await lab.host.agent.check(['modprobe', 'null_blk', 'nr_devices=1', 'gb=1', 'queue_mode=2', 'irqmode=0']);
  await setupTarget(lab);
  const ctrl = await connectHost(lab, { reconnect_delay: 1, ctrl_loss_tmo: 60 });
  for (const [label, dev] of [['null_blk', '/dev/nullb0'], ['nvme-rdma', ctrl.namespace]]) {
    const r = await lab.host.agent.exec(
      ['node', cli, 'load', 'bench', '--filename', dev, '--bs', '4k', '--iodepth', '32', '--runtime', runtime, '--rw', 'randread,randwrite', '--size', '64m'],
      { deadlineMs: 900_000 },
    );
    process.stdout.write(r.stdout.split('\n').filter((l) => l && !l.startsWith('ratio_min=')).map((l) => `${label}: ${l}\n`).join(''));
    const m = /ratio_min=([0-9.]+)/.exec(r.stdout);
    if (!m) throw new Error(`${label}: the bench printed no ratio (exit ${r.exitCode}): ${r.stderr.slice(-1500)}`);
    ratios.push(Number(m[1]));
  }
} finally {
  await lab.shutdown();
}
process.stdout.write(`ratio_min=${Math.min(...ratios).toFixed(3)}\n`);
