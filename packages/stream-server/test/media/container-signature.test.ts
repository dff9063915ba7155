import { describe, expect, it } from 'vitest';

import { describeUnrecognised, detectContainer } from '../../src/media/container-signature.js';

const bytes = (...parts: Array<string | number[]>) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p)));

/** `count` transport-stream packets of `size` bytes, each opening with the sync byte after `offset` bytes. */
const packets = (count: number, size = 188, offset = 0) => {
  const out = new Uint8Array(count * size);
  for (let i = 0; i < count; i++) out[i * size + offset] = 0x47;
  return out;
};

describe('detectContainer', () => {
  it.each([
    ['an MP4 ftyp box', bytes([0, 0, 0, 0x18], 'ftypisom', [0, 0, 2, 0]), 'iso-bmff'],
    [
      'a QuickTime file opening with a wide atom',
      bytes([0, 0, 0, 8], 'wide', [0, 0, 0, 9], 'mdat'),
      'iso-bmff',
    ],
    ['a fragmented MP4 segment', bytes([0, 0, 0, 0x18], 'styp', 'msdh'), 'iso-bmff'],
    ['Matroska/WebM', bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86]), 'matroska'],
    ['an MPEG transport stream', packets(4), 'mpeg-ts'],
    ['an M2TS stream', packets(4, 192, 4), 'mpeg-ts'],
    ['an MPEG program stream', bytes([0, 0, 1, 0xba, 0x44]), 'mpeg-ps'],
    ['an AVI file', bytes('RIFF', [0, 0, 0, 0], 'AVI LIST'), 'riff'],
    ['an FLV file', bytes('FLV', [1, 5]), 'flv'],
    ['an Ogg file', bytes('OggS', [0]), 'ogg'],
    ['an MP3 with ID3 tags', bytes('ID3', [4, 0]), 'audio'],
  ])('recognises %s', (_name, input, kind) => {
    expect(detectContainer(input)).toBe(kind);
  });

  it.each([
    ['text', bytes('Meeting notes\nnothing to see here\n')],
    ['an empty file', new Uint8Array()],
    ['a JPEG image', bytes([0xff, 0xd8, 0xff, 0xe0], 'JFIF')],
    ['a PDF', bytes('%PDF-1.7\n')],
    ['a box-like header with an unknown type', bytes([0, 0, 0, 0x18], 'abcd')],
    ['a single sync byte', bytes([0x47, 0x40, 0x00])],
    ['JSON', bytes('{"title":"not a video"}')],
  ])('refuses %s', (_name, input) => {
    expect(detectContainer(input)).toBeUndefined();
  });

  it('says what a refused file looks like', () => {
    expect(describeUnrecognised(bytes('hello\n'))).toMatch(/text/);
    expect(describeUnrecognised(new Uint8Array())).toMatch(/empty/);
    expect(describeUnrecognised(bytes([0x89, 0x50, 0x4e, 0x47]))).toMatch(/image/);
    expect(describeUnrecognised(bytes([0x00, 0xde, 0xad, 0xbe, 0xef]))).toMatch(/no video container/);
  });
});
