import t from 'tap';
import { parseDurationMs, parseJobSpec, parseSize, toNativeSpec } from '../../src/load/spec.js';
import { specFromCli } from '../../src/cli/load-command.js';
import { UsageError } from '../../src/util/errors.js';

t.test('sizes parse like fio (binary units)', async (t) => {
  t.equal(parseSize(4096), 4096);
  t.equal(parseSize('4k'), 4096);
  t.equal(parseSize('4K'), 4096);
  t.equal(parseSize('64m'), 64 * 1024 * 1024);
  t.equal(parseSize('1g'), 1024 ** 3);
  t.equal(parseSize('1.5k'), 1536);
  t.throws(() => parseSize('4x'), /not a size/);
  t.throws(() => parseSize('-1'), /not a size/);
  t.throws(() => parseSize('0.3'), /whole number/);
});

t.test('durations: bare number is ms, suffixes ms/s/m/h', async (t) => {
  t.equal(parseDurationMs(250), 250);
  t.equal(parseDurationMs('250'), 250);
  t.equal(parseDurationMs('250ms'), 250);
  t.equal(parseDurationMs('10s'), 10_000);
  t.equal(parseDurationMs('2m'), 120_000);
  t.throws(() => parseDurationMs('10 parsecs'), /not a duration/);
});

t.test('defaults', async (t) => {
  const s = parseJobSpec({ filename: '/dev/null' });
  t.equal(s.rw, 'randread');
  t.equal(s.bs, 4096);
  t.equal(s.iodepth, 32);
  t.equal(s.offset, 0);
  t.equal(s.size, 0);
  t.equal(s.runtimeMs, undefined);
  t.equal(s.intervalMs, 10);
  t.equal(s.retryBackoffMs, 100);
  t.equal(s.verify, false);
  t.equal(s.seed, 1);
  t.equal(s.direct, true);
});

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof UsageError) return e.field;
    throw e;
  }
  return undefined;
}

t.test('bad input names the field', async (t) => {
  t.equal(fieldOf(() => parseJobSpec({})), 'filename');
  t.equal(fieldOf(() => parseJobSpec({ filename: 'x', rw: 'sideways' })), 'rw');
  t.equal(fieldOf(() => parseJobSpec({ filename: 'x', bs: 1000 })), 'bs');
  t.equal(fieldOf(() => parseJobSpec({ filename: 'x', bs: '4q' })), 'bs');
  t.equal(fieldOf(() => parseJobSpec({ filename: 'x', bs: 256 })), 'bs');
  t.equal(fieldOf(() => parseJobSpec({ filename: 'x', iodepth: 0 })), 'iodepth');
  t.equal(fieldOf(() => parseJobSpec({ filename: 'x', iodepth: 2.5 })), 'iodepth');
  t.equal(fieldOf(() => parseJobSpec({ filename: 'x', offset: 100 })), 'offset');
  t.equal(fieldOf(() => parseJobSpec({ filename: 'x', size: 1024, bs: 4096 })), 'size');
  t.equal(fieldOf(() => parseJobSpec({ filename: 'x', rwmixread: 101 })), 'rwmixread');
  t.equal(fieldOf(() => parseJobSpec({ filename: 'x', runtimeMs: 0 })), 'runtimeMs');
  t.equal(fieldOf(() => parseJobSpec({ filename: 'x', rateIops: -5 })), 'rateIops');
  t.equal(fieldOf(() => parseJobSpec({ filename: 'x', state: 'nope' })), 'state');
  t.equal(fieldOf(() => parseJobSpec({ filename: 'x', iodepht: 4 })), 'iodepht', 'unknown keys are rejected');
  t.throws(() => parseJobSpec({ filename: 'x', bs: 1000 }), /^bs: must be a multiple of 512/);
});

