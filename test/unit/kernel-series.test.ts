// Series files, pins, --kernel KIND@SERIES and which modules a patch needs rebuilt.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { bySeries, compareKernels, isBaseline } from '../../src/cli/run-command.js';
import { comparisonTables } from '../../src/report/html.js';
import { modulesOfObject } from '../../src/kernel/kbuild.js';
import { withLock } from '../../src/kernel/lock.js';
import { buildDirs, touchedModules, variantPlan } from '../../src/kernel/module-build.js';
import { pickSeries, pinChanges, readPins, type Pin } from '../../src/kernel/pins.js';
import { parseKernelChoice } from '../../src/kernel/resolve.js';
import { labPatches, parseSeriesFile, patchsetHash, seriesPatches, setPatchNames } from '../../src/kernel/series.js';
import { projectRoot } from '../../src/util/project-root.js';
import { failRun, passRun, results } from './report-fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'rb-series-'));

t.test('a series file: entries in order, comments and blanks dropped, line numbers kept', async (t) => {
  t.same(parseSeriesFile('# head\nrxe\n\n  nvme-rdma  # the host\n0001-x.patch\n'), [
    { entry: 'rxe', line: 2 },
    { entry: 'nvme-rdma', line: 4 },
    { entry: '0001-x.patch', line: 5 },
  ]);
  t.same(setPatchNames(['0002-b.patch', '0000-cover-letter.patch', 'README', '0001-a.patch', '0010-c.patch']), [
    '0001-a.patch',
    '0002-b.patch',
    '0010-c.patch',
  ]);
});

t.test('sets and single patches expand in order; cover letters skipped', async (t) => {
  const dir = join(tmp, 'ok');
  mkdirSync(join(dir, 'rxe'), { recursive: true });
  for (const f of ['0000-cover-letter.patch', '0002-two.patch', '0001-one.patch']) writeFileSync(join(dir, 'rxe', f), `${f}\n`);
  writeFileSync(join(dir, '0001-lone.patch'), 'lone\n');
  writeFileSync(join(dir, 'series'), 'rxe\n# a comment\n0001-lone.patch\n');
  const ps = await seriesPatches(dir);
  t.same(ps.map((p) => p.name), ['rxe/0001-one.patch', 'rxe/0002-two.patch', '0001-lone.patch']);
  const h = await patchsetHash(ps);
  t.match(h, /^[0-9a-f]{64}$/);
  t.not(h, await patchsetHash(ps.slice(0, 2)), 'the hash covers every patch');
  t.equal(await patchsetHash([]), '', 'no patches, no hash');
});

t.test('a missing or empty set, or no series file, is a usage error naming the line', async (t) => {
  const dir = join(tmp, 'bad');
  mkdirSync(join(dir, 'empty'), { recursive: true });
  writeFileSync(join(dir, 'empty', '0000-cover-letter.patch'), 'cover\n');
  writeFileSync(join(dir, 'series'), '# sets\nempty\n');
  await t.rejects(seriesPatches(dir), { exitCode: 2, message: /series:2: set 'empty' has no patches yet/ });
  writeFileSync(join(dir, 'series'), 'gone\n');
  await t.rejects(seriesPatches(dir), { exitCode: 2, message: /series:1: 'gone' is neither a patch file nor a set directory/ });
  await t.rejects(seriesPatches(tmp), { exitCode: 2, message: /no series file/ });
});

t.test('lab patches: a subset of the series in its order; none without the file', async (t) => {
  const dir = join(tmp, 'lab');
  mkdirSync(join(dir, 'rxe'), { recursive: true });
  for (const f of ['0001-one.patch', '0002-two.patch']) writeFileSync(join(dir, 'rxe', f), `${f}\n`);
  writeFileSync(join(dir, '0001-host.patch'), 'host\n');
  writeFileSync(join(dir, 'series'), 'rxe\n0001-host.patch\n');
  t.same(await labPatches(dir), [], 'no lab file: none');
  writeFileSync(join(dir, 'lab'), '# the device\nrxe\n');
  t.same((await labPatches(dir)).map((p) => p.name), ['rxe/0001-one.patch', 'rxe/0002-two.patch']);
  writeFileSync(join(dir, 'lab'), '0001-host.patch\nrxe/0001-one.patch\n');
  await t.rejects(labPatches(dir), { exitCode: 2, message: /in the order the series applies them/ });
  writeFileSync(join(dir, 'series'), '0001-host.patch\n');
  writeFileSync(join(dir, 'lab'), 'rxe\n');
  await t.rejects(labPatches(dir), { exitCode: 2, message: /lab patch rxe\/0001-one.patch is not in .*series: add its set there too/ });
});

