import t from 'tap';
import { toJunit, xmlEscape } from '../../src/report/junit.js';
import { toKcidb } from '../../src/report/kcidb.js';
import { toTap } from '../../src/report/tap.js';
import { failRun, passRun, results } from './report-fixtures.js';

t.test('TAP: one flat line per run with key=value diagnostics', async (t) => {
  const tap = toTap(
    results([
      failRun(),
      passRun(),
      passRun({ scenario: 'both-hotplug', verdict: 'SKIP', reason: 'no PCI device\nin this topology', iteration: 2 }),
      failRun({ scenario: 'target-pci-rebind', verdict: 'ERROR', reason: 'guest hung' }),
    ]),
  );
  t.equal(
    tap,
    [
      'TAP version 13',
      '1..4',
      'not ok 1 - host-rdma-link [stock] #1',
      '# outage_ms=7000',
      '# recovery_ms=never',
      '# ctrl_live_ms=never',
      '# io_errors=16',
      '# verify_errors=0',
      '# lost_writes=0',
      '# splats=1',
      '# reason=controller nvme0 deleted 0.08 s after the device went away; no I/O completed after the reset',
      'ok 2 - host-rdma-link [patched] #1',
      '# outage_ms=3000',
      '# recovery_ms=2000',
      '# ctrl_live_ms=1600',
      '# io_errors=0',
      '# verify_errors=0',
      '# lost_writes=0',
      '# splats=0',
      '# reason=controller nvme0 reconnected 1.60 s after the device came back; I/O resumed after 2.00 s',
      'ok 3 - both-hotplug [patched] \\#2 # SKIP no PCI device in this topology',
      '# outage_ms=3000',
      '# recovery_ms=2000',
      '# ctrl_live_ms=1600',
      '# io_errors=0',
      '# verify_errors=0',
      '# lost_writes=0',
      '# splats=0',
      '# reason=no PCI device in this topology',
      'not ok 4 - target-pci-rebind [stock] #1',
      '# outage_ms=7000',
      '# recovery_ms=never',
      '# ctrl_live_ms=never',
      '# io_errors=16',
      '# verify_errors=0',
      '# lost_writes=0',
      '# splats=1',
      '# reason=guest hung',
      '',
    ].join('\n'),
  );
});

t.test('TAP parses back: names, ok, skip', async (t) => {
  const { Parser } = await import('tap-parser');
  const tap = toTap(results([failRun(), passRun(), passRun({ scenario: 'a#b', verdict: 'SKIP', reason: 'no rxe', iteration: 2 })]));
  const parsed = Parser.parse(tap).filter((e: unknown[]) => e[0] === 'assert').map((e: unknown[]) => e[1] as { ok: boolean; name: string; skip: string | boolean });
  t.same(
    parsed.map((a) => [a.ok, a.name, a.skip]),
    [
      [false, 'host-rdma-link [stock] #1', false],
      [true, 'host-rdma-link [patched] #1', false],
      [true, 'a#b [patched] #2', 'no rxe'],
    ],
  );
});

/** A small XML well-formedness check: tags balance, attribute values quoted, no raw < or stray &. */
function checkXml(xml: string): { elements: Map<string, number> } {
  const elements = new Map<string, number>();
  const stack: string[] = [];
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const re = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body))) {
    if (m[6]) throw new Error(`stray < at ${m.index}`);
    if (m[5] !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i.test(m[5])) throw new Error(`stray & in text at ${m.index}`);
      if (stack.length === 0 && m[5].trim()) throw new Error('text outside the root');
      continue;
    }
    const [, close, name, attrs, selfClose] = m;
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i.test(attrs ?? '')) throw new Error(`stray & in attribute of ${name}`);
    if (close) {
      if (stack.pop() !== name) throw new Error(`mismatched </${name}>`);
    } else {
      elements.set(name!, (elements.get(name!) ?? 0) + 1);
      if (!selfClose) stack.push(name!);
    }
  }
  if (stack.length) throw new Error(`unclosed ${stack.join(',')}`);
  return { elements };
}

