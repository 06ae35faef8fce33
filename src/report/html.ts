// report.html: self-contained (inline CSS and SVG, no scripts), works offline.
// Header, the stock vs patched comparison table, then a card per run with an SVG
// timeline of the I/O rate and the device-gone / device-back / controller-live markers.
import type { Results, RunResult, Verdict } from '../scenario/types.js';
import { buildComparison, type Distribution, formatDistMedian, formatMs, METRIC_NAMES, orderKernels, VERDICTS } from './stats.js';

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
const e = escapeHtml;

const CSS = `
:root{--pass:#1a7f37;--fail:#cf222e;--error:#9a6700;--skip:#6e7781;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);margin:0;background:#fff}
header{padding:18px 28px;border-bottom:1px solid var(--line);background:var(--bg)}
header h1{margin:0 0 4px;font-size:22px}
header .meta{color:var(--muted)}
header .totals{margin-top:6px}
main{padding:18px 28px;max-width:1280px}
h2{font-size:18px;margin:22px 0 10px}
table{border-collapse:collapse}
table.cmp{width:100%;font-variant-numeric:tabular-nums}
table.cmp th,table.cmp td{border:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
table.cmp thead th{background:var(--bg)}
table.cmp th.k{text-align:center;font-size:15px}
table.cmp td.n{text-align:right;white-space:nowrap}
table.cmp td.sep,table.cmp th.sep{border-left:3px solid #8c959f}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;color:#fff;font-weight:600;font-size:12px;margin:0 3px 2px 0;white-space:nowrap}
.PASS{background:var(--pass)}.FAIL{background:var(--fail)}.ERROR{background:var(--error)}.SKIP{background:var(--skip)}
.card{border:1px solid var(--line);border-left:6px solid var(--skip);border-radius:6px;margin:14px 0;padding:10px 14px}
.card.v-PASS{border-left-color:var(--pass)}.card.v-FAIL{border-left-color:var(--fail)}.card.v-ERROR{border-left-color:var(--error)}
.card h3{margin:0 0 4px;font-size:16px}
.card .sub{color:var(--muted);font-size:12px}
.card .reason{margin:6px 0;font-weight:500}
dl.metrics{display:grid;grid-template-columns:repeat(7,minmax(0,1fr));gap:4px 12px;margin:8px 0}
dl.metrics div{background:var(--bg);border-radius:4px;padding:4px 8px}
dl.metrics dt{color:var(--muted);font-size:11px}
dl.metrics dd{margin:0;font-weight:600;font-variant-numeric:tabular-nums}
dd.never{color:var(--fail)}
svg.tl{width:100%;height:auto;display:block;margin:6px 0;background:#fff}
pre{background:var(--bg);padding:6px 8px;overflow:auto;font-size:12px;margin:6px 0}
details summary{cursor:pointer;color:var(--muted)}
table.ev{font-size:12px;font-variant-numeric:tabular-nums}
table.ev td,table.ev th{padding:2px 8px;border-bottom:1px solid var(--line);text-align:left}
.note{color:var(--muted);font-size:12px}
footer{padding:12px 28px;color:var(--muted);font-size:12px}
@media (max-width:900px){dl.metrics{grid-template-columns:repeat(4,minmax(0,1fr))}main,header{padding:12px}}
`;

function badge(v: Verdict, count?: number): string {
  return `<span class="badge ${v}">${count !== undefined && count !== 1 ? `${count}× ` : ''}${v}</span>`;
}

function distTitle(d: Distribution): string {
  if (d.n === 0) return d.never ? `never in ${d.never} run(s)` : 'no data';
  return `n=${d.n}${d.never ? ` never=${d.never}` : ''} min=${formatMs(d.min)} median=${formatMs(d.median)} p95=${formatMs(d.p95)} max=${formatMs(d.max)}`;
}

function distCell(d: Distribution): string {
  const p95 = d.n > 1 ? ` <span class="note">p95 ${e(formatMs(d.p95))}</span>` : '';
  return `<td class="n" title="${e(distTitle(d))}">${e(formatDistMedian(d))}${p95}</td>`;
}