t.test("the project's series: stock carries exactly the lab patches (rdma_rxe), patched all, distro none", async (t) => {
  for (const series of ['6.1', '6.12']) {
    const dir = join(projectRoot(), 'kernel-patches', series);
    // touchedModules reads the Makefile of each touched directory: a minimal source tree.
    const src = join(tmp, `src-${series}`);
    for (const d of ['drivers/nvme/host', 'drivers/nvme/target', 'drivers/infiniband/sw/rxe']) mkdirSync(join(src, d), { recursive: true });
    writeFileSync(join(src, 'drivers/nvme/host/Makefile'), 'obj-m += nvme-core.o nvme-rdma.o\nnvme-core-y += core.o multipath.o\nnvme-rdma-y += rdma.o\n');
    writeFileSync(join(src, 'drivers/nvme/target/Makefile'), 'obj-m += nvmet-rdma.o\nnvmet-rdma-y += rdma.o\n');
    writeFileSync(join(src, 'drivers/infiniband/sw/rxe/Makefile'), 'obj-m += rdma_rxe.o\nrdma_rxe-y := rxe.o rxe_comp.o rxe_net.o rxe_qp.o rxe_req.o rxe_resp.o rxe_verbs.o rxe_pool.o rxe_task.o\n');
    const distro = await variantPlan(src, dir, 'distro');
    const stock = await variantPlan(src, dir, 'stock');
    const patched = await variantPlan(src, dir, 'patched');
    t.same(distro.patches, [], `${series}: distro applies nothing`);
    t.same(distro.modules, ['nvme-rdma', 'nvmet-rdma']);
    t.ok(stock.patches.length > 0 && stock.patches.every((p) => p.name.startsWith('rxe/')), `${series}: stock applies only rxe patches`);
    t.same(stock.modules, ['nvme-rdma', 'nvmet-rdma', 'rdma_rxe'], `${series}: stock rebuilds rdma_rxe`);
    t.same(stock.lab, patched.lab, `${series}: the same lab patches on both`);
    t.same(patched.patches.filter((p) => stock.lab.includes(p.name)).map((p) => p.name), stock.lab, `${series}: patched has every lab patch`);
    t.ok(patched.patches.length > stock.patches.length, `${series}: patched adds the nvme sets`);
  }
});

t.test('distro and stock are baselines: their FAILs do not fail a compare', async (t) => {
  t.ok(isBaseline('stock'));
  t.ok(isBaseline('distro@6.12'));
  t.notOk(isBaseline('patched'));
  t.notOk(isBaseline('debug@6.12'));
  t.notOk(isBaseline('/home/me/kout'));
});

t.test('--kernel KIND[@SERIES]', async (t) => {
  t.same(parseKernelChoice('stock'), { kind: 'stock', series: undefined });
  t.same(parseKernelChoice('distro@6.12'), { kind: 'distro', series: '6.12' });
  t.same(parseKernelChoice('patched@6.12'), { kind: 'patched', series: '6.12' });
  t.same(parseKernelChoice('debug@6.1'), { kind: 'debug', series: '6.1' });
  t.equal(parseKernelChoice('/home/me/kout'), undefined, 'a directory');
  t.throws(() => parseKernelChoice('stock@latest'), { exitCode: 2, message: /--kernel: .*like 6.1 or 6.12/ });
});

t.test("the project's pins file: a default and both series, exact versions", async (t) => {
  const pins = await readPins(join(projectRoot(), 'kernel-pins.json'));
  t.equal(pickSeries(pins, undefined).series, pins.default);
  const p612 = pickSeries(pins, '6.12').pin;
  t.equal(p612.abi, '6.12.117+deb12-amd64');
  t.equal(p612.packages['linux-kbuild-6.12.117+deb12'], p612.version);
  t.throws(() => pickSeries(pins, '5.10'), { exitCode: 2, message: /--series: no pinned kernel for series "5.10"/ });
  const bad = join(tmp, 'pins.json');
  writeFileSync(bad, JSON.stringify({ default: '6.6', series: { '6.1': pins.series['6.1'] } }));
  await t.rejects(readPins(bad), { exitCode: 2, message: /default: default names a series that has no pin/ });
});

t.test('what a pin update changed, line by line', async (t) => {
  const a: Pin = { meta: 'linux-image-amd64', version: '6.1.192-2', abi: '6.1.0-56-amd64', packages: { 'linux-image-6.1.0-56-amd64': '6.1.192-2', 'linux-source-6.1': '6.1.192-2' } };
  const b: Pin = { meta: 'linux-image-amd64', version: '6.1.192-3', abi: '6.1.0-57-amd64', packages: { 'linux-image-6.1.0-57-amd64': '6.1.192-3', 'linux-source-6.1': '6.1.192-3' } };
  t.same(pinChanges(a, a), []);
  t.same(pinChanges(a, b), [
    '6.1.192-2 (6.1.0-56-amd64) -> 6.1.192-3 (6.1.0-57-amd64)',
    '  linux-image-6.1.0-56-amd64: 6.1.192-2 -> (dropped)',
    '  linux-image-6.1.0-57-amd64: (none) -> 6.1.192-3',
    '  linux-source-6.1: 6.1.192-2 -> 6.1.192-3',
  ]);
});

