// Mutation tests: verification must catch a flipped byte, a dropped (stale) write, a missing
// header and a misplaced block, and must accept what an unacknowledged write may leave.
import t from 'tap';
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { runLoad, verifyTarget } from '../../src/load/run.js';
import { loaderLimits } from '../../src/load/limits.js';
import { blockRecord, decodeStateHeader } from '../../src/load/verify.js';
import { engineTestHooks, uringScratchDir } from '../helpers/uring-scratch.js';

const dir = uringScratchDir('rb-verify-');
if (dir) {
  const b = engineTestHooks();
  const BS = 4096;
  const SEED = 42;
  const f = join(dir, 't.dat');
  const common = { filename: f, bs: BS, size: '1m', iodepth: 16, seed: SEED, verify: true } as const;

  const readBlock = (off: number): Buffer => {
    const fd = openSync(f, 'r');
    const buf = Buffer.alloc(BS);
    readSync(fd, buf, 0, BS, off);
    closeSync(fd);
    return buf;
  };
  const writeBlock = (off: number, data: Uint8Array): void => {
    const fd = openSync(f, 'r+');
    writeSync(fd, data, 0, data.length, off);
    closeSync(fd);
  };

  t.test('xxh64 and the block format', async (t) => {
    t.equal(b.uringXxh64(Buffer.alloc(0)), 'ef46db3751d8e999', 'XXH64("") reference value');
    t.equal(b.uringXxh64(Buffer.from('a')), 'd24ec4f1a98c6e5b', 'XXH64("a") reference value');
    const blk = b.uringFormatBlock(BS, SEED, 8192, 5);
    t.equal(blk.length, BS);
    t.equal(blk.readBigUInt64LE(0), 0x3130564b4c424252n, 'magic RBBLKV01');
    t.equal(Number(blk.readBigUInt64LE(8)), 8192, 'offset in header');
    t.equal(Number(blk.readBigUInt64LE(16)), 5, 'generation in header');
    t.equal(blk.readBigUInt64LE(48).toString(16).padStart(16, '0'), b.uringXxh64(blk.subarray(64), SEED), 'payload checksum');
    t.same(b.uringFormatBlock(BS, SEED, 8192, 5).subarray(64), blk.subarray(64), 'payload derives from (seed, offset, gen)');
    t.notSame(b.uringFormatBlock(BS, SEED, 8192, 6).subarray(64), blk.subarray(64), 'another generation, another payload');
  });

  t.test('mutations are caught', async (t) => {
    // generation 1..: a first job, a snapshot of its blocks, then a second job rewriting them
    const j1 = await runLoad({ ...common, rw: 'randwrite', ios: 1500 });
    t.equal(j1.verify.errors, 0);
    const snapshot = readFileSync(f);
    const j2 = await runLoad({ ...common, rw: 'randwrite', ios: 1500, state: j1.state });
    t.equal(j2.verify.errors, 0, 'the follow-up job continues the generations cleanly');
    const state = j2.state!;
    const info = decodeStateHeader(state);
    const clean = await verifyTarget({ filename: f, state });
    t.equal(clean.verify.errors, 0, 'no false positives before any mutation');
    t.equal(clean.verify.finalPass.ok, clean.verify.finalPass.blocks);

    // pick blocks rewritten by the second job
    const rewritten: number[] = [];
    for (let i = 0; i < info.nblocks; i++) {
      const a = blockRecord(j1.state!, i).acked;
      const c = blockRecord(state, i).acked;
      if (a > 0 && c > a) rewritten.push(i);
    }
    t.ok(rewritten.length >= 4, `${rewritten.length} blocks rewritten`);
    const [lostB, tornB, missB, misB] = rewritten as [number, number, number, number];

    // a dropped write: the block holds its previous generation
    const lostOff = lostB * BS;
    const current = readBlock(lostOff);
    writeBlock(lostOff, snapshot.subarray(lostOff, lostOff + BS));
    let v = await verifyTarget({ filename: f, state });
    t.equal(v.verify.lostWrites, 1, 'the stale block is a lost write');
    t.equal(v.verify.errors, 1);
    const d = v.verify.details[0]!;
    t.equal(d.kind, 'lost');
    t.equal(d.offset, lostOff, 'mismatch names the offset');
    t.equal(d.expectedGen, blockRecord(state, lostB).acked, 'expected generation');
    t.equal(d.foundGen, blockRecord(j1.state!, lostB).acked, 'found generation');
    t.equal(d.phase, 'verify');
    writeBlock(lostOff, current);
    t.equal((await verifyTarget({ filename: f, state })).verify.errors, 0, 'restored');

    // a flipped byte in the payload: torn/corrupt, with both checksums
    const tornOff = tornB * BS;
    const blk = readBlock(tornOff);
    blk[1000]! ^= 0x01;
    writeBlock(tornOff, blk);
    // a zeroed block: the acknowledged write is missing
    writeBlock(missB * BS, Buffer.alloc(BS));
    // a block of another offset
    writeBlock(misB * BS, readBlock(lostOff));
    v = await verifyTarget({ filename: f, state });
    t.equal(v.verify.errors, 3);
    const by = new Map(v.verify.details.map((x) => [x.offset, x]));
    t.equal(by.get(tornOff)?.kind, 'torn', 'flipped byte caught');
    t.not(by.get(tornOff)?.foundChecksum, by.get(tornOff)?.computedChecksum, 'checksums differ');
    t.equal(by.get(missB * BS)?.kind, 'missing', 'zeroed block caught');
    t.equal(by.get(misB * BS)?.kind, 'misplaced', 'block of another offset caught');
    t.equal(by.get(misB * BS)?.foundOffset, lostOff);
    t.equal(v.verify.lostWrites, 1, 'missing counts as lost');
    t.equal(v.verify.tornWrites, 1);

    // the read path checks too (not only the final pass)
    const rd = await runLoad({ ...common, rw: 'read', state, finalVerify: false });
    t.equal(rd.verify.runMismatches.torn, 1, 'reads during a run catch the flipped byte');
    t.equal(rd.verify.runMismatches.missing, 1);
    t.ok(rd.verify.details.every((x) => x.phase === 'run'));

    // a flipped byte in the header (generation field): caught by the header checksum
    const hdrB = rewritten[4] ?? rewritten[0]!;
    if (rewritten.length > 4) {
      const h = readBlock(hdrB * BS);
      h[16]! ^= 0x01;
      writeBlock(hdrB * BS, h);
      v = await verifyTarget({ filename: f, state });
      t.equal(v.verify.details.find((x) => x.offset === hdrB * BS)?.kind, 'torn', 'header bit flip caught');
    }
  });

  t.test('an unacknowledged write may leave the old or the new generation, nothing else', async (t) => {
    const g = join(dir, 'u.dat');
    const j = await runLoad({ ...common, filename: g, rw: 'write', size: '64k', ios: 32 });
    t.equal(j.verify.errors, 0);
    t.equal(blockRecord(j.state!, 3).acked, 2, 'two sequential passes: generation 2 everywhere');
    const st = Buffer.from(j.state!);
    const i = 3;
    const acked = blockRecord(st, i).acked;
    st.writeUInt32LE(acked + 1, loaderLimits().stateHeaderBytes + i * loaderLimits().stateRecordBytes + 4); // issued = acked + 1, never acknowledged
    const fd = openSync(g, 'r+');
    const put = (gen: number): void => {
      writeSync(fd, b.uringFormatBlock(BS, SEED, i * BS, gen), 0, BS, i * BS);
    };
    let v = await verifyTarget({ filename: g, state: st });
    t.equal(v.verify.errors, 0, 'old generation is legal');
    put(acked + 1);
    v = await verifyTarget({ filename: g, state: st });
    t.equal(v.verify.errors, 0, 'new generation is legal');
    t.equal(v.verify.finalPass.okInflight, 1);
    put(acked + 2);
    v = await verifyTarget({ filename: g, state: st });
    t.equal(v.verify.details[0]?.kind, 'future', 'a generation never issued is not');
    put(acked - 1);
    v = await verifyTarget({ filename: g, state: st });
    t.equal(v.verify.details[0]?.kind, 'lost', 'an older one is a lost write');
    t.equal(v.verify.details[0]?.foundGen, acked - 1);
    closeSync(fd);
  });
}
