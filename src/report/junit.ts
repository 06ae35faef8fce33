// junit.xml: one testsuite per kernel, one testcase per run.
import type { Results, RunResult } from '../scenario/types.js';
import { METRIC_NAMES, orderKernels } from './stats.js';

/** Escapes text for XML content and attributes, dropping characters XML 1.0 forbids. */
export function xmlEscape(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

const attr = (s: string | number): string => `"${xmlEscape(String(s))}"`;
const secs = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3);

function testcase(r: RunResult): string[] {
  const out = [`    <testcase classname=${attr(`reset-bench.${r.kernel}`)} name=${attr(`${r.scenario} #${r.iteration}`)} time=${attr(secs(r.duration_ms))}>`];
  out.push('      <properties>');
  const props: [string, string][] = [
    ['verdict', r.verdict],
    ...METRIC_NAMES.map((m): [string, string] => [m, r.metrics[m] === null ? 'never' : String(r.metrics[m])]),
    ['topology', r.topology],
    ['side', r.side],
    ['reset', r.reset],
    ['iteration', String(r.iteration)],
    ['started_at', r.started_at],
  ];
  for (const [k, v] of props) out.push(`        <property name=${attr(k)} value=${attr(v)}/>`);
  out.push('      </properties>');
  if (r.verdict === 'FAIL') out.push(`      <failure message=${attr(r.reason)} type="FAIL">${xmlEscape(r.reason)}</failure>`);
  else if (r.verdict === 'ERROR') out.push(`      <error message=${attr(r.reason)} type="ERROR">${xmlEscape(r.reason)}</error>`);
  else if (r.verdict === 'SKIP') out.push(`      <skipped message=${attr(r.reason)}/>`);
  const sysout = [`reason: ${r.reason}`, ...r.splat_lines.map((l) => `splat: ${l}`), ...Object.entries(r.artifacts).map(([k, v]) => `artifact ${k}: ${v}`)];
  out.push(`      <system-out>${xmlEscape(sysout.join('\n'))}</system-out>`);
  out.push('    </testcase>');
  return out;
}

export function toJunit(results: Results): string {
  const kernels = orderKernels(results.runs.map((r) => r.kernel));
  const count = (runs: RunResult[], v: RunResult['verdict']) => runs.filter((r) => r.verdict === v).length;
  const total = (runs: RunResult[]) => secs(runs.reduce((a, r) => a + r.duration_ms, 0));
  const all = results.runs;
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(
    `<testsuites name="reset-bench" tests="${all.length}" failures="${count(all, 'FAIL')}" errors="${count(all, 'ERROR')}" skipped="${count(all, 'SKIP')}" time="${total(all)}" timestamp=${attr(results.generated_at)}>`,
  );
  kernels.forEach((k, id) => {
    const runs = all.filter((r) => r.kernel === k);
    lines.push(
      `  <testsuite name=${attr(k)} id="${id}" package="reset-bench" tests="${runs.length}" failures="${count(runs, 'FAIL')}" errors="${count(runs, 'ERROR')}" skipped="${count(runs, 'SKIP')}" time="${total(runs)}" timestamp=${attr(runs[0]?.started_at ?? results.generated_at)}>`,
    );
    lines.push('    <properties>');
    lines.push(`      <property name="tool" value=${attr(`${results.tool.name} ${results.tool.version}`)}/>`);
    lines.push(`      <property name="kernel" value=${attr(k)}/>`);
    lines.push('    </properties>');
    for (const r of runs) lines.push(...testcase(r));
    lines.push('  </testsuite>');
  });
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}
