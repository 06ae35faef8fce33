// Every RDMA device's port counters (rxe's hw_counters: sends, retransmits, retry
// exceeded, sequence errors, ...) of every VM, saved as runs/<run>/rxe-counters.txt.
// Read where a run fails for a reason the kernel logs do not give: a multipath path that
// stopped carrying I/O while the other path's device was away (session 25, patched
// mpath-host-rdma-link, once), where the counters say whether the live path's rxe
// retransmitted, gave up, or saw nothing at all.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabAgent } from '../orchestrate/nvme-lab.js';
import type { RunLab } from './lab.js';

const IB = '/sys/class/infiniband';

/** One VM's counters as `grep -H` prints them ("<file>:<value>" lines), or why they could not be read. */
async function vmCounters(agent: Pick<LabAgent, 'fs' | 'exec'>): Promise<string> {
  const fs = agent.fs();
  const devices = await fs.readdir(IB).catch(() => []);
  const files: string[] = [];
  for (const d of devices) {
    const dir = `${IB}/${d}/ports/1/hw_counters`;
    for (const f of await fs.readdir(dir).catch(() => [])) files.push(`${dir}/${f}`);
  }
  if (files.length === 0) return `(no RDMA device with counters under ${IB})\n`;
  const r = await agent.exec(['grep', '-H', '', ...files]).catch((e: unknown) => ({ exitCode: -1, stdout: '', stderr: String(e) }));
  return r.stdout || `(grep exited ${r.exitCode}: ${r.stderr.trim()})\n`;
}

/** Saves every VM's counters; returns the file's name, relative to the run's directory. */
export async function saveRxeCounters(lab: Pick<RunLab, 'machines'>, runDir: string): Promise<string> {
  const parts = await Promise.all(lab.machines.map(async (m) => `--- ${m.name} ---\n${await vmCounters(m.agent)}`));
  await writeFile(join(runDir, 'rxe-counters.txt'), parts.join(''));
  return 'rxe-counters.txt';
}
