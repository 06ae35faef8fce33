import t from 'tap';
import { bzImagePayload, decompressor, payloadFormat } from '../../src/kernel/bzimage.js';

function fakeBzImage(setupSects: number, payloadOffset: number, payload: Buffer): Buffer {
  const size = ((setupSects || 4) + 1) * 512 + payloadOffset + payload.length + 16;
  const b = Buffer.alloc(size);
  b[0x1f1] = setupSects;
  b.write('HdrS', 0x202, 'latin1');
  b.writeUInt16LE(0x20f, 0x206);
  b.writeUInt32LE(payloadOffset, 0x248);
  b.writeUInt32LE(payload.length, 0x24c);
  payload.copy(b, ((setupSects || 4) + 1) * 512 + payloadOffset);
  return b;
}

t.test('finds the payload from the setup header', async (t) => {
  const xz = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]);
  const img = fakeBzImage(27, 0x3a0, xz);
  const p = bzImagePayload(img);
  t.equal(p.start, 28 * 512 + 0x3a0);
  t.equal(p.length, xz.length);
  t.equal(p.format, 'xz');
  t.same(decompressor('xz'), ['xz', ['-dc', '--single-stream']]);
});

t.test('setup_sects 0 means 4, as the boot protocol says', async (t) => {
  const img = fakeBzImage(0, 16, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]));
  t.equal(bzImagePayload(img).start, 5 * 512 + 16);
  t.equal(bzImagePayload(img).format, 'gzip');
});

t.test('rejects what is not a bzImage', async (t) => {
  t.throws(() => bzImagePayload(Buffer.alloc(4096)), /HdrS/);
  const img = fakeBzImage(4, 0, Buffer.from([1, 2, 3, 4, 5, 6]));
  img.writeUInt32LE(1 << 30, 0x24c);
  t.throws(() => bzImagePayload(img), /past the end/);
  t.equal(payloadFormat(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0])), 'zstd');
  t.throws(() => decompressor('unknown'));
});
