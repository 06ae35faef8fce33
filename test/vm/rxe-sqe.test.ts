// The rxe SQE patch's -EINVAL path, run for real: kernel-patches/6.12/rxe/sqe-test is a
// small kernel module that takes a UD QP on rxe0 to RTS and asks for RTS again while
// claiming IB_QP_CUR_STATE = SQE, first with the QP in RTS, then in Error, and last
// claiming RTS with the QP in Error. The lab's rxe (every built variant carries the rxe
// set) must refuse all three with -EINVAL and keep the state, so the module loads and
// logs PASS; Debian's rdma_rxe as shipped (`distro`) accepts them and moves the QP from
// Error to RTS, so the module logs FAIL and insmod fails. Built here against the series'
// Debian headers, on each cached series.
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { cacheDir } from '../../src/kernel/cache.js';
import { resolveKernel } from '../../src/kernel/resolve.js';
import { bootLab, type Lab } from '../../src/vm/topology.js';
import { cachedSeries, labOrSkip, project, testLogDir } from '../helpers/lab.js';

/** make of one small module against installed headers: seconds; the deadline names it. */
const MODULE_BUILD_MS = 120_000;
/** modprobe, rdma link add and the module's init (a QP walked through eight modifies). */
const GUEST_STEP_MS = 60_000;

async function buildTestModule(headers: string, abi: string): Promise<string> {
  const dir = join(testLogDir('rxe-sqe'), abi);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(project, 'kernel-patches', '6.12', 'rxe', 'sqe-test'), dir, { recursive: true });
  await execa('make', ['-C', headers, `M=${dir}`, 'modules'], { timeout: MODULE_BUILD_MS });
  return join(dir, 'rxe_sqe_test.ko');
}

/** Loads rdma_rxe, adds rxe0 on eth0, insmods the test module; its exit code and its log lines. */
async function runTestModule(lab: Lab, ko: string): Promise<{ insmod: number; log: string }> {
  const a = lab.host.agent;
  await a.check(['modprobe', 'rdma_rxe'], { deadlineMs: GUEST_STEP_MS });
  await a.check(['rdma', 'link', 'add', 'rxe0', 'type', 'rxe', 'netdev', 'eth0'], { deadlineMs: GUEST_STEP_MS });
  const r = await a.exec(['insmod', ko, 'dev=rxe0'], { deadlineMs: GUEST_STEP_MS });
  const dmesg = await a.check(['dmesg'], { deadlineMs: GUEST_STEP_MS });
  const log = dmesg.split('\n').filter((l) => l.includes('rxe_sqe_test')).join('\n');
  return { insmod: r.exitCode, log };
}

async function runOn(kernelChoice: string, ko: string, logName: string): Promise<{ insmod: number; log: string }> {
  const kernel = await resolveKernel(kernelChoice);
  const lab = await bootLab({ kind: 'loopback', kernel, project, logDir: testLogDir(logName) });
  try {
    return await runTestModule(lab, ko);
  } finally {
    await lab.kill();
  }
}

if (await labOrSkip()) {
  for (const series of ['6.1', '6.12']) {
    const fetched = await cachedSeries({ cache: cacheDir(), series });
    const skip = fetched ? false : `the pinned ${series} kernel is not in the cache (reset-bench kernel fetch --series ${series})`;
    t.test(`${series}: the lab's rxe refuses RTS over Error or claimed from SQE, Debian's accepts it`, { skip }, async (t) => {
      if (!fetched) return;
      const ko = await buildTestModule(fetched.layout.headers, fetched.manifest.abi);
      const lab = await runOn(`stock@${series}`, ko, `rxe-sqe-stock-${series}`);
      t.match(lab.log, /step 1 \(QP in RTS\): RTS claiming SQE returned -22, state 3 after/, 'stock (lab rxe set): refused in RTS, state kept');
      t.match(lab.log, /step 2 \(QP in ERR\): RTS claiming SQE returned -22, state 6 after/, 'stock (lab rxe set): refused in Error, state kept');
      t.match(lab.log, /step 3 \(QP in ERR\): RTS claiming RTS returned -22, state 6 after/, 'stock (lab rxe set): no RTS over Error whatever the claim');
      t.match(lab.log, /rxe_sqe_test: PASS/);
      t.equal(lab.insmod, 0, 'the module loads on PASS');
      const distro = await runOn(`distro@${series}`, ko, `rxe-sqe-distro-${series}`);
      t.match(distro.log, /step 2 \(QP in ERR\): RTS claiming SQE returned 0, state 3 after/, "distro: Debian's rxe moves the QP from Error to RTS");
      t.match(distro.log, /step 3 \(QP in ERR\): RTS claiming RTS returned 0, state 3 after/, "distro: and on a claim of RTS too");
      t.match(distro.log, /rxe_sqe_test: FAIL/);
      t.not(distro.insmod, 0, 'insmod fails on FAIL');
    });
  }
}
