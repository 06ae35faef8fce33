// A lab VM started from a saved state (src/vm/snapshot-boot.ts) is the VM a cold boot
// makes: its agent answers, its clock is the host's, its console log holds the boot that
// saved it; and a state QEMU cannot load is dropped and the VM boots cold instead.
import t from 'tap';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootLab, type Lab } from '../../src/vm/topology.js';
import { labOrSkip, project, stockKernel, testLogDir } from '../helpers/lab.js';

const guestFacts = async (lab: Lab): Promise<{ clockS: number; uuid: string }> => {
  const r = await lab.host.agent.exec(['sh', '-c', 'date +%s; cat /proc/sys/kernel/random/uuid'], { deadlineMs: 60_000 });
  const [clock, uuid] = r.stdout.trim().split('\n');
  return { clockS: Number(clock), uuid: uuid ?? '' };
};

if (await labOrSkip()) {
  const snapshots = await mkdtemp(join(tmpdir(), 'rb-vm-snapshots-'));
  t.teardown(() => rm(snapshots, { recursive: true, force: true })); // about 90 MB a state
  const boot = async (name: string): Promise<Lab> =>
    bootLab({ kind: 'loopback', kernel: await stockKernel(), project, logDir: testLogDir(`snapshot-${name}`), snapshots });

  t.test('the first boot saves its state at the snapshot point; the next one starts from it', async (t) => {
    const cold = await boot('cold');
    t.equal(cold.host.bootFrom, 'cold, state saved');
    const coldFacts = await guestFacts(cold);
    await cold.shutdown();
    const saved = (await readdir(snapshots)).sort();
    t.equal(saved.filter((n) => n.endsWith('.state')).length, 1, 'one state');
    t.equal(saved.filter((n) => n.endsWith('.console')).length, 1, 'with its console text');

    const warm = await boot('restored');
    t.equal(warm.host.bootFrom, 'snapshot');
    const facts = await guestFacts(warm);
    t.ok(Math.abs(facts.clockS - Date.now() / 1000) < 30, `the restored guest's clock is the host's (${facts.clockS}), not the snapshot's`);
    t.not(facts.uuid, coldFacts.uuid, 'its random numbers are its own');
    await warm.shutdown();
    const log = await readFile(warm.host.console.logPath, 'utf8');
    t.match(log, /RESET_BENCH_SNAPSHOT_POINT\r?\nreset-bench: lab restored from saved state [0-9a-f]{32}/, 'the console log says so, after the boot that saved it');
  });

  t.test('a state QEMU cannot load is dropped, and the VM boots cold and saves a new one', async (t) => {
    const state = (await readdir(snapshots)).find((n) => n.endsWith('.state'))!;
    await writeFile(join(snapshots, state), 'not a QEMU migration stream');
    const lab = await boot('corrupt');
    t.equal(lab.host.bootFrom, 'cold, state saved', 'booted cold');
    const r = await lab.host.agent.exec(['true'], { deadlineMs: 60_000 });
    t.equal(r.exitCode, 0, 'and its agent answers');
    await lab.shutdown();
    const size = (await readFile(join(snapshots, state))).length;
    t.ok(size > 1_000_000, `the state was saved again (${size} bytes)`);
  });
}
