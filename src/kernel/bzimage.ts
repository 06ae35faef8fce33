// Pulls the compressed vmlinux payload out of an x86 bzImage, by the boot protocol's
// setup header (payload_offset/payload_length, Documentation/x86/boot.rst).
// Booting the uncompressed ELF through PVH skips a 3 s xz decompression under TCG.

export interface Payload {
  start: number;
  length: number;
  format: 'xz' | 'zstd' | 'gzip' | 'lz4' | 'lzma' | 'unknown';
}

export function bzImagePayload(image: Buffer): Payload {
  if (image.length < 0x260 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') {
    throw new Error('not a bzImage: no "HdrS" boot protocol signature at 0x202');
  }
  const protocol = image.readUInt16LE(0x206);
  if (protocol < 0x208) throw new Error(`boot protocol 0x${protocol.toString(16)} has no payload fields`);
  const setupSects = image[0x1f1] || 4;
  const payloadOffset = image.readUInt32LE(0x248);
  const length = image.readUInt32LE(0x24c);
  const start = (setupSects + 1) * 512 + payloadOffset;
  if (start + length > image.length) throw new Error('bzImage payload runs past the end of the file');
  return { start, length, format: payloadFormat(image.subarray(start, start + 6)) };
}

export function payloadFormat(magic: Buffer): Payload['format'] {
  if (magic.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (magic.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (magic[0] === 0x1f && magic[1] === 0x8b) return 'gzip';
  if (magic.readUInt32LE(0) === 0x184c2102) return 'lz4';
  if (magic[0] === 0x5d && magic[1] === 0x00) return 'lzma';
  return 'unknown';
}

/** The decompressor command (argument array) for a payload format. */
export function decompressor(format: Payload['format']): [string, string[]] {
  switch (format) {
    case 'xz':
      return ['xz', ['-dc', '--single-stream']];
    case 'zstd':
      return ['zstd', ['-dc']];
    case 'gzip':
      return ['gzip', ['-dc']];
    case 'lzma':
      return ['xz', ['-dc', '--format=lzma']];
    case 'lz4':
      return ['lz4', ['-dc']];
    default:
      throw new Error('unknown bzImage payload compression');
  }
}
