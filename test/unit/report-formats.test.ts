// TAP, junit.xml and kcidb.json made from fixture results and checked against what their
// consumers accept: TAP parsed back with tap-parser, junit.xml validated with xmllint
// against the Jenkins xUnit plugin's junit-10.xsd, kcidb.json with ajv against kcidb-io's
// v4.0 schema (both schemas in test/schemas/, sources in its README).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { execa } from 'execa';
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { toJunit } from '../../src/report/junit.js';
import { toKcidb } from '../../src/report/kcidb.js';
import { toTap } from '../../src/report/tap.js';
import { UsageError } from '../../src/util/errors.js';
import { failRun, kernelInfo, passRun, results } from './report-fixtures.js';

const schemas = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'schemas');
const JUNIT_XSD = path.join(schemas, 'junit-10.xsd');
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

async function tmp(t: Test): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'rb-formats-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

/** xmllint --schema junit-10.xsd on the text: { ok, output }. */
async function xsdCheck(t: Test, xml: string): Promise<{ ok: boolean; output: string }> {
  const file = path.join(await tmp(t), 'junit.xml');
  await writeFile(file, xml);
  const r = await execa('xmllint', ['--noout', '--schema', JUNIT_XSD, file], { reject: false, timeout: 30_000 });
  return { ok: r.exitCode === 0, output: `${r.stdout}${r.stderr}` };
}

const kcidbValidate = (() => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(JSON.parse(readFileSync(path.join(schemas, 'kcidb-v04_00.json'), 'utf8')) as object);
})();

const mixed = () =>
  results([
    failRun({ kernel_info: kernelInfo('stock') }),
    passRun({ kernel_info: kernelInfo('patched'), phases_ms: { boot: 6500, setup: 4100, load: 12000 } }),
    passRun({ scenario: 'both-hotplug', verdict: 'SKIP', reason: 'no PCI device\nin this topology', iteration: 2 }),
    failRun({ scenario: 'target-pci-rebind', verdict: 'ERROR', reason: 'guest hung' }),
  ]);

t.test('TAP: ERROR and FAIL told apart in a YAML block with verdict, reason and metrics', async (t) => {
  const tap = toTap(mixed());
  const lines = tap.split('\n');
  t.same(lines.slice(0, 3), ['TAP version 13', '1..4', 'not ok 1 - host-rdma-link [stock] #1']);
  const block = lines.slice(3, lines.indexOf('  ...') + 1).join('\n');
  t.equal(
    block,
    [
      '  ---',
      '  verdict: FAIL',
      '  reason: controller nvme0 deleted 0.08 s after the device went away; no I/O completed after the reset',
      '  metrics:',
      '    outage_ms: 7000',
      '    recovery_ms: never',
      '    ctrl_live_ms: never',
      '    io_errors: 16',
      '    verify_errors: 0',
      '    lost_writes: 0',
      '    splats: 1',
      '  kernel: stock',
      '  duration_ms: 12500',
      '  kernel_abi: 6.1.0-41-amd64',
      '  splats:',
      '    - "[   12.3] WARNING: CPU: 0 PID: 42 at drivers/nvme/host/rdma.c:1234 nvme_rdma_free_queue+0x12/0x40"',
      '  ...',
    ].join('\n'),
  );
  t.ok(lines.includes('ok 3 - both-hotplug [patched] \\#2 # SKIP no PCI device in this topology'));
  t.ok(lines.includes('not ok 4 - target-pci-rebind [stock] #1'));

  const { Parser } = await import('tap-parser');
  type Assert = { ok: boolean; name: string; skip: string | boolean; diag: { verdict: string; reason: string; metrics: Record<string, unknown> } | null };
  const asserts = Parser.parse(tap)
    .filter((e: unknown[]) => e[0] === 'assert')
    .map((e: unknown[]) => e[1] as Assert);
  t.same(
    asserts.map((a) => [a.ok, a.name, a.skip, a.diag?.verdict]),
    [
      [false, 'host-rdma-link [stock] #1', false, 'FAIL'],
      [true, 'host-rdma-link [patched] #1', false, 'PASS'],
      [true, 'both-hotplug [patched] #2', 'no PCI device in this topology', 'SKIP'],
      [false, 'target-pci-rebind [stock] #1', false, 'ERROR'],
    ],
  );
  t.equal(asserts[3]!.diag!.reason, 'guest hung');
  t.same(asserts[0]!.diag!.metrics, { outage_ms: 7000, recovery_ms: 'never', ctrl_live_ms: 'never', io_errors: 16, verify_errors: 0, lost_writes: 0, splats: 1 });
  const weird = toTap(results([passRun({ scenario: 'a#b', reason: 'x: "y" # z\nnext', verdict: 'FAIL' })]));
  const w = Parser.parse(weird).find((e: unknown[]) => e[0] === 'assert')![1] as Assert;
  t.equal(w.name, 'a#b [patched] #1');
  t.equal(w.diag!.reason, 'x: "y" # z next', 'YAML quoting survives a colon, quotes and a hash');
});