t.test('messages stay the ones zod gave (the spec is checked by hand now)', async (t) => {
  const msg = (x: unknown): string => {
    try {
      parseJobSpec(x);
    } catch (e) {
      return (e as Error).message;
    }
    return 'ok';
  };
  t.equal(msg({}), 'filename: Invalid input: expected string, received undefined');
  t.equal(msg({ filename: '' }), 'filename: a file or block device is required');
  t.equal(msg(null), 'Invalid input: expected object, received null');
  t.equal(msg({ filename: 'x', rw: 'up' }), 'rw: Invalid option: expected one of "read"|"write"|"randread"|"randwrite"|"randrw"');
  t.equal(msg({ filename: 'x', iodepth: 0 }), 'iodepth: Too small: expected number to be >=1');
  t.equal(msg({ filename: 'x', iodepth: 2.5 }), 'iodepth: Invalid input: expected int, received number');
  t.equal(msg({ filename: 'x', iodepth: '4' }), 'iodepth: Invalid input: expected number, received string');
  t.equal(msg({ filename: 'x', rwmixread: 101 }), 'rwmixread: Too big: expected number to be <=100');
  t.equal(msg({ filename: 'x', seed: 2 ** 60 }), 'seed: Too big: expected int to be <=9007199254740991');
  t.equal(msg({ filename: 'x', rateIops: Infinity }), 'rateIops: Invalid input: expected number, received Infinity');
  t.equal(msg({ filename: 'x', bs: true }), 'bs: Invalid input');
  t.equal(msg({ filename: 'x', bs: NaN }), 'bs: Invalid input');
  t.equal(msg({ filename: 'x', verify: '1' }), 'verify: Invalid input: expected boolean, received string');
  t.equal(msg({ filename: 'x', state: 's' }), 'state: expected a Buffer or Uint8Array');
  t.equal(msg({ filename: 'x', iodepth: 0, zzz: 1, bs: 1000 }), 'iodepth: Too small: expected number to be >=1', 'fields first');
  t.equal(msg({ filename: 'x', zzz: 1, bs: 1000 }), 'zzz: unknown option', 'then unknown keys');
  t.equal(msg({ filename: 'x', bs: 1000, offset: 100 }), 'bs: must be a multiple of 512 between 512 and 64M, got 1000', 'then the cross checks');
  t.equal(msg({ filename: 'x', state: Buffer.alloc(1), runtimeMs: '2s', bs: '8k' }), 'ok');
  t.same(Object.keys(parseJobSpec({ filename: 'x' })).slice(0, 3), ['filename', 'rw', 'bs'], 'fields in spec order');
});

t.test('native spec is in ns', async (t) => {
  const n = toNativeSpec(parseJobSpec({ filename: 'f', runtimeMs: '2s', intervalMs: 10, retryBackoffMs: 100, bs: '8k' }));
  t.equal(n.runtimeNs, 2e9);
  t.equal(n.intervalNs, 1e7);
  t.equal(n.backoffNs, 1e8);
  t.equal(n.bs, 8192);
  t.equal(n.ios, 0, 'no count: one pass (or runtime) decided by the engine');
  t.equal(toNativeSpec(parseJobSpec({ filename: 'f' }), { rw: 'verify' }).rw, 'verify');
});

t.test('the final pass: its reads in flight and the gaps a read may span', async (t) => {
  const d = parseJobSpec({ filename: 'f' });
  t.equal(d.verifyIodepth, undefined, 'absent: the engine uses iodepth');
  t.equal(d.verifyMaxGap, 0, 'by default a read spans only written blocks');
  const n = toNativeSpec(parseJobSpec({ filename: 'f', iodepth: 8, verifyIodepth: 64, verifyMaxGap: 3 }));
  t.equal(n.verifyIodepth, 64);
  t.equal(n.verifyMaxGap, 3);
  t.equal(fieldOf(() => parseJobSpec({ filename: 'f', verifyIodepth: 0 })), 'verifyIodepth');
  t.equal(fieldOf(() => parseJobSpec({ filename: 'f', verifyMaxGap: -1 })), 'verifyMaxGap');
  t.equal(fieldOf(() => parseJobSpec({ filename: 'f', verifyMaxGap: 1.5 })), 'verifyMaxGap');
  const c = specFromCli({ filename: 'f', verifyIodepth: '64', verifyMaxGap: '2' });
  t.equal(c.verifyIodepth, 64);
  t.equal(c.verifyMaxGap, 2);
  t.equal(fieldOf(() => specFromCli({ filename: 'f', verifyIodepth: 'deep' })), '--verify-iodepth');
  t.equal(fieldOf(() => specFromCli({ filename: 'f', verifyMaxGap: '-1' })), '--verify-max-gap');
});

