// The limits live in one table (src/native/limits.h) that the addon exports: the
// TypeScript checks and the engine's must agree at every edge, and the table must have
// exactly the names TypeScript knows.
import t from 'tap';
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { checkLimits, LIMIT_NAMES, loaderLimits } from '../../src/load/limits.js';
import { loadBinding } from '../../src/load/native.js';
import { parseJobSpec, toNativeSpec } from '../../src/load/spec.js';
import { UsageError } from '../../src/util/errors.js';
import { uringScratchDir } from '../helpers/uring-scratch.js';

const dir = uringScratchDir('rb-limits-');
if (dir) {
  const L = loaderLimits();
  const f = join(dir, 'l.dat');
  const fd = openSync(f, 'w');
  ftruncateSync(fd, 2 * L.bsMax); // sparse: room for two of the largest blocks
  closeSync(fd);

  t.test('the addon exports exactly the limits TypeScript knows, frozen', async (t) => {
    const table = loadBinding().limits as Record<string, number>;
    t.same(Object.keys(table).sort(), [...LIMIT_NAMES].sort());
    t.ok(Object.isFrozen(table));
    t.equal(L.bsMin, 512);
    t.equal(L.stateHeaderBytes, 64);
    t.throws(() => checkLimits({ ...table, extra: 1 }), /unknown: extra/);
    const { bsMax: _gone, ...short } = table;
    t.throws(() => checkLimits(short), /missing or bad: bsMax/);
    t.throws(() => checkLimits({ ...table, iodepthMax: 1.5 }), /missing or bad: iodepthMax/);
  });

  /** What TypeScript says of a job, and what the engine says of the same job unchecked. */
  const both = async (job: Record<string, unknown>): Promise<{ ts: string; engine: string }> => {
    let ts = 'ok';
    try {
      parseJobSpec({ filename: f, size: '1m', ios: 1, ...job });
    } catch (e) {
      ts = e instanceof UsageError ? `refused ${e.field}` : String(e);
    }
    let engine = 'ok';
    // the engine's own check, fed directly (as if TypeScript had let the job through)
    const native = { ...toNativeSpec(parseJobSpec({ filename: f, size: '1m', ios: 1 })), ...job };
    try {
      await loadBinding().uringStartJob(native).promise;
    } catch (e) {
      const err = e as Error & { code?: string };
      engine = err.code === 'ERR_LOAD_SPEC' ? `refused ${/^(\w+):/.exec(err.message)?.[1]}` : `${err.code}: ${err.message}`;
    }
    return { ts, engine };
  };

  const EDGES: [string, Record<string, unknown>, boolean][] = [
    ['bs at the minimum', { bs: L.bsMin }, true],
    ['bs below the minimum', { bs: L.bsMin - L.bsAlign }, false],
    ['bs off the alignment', { bs: L.bsMin + 8 }, false],
    ['bs at the maximum', { bs: L.bsMax, size: L.bsMax }, true],
    ['bs above the maximum', { bs: L.bsMax + L.bsAlign, size: 2 * L.bsMax }, false],
    ['iodepth at the minimum', { iodepth: L.iodepthMin }, true],
    ['iodepth below the minimum', { iodepth: L.iodepthMin - 1 }, false],
    ['iodepth at the maximum', { iodepth: L.iodepthMax }, true],
    ['iodepth above the maximum', { iodepth: L.iodepthMax + 1 }, false],
    ['offset aligned', { offset: L.bsAlign }, true],
    ['offset off the alignment', { offset: L.bsAlign + 8 }, false],
    ['rwmixread at the maximum', { rw: 'randrw', rwmixread: L.rwmixreadMax }, true],
    ['rwmixread above the maximum', { rw: 'randrw', rwmixread: L.rwmixreadMax + 1 }, false],
    ['verifyIodepth at the minimum', { verifyIodepth: L.iodepthMin }, true],
    ['verifyIodepth below the minimum', { verifyIodepth: L.iodepthMin - 1 }, false],
    ['verifyIodepth at the maximum', { verifyIodepth: L.iodepthMax }, true],
    ['verifyIodepth above the maximum', { verifyIodepth: L.iodepthMax + 1 }, false],
    ['verifyMaxGap at the maximum', { verifyMaxGap: L.verifyGapMax }, true],
    ['verifyMaxGap above the maximum', { verifyMaxGap: L.verifyGapMax + 1 }, false],
  ];
  for (const [name, job, ok] of EDGES)
    t.test(`${name}: TypeScript and the engine agree`, async (t) => {
      const r = await both(job);
      const field = Object.keys(job).find((k) => k !== 'size' && k !== 'rw')!;
      t.equal(r.ts, ok ? 'ok' : `refused ${field}`, `TypeScript: ${r.ts}`);
      t.equal(r.engine, ok ? 'ok' : `refused ${field}`, `engine: ${r.engine}`);
    });

  t.test('messages quote the table', async (t) => {
    t.throws(() => parseJobSpec({ filename: f, bs: 1000 }), { message: `bs: must be a multiple of ${L.bsAlign} between 512 and 64M, got 1000` });
    t.throws(() => parseJobSpec({ filename: f, iodepth: L.iodepthMax + 1 }), { message: `iodepth: Too big: expected number to be <=${L.iodepthMax}` });
  });
}