t.test('junit.xml validates against junit-10.xsd and keeps every datum', async (t) => {
  const nasty = 'bad <tag> & "quotes" \'apos\' \u0001ctl';
  const xml = toJunit(results([failRun({ reason: nasty, kernel_info: kernelInfo('stock') }), ...mixed().runs.slice(1)]));
  const v = await xsdCheck(t, xml);
  t.ok(v.ok, `xmllint: ${v.output}`);
  t.match(v.output, /validates/);
  t.match(xml, /<testsuites name="reset-bench" tests="4" failures="1" errors="1" time="50\.000">/);
  t.match(xml, /<testsuite name="stock"[^>]* tests="2" failures="1" errors="1" skipped="0"/);
  t.match(xml, /<testsuite name="patched"[^>]* tests="2" failures="0" errors="0" skipped="1"/);
  t.match(xml, /<property name="kernel.abi" value="6.1.0-41-amd64"\/>/);
  t.match(xml, /<property name="kernel.patchset_hash" value=""\/>/);
  t.match(xml, /<property name="generated_at" value="2025-01-15T10:02:00.000Z"\/>/);
  const esc = 'bad &lt;tag&gt; &amp; &quot;quotes&quot; &apos;apos&apos; ctl';
  t.ok(xml.includes(`<failure message="${esc}" type="FAIL">${esc}</failure>`));
  t.notOk(xml.includes('\u0001'), 'control characters dropped');
  // the data the six per-testcase <properties> used to hold, now in <system-out>
  for (const kv of ['verdict=FAIL', 'outage_ms=7000', 'recovery_ms=never', 'ctrl_live_ms=never', 'io_errors=16', 'topology=pair', 'side=host', 'reset=rdma-link', 'iteration=1', 'started_at=2025-01-15T10:01:00.000Z', 'phase.boot_ms=6500'])
    t.match(xml, new RegExp(`(^|<system-out>)${kv.replace(/\./g, '\\.')}$`, 'm'), kv);
  t.match(xml, /<error message="guest hung" type="ERROR">guest hung<\/error>/);
  t.match(xml, /<skipped message="no PCI device\nin this topology"\/>/);
});

t.test('the XSD check catches what the old junit.xml did (it is not a no-op)', async (t) => {
  const old = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<testsuites name="reset-bench" tests="1" failures="0" errors="0" skipped="0" time="1.000" timestamp="2025-01-15T10:02:00.000Z">',
    '  <testsuite name="patched" tests="1" failures="0" errors="0">',
    '    <testcase name="x #1"><properties><property name="verdict" value="PASS"/></properties></testcase>',
    '  </testsuite>',
    '</testsuites>',
  ].join('\n');
  const v = await xsdCheck(t, old);
  t.notOk(v.ok);
  t.match(v.output, /skipped/);
  t.match(v.output, /properties/);
});

t.test('kcidb.json validates against kcidb-io v4.0 and names what was tested', async (t) => {
  const r = results([failRun({ kernel_info: kernelInfo('stock') }), passRun({ kernel_info: kernelInfo('patched') }), passRun({ kernel_info: kernelInfo('patched'), iteration: 2, started_at: '2025-01-15T10:03:00.000Z' }), passRun({ scenario: 'weird name/1', kernel: '/home/me/linux', iteration: 2 })]);
  const k = toKcidb(r);
  t.ok(kcidbValidate(k), JSON.stringify(kcidbValidate.errors));
  t.equal(k.checkouts.length, 3);
  t.equal(k.builds.length, 3);
  t.equal(k.tests.length, 4);
  const [stock, patched, own] = k.checkouts;
  t.equal(stock!.tree_name, 'debian');
  t.equal(stock!.git_commit_name, 'debian/6.1.158-1');
  t.equal(stock!.git_repository_url, 'https://salsa.debian.org/kernel-team/linux.git');
  t.equal(stock!.patchset_hash, '');
  t.equal(patched!.patchset_hash, kernelInfo('patched').patchset_hash);
  t.match(patched!.comment, /Linux 6\.1\.0-41-amd64 \(Debian 6\.1\.158-1\) \+ reset-bench series 6\.1/);
  t.notOk(own!.tree_name, 'an own kernel claims no tree');
  t.same(
    k.builds.map((b) => b.config_name),
    ['debian-amd64', 'debian-amd64', undefined],
    'config_name is a configuration, not the variant',
  );
  // start_time: when testing of that kernel began, never after any of its tests
  for (const c of k.checkouts) {
    const builds = k.builds.filter((b) => b.checkout_id === c.id);
    const tests = k.tests.filter((x) => builds.some((b) => b.id === x.build_id));
    t.ok(tests.length > 0);
    for (const x of tests) t.ok(c.start_time! <= x.start_time!, `${c.id} starts before ${x.id}`);
    t.ok(c.start_time! < r.generated_at);
  }
  t.equal(patched!.start_time, '2025-01-15T10:00:00.000Z');
  const fail = k.tests[0]!;
  t.equal(fail.status, 'FAIL');
  t.equal(fail.path, 'nvme_rdma.reset.host-rdma-link');
  t.equal(fail.duration, 12.5);
  const misc = fail.misc as { never: string[]; metrics: Record<string, number>; at_ms: Record<string, number> };
  t.same(misc.never, ['recovery_ms', 'ctrl_live_ms']);
  t.same(misc.at_ms, { device_gone: 5000, device_back: 6000 }, 'points in time apart from the durations');
  t.notOk('markers' in (fail.misc as object));
  const pm = k.tests[1]!.misc as { metrics: Record<string, number>; at_ms: Record<string, number> };
  t.equal(pm.metrics.ctrl_live_ms, 1600, 'metrics: a duration');
  t.equal(pm.at_ms.ctrl_live, 7600, 'at_ms: a point in time');
  t.equal(k.tests[3]!.path, 'nvme_rdma.reset.weird_name_1');
  t.equal(new Set(k.tests.map((x) => x.id)).size, 4, 'test ids unique');
});

