// junit.xml: one testsuite per kernel, one testcase per run. Valid against the Jenkins
// xUnit plugin's junit-10.xsd (test/schemas/), which GitLab and Jenkins both read: a
// testcase may hold no <properties> there, so a run's data (verdict, metrics, where it
// ran) is key=value lines in its <system-out>, and the kernel's identity is properties
// of its testsuite. <testsuites> takes no skipped or timestamp attribute.
import type { KernelInfo, Results, RunResult } from '../scenario/types.js';
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

/** The run's data as `key=value` lines; null metrics are "never". */
export function runDataLines(r: RunResult): string[] {
  const lines = [`verdict=${r.verdict}`, `reason=${r.reason}`];
  for (const m of METRIC_NAMES) lines.push(`${m}=${r.metrics[m] === null ? 'never' : String(r.metrics[m])}`);
  lines.push(`topology=${r.topology}`, `side=${r.side}`, `reset=${r.reset}`, `iteration=${r.iteration}`, `started_at=${r.started_at}`, `duration_ms=${r.duration_ms}`);
  for (const [k, v] of Object.entries(r.phases_ms ?? {})) lines.push(`phase.${k}_ms=${v}`);
  for (const l of r.splat_lines) lines.push(`splat=${l}`);
  for (const [k, v] of Object.entries(r.artifacts)) lines.push(`artifact.${k}=${v}`);
  return lines;
}

function testcase(r: RunResult): string[] {
  const out = [`    <testcase classname=${attr(`reset-bench.${r.kernel}`)} name=${attr(`${r.scenario} #${r.iteration}`)} time=${attr(secs(r.duration_ms))}>`];
  if (r.verdict === 'FAIL') out.push(`      <failure message=${attr(r.reason)} type="FAIL">${xmlEscape(r.reason)}</failure>`);
  else if (r.verdict === 'ERROR') out.push(`      <error message=${attr(r.reason)} type="ERROR">${xmlEscape(r.reason)}</error>`);
  else if (r.verdict === 'SKIP') out.push(`      <skipped message=${attr(r.reason)}/>`);
  out.push(`      <system-out>${xmlEscape(runDataLines(r).join('\n'))}</system-out>`);
  out.push('    </testcase>');
  return out;
}

/** The kernel's identity, from the first run that has it. */
function kernelProps(runs: RunResult[]): [string, string][] {
  const info: KernelInfo | undefined = runs.find((r) => r.kernel_info)?.kernel_info;
  if (!info) return [];
  const props: [string, string][] = [
    ['kernel.series', info.series],
    ['kernel.package_version', info.package_version],
    ['kernel.abi', info.abi],
    ['kernel.variant', info.variant],
  ];
  if (info.patchset_hash !== undefined) props.push(['kernel.patchset_hash', info.patchset_hash]);
  if (info.lab_patches) props.push(['kernel.lab_patches', info.lab_patches.join(' ')]);
  return props;
}

export function toJunit(results: Results): string {
  const kernels = orderKernels(results.runs.map((r) => r.kernel));
  const count = (runs: RunResult[], v: RunResult['verdict']) => runs.filter((r) => r.verdict === v).length;
  const total = (runs: RunResult[]) => secs(runs.reduce((a, r) => a + r.duration_ms, 0));
  const all = results.runs;
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(`<testsuites name="reset-bench" tests="${all.length}" failures="${count(all, 'FAIL')}" errors="${count(all, 'ERROR')}" time="${total(all)}">`);
  kernels.forEach((k, id) => {
    const runs = all.filter((r) => r.kernel === k);
    lines.push(
      `  <testsuite name=${attr(k)} id="${id}" package="reset-bench" tests="${runs.length}" failures="${count(runs, 'FAIL')}" errors="${count(runs, 'ERROR')}" skipped="${count(runs, 'SKIP')}" time="${total(runs)}" timestamp=${attr(runs[0]?.started_at ?? results.generated_at)}>`,
    );
    const props: [string, string][] = [
      ['tool', `${results.tool.name} ${results.tool.version}`],
      ['kernel', k],
      ...kernelProps(runs),
      ['generated_at', results.generated_at],
    ];
    lines.push('    <properties>');
    for (const [name, value] of props) lines.push(`      <property name=${attr(name)} value=${attr(value)}/>`);
    lines.push('    </properties>');
    for (const r of runs) lines.push(...testcase(r));
    lines.push('  </testsuite>');
  });
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}
