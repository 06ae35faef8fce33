import t from 'tap';
import { renderHtml, timelineSvg } from '../../src/report/html.js';
import { failRun, passRun, results } from './report-fixtures.js';

t.test('report.html: header, comparison table, one svg per run, markers', async (t) => {
  const runs = [failRun(), passRun(), passRun({ iteration: 2 })];
  const html = renderHtml(results(runs));
  t.match(html, /^<!DOCTYPE html>/);
  t.match(html, /<table class="cmp">/);
  t.match(html, /<th class="k sep" colspan="5">stock<\/th><th class="k sep" colspan="5">patched<\/th>/);
  t.match(html, /<tr><th>host-rdma-link<\/th>/);
  t.match(html, /<span class="badge PASS">2× PASS<\/span>/);
  t.equal(html.match(/<svg /g)?.length, runs.length, 'one svg per run');
  t.equal(html.match(/<section class="card /g)?.length, runs.length);
  for (const label of ['device gone', 'device back', 'controller live']) t.match(html, new RegExp(`>${label} \\d`), label);
  t.match(html, /controller live: never/, 'the stock run whose controller never came back says so');
  t.match(html, /<details><summary>6 event\(s\)<\/summary>/);
  t.notMatch(html, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'no scripts, nothing fetched from outside');
});

t.test('report.html escapes all text', async (t) => {
  const evil = '<script>alert("x")</script> & more';
  const html = renderHtml(
    results([
      failRun({ reason: evil, scenario: 'a<b>', kernel: '"k"', events: [{ t_ms: 1, vm: '<vm>', kind: 'k', key: 'x', value: '<img src=x>' }], artifacts: { log: 'javascript:alert(1)' } }),
    ]),
  );
  t.notOk(html.includes('<script>'));
  t.notOk(html.includes('<img'));
  t.notOk(html.includes('<vm>'));
  t.notOk(html.includes('href="javascript'));
  t.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more'));
  t.ok(html.includes('a&lt;b&gt;'));
});

t.test('timeline copes with no I/O and null markers', async (t) => {
  const svg = timelineSvg(passRun({ io: [], events: [], markers: { device_gone_ms: null, device_back_ms: null, ctrl_live_ms: null } }));
  t.match(svg, /no I\/O data/);
  t.match(svg, /device gone: never · device back: never · controller live: never/);
  t.notMatch(svg, /NaN|Infinity/);
  const one = timelineSvg(passRun({ io: [{ t_ms: 0, completions: 0, errors: 0 }], events: [], markers: { device_gone_ms: 0, device_back_ms: null, ctrl_live_ms: null } }));
  t.notMatch(one, /NaN|Infinity/);
  const fail = timelineSvg(failRun());
  t.match(fail, /<circle [^>]*fill="#cf222e"><title>5 s: 4 I\/O error/, 'error points drawn');
  t.match(fail, /<polyline /);
});