t.test('kcidb ids: the same kernel gives the same checkout and build in every shard, at any write time', async (t) => {
  const shard1 = { ...results([passRun({ kernel_info: kernelInfo('patched') })]), generated_at: '2025-01-15T11:00:00.000Z' };
  const shard2 = { ...results([passRun({ kernel_info: kernelInfo('patched'), scenario: 'target-rdma-link', started_at: '2025-01-15T10:30:00.000Z' })]), generated_at: '2025-01-15T12:00:00.000Z' };
  const a = toKcidb(shard1);
  const b = toKcidb(shard2);
  t.equal(a.checkouts[0]!.id, b.checkouts[0]!.id);
  t.equal(a.builds[0]!.id, b.builds[0]!.id);
  t.notOk(a.checkouts[0]!.id.includes('20250115'), 'no time in a checkout id');
  t.not(a.tests[0]!.id, b.tests[0]!.id);
  t.same(toKcidb(shard1), a, 'rewriting gives the same ids');
  const own = (dir: string) => toKcidb(results([passRun({ kernel: dir, kernel_info: kernelInfo('own', { package_version: '', abi: '6.12.0-rc1', patchset_hash: '' }) })]));
  t.not(own('/home/a/linux').checkouts[0]!.id, own('/home/b/linux').checkouts[0]!.id, 'two own trees with one release: two checkouts');
  t.equal(own('/home/a/linux').checkouts[0]!.comment, 'Linux 6.12.0-rc1 built from /home/a/linux');
  t.ok(kcidbValidate(own('/home/a/linux')));
  t.equal(own('/home/a/linux').builds[0]!.config_name, undefined, 'an own config is not named');
  const debug = toKcidb(results([passRun({ kernel: 'debug', kernel_info: kernelInfo('debug') })]));
  t.equal(debug.checkouts[0]!.id, a.checkouts[0]!.id, 'debug: the same source as patched');
  t.not(debug.builds[0]!.id, a.builds[0]!.id, 'but another build');
  t.equal(debug.builds[0]!.config_name, 'debian-amd64+debug');
});

t.test('--kcidb-origin: used everywhere, checked against the schema pattern', async (t) => {
  const k = toKcidb(results(), { origin: 'my_lab_2' });
  t.ok(kcidbValidate(k));
  for (const o of [...k.checkouts, ...k.builds, ...k.tests]) {
    t.equal(o.origin, 'my_lab_2');
    t.match(o.id, /^my_lab_2:/);
  }
  for (const bad of ['My-Lab', '', 'a:b']) {
    const err = (() => {
      try {
        toKcidb(results(), { origin: bad });
      } catch (e) {
        return e;
      }
    })();
    t.ok(err instanceof UsageError, `${JSON.stringify(bad)} refused`);
    t.match((err as Error).message, /^--kcidb-origin: /);
  }
});

t.test('the kcidb schema check is not a no-op', async (t) => {
  const k = toKcidb(results()) as unknown as { checkouts: Record<string, unknown>[]; tests: Record<string, unknown>[] };
  k.checkouts[0]!.start_time = null;
  t.notOk(kcidbValidate(k), 'null refused');
  const k2 = toKcidb(results()) as unknown as { tests: Record<string, unknown>[] };
  k2.tests[0]!.markers = {};
  t.notOk(kcidbValidate(k2), 'extra property refused');
});
