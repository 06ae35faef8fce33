// A fio-like text summary of a loader result.
import type { RawLat } from './native.js';
import type { LoadResult, OpSummary } from './run.js';

/** n divided by `base` while it is that large and a larger unit is left: the value and its unit. */
function scale(n: number, base: number, units: readonly string[]): { v: number; unit: string } {
  let v = n;
  let u = 0;
  while (Math.abs(v) >= base && u < units.length - 1) {
    v /= base;
    u++;
  }
  return { v, unit: units[u]! };
}

/** Three significant digits, as fio prints them; `trim` drops trailing zeros (1.50 -> 1.5). */
const sig3 = (v: number, trim: boolean): string =>
  v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : trim ? v.toFixed(2).replace(/\.?0+$/, '') : v.toFixed(2);

/** fio's num2str style: 3 significant digits with k/M/G, integers below 10000. */
export function fmtCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) < 10000) return String(Math.round(n));
  const { v, unit } = scale(n, 1000, ['', 'k', 'M', 'G', 'T']);
  return `${sig3(v, false)}${unit}`;
}

/** Bytes with `base` 1024 or 1000 and its units: whole bytes, else 3 significant digits. */
function fmtBytesIn(n: number, base: number, units: readonly string[]): string {
  const { v, unit } = scale(n, base, units);
  return unit === 'B' ? `${Math.round(v)}B` : `${sig3(v, true)}${unit}`;
}

