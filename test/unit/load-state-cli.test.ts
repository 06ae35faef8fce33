// reset-bench load --state FILE (and --verify-only) with corrupt and truncated files: exit 2
// and a message naming --state and what is wrong, never a crash or a stack trace. The
// addon's side of the same corruptions is load-state-corrupt.test.ts.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { runLoad } from '../../src/load/run.js';
import { project } from '../helpers/lab.js';
import { uringScratchDir } from '../helpers/uring-scratch.js';

const dir = uringScratchDir('rb-state-cli-');
if (dir) {
  const f = join(dir, 't.dat');
  const mutate = (good: Buffer, edit: (v: DataView, b: Buffer) => Buffer | void): Buffer => {
    const b = Buffer.from(good);
    return edit(new DataView(b.buffer, b.byteOffset, b.byteLength), b) ?? b;
  };
  let good: Buffer;
  t.before(async () => {
    good = (await runLoad({ filename: f, bs: 4096, size: '1m', iodepth: 8, seed: 7, verify: true, rw: 'randwrite', ios: 600 })).state!;
  });

  t.test('reset-bench load --state with a corrupt or truncated file: exit 2 and a clear message', async (t) => {
    const main = join(project, 'src', 'cli', 'main.ts');
    const loader = process.execArgv.filter((a) => a.startsWith('--import=') && a.includes('typescript'));
    const files: [string, Buffer, RegExp][] = [
      ['truncated', good.subarray(0, 64 + 10 * 8), /truncated verify state/],
      ['lying block count', mutate(good, (v, b) => (v.setBigUint64(40, 16n, true), b.subarray(0, 64 + 16 * 8))), /corrupt verify state: size \d+ is not 16 blocks/],
      ['garbage', Buffer.from('not a state at all, just text\n'), /truncated verify state|not a reset-bench verify state/],
      ['acked above issued', mutate(good, (v) => (v.setUint32(64 + 8, 5, true), v.setUint32(64 + 12, 1, true))), /corrupt verify state: record of block 1/],
    ];
    for (const [name, bytes, msg] of files) {
      const sf = join(dir, `${name.replace(/\W/g, '-')}.state`);
      writeFileSync(sf, bytes);
      for (const mode of [['--rw', 'read', '--verify', '1'], ['--verify-only']]) {
        const r = await execa(process.execPath, [...loader, main, 'load', '--filename', f, '--bs', '4k', '--size', '1m', '--seed', '7', ...mode, '--state', sf], { reject: false, cwd: project });
        t.equal(r.exitCode, 2, `${name} ${mode[0]}: exit 2`);
        t.match(r.stderr, /^reset-bench load: --state: /, `${name} ${mode[0]}: names --state`);
        t.match(r.stderr, msg, `${name} ${mode[0]}: ${r.stderr.trim()}`);
        t.notMatch(r.stderr, /Abort|Segmentation|core dumped|at .*\.ts:\d+/, 'no crash, no stack');
      }
    }
  });
}