const HOST_MAKEFILE = `obj-$(CONFIG_NVME_CORE)\t+= nvme-core.o
nvme-core-y\t\t+= core.o ioctl.o \\
\t\t\t   sysfs.o
nvme-core-$(CONFIG_NVME_MULTIPATH)\t+= multipath.o
nvme-fabrics-y\t+= fabrics.o
nvme-rdma-y\t+= rdma.o
`;

t.test('which module an object belongs to, from the Makefile', async (t) => {
  t.same(modulesOfObject(HOST_MAKEFILE, 'multipath.o'), ['nvme-core']);
  t.same(modulesOfObject(HOST_MAKEFILE, 'sysfs.o'), ['nvme-core'], 'continuation lines');
  t.same(modulesOfObject(HOST_MAKEFILE, 'rdma.o'), ['nvme-rdma']);
  t.same(modulesOfObject(HOST_MAKEFILE, 'nvme-core.o'), [], 'obj- lines are not modules');
});

t.test('the patched variant rebuilds the modules its patches touch', async (t) => {
  const src = join(tmp, 'src');
  mkdirSync(join(src, 'drivers/nvme/host'), { recursive: true });
  writeFileSync(join(src, 'drivers/nvme/host/Makefile'), HOST_MAKEFILE);
  const at = (file: string) => ({ file, patch: 'p' });
  t.same(await touchedModules(src, [at('drivers/nvme/host/multipath.c')]), ['nvme-core']);
  t.same(await touchedModules(src, [at('drivers/infiniband/sw/rxe/rxe_loc.h')]), ['rdma_rxe'], 'a header: its directory');
  await t.rejects(touchedModules(src, [at('include/linux/nvme.h')]), { exitCode: 2, message: /^p: touches include\/linux\/nvme.h, outside/ });
  await t.rejects(touchedModules(src, [at('drivers/nvme/host/tcp.c')]), { message: /no lab module/ });
  t.same(buildDirs(['rdma_rxe', 'nvme-rdma', 'nvme-core', 'nvmet-rdma']), [
    { dir: 'drivers/nvme/host', modules: ['nvme-core', 'nvme-rdma'] },
    { dir: 'drivers/nvme/target', modules: ['nvmet-rdma'] },
    { dir: 'drivers/infiniband/sw/rxe', modules: ['rdma_rxe'] },
  ]);
});

t.test('compare --series: runs grouped by the series in their label, a report table per series', async (t) => {
  const runs = [failRun({ kernel: 'stock@6.1' }), passRun({ kernel: 'patched@6.1' }), failRun({ kernel: 'stock@6.12' }), passRun({ kernel: 'patched@6.12' })];
  t.same([...bySeries(runs).keys()], ['6.1', '6.12']);
  t.same([...bySeries([failRun({ kernel: 'stock' })]).keys()], ['']);
  const html = comparisonTables(results(runs));
  t.equal((html.match(/<table/g) ?? []).length, 2, 'two tables');
  t.same(html.match(/<h3>[^<]*/g), ['<h3>Series 6.1', '<h3>Series 6.12']);
  t.equal((comparisonTables(results([failRun({ kernel: 'stock' }), passRun({ kernel: 'patched' })])).match(/<table|<h3/g) ?? []).join(','), '<table', 'unlabelled: one table');
});

t.test('compare --series names stock and patched of each series; an unpinned series is a usage error', async (t) => {
  t.same(await compareKernels(undefined), ['stock', 'patched']);
  t.same(await compareKernels('6.1,6.12'), ['stock@6.1', 'patched@6.1', 'stock@6.12', 'patched@6.12']);
  await t.rejects(compareKernels('6.1,'), { exitCode: 2, message: /--series: expected series like 6.1,6.12/ });
  await t.rejects(compareKernels('4.19'), { exitCode: 2, message: /--series: no pinned kernel for series "4.19"/ });
});

t.test('one builder at a time: the second waits for the first, a dead holder is taken over', async (t) => {
  const path = join(tmp, 'variant');
  const order: string[] = [];
  const slow = withLock(path, 'a', async () => {
    order.push('a in');
    await new Promise((r) => setTimeout(r, 300));
    order.push('a out');
  });
  await new Promise((r) => setTimeout(r, 50));
  const said: string[] = [];
  await withLock(path, 'the stock@6.1 modules', async () => void order.push('b'), { say: (m) => said.push(m) });
  await slow;
  t.same(order, ['a in', 'a out', 'b']);
  t.match(said[0], /^waiting for the stock@6.1 modules: process \d+ is building it/);
  mkdirSync(`${path}.lock`);
  writeFileSync(join(`${path}.lock`, 'pid'), '999999999\n');
  t.equal(await withLock(path, 'c', async () => 'taken over'), 'taken over');
  mkdirSync(`${path}.lock`);
  writeFileSync(join(`${path}.lock`, 'pid'), `${process.pid}\n`);
  await t.rejects(withLock(path, 'd', async () => 0, { deadlineMs: 1500 }), { message: /timed out after 1500 ms waiting for d \(locked by process/ });
});