export function comparisonTable(results: Results): string {
  const c = buildComparison(results);
  if (c.rows.length === 0) return '<p class="note">No runs.</p>';
  const cols = ['verdicts', 'outage', 'recovery', 'ctrl live', 'io / verify errors'];
  const h1 = c.kernels.map((k) => `<th class="k sep" colspan="${cols.length}">${e(k)}</th>`).join('');
  const h2 = c.kernels.map(() => cols.map((col, i) => `<th${i === 0 ? ' class="sep"' : ''}>${e(col)}</th>`).join('')).join('');
  const body = c.rows
    .map((row) => {
      const cells = c.kernels
        .map((k) => {
          const s = row.kernels[k];
          if (!s) return `<td class="sep">-</td>${'<td>-</td>'.repeat(cols.length - 1)}`;
          const badges = VERDICTS.filter((v) => s.verdicts[v] > 0)
            .map((v) => badge(v, s.verdicts[v]))
            .join('');
          return `<td class="sep">${badges}</td>${distCell(s.outage_ms)}${distCell(s.recovery_ms)}${distCell(s.ctrl_live_ms)}<td class="n">${s.io_errors} / ${s.verify_errors}</td>`;
        })
        .join('');
      return `<tr><th>${e(row.scenario)}</th>${cells}</tr>`;
    })
    .join('\n');
  return `<table class="cmp"><thead><tr><th rowspan="2">scenario</th>${h1}</tr><tr>${h2}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** One table per kernel series named in the runs' labels (stock@6.12, patched@6.12); one table when no label names one. */
export function comparisonTables(results: Results): string {
  const groups = new Map<string, RunResult[]>();
  for (const r of results.runs) {
    const series = /@(\d+\.\d+)$/.exec(r.kernel)?.[1] ?? '';
    groups.set(series, [...(groups.get(series) ?? []), r]);
  }
  if (groups.size === 0 || (groups.size === 1 && groups.has(''))) return comparisonTable(results);
  return [...groups]
    .map(([series, runs]) => `<h3>${series ? `Series ${e(series)}` : 'Other kernels'}</h3>\n${comparisonTable({ ...results, runs })}`)
    .join('\n');
}

const f1 = (n: number): string => (Math.round(n * 10) / 10).toString();

/** A "nice" tick step for a range. */
function niceStep(range: number, target: number): number {
  const raw = range / Math.max(1, target);
  const pow = 10 ** Math.floor(Math.log10(raw));
  const m = raw / pow;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * pow;
}

const MARKERS = [
  { key: 'device_gone_ms', label: 'device gone', color: '#bc4c00' },
  { key: 'device_back_ms', label: 'device back', color: '#0969da' },
  { key: 'ctrl_live_ms', label: 'controller live', color: '#1a7f37' },
] as const;

const VM_COLORS = ['#8250df', '#0550ae', '#953800', '#116329', '#6e7781'];

/** The SVG timeline of one run. */
export function timelineSvg(run: RunResult): string {
  const W = 1000, H = 250;
  const L = 62, R = 18, T = 44, B = 58;
  const pw = W - L - R, ph = H - T - B;
  const io = [...run.io].sort((a, b) => a.t_ms - b.t_ms);
  const markerTimes = MARKERS.map((m) => run.markers[m.key]).filter((v): v is number => v !== null);
  // Start a second before the first I/O: the boot and set-up before it are not the story.
  const start = io.length > 0 ? io[0]!.t_ms - 1000 : 0;
  const events = run.events.filter((ev) => ev.t_ms >= start);
  const ts = [start, ...io.map((p) => p.t_ms), ...markerTimes, ...events.map((ev) => ev.t_ms)];
  let x0 = Math.min(...ts);
  let x1 = Math.max(...ts, run.duration_ms > 0 && io.length === 0 && events.length === 0 ? run.duration_ms : 0);
  if (!(x1 > x0)) x1 = x0 + 1000;
  const pad = (x1 - x0) * 0.01;
  x0 -= pad;
  x1 += pad;
  const yMax = Math.max(1, ...io.map((p) => p.completions));
  const X = (t: number) => L + ((t - x0) / (x1 - x0)) * pw;
  const Y = (v: number) => T + ph - (v / yMax) * ph;
  const parts: string[] = [];
  parts.push(`<svg class="tl" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${e(`I/O timeline of ${run.scenario} on ${run.kernel}, run ${run.iteration}`)}">`);
  parts.push(`<rect x="${L}" y="${T}" width="${pw}" height="${ph}" fill="#fbfcfd" stroke="#d1d9e0"/>`);
  // grid and axes
  const xs = niceStep(x1 - x0, 10);
  for (let t = Math.ceil(x0 / xs) * xs; t <= x1; t += xs) {
    const x = f1(X(t));
    parts.push(`<line x1="${x}" y1="${T}" x2="${x}" y2="${T + ph}" stroke="#eaeef2"/>`);
    parts.push(`<text x="${x}" y="${T + ph + 14}" font-size="11" text-anchor="middle" fill="#59636e">${e(f1(t / 1000))}s</text>`);
  }
  const ys = niceStep(yMax, 4);
  for (let v = 0; v <= yMax; v += ys) {
    const y = f1(Y(v));
    parts.push(`<line x1="${L}" y1="${y}" x2="${L + pw}" y2="${y}" stroke="#eaeef2"/>`);
    parts.push(`<text x="${L - 6}" y="${y}" font-size="11" text-anchor="end" dominant-baseline="middle" fill="#59636e">${v}</text>`);
  }
  const step = io.length > 1 ? io[1]!.t_ms - io[0]!.t_ms : 0;
  const yLabel = step > 0 ? `I/O per ${f1(step)} ms` : 'I/O per interval';
  parts.push(`<text x="14" y="${T + ph / 2}" font-size="11" fill="#59636e" text-anchor="middle" transform="rotate(-90 14 ${T + ph / 2})">${e(yLabel)}</text>`);
  // I/O area + line
  if (io.length > 0) {
    const pts = io.map((p) => `${f1(X(p.t_ms))},${f1(Y(p.completions))}`);
    const base = f1(Y(0));
    parts.push(`<path d="M${f1(X(io[0]!.t_ms))},${base} L${pts.join(' L')} L${f1(X(io[io.length - 1]!.t_ms))},${base} Z" fill="#54aeff" fill-opacity="0.25" stroke="none"/>`);
    parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="#0969da" stroke-width="1.5"/>`);
    for (const p of io)
      if (p.errors > 0)
        parts.push(`<circle cx="${f1(X(p.t_ms))}" cy="${f1(Y(p.completions))}" r="3.5" fill="#cf222e"><title>${e(`${f1(p.t_ms / 1000)} s: ${p.errors} I/O error(s), ${p.completions} completion(s)`)}</title></circle>`);
  } else {
    parts.push(`<text x="${L + pw / 2}" y="${T + ph / 2}" font-size="14" text-anchor="middle" fill="#59636e">no I/O data</text>`);
  }
  // markers: dashed vertical lines, labels staggered on three rows above the plot
  MARKERS.forEach((m, i) => {
    const t = run.markers[m.key];
    if (t === null) return;
    const x = f1(X(t));
    const ly = 12 + i * 12;
    parts.push(`<line x1="${x}" y1="${ly + 2}" x2="${x}" y2="${T + ph}" stroke="${m.color}" stroke-width="1.5" stroke-dasharray="5 3"/>`);
    parts.push(`<text x="${x}" y="${ly}" font-size="11" font-weight="600" fill="${m.color}" text-anchor="${X(t) > L + pw - 110 ? 'end' : 'start'}" dx="${X(t) > L + pw - 110 ? -3 : 3}">${e(`${m.label} ${f1(t / 1000)}s`)}</text>`);
  });
  const never = MARKERS.filter((m) => run.markers[m.key] === null).map((m) => `${m.label}: never`);
  // event ticks below the axis, one row per VM
  const vms = [...new Set(events.map((ev) => ev.vm))];
  const rowY = (vm: string) => T + ph + 24 + (vms.indexOf(vm) % 3) * 9;
  for (const ev of events) {
    const x = f1(X(ev.t_ms));
    const y = rowY(ev.vm);
    const color = VM_COLORS[vms.indexOf(ev.vm) % VM_COLORS.length];
    parts.push(`<line x1="${x}" y1="${y}" x2="${x}" y2="${y + 7}" stroke="${color}" stroke-width="2"><title>${e(`${f1(ev.t_ms / 1000)} s ${ev.vm} ${ev.kind} ${ev.key}=${ev.value}`)}</title></line>`);
  }
  let legendX = L;
  const legendY = H - 4;
  if (vms.length > 0) {
    parts.push(`<text x="${legendX}" y="${legendY}" font-size="11" fill="#59636e">events:</text>`);
    legendX += 48;
    vms.forEach((vm, i) => {
      parts.push(`<rect x="${legendX}" y="${legendY - 8}" width="8" height="8" fill="${VM_COLORS[i % VM_COLORS.length]}"/><text x="${legendX + 11}" y="${legendY}" font-size="11" fill="#59636e">${e(vm)}</text>`);
      legendX += 20 + vm.length * 6.5;
    });
  }
  if (never.length > 0) parts.push(`<text x="${L + pw}" y="${legendY}" font-size="11" font-weight="600" fill="#cf222e" text-anchor="end">${e(never.join(' · '))}</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

function metricsList(run: RunResult): string {
  return `<dl class="metrics">${METRIC_NAMES.map((m) => {
    const v = run.metrics[m];
    const text = v === null ? 'never' : m.endsWith('_ms') ? formatMs(v) : String(v);
    return `<div><dt>${e(m)}</dt><dd${v === null ? ' class="never"' : ''}>${e(text)}</dd></div>`;
  }).join('')}</dl>`;
}

function eventsTable(run: RunResult): string {
  if (run.events.length === 0) return '<p class="note">No timeline events.</p>';
  const rows = [...run.events]
    .sort((a, b) => a.t_ms - b.t_ms)
    .map((ev) => `<tr><td>${e(f1(ev.t_ms / 1000))} s</td><td>${e(ev.vm)}</td><td>${e(ev.kind)}</td><td>${e(ev.key)}</td><td>${e(ev.value)}</td></tr>`)
    .join('');
  return `<details><summary>${run.events.length} event(s)</summary><table class="ev"><thead><tr><th>t</th><th>vm</th><th>kind</th><th>key</th><th>value</th></tr></thead><tbody>${rows}</tbody></table></details>`;
}

function safeHref(p: string): string | null {
  // relative paths inside the results directory only: no scheme, no absolute path
  if (/^[a-z][a-z0-9+.-]*:/i.test(p) || p.startsWith('/') || p.startsWith('\\')) return null;
  return p.split('/').map(encodeURIComponent).join('/');
}

function artifactsList(run: RunResult): string {
  const entries = Object.entries(run.artifacts);
  if (entries.length === 0) return '';
  return `<p class="note">logs: ${entries
    .map(([k, v]) => {
      const href = safeHref(v);
      return href ? `<a href="${e(href)}">${e(k)}</a>` : `${e(k)} (${e(v)})`;
    })
    .join(' · ')}</p>`;
}

/** Where the run's time went, when the runner recorded it. */
function phasesLine(run: RunResult): string {
  const phases = Object.entries(run.phases_ms ?? {});
  if (phases.length === 0) return '';
  return `<p class="note phases">phases: ${phases.map(([k, v]) => `<span data-phase="${e(k)}">${e(k)} ${e(formatMs(v))}</span>`).join(' · ')}</p>`;
}

/** Exactly which kernel ran, when the run says. */
function kernelLine(run: RunResult): string {
  const k = run.kernel_info;
  if (!k) return '';
  const hash = k.patchset_hash === undefined ? '' : k.patchset_hash === '' ? ' · no patches' : ` · patchset ${k.patchset_hash.slice(0, 12)}`;
  const lab = k.lab_patches?.length ? ` · lab patches: ${k.lab_patches.join(', ')}` : '';
  return `<div class="sub kernel">Linux ${e(k.abi)} · Debian ${e(k.package_version)} · ${e(k.variant)} · series ${e(k.series)}${e(hash)}${e(lab)}</div>`;
}

export function runCard(run: RunResult, index: number): string {
  const splats = run.splat_lines.length > 0 ? `<pre>${e(run.splat_lines.join('\n'))}</pre>` : '';
  return `<section class="card v-${run.verdict}" id="run-${index + 1}">
<h3>${badge(run.verdict)} ${e(run.scenario)} <span class="sub">[${e(run.kernel)}] #${run.iteration}</span></h3>
<div class="sub">${e(run.topology)} topology · ${e(run.side)} side · reset ${e(run.reset)} · started ${e(run.started_at)} · ${e(formatMs(run.duration_ms))} · clock ${e(run.clock.method)} ±${e(run.clock.error_bound_ms.toFixed(2))} ms</div>
${kernelLine(run)}
<p class="reason">${e(run.reason)}</p>
${metricsList(run)}
${phasesLine(run)}
${timelineSvg(run)}
${splats}
${eventsTable(run)}
${artifactsList(run)}
</section>`;
}

export function renderHtml(results: Results): string {
  const kernels = orderKernels(results.runs.map((r) => r.kernel));
  const counts = VERDICTS.map((v) => [v, results.runs.filter((r) => r.verdict === v).length] as const).filter(([, n]) => n > 0);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>reset-bench report ${e(results.generated_at)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>reset-bench: NVMe/RDMA device reset</h1>
<div class="meta">generated ${e(results.generated_at)} by ${e(results.tool.name)} ${e(results.tool.version)} · kernels: ${kernels.map((k) => `<b>${e(k)}</b>`).join(', ') || 'none'} · ${results.runs.length} run(s)</div>
<div class="totals">${counts.map(([v, n]) => badge(v, n)).join('')}</div>
</header>
<main>
<h2>Comparison</h2>
${comparisonTables(results)}
<p class="note">Times are medians over repeats (hover for min / median / p95 / max). outage: longest gap between I/O completions around the reset; recovery: device back to first completed I/O; ctrl live: device back to controller live. never: the event did not happen during the run.</p>
<h2>Runs</h2>
${results.runs.map((r, i) => runCard(r, i)).join('\n')}
</main>
<footer>self-contained report: no scripts, no network.</footer>
</body>
</html>
`;
}