t.test('the drain of a stop: its own duration, absent = the drain', async (t) => {
  const d = parseJobSpec({ filename: 'f', drainTimeoutMs: '20s' });
  t.equal(d.stopDrainTimeoutMs, undefined, 'absent');
  t.equal(toNativeSpec(d).stopDrainTimeoutNs, 20e9, 'and the engine gets the drain for it');
  const s = parseJobSpec({ filename: 'f', drainTimeoutMs: '20s', stopDrainTimeoutMs: '2s' });
  t.equal(s.stopDrainTimeoutMs, 2000);
  t.equal(s.drainTimeoutMs, 20_000, 'the drain is unchanged');
  t.same([toNativeSpec(s).drainTimeoutNs, toNativeSpec(s).stopDrainTimeoutNs], [20e9, 2e9]);
  t.equal(parseJobSpec({ filename: 'f', stopDrainTimeoutMs: 0 }).stopDrainTimeoutMs, 0, 'zero: give up on stuck I/O at once');
  t.equal(fieldOf(() => parseJobSpec({ filename: 'f', stopDrainTimeoutMs: '2 fortnights' })), 'stopDrainTimeoutMs');
  t.equal(fieldOf(() => parseJobSpec({ filename: 'f', stopDrainTimeoutMs: -1 })), 'stopDrainTimeoutMs');
  t.equal(fieldOf(() => parseJobSpec({ filename: 'f', stopDrainTimeoutMs: true })), 'stopDrainTimeoutMs');
  t.throws(() => parseJobSpec({ filename: 'f', stopDrainTimeoutMs: '2x' }), /^stopDrainTimeoutMs: not a duration: '2x'/);
  t.equal(specFromCli({ filename: 'f', stopDrainTimeout: '1500' }).stopDrainTimeoutMs, 1500, 'a bare --stop-drain-timeout is ms');
  t.equal(specFromCli({ filename: 'f', stopDrainTimeout: '2s' }).stopDrainTimeoutMs, 2000);
  t.equal(specFromCli({ filename: 'f' }).stopDrainTimeoutMs, undefined);
  t.equal(fieldOf(() => specFromCli({ filename: 'f', stopDrainTimeout: 'soon' })), '--stop-drain-timeout');
});

t.test('CLI options: fio-like units, errors name the option', async (t) => {
  const s = specFromCli({ filename: 'f', rw: 'randwrite', bs: '4k', runtime: '10', iodepth: '16', verify: true, rateIops: '500' });
  t.equal(s.runtimeMs, 10_000, 'bare --runtime is seconds, as in fio');
  t.equal(s.bs, 4096);
  t.equal(s.iodepth, 16);
  t.equal(s.verify, true);
  t.equal(s.rateIops, 500);
  t.equal(specFromCli({ filename: 'f', runtime: '500ms' }).runtimeMs, 500);
  t.equal(specFromCli({ filename: 'f', verify: '0' }).verify, false);
  t.equal(specFromCli({ filename: 'f', drainTimeout: '5s' }).drainTimeoutMs, 5000);
  t.equal(specFromCli({ filename: 'f', interval: '10' }).intervalMs, 10, '--interval is in ms');
  t.equal(fieldOf(() => specFromCli({})), '--filename');
  t.equal(fieldOf(() => specFromCli({ filename: 'f', iodepth: 'lots' })), '--iodepth');
  t.equal(fieldOf(() => specFromCli({ filename: 'f', bs: '4x' })), '--bs');
  t.equal(fieldOf(() => specFromCli({ filename: 'f', rw: 'up' })), '--rw');
  t.equal(fieldOf(() => specFromCli({ filename: 'f', runtime: 'soon' })), '--runtime');
  t.equal(fieldOf(() => specFromCli({ filename: 'f', rateIops: '-3' })), '--rate-iops');
  t.equal(fieldOf(() => specFromCli({ filename: 'f', verify: 'maybe' })), '--verify');
});