/** Binary bytes, fio style: "366MiB", "4096B", "1.5GiB". */
export const fmtBytes = (n: number): string => fmtBytesIn(n, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB']);

/** Decimal bytes: "384MB". */
export const fmtBytesDec = (n: number): string => fmtBytesIn(n, 1000, ['B', 'kB', 'MB', 'GB', 'TB']);

/** Picks the latency unit by the magnitude of a typical (median) latency. */
export function latUnit(typicalNs: number): { name: 'nsec' | 'usec' | 'msec'; div: number } {
  if (typicalNs < 10_000) return { name: 'nsec', div: 1 };
  if (typicalNs < 100_000_000) return { name: 'usec', div: 1e3 };
  return { name: 'msec', div: 1e6 };
}

const PCT_KEYS = ['1', '5', '10', '20', '30', '40', '50', '60', '70', '80', '90', '95', '99', '99.5', '99.9', '99.95', '99.99'];

/** fio's "clat percentiles" block, four per row. */
export function fmtPercentiles(lat: RawLat, div: number): string[] {
  const cells = PCT_KEYS.map((k) => {
    const v = Math.round((lat.percentilesNs[k] ?? 0) / div);
    return `${Number(k).toFixed(2).padStart(5)}th=[${String(v).padStart(5)}]`;
  });
  const lines: string[] = [];
  for (let i = 0; i < cells.length; i += 4) {
    const row = cells.slice(i, i + 4).join(', ');
    lines.push(`     | ${row}${i + 4 < cells.length ? ',' : ''}`);
  }
  return lines;
}

function opBlock(name: 'read' | 'write', o: OpSummary, runtimeNs: number): string[] {
  const ms = Math.round(runtimeNs / 1e6);
  const u = latUnit(o.lat.percentilesNs['50'] ?? o.lat.maxNs);
  const f = (ns: number): string => (ns / u.div).toFixed(u.div === 1 ? 0 : 2);
  return [
    `  ${name}: IOPS=${fmtCount(o.iops)}, BW=${fmtBytes(o.bytesPerSec)}/s (${fmtBytesDec(o.bytesPerSec)}/s)(${fmtBytes(o.bytes)}/${ms}msec)`,
    `    clat (${u.name}): min=${f(o.lat.minNs)}, max=${f(o.lat.maxNs)}, avg=${f(o.lat.meanNs)}`,
    `    clat percentiles (${u.name}):`,
    ...fmtPercentiles(o.lat, u.div),
    `    errors=${o.errors}, retries=${o.retries}`,
  ];
}

/** The whole summary, fio-like, plus the loader's own lines (errors, gaps, verify). */
export function formatSummary(r: LoadResult, jobName = 'reset-bench'): string {
  const s = r.spec;
  const out: string[] = [];
  const rw = r.mode === 'verify' ? 'verify' : s.rw;
  out.push(
    `${jobName}: (g=0): rw=${rw}, bs=${s.bs}B, ioengine=io_uring(reset-bench${r.target.fixedBuffers ? ', fixedbufs' : ''}${r.target.direct ? '' : ', buffered'}), iodepth=${s.iodepth}`,
  );
  out.push(
    `${jobName}: (groupid=0, jobs=1): err=${String(r.ioErrors).padStart(2)}: target=${r.target.filename} size=${fmtBytes(r.target.size)}${r.stoppedEarly ? ' (stopped early)' : ''}`,
  );
  if (r.read.ios > 0 || (r.mode === 'load' && (s.rw === 'read' || s.rw === 'randread' || s.rw === 'randrw')))
    out.push(...opBlock('read', r.read, r.runtimeNs));
  if (r.write.ios > 0 || (r.mode === 'load' && (s.rw === 'write' || s.rw === 'randwrite' || s.rw === 'randrw')))
    out.push(...opBlock('write', r.write, r.runtimeNs));
  if (r.ioErrors > 0) {
    const byCode = new Map<string, number>();
    for (const e of r.errors) byCode.set(`${e.op} ${e.code}`, (byCode.get(`${e.op} ${e.code}`) ?? 0) + 1);
    out.push(`  io errors: ${r.ioErrors} (${[...byCode].map(([k, n]) => `${k}=${n}`).join(', ')}), abandoned=${r.abandoned}`);
  }
  if (r.gaps.length > 0) {
    const lg = r.gaps.reduce((a, b) => (b.ns > a.ns ? b : a));
    out.push(
      `  completion gaps >= ${s.gapThresholdMs}ms: ${r.gaps.length}, longest=${(lg.ns / 1e6).toFixed(1)}ms at +${((lg.startNs - r.startNs) / 1e6).toFixed(1)}ms${lg.open ? ' (open at end)' : ''}`,
    );
  }
  if (r.verify.enabled) {
    const fp = r.verify.finalPass;
    const verdict = r.verify.errors === 0 ? 'OK' : 'FAILED';
    out.push(
      `  verify: ${verdict}: errors=${r.verify.errors}, lost=${r.verify.lostWrites}, torn=${r.verify.tornWrites}` +
        (fp.ran
          ? `; final pass ${fp.checked}/${fp.blocks} blocks: ok=${fp.ok}, ok-inflight=${fp.okInflight}, unwritten=${fp.okUnwritten}, unreadable=${fp.unreadable}`
          : '; no final pass'),
    );
    for (const m of r.verify.details.slice(0, 5))
      out.push(
        `    ${m.kind} at offset ${m.offset} (${m.phase}): expected gen ${m.expectedGen}${m.issuedGen > m.expectedGen ? `..${m.issuedGen}` : ''}, found gen ${m.foundGen}, checksum found=${m.foundChecksum} computed=${m.computedChecksum}`,
      );
  }
  const total = r.read.bytes + r.write.bytes;
  const ms = Math.round(r.runtimeNs / 1e6);
  out.push('');
  out.push('Run status group 0 (all jobs):');
  if (r.read.ios > 0)
    out.push(`   READ: bw=${fmtBytes(r.read.bytesPerSec)}/s (${fmtBytesDec(r.read.bytesPerSec)}/s), io=${fmtBytes(r.read.bytes)} (${fmtBytesDec(r.read.bytes)}), run=${ms}-${ms}msec`);
  if (r.write.ios > 0)
    out.push(`  WRITE: bw=${fmtBytes(r.write.bytesPerSec)}/s (${fmtBytesDec(r.write.bytesPerSec)}/s), io=${fmtBytes(r.write.bytes)} (${fmtBytesDec(r.write.bytes)}), run=${ms}-${ms}msec`);
  const fp = r.verify.finalPass;
  if (fp.ran)
    out.push(`  VERIFY: ${fp.checked} blocks (${fmtBytes(fp.checked * s.bs)}) in ${Math.round((fp.endNs - fp.startNs) / 1e6)}msec`);
  else if (total === 0) out.push('   no I/O completed');
  return out.join('\n');
}
