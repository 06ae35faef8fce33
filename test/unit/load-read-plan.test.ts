// The final pass's read plan (src/native/verify_plan.h, through the addon's test hook):
// every block with a record (an acknowledged write, or a write whose outcome is unknown)
// is in exactly one read, a read starts and ends on such a block, spans at most
// maxBlocks blocks and at most maxGap unrecorded ones between two recorded ones, and two
// reads that could have been one are one. Checked on the edge cases by hand and on
// random records against a plain reference written here.
import t from 'tap';
import { engineTestHooks } from '../helpers/uring-scratch.js';

const hooks = engineTestHooks();

type Read = [first: number, count: number];
/** Per block: [acked, issued]; 0 is none. */
type Rec = [number, number];

const records = (recs: readonly Rec[]): Uint32Array => new Uint32Array(recs.flat());
const plan = (recs: readonly Rec[], maxBlocks: number, maxGap = 0): Read[] => {
  const flat = Array.from(hooks.uringPlanReads(records(recs), maxBlocks, maxGap));
  const out: Read[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
};
const NONE: Rec = [0, 0];
const ACKED: Rec = [3, 3];
/** A record from a list of recorded block numbers, n blocks long. */
const only = (n: number, blocks: readonly number[]): Rec[] => Array.from({ length: n }, (_, i) => (blocks.includes(i) ? ACKED : NONE));

/** The plan, written out plainly: greedy from the first recorded block on. */
function reference(recs: readonly Rec[], maxBlocks: number, maxGap: number): Read[] {
  const rec = (i: number): boolean => recs[i]![0] !== 0 || recs[i]![1] !== 0;
  const out: Read[] = [];
  let b = 0;
  for (;;) {
    while (b < recs.length && !rec(b)) b++;
    if (b >= recs.length) return out;
    let last = b;
    for (let k = b + 1; k < Math.min(recs.length, b + Math.max(1, maxBlocks)); k++) {
      if (k - last - 1 > maxGap) break;
      if (rec(k)) last = k;
    }
    out.push([b, last - b + 1]);
    b = last + 1;
  }
}

/** splitmix32-ish: deterministic records for the property test. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
}

t.test('no record: no read', async (t) => {
  t.same(plan([], 32), [], 'an empty record');
  t.same(plan(only(100, []), 32), [], 'no block written');
  t.same(plan(only(100, []), 32, 8), [], 'no block written, gaps allowed');
});

t.test('one block: one read of it, wherever it is', async (t) => {
  t.same(plan(only(1, [0]), 32), [[0, 1]], 'a one-block target');
  t.same(plan(only(100, [0]), 32), [[0, 1]], 'the first block');
  t.same(plan(only(100, [57]), 32, 8), [[57, 1]], 'a block in the middle, gaps allowed');
  t.same(plan(only(100, [99]), 32), [[99, 1]], 'the last block');
});

t.test('the whole span: reads of maxBlocks, the last one shorter', async (t) => {
  const all = Array.from({ length: 100 }, (): Rec => ACKED);
  t.same(plan(all, 32), [[0, 32], [32, 32], [64, 32], [96, 4]]);
  t.same(plan(all, 1), all.map((_, i): Read => [i, 1]), 'maxBlocks 1: one read per block');
  t.same(plan(all, 100), [[0, 100]], 'maxBlocks the span: one read');
  t.same(plan(all, 4096), [[0, 100]], 'maxBlocks beyond the span');
  t.same(plan(all, 0), all.map((_, i): Read => [i, 1]), 'maxBlocks 0 is taken as 1, never an empty read');
});

t.test('gap 0: exactly the recorded blocks, adjacent ones coalesced', async (t) => {
  const recs = only(40, [1, 2, 3, 5, 7, 8, 20, 39]);
  t.same(plan(recs, 32), [[1, 3], [5, 1], [7, 2], [20, 1], [39, 1]]);
  t.same(plan(recs, 2), [[1, 2], [3, 1], [5, 1], [7, 2], [20, 1], [39, 1]], 'a run longer than maxBlocks is split');
});

t.test('unknown outcomes are read like acknowledged writes', async (t) => {
  // issued but never acknowledged (acked 0), and acknowledged with a later write in flight
  const recs: Rec[] = [NONE, [0, 1], [2, 3], NONE, [0, 7], NONE, NONE, [5, 5]];
  t.same(plan(recs, 32), [[1, 2], [4, 1], [7, 1]]);
  t.same(plan([[0, 1]], 32), [[0, 1]], 'a target whose only block has an unknown outcome');
});

t.test('gaps: at most maxGap unrecorded blocks inside a read, never at its ends', async (t) => {
  const recs = only(30, [0, 3, 7, 8, 20, 29]);
  t.same(plan(recs, 32, 2), [[0, 4], [7, 2], [20, 1], [29, 1]], '2 unrecorded between 0 and 3 are spanned, 3 between 3 and 7 are not');
  t.same(plan(recs, 32, 3), [[0, 9], [20, 1], [29, 1]]);
  t.same(plan(recs, 32, 10), [[0, 9], [20, 10]], '11 unrecorded between 8 and 20 are one too many, 8 between 20 and 29 are not');
  t.same(plan(recs, 32, 11), [[0, 30]]);
  t.same(plan(recs, 32, 1024), [[0, 30]]);
  t.same(plan(recs, 8, 1024), [[0, 8], [8, 1], [20, 1], [29, 1]], 'maxBlocks bounds a read before the gap does: 0..7, then 8 alone');
});

t.test('random records: the plan is the reference plan, covers every recorded block once and only spans what it may', async (t) => {
  const next = rng(16);
  let cases = 0;
  for (const density of [0.01, 0.2, 0.5, 0.95]) {
    for (const [maxBlocks, maxGap] of [[32, 0], [32, 3], [7, 1], [1, 0], [64, 1024]] as const) {
      const n = 1 + Math.floor(next() * 2000);
      const recs = Array.from({ length: n }, (): Rec => {
        if (next() >= density) return NONE;
        const acked = Math.floor(next() * 3); // 0: never acknowledged, only issued
        return [acked, Math.max(1, acked + Math.floor(next() * 2))];
      });
      const got = plan(recs, maxBlocks, maxGap);
      const what = `density ${density}, ${n} blocks, maxBlocks ${maxBlocks}, maxGap ${maxGap}`;
      t.same(got, reference(recs, maxBlocks, maxGap), `${what}: the reference plan`);
      const rec = (i: number): boolean => recs[i]![0] !== 0 || recs[i]![1] !== 0;
      const seen = new Array<number>(n).fill(0);
      let bad = '';
      let prevEnd = -1;
      for (const [first, count] of got) {
        if (first < prevEnd) bad ||= `read ${first} overlaps the one before`;
        if (count < 1 || count > maxBlocks) bad ||= `read ${first} is ${count} blocks`;
        if (!rec(first) || !rec(first + count - 1)) bad ||= `read ${first}+${count} starts or ends on an unrecorded block`;
        let gap = 0;
        for (let i = first; i < first + count; i++) {
          seen[i]!++;
          gap = rec(i) ? 0 : gap + 1;
          if (gap > maxGap) bad ||= `read ${first}+${count} spans ${gap} unrecorded blocks`;
        }
        prevEnd = first + count;
      }
      const missed = seen.findIndex((c, i) => rec(i) && c !== 1);
      t.equal(bad, '', `${what}: every read is allowed`);
      t.equal(missed, -1, `${what}: every recorded block is in exactly one read`);
      cases++;
    }
  }
  t.equal(cases, 20);
});

t.test('bad arguments are refused, not guessed', async (t) => {
  t.throws(() => hooks.uringPlanReads(new Uint32Array(3), 32, 0), /planReads/, 'an odd number of u32s is no record');
  t.throws(() => hooks.uringPlanReads(new Uint8Array(8) as unknown as Uint32Array, 32, 0), /planReads/, 'bytes are no record');
});