t.test('JUnit: well formed, suites per kernel, failure/error/skipped, escaping', async (t) => {
  const nasty = 'bad <tag> & "quotes" \'apos\' \u0001ctl';
  const xml = toJunit(
    results([
      failRun({ reason: nasty }),
      passRun(),
      passRun({ iteration: 2, verdict: 'ERROR', reason: 'qemu died' }),
      passRun({ iteration: 3, verdict: 'SKIP', reason: 'no rxe' }),
    ]),
  );
  const { elements } = checkXml(xml);
  t.equal(elements.get('testsuites'), 1);
  t.equal(elements.get('testsuite'), 2);
  t.equal(elements.get('testcase'), 4);
  t.equal(elements.get('failure'), 1);
  t.equal(elements.get('error'), 1);
  t.equal(elements.get('skipped'), 1);
  t.match(xml, /<testsuite name="stock"[^>]* tests="1" failures="1" errors="0" skipped="0"/);
  t.match(xml, /<testsuite name="patched"[^>]* tests="3" failures="0" errors="1" skipped="1"/);
  t.match(xml, /<testcase classname="reset-bench.stock" name="host-rdma-link #1" time="12.500">/);
  t.match(xml, /<property name="recovery_ms" value="never"\/>/);
  t.match(xml, /<property name="outage_ms" value="3000"\/>/);
  const esc = 'bad &lt;tag&gt; &amp; &quot;quotes&quot; &apos;apos&apos; ctl';
  t.ok(xml.includes(`<failure message="${esc}" type="FAIL">${esc}</failure>`));
  t.notOk(xml.includes('\u0001'), 'control characters dropped');
  t.equal(xmlEscape('a<b&c>"d\''), 'a&lt;b&amp;c&gt;&quot;d&apos;');
  t.throws(() => checkXml('<a><b></a></b>'), 'the checker itself catches bad XML');
  t.throws(() => checkXml('<a>x & y</a>'));
});

t.test('KCIDB: v4 shape, ids with origin, test paths and statuses', async (t) => {
  const k = toKcidb(results([failRun(), passRun(), passRun({ scenario: 'weird name/1', kernel: '/home/me/linux', iteration: 2 })]));
  t.same(k.version, { major: 4, minor: 0 });
  t.equal(k.checkouts.length, 3);
  t.equal(k.builds.length, 3);
  t.equal(k.tests.length, 3);
  for (const o of [...k.checkouts, ...k.builds, ...k.tests]) {
    t.equal(o.origin, 'reset_bench');
    t.match(o.id, /^reset_bench:.+/);
    t.notOk(JSON.stringify(o).includes('null'), 'no null properties');
  }
  const buildIds = new Set(k.builds.map((b) => b.id));
  const checkoutIds = new Set(k.checkouts.map((c) => c.id));
  for (const b of k.builds) t.ok(checkoutIds.has(b.checkout_id));
  for (const x of k.tests) {
    t.ok(buildIds.has(x.build_id));
    t.match(x.path, /^[.a-zA-Z0-9_-]*$/);
  }
  t.equal(new Set(k.tests.map((x) => x.id)).size, 3, 'test ids unique');
  const [fail, pass, weird] = k.tests;
  t.equal(fail!.status, 'FAIL');
  t.equal(fail!.path, 'nvme_rdma.reset.host-rdma-link');
  t.equal(fail!.duration, 12.5);
  t.same((fail!.misc as { never: string[] }).never, ['recovery_ms', 'ctrl_live_ms']);
  t.match(fail!.log_excerpt, /WARNING/);
  t.equal(pass!.status, 'PASS');
  t.same((pass!.misc as { metrics: Record<string, number> }).metrics.outage_ms, 3000);
  t.equal(weird!.path, 'nvme_rdma.reset.weird_name_1');
});
