import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseEsds,
  parseH264Sps,
  parseMoov,
  readMp4Tracks,
  type Mp4Track,
} from '../../src/media/mp4-tracks.js';
import {
  FFPROBE_PATH,
  makeTestMedia,
  runTestFfmpeg,
  serveDirectory,
  type ServedDirectory,
  type TestMediaKind,
} from '../helpers/media.js';

const run = promisify(execFile);

let dir: string;
let server: ServedDirectory;
let rangeless: ServedDirectory;

/** The helper's media, 2 s long. */
const media = (kind: TestMediaKind) => makeTestMedia(dir, kind, { seconds: 2 });

const INPUTS = [
  ...['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25:duration=2'],
  ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=2'],
];
const X264 = ['-c:v', 'libx264', '-preset', 'ultrafast'];
const AAC = ['-c:a', 'aac', '-b:a', '64k'];

/** Extra files made with ffmpeg from the 2 s 160x120 inputs above (video = input 0, audio = input 1). */
const ENCODED = {
  'high.mp4': ['-map', '0:v', '-map', '1:a', '-c:v', 'libx264', '-preset', 'superfast', ...AAC, '-ac', '2'],
  'high10.mp4': ['-map', '0:v', '-map', '1:a', ...X264, '-pix_fmt', 'yuv420p10le', ...AAC],
  'yuv444.mp4': ['-map', '0:v', '-map', '1:a', ...X264, '-pix_fmt', 'yuv444p', ...AAC],
  'surround.mp4': ['-map', '0:v', '-map', '1:a', ...X264, ...AAC, '-ac', '6'],
  'audio-first.mp4': ['-map', '1:a', '-map', '0:v', ...X264, ...AAC, '-ac', '2'],
  'two-audio.mp4': [
    '-map',
    '0:v',
    '-map',
    '1:a',
    '-map',
    '1:a',
    ...X264,
    ...AAC,
    '-ac:a:0',
    '2',
    '-ac:a:1',
    '1',
  ],
  'quicktime.mov': ['-map', '0:v', '-map', '1:a', ...X264, ...AAC, '-ac', '2', '-f', 'mov'],
  'surround.mov': ['-map', '0:v', '-map', '1:a', ...X264, ...AAC, '-ac', '6', '-f', 'mov'],
  'mp3-audio.mp4': ['-map', '0:v', '-map', '1:a', ...X264, '-c:a', 'libmp3lame', '-ac', '2'],
  'opus-audio.mp4': ['-map', '0:v', '-map', '1:a', ...X264, '-c:a', 'libopus', '-ac', '2'],
  'fragmented.mp4': ['-map', '0:v', '-map', '1:a', ...X264, ...AAC, '-movflags', 'frag_keyframe+empty_moov'],
} as const;
type Encoded = keyof typeof ENCODED;
const encoded = (name: Encoded) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mp4-tracks-'));
  [server, rangeless] = await Promise.all([serveDirectory(dir), serveDirectory(dir, { ranges: false })]);
  await Promise.all(
    Object.entries(ENCODED).map(([name, args]) => runTestFfmpeg([...INPUTS, ...args, join(dir, name)])),
  );
});
afterAll(async () => {
  await Promise.all([server?.close(), rangeless?.close()]);
  await rm(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------------
// Expectations and ffprobe

const h264 = (profileIdc: number, chromaFormatIdc = 1, bitDepth = 8) => ({
  profileIdc,
  chromaFormatIdc,
  bitDepthLuma: bitDepth,
  bitDepthChroma: bitDepth,
});

function videoTrack(index: number, details: Partial<Mp4Track> = {}): Mp4Track {
  return {
    index,
    handler: 'vide',
    sampleEntry: 'avc1',
    sampleEntryCount: 1,
    rotated: false,
    h264: h264(66), // x264 -preset ultrafast: no CABAC, no 8x8 transform → Constrained Baseline
    width: expect.any(Number),
    height: expect.any(Number),
    levelIdc: expect.any(Number),
    movieDurationSeconds: expect.any(Number),
    ...details,
  };
}

function aacTrack(index: number, channels: number, details: Partial<Mp4Track> = {}): Mp4Track {
  return {
    index,
    handler: 'soun',
    sampleEntry: 'mp4a',
    sampleEntryCount: 1,
    rotated: false,
    // ffmpeg's MP4 writer puts the ISO-reserved 2 in channelcount whatever the layout (only MOV has the real one).
    channelCount: 2,
    aac: { objectTypeIndication: 0x40, audioObjectType: 2, channelConfiguration: channels },
    movieDurationSeconds: expect.any(Number),
    ...details,
  };
}

interface ProbedStream {
  index: number;
  codec_type: string;
  codec_name?: string;
  codec_tag_string?: string;
  profile?: string;
  pix_fmt?: string;
  channels?: number;
  side_data_list?: { rotation?: number }[];
}

async function ffprobeStreams(file: string): Promise<ProbedStream[]> {
  const { stdout } = await run(FFPROBE_PATH, ['-v', 'error', '-show_streams', '-of', 'json', file]);
  return (JSON.parse(stdout) as { streams: ProbedStream[] }).streams;
}

const CODEC_TYPES: Record<string, string> = { vide: 'video', soun: 'audio' };
const H264_PROFILES: Record<number, string[]> = {
  66: ['Baseline', 'Constrained Baseline'],
  77: ['Main'],
  100: ['High'],
  110: ['High 10'],
  244: ['High 4:4:4 Predictive'],
};
const CHROMA_FORMATS = ['gray', 'yuv420p', 'yuv422p', 'yuv444p'];

/** Checks `tracks` against what ffprobe says about the same file, wherever the two overlap. */
async function expectSameAsFfprobe(file: string, tracks: Mp4Track[] | undefined): Promise<void> {
  const streams = await ffprobeStreams(file);
  expect(tracks?.map((t) => [t.index, CODEC_TYPES[t.handler] ?? t.handler, t.sampleEntry])).toEqual(
    streams.map((s) => [s.index, s.codec_type, s.codec_tag_string]),
  );
  for (const track of tracks ?? []) {
    const stream = streams[track.index]!;
    if (track.h264) {
      const { profileIdc, chromaFormatIdc, bitDepthLuma } = track.h264;
      expect(stream.codec_name).toBe('h264');
      expect(H264_PROFILES[profileIdc]).toContain(stream.profile);
      expect(stream.pix_fmt).toBe(
        `${CHROMA_FORMATS[chromaFormatIdc]}${bitDepthLuma > 8 ? `${bitDepthLuma}le` : ''}`,
      );
    }
    if (track.aac?.objectTypeIndication === 0x40) {
      expect(stream.codec_name).toBe('aac');
      expect(stream.channels).toBe(track.aac.channelConfiguration);
      if (track.aac.audioObjectType === 2) expect(stream.profile).toBe('LC');
    }
    if (track.aac?.objectTypeIndication === 0x6b) expect(stream.codec_name).toBe('mp3');
    if (track.sampleEntry === 'Opus') expect(stream.channels).toBe(track.channelCount);
    if (stream.codec_type === 'video') {
      // ffmpeg exports the combined display matrix of video streams only.
      const rotation = stream.side_data_list?.find((entry) => entry.rotation !== undefined)?.rotation ?? 0;
      expect(track.rotated).toBe(rotation !== 0);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Byte surgery on real files

function box(type: string, payload: Uint8Array | number = 0): Buffer {
  const body = typeof payload === 'number' ? Buffer.alloc(payload) : Buffer.from(payload);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

/** The top-level boxes of a file: type, offset and size. */
function topLevel(bytes: Buffer): { type: string; start: number; size: number }[] {
  const boxes = [];
  for (let at = 0; at + 8 <= bytes.length;) {
    let size = bytes.readUInt32BE(at);
    if (size === 1) size = Number(bytes.readBigUInt64BE(at + 8));
    if (size === 0) size = bytes.length - at;
    boxes.push({ type: bytes.toString('latin1', at + 4, at + 8), start: at, size });
    at += size;
  }
  return boxes;
}

function find(bytes: Buffer, type: string) {
  const found = topLevel(bytes).find((entry) => entry.type === type);
  if (!found) throw new Error(`no ${type}`);
  return found;
}

/** `bytes` with `boxes` inserted after `ftyp` (sample offsets go stale; only the layout matters here). */
function afterFtyp(bytes: Buffer, ...boxes: Buffer[]): Buffer {
  const ftyp = find(bytes, 'ftyp');
  return Buffer.concat([bytes.subarray(0, ftyp.size), ...boxes, bytes.subarray(ftyp.size)]);
}

/**
 * Writes a, b, c, d (in units of 1.0) into the matrix of the first `mvhd`/`tkhd` of a faststart file (its moov
 * precedes any media data, so the first match is the box). The first tkhd is the video track's.
 */
function setMatrix(bytes: Buffer, type: 'mvhd' | 'tkhd', [a, b, c, d]: number[]): Buffer {
  const copy = Buffer.from(bytes);
  const body = copy.indexOf(type, 0, 'latin1') + 4;
  const offset = body + (type === 'mvhd' ? (copy[body] === 1 ? 48 : 36) : copy[body] === 1 ? 52 : 40);
  for (const [i, value] of [a, b, 0, c, d].entries()) {
    if (i !== 2) copy.writeInt32BE(Math.round(value! * 0x10000), offset + 4 * i);
  }
  return copy;
}

function matrixOf(bytes: Buffer, type: 'mvhd' | 'tkhd'): number[] {
  const body = bytes.indexOf(type, 0, 'latin1') + 4;
  const offset = body + (type === 'mvhd' ? 36 : 40) + (bytes[body] === 1 ? 12 : 0);
  return [0, 1, 3, 4].map((i) => bytes.readInt32BE(offset + 4 * i) / 0x10000);
}

/** Writes `bytes` into the temp folder under `name` and returns the path. */
async function save(name: string, bytes: Uint8Array | string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, bytes);
  return file;
}

// ---------------------------------------------------------------------------------------------------------------

describe('readMp4Tracks on files written by ffmpeg', () => {
  const cases: [string, () => Promise<string>, Mp4Track[]][] = [
    ['H.264 + AAC, faststart', () => media('h264-aac-faststart'), [videoTrack(0), aacTrack(1, 2)]],
    ['H.264 + AAC, moov at the end', () => media('h264-aac-moov-end'), [videoTrack(0), aacTrack(1, 2)]],
    [
      'H.264 + AAC with a 90° display matrix',
      () => media('h264-aac-rotated'),
      [videoTrack(0, { rotated: true }), aacTrack(1, 2)],
    ],
    [
      'HEVC + AAC',
      () => media('hevc-mp4'),
      [videoTrack(0, { sampleEntry: 'hvc1', h264: undefined, levelIdc: undefined }), aacTrack(1, 2)],
    ],
    ['AAC alone (m4a)', () => media('audio-only-m4a'), [aacTrack(0, 2)]],
    ['High profile', async () => encoded('high.mp4'), [videoTrack(0, { h264: h264(100) }), aacTrack(1, 2)]],
    [
      'High 10 (yuv420p10le)',
      async () => encoded('high10.mp4'),
      [videoTrack(0, { h264: h264(110, 1, 10) }), aacTrack(1, 1)],
    ],
    [
      'High 4:4:4 Predictive (yuv444p)',
      async () => encoded('yuv444.mp4'),
      [videoTrack(0, { h264: h264(244, 3) }), aacTrack(1, 1)],
    ],
    ['5.1 AAC', async () => encoded('surround.mp4'), [videoTrack(0), aacTrack(1, 6)]],
    ['audio before video', async () => encoded('audio-first.mp4'), [aacTrack(0, 2), videoTrack(1)]],
    [
      'a second audio track',
      async () => encoded('two-audio.mp4'),
      [videoTrack(0), aacTrack(1, 2), aacTrack(2, 1)],
    ],
    [
      'QuickTime MOV (esds inside wave)',
      async () => encoded('quicktime.mov'),
      [videoTrack(0), aacTrack(1, 2, { channelCount: 2 })],
    ],
    [
      'QuickTime MOV with 5.1 AAC',
      async () => encoded('surround.mov'),
      [videoTrack(0), aacTrack(1, 6, { channelCount: 6 })],
    ],
    [
      'MP3 in MP4 (mp4a, but not MPEG-4 audio)',
      async () => encoded('mp3-audio.mp4'),
      [videoTrack(0), aacTrack(1, 2, { aac: { objectTypeIndication: 0x6b } })],
    ],
    [
      'Opus in MP4',
      async () => encoded('opus-audio.mp4'),
      [videoTrack(0), aacTrack(1, 2, { sampleEntry: 'Opus', aac: undefined })],
    ],
  ];

  it.each(cases)('%s', async (_name, make, expected) => {
    const file = await make();
    const tracks = await readMp4Tracks(file);
    expect(tracks).toEqual(expected);
    await expectSameAsFfprobe(file, tracks);
  });

  it('reads a truncated file whose moov is intact', async () => {
    const file = await media('truncated-mp4');
    expect(await readMp4Tracks(file)).toEqual([videoTrack(0), aacTrack(1, 2)]);
    await expectSameAsFfprobe(file, await readMp4Tracks(file));
  });

  it('combines the tkhd matrix with the mvhd matrix as ffmpeg does', async () => {
    const upright = await readFile(await media('h264-aac-faststart'));
    const rotated = await readFile(await media('h264-aac-rotated'));
    const [a, b, c, d] = matrixOf(rotated, 'tkhd');
    expect([a, d]).toEqual([0, 0]);
    const variants: [string, Buffer, boolean[]][] = [
      // The movie matrix undoes the track's quarter turn: the video comes out upright, the audio track turned.
      ['undone.mp4', setMatrix(rotated, 'mvhd', [a!, c!, b!, d!]), [false, true]],
      ['movie-turned.mp4', setMatrix(upright, 'mvhd', [0, 1, -1, 0]), [true, true]],
      ['scaled.mp4', setMatrix(upright, 'tkhd', [2, 0, 0, 2]), [false, false]],
      ['mirrored.mp4', setMatrix(upright, 'tkhd', [-1, 0, 0, 1]), [true, false]],
    ];
    for (const [name, bytes, expected] of variants) {
      const file = await save(name, bytes);
      const tracks = await readMp4Tracks(file);
      expect(
        tracks?.map((track) => track.rotated),
        name,
      ).toEqual(expected);
      await expectSameAsFfprobe(file, tracks);
    }
  });
});

describe('readMp4Tracks says "can\'t tell"', () => {
  it.each(['vp9-opus-webm', 'audio-only-mp3', 'random-bytes', 'zero-bytes'] as const)(
    'for %s',
    async (kind) => {
      expect(await readMp4Tracks(await media(kind))).toBeUndefined();
    },
  );

  it('for text, an HLS playlist, a missing file and a folder', async () => {
    const text = await save('notes.txt', 'Just some text, long enough to look like a box header or two.\n');
    const playlist = await save(
      'index.m3u8',
      '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nsegment0.ts\n#EXT-X-ENDLIST\n',
    );
    await mkdir(join(dir, 'folder.mp4'), { recursive: true });
    for (const input of [text, playlist, join(dir, 'missing.mp4'), join(dir, 'folder.mp4')]) {
      expect(await readMp4Tracks(input), input).toBeUndefined();
    }
  });

  it('for a fragmented MP4 (mvex in moov)', async () => {
    expect(await readMp4Tracks(encoded('fragmented.mp4'))).toBeUndefined();
  });

  it('for a file cut inside its moov, or before it', async () => {
    const faststart = await readFile(await media('h264-aac-faststart'));
    const moov = find(faststart, 'moov');
    expect(
      await readMp4Tracks(await save('cut-moov.mp4', faststart.subarray(0, moov.start + moov.size - 1))),
    ).toBeUndefined();
    const moovEnd = await readFile(await media('h264-aac-moov-end'));
    const late = find(moovEnd, 'moov');
    expect(await readMp4Tracks(await save('no-moov.mp4', moovEnd.subarray(0, late.start)))).toBeUndefined();
  });

  it('for a file that does not start with ftyp or an old QuickTime box', async () => {
    const faststart = await readFile(await media('h264-aac-faststart'));
    expect(
      await readMp4Tracks(await save('junk-first.mp4', Buffer.concat([box('junk', 8), faststart]))),
    ).toBe(undefined);
    // An old QuickTime file may start with free space (or wide, mdat, moov).
    expect(
      await readMp4Tracks(await save('free-first.mp4', Buffer.concat([box('free', 8), faststart]))),
    ).toEqual([videoTrack(0), aacTrack(1, 2)]);
  });

  it('for more than 16 hops between top-level boxes', async () => {
    const faststart = await readFile(await media('h264-aac-faststart'));
    const frees = (count: number) => Array.from({ length: count }, () => box('free', 4));
    // ftyp + 15 free: moov is the 17th box, 16 hops away.
    expect(await readMp4Tracks(await save('hops-16.mp4', afterFtyp(faststart, ...frees(15))))).toHaveLength(
      2,
    );
    expect(
      await readMp4Tracks(await save('hops-17.mp4', afterFtyp(faststart, ...frees(16)))),
    ).toBeUndefined();
  });

  it('for a moov larger than maxIndexBytes', async () => {
    const file = await media('h264-aac-faststart');
    const { size } = find(await readFile(file), 'moov');
    expect(await readMp4Tracks(file, { maxIndexBytes: size })).toHaveLength(2);
    expect(await readMp4Tracks(file, { maxIndexBytes: size - 1 })).toBeUndefined();
  });

  it('for media data that runs to the end of the file (size 0) ahead of moov', async () => {
    const bytes = Buffer.from(await readFile(await media('h264-aac-moov-end')));
    bytes.writeUInt32BE(0, find(bytes, 'mdat').start);
    expect(await readMp4Tracks(await save('mdat-to-end.mp4', bytes))).toBeUndefined();
  });
});

describe('readMp4Tracks box sizes', () => {
  it('follows a 64-bit largesize and a moov that runs to the end of the file', async () => {
    const bytes = await readFile(await media('h264-aac-moov-end'));
    const expected = [videoTrack(0), aacTrack(1, 2)];
    const mdat = find(bytes, 'mdat');
    const large = Buffer.alloc(16);
    large.writeUInt32BE(1, 0);
    large.write('mdat', 4, 'latin1');
    large.writeBigUInt64BE(BigInt(mdat.size + 8), 8);
    const largesize = Buffer.concat([bytes.subarray(0, mdat.start), large, bytes.subarray(mdat.start + 8)]);
    expect(await readMp4Tracks(await save('largesize.mp4', largesize))).toEqual(expected);

    const toEnd = Buffer.from(bytes);
    toEnd.writeUInt32BE(0, find(bytes, 'moov').start);
    expect(await readMp4Tracks(await save('moov-to-end.mp4', toEnd))).toEqual(expected);
  });
});

describe('readMp4Tracks over HTTP', () => {
  /** Requests made by `read`, from the server's log. */
  async function requestsOf(served: ServedDirectory, read: () => Promise<unknown>): Promise<string[]> {
    const before = served.requests.length;
    await read();
    return served.requests.slice(before);
  }

  it('reads a faststart file in one request', async () => {
    const name = basename(await media('h264-aac-faststart'));
    let tracks: unknown;
    const requests = await requestsOf(server, async () => {
      tracks = await readMp4Tracks(server.url(name));
    });
    expect(tracks).toEqual([videoTrack(0), aacTrack(1, 2)]);
    expect(requests).toEqual([`GET /${name} bytes=0-65535`]);
  });

  it('reads a file smaller than the first read in one request (the answer is cut to the file)', async () => {
    const file = await media('audio-only-m4a');
    expect((await readFile(file)).length).toBeLessThan(65536);
    let tracks: unknown;
    const requests = await requestsOf(server, async () => {
      tracks = await readMp4Tracks(server.url(basename(file)));
    });
    expect(tracks).toEqual([aacTrack(0, 2)]);
    expect(requests).toEqual([`GET /${basename(file)} bytes=0-65535`]);
  });

  it('reads a file with moov at the end with a request at its moov', async () => {
    const file = await media('h264-aac-moov-end');
    const bytes = await readFile(file);
    const moov = find(bytes, 'moov');
    const name = basename(file);
    let tracks: unknown;
    const requests = await requestsOf(server, async () => {
      tracks = await readMp4Tracks(server.url(name));
    });
    expect(tracks).toEqual([videoTrack(0), aacTrack(1, 2)]);
    expect(requests).toEqual([
      `GET /${name} bytes=0-65535`,
      `GET /${name} bytes=${moov.start}-${Math.min(moov.start + 65535, bytes.length - 1)}`,
    ]);
  });

  it('reads a moov that starts at the end of the first read with one more read where its boxes are', async () => {
    const bytes = await readFile(await media('h264-aac-faststart'));
    const ftyp = find(bytes, 'ftyp');
    // Free space that puts moov 100 bytes before the end of the first read.
    const padded = afterFtyp(bytes, box('free', 65536 - 100 - ftyp.size - 8));
    const moov = find(padded, 'moov');
    expect(moov.start).toBe(65436);
    await save('straddling.mp4', padded);
    let tracks: unknown;
    const requests = await requestsOf(server, async () => {
      tracks = await readMp4Tracks(server.url('straddling.mp4'));
    });
    expect(tracks).toEqual([videoTrack(0), aacTrack(1, 2)]);
    // The mvhd right after moov's header does not fit in the first read: the second starts there.
    expect(requests).toEqual([
      'GET /straddling.mp4 bytes=0-65535',
      `GET /straddling.mp4 bytes=${moov.start + 8}-${moov.start + 8 + 65535}`,
    ]);
  });

  it('reads a moov of more than 64 KiB at the end in two requests, never its padding or the media data', async () => {
    const bytes = await readFile(await media('h264-aac-moov-end'));
    const moov = find(bytes, 'moov');
    expect(moov.start + moov.size).toBe(bytes.length);
    // Grow moov to 100 KiB with free space inside it; at the end of the file, nothing else moves.
    const padding = box('free', 100 * 1024 - moov.size - 8);
    const grown = Buffer.concat([bytes, padding]);
    grown.writeUInt32BE(moov.size + padding.length, moov.start);
    const end = grown.length - 1;
    await save('big-moov.mp4', grown);
    let tracks: unknown;
    const requests = await requestsOf(server, async () => {
      tracks = await readMp4Tracks(server.url('big-moov.mp4'));
    });
    expect(tracks).toEqual([videoTrack(0), aacTrack(1, 2)]);
    expect(requests).toEqual([
      'GET /big-moov.mp4 bytes=0-65535',
      `GET /big-moov.mp4 bytes=${moov.start}-${moov.start + 65535}`,
    ]);
    expect(end).toBeGreaterThan(moov.start + 65535);
    expect(await readMp4Tracks(server.url('big-moov.mp4'), { maxIndexBytes: 64 * 1024 })).toBeUndefined();
  });

  it('reads of a long video’s moov its track headers, never its sample tables', async () => {
    // 20 minutes of the 2 s clip, copied: one sample-table entry per frame and per audio packet.
    const long = join(dir, 'long-faststart.mp4');
    await runTestFfmpeg([
      ...['-stream_loop', '599', '-i', await media('h264-aac-faststart')],
      ...['-c', 'copy', '-movflags', '+faststart', long],
    ]);
    const moov = find(await readFile(long), 'moov');
    expect(moov.size).toBeGreaterThan(512 * 1024);
    let tracks: unknown;
    const requests = await requestsOf(server, async () => {
      tracks = await readMp4Tracks(server.url('long-faststart.mp4'));
    });
    expect(tracks).toEqual([videoTrack(0), aacTrack(1, 2)]);
    const requested = requests.map((line) => {
      const [, from, to] = /bytes=(\d+)-(\d+)$/.exec(line) ?? [];
      return Number(to) - Number(from) + 1;
    });
    // One read at the start, one at the second track, one at what follows it (for a box after the tracks).
    expect(requests.length).toBeLessThanOrEqual(3);
    expect(requested.reduce((sum, bytes) => sum + bytes, 0)).toBeLessThan(moov.size / 2);
  });

  it('leaves an index of thousands of boxes to ffprobe instead of walking it', async () => {
    const bytes = await readFile(await media('h264-aac-moov-end'));
    const moov = find(bytes, 'moov');
    const withFree = async (name: string, count: number) => {
      const padding = Buffer.concat(Array.from({ length: count }, () => box('free')));
      const grown = Buffer.concat([bytes, padding]);
      grown.writeUInt32BE(moov.size + padding.length, moov.start);
      return readMp4Tracks(await save(name, grown));
    };
    expect(await withFree('some-free.mp4', 100)).toEqual([videoTrack(0), aacTrack(1, 2)]);
    expect(await withFree('many-free.mp4', 2000)).toBeUndefined();
  });

  it('answers undefined for a server without range support, a missing object and an empty one', async () => {
    const name = basename(await media('h264-aac-faststart'));
    const requests = await requestsOf(rangeless, async () => {
      expect(await readMp4Tracks(rangeless.url(name))).toBeUndefined();
    });
    expect(requests).toEqual([`GET /${name} bytes=0-65535`]);
    expect(await readMp4Tracks(server.url('missing.mp4'))).toBeUndefined();
    expect(await readMp4Tracks(server.url(basename(await media('zero-bytes'))))).toBeUndefined();
    expect(await readMp4Tracks(server.url(basename(await media('vp9-opus-webm'))))).toBeUndefined();
  });

  describe('against a misbehaving server', () => {
    let odd: Server;
    let base: string;
    beforeAll(async () => {
      odd = createServer((req, res) => {
        if (req.url === '/wrong-range') {
          // A 206 for another range than the one asked for.
          const body = Buffer.alloc(100);
          res.writeHead(206, { 'content-range': 'bytes 100-199/1000', 'content-length': body.length });
          res.end(body);
        }
        // '/hang' never answers.
      });
      await new Promise<void>((done) => odd.listen(0, '127.0.0.1', done));
      base = `http://127.0.0.1:${(odd.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      odd.closeAllConnections();
      await new Promise((done) => odd.close(done));
    });

    it('answers undefined for a 206 of the wrong range', async () => {
      expect(await readMp4Tracks(`${base}/wrong-range`)).toBeUndefined();
    });

    it('rejects with the signal’s reason when aborted during a request', async () => {
      const reason = new Error('job cancelled');
      const controller = new AbortController();
      const pending = readMp4Tracks(`${base}/hang`, { signal: controller.signal });
      setTimeout(() => controller.abort(reason), 50);
      await expect(pending).rejects.toBe(reason);
    });
  });

  it('rejects with the signal’s reason when already aborted', async () => {
    const reason = new Error('stop');
    const signal = AbortSignal.abort(reason);
    const file = await media('h264-aac-faststart');
    await expect(readMp4Tracks(file, { signal })).rejects.toBe(reason);
    await expect(readMp4Tracks(server.url(basename(file)), { signal })).rejects.toBe(reason);
  });
});

describe('parseMoov', () => {
  it('reads a moov box on its own, and refuses a cut one', async () => {
    const bytes = await readFile(await media('h264-aac-faststart'));
    const { start, size } = find(bytes, 'moov');
    const moov = bytes.subarray(start, start + size);
    expect(parseMoov(moov)).toEqual([videoTrack(0), aacTrack(1, 2)]);
    expect(parseMoov(moov.subarray(0, size - 1))).toBeUndefined();
    expect(parseMoov(bytes)).toBeUndefined();
  });
});

/** Writes bit fields and exp-Golomb codes, as an H.264 encoder does. */
class BitWriter {
  private readonly bits: number[] = [];

  u(count: number, value: number): this {
    for (let i = count - 1; i >= 0; i -= 1) this.bits.push(Math.floor(value / 2 ** i) % 2);
    return this;
  }

  ue(value: number): this {
    const length = Math.floor(Math.log2(value + 1));
    return this.u(length, 0).u(length + 1, value + 1);
  }

  /** The bits with rbsp_trailing_bits. */
  bytes(): number[] {
    const bits = [...this.bits, 1];
    while (bits.length % 8 !== 0) bits.push(0);
    return Array.from({ length: bits.length / 8 }, (_, i) =>
      bits.slice(i * 8, i * 8 + 8).reduce((byte, bit) => byte * 2 + bit, 0),
    );
  }
}

describe('parseH264Sps', () => {
  const sps = (profileIdc: number, fields: (writer: BitWriter) => BitWriter) =>
    Uint8Array.from([0x67, ...fields(new BitWriter().u(8, profileIdc).u(8, 0).u(8, 31).ue(0)).bytes()]);

  it('reads chroma format and bit depths of the High profiles, with defaults for the others', () => {
    expect(parseH264Sps(sps(110, (w) => w.ue(1).ue(2).ue(2)))).toEqual(h264(110, 1, 10));
    // 4:4:4 carries separate_colour_plane_flag before the bit depths.
    expect(parseH264Sps(sps(244, (w) => w.ue(3).u(1, 1).ue(0).ue(2)))).toEqual({
      profileIdc: 244,
      chromaFormatIdc: 3,
      bitDepthLuma: 8,
      bitDepthChroma: 10,
    });
    expect(parseH264Sps(sps(77, (w) => w.ue(0).ue(0)))).toEqual(h264(77));
  });

  it('removes emulation-prevention bytes', () => {
    // profile 100, constraint flags 0, level 0 → 00 00, then the 03 an encoder inserts, then sps id 0, 4:2:0, 8 bit.
    expect(parseH264Sps(Uint8Array.from([0x67, 0x64, 0x00, 0x00, 0x03, 0b10101110]))).toEqual(h264(100));
  });

  it('says undefined for other NAL units, cut SPSs and values out of range', () => {
    expect(parseH264Sps(Uint8Array.from([0x68, 0xce, 0x38, 0x80]))).toBeUndefined();
    expect(parseH264Sps(Uint8Array.from([0x67, 0x64, 0x00]))).toBeUndefined();
    expect(parseH264Sps(sps(100, (w) => w.ue(4).ue(0).ue(0)))).toBeUndefined();
    expect(parseH264Sps(sps(100, (w) => w.ue(1).ue(7).ue(0)))).toBeUndefined();
    expect(parseH264Sps(new Uint8Array(0))).toBeUndefined();
  });
});

describe('parseEsds', () => {
  /** A descriptor with its size written in `sizeBytes` bytes (7 bits each, high bit = more follow). */
  const descriptor = (tag: number, body: number[], sizeBytes = 1): number[] => {
    const size = Array.from(
      { length: sizeBytes },
      (_, i) => ((body.length >> (7 * (sizeBytes - 1 - i))) & 0x7f) | (i < sizeBytes - 1 ? 0x80 : 0),
    );
    return [tag, ...size, ...body];
  };
  const decoderConfig = (objectTypeIndication: number, more: number[], sizeBytes = 1) =>
    descriptor(4, [objectTypeIndication, 0x15, 0, 0x18, 0, 0, 1, 0xf4, 0, 0, 1, 0xf4, 0, ...more], sizeBytes);
  const esds = (es: number[]) => Uint8Array.from([0, 0, 0, 0, ...descriptor(3, es, 4)]);
  const slConfig = descriptor(6, [2]);

  it('reads AAC-LC stereo as ffmpeg writes it', () => {
    const lcStereo = [0x11, 0x90]; // AOT 2, 48 kHz (index 3), 2 channels
    expect(parseEsds(esds([0, 1, 0, ...decoderConfig(0x40, descriptor(5, lcStereo)), ...slConfig]))).toEqual({
      objectTypeIndication: 0x40,
      audioObjectType: 2,
      channelConfiguration: 2,
    });
  });

  it('skips the optional ES fields and reads escaped object types and explicit frequencies', () => {
    // AOT 31 → 32 + 10 = 42; frequency index 15 → 24 bits of frequency (44100); 1 channel.
    const config = new BitWriter().u(5, 31).u(6, 10).u(4, 15).u(24, 44100).u(4, 1).bytes();
    const flags = 0x80 | 0x40 | 0x20; // streamDependence, URL, OCR
    const es = [0, 1, flags, 0, 2, 3, 0x61, 0x62, 0x63, 0, 3];
    expect(
      parseEsds(esds([...es, ...decoderConfig(0x40, descriptor(5, config, 4), 4), ...slConfig])),
    ).toEqual({
      objectTypeIndication: 0x40,
      audioObjectType: 42,
      channelConfiguration: 1,
    });
  });

  it('reports only the object type for MP3, and when the AudioSpecificConfig is missing or cut', () => {
    expect(parseEsds(esds([0, 1, 0, ...decoderConfig(0x6b, [])]))).toEqual({ objectTypeIndication: 0x6b });
    expect(parseEsds(esds([0, 1, 0, ...decoderConfig(0x40, [])]))).toEqual({ objectTypeIndication: 0x40 });
    expect(parseEsds(esds([0, 1, 0, ...decoderConfig(0x40, descriptor(5, [0x11]))]))).toEqual({
      objectTypeIndication: 0x40,
    });
  });

  it('says undefined for descriptors out of place or out of bounds', () => {
    expect(parseEsds(Uint8Array.from([0, 0, 0, 0, ...decoderConfig(0x40, [])]))).toBeUndefined();
    expect(parseEsds(esds([0, 1, 0, ...slConfig]))).toBeUndefined();
    const overflowing = esds([0, 1, 0, ...decoderConfig(0x40, [])]);
    expect(parseEsds(overflowing.subarray(0, overflowing.length - 1))).toBeUndefined();
    expect(parseEsds(esds([0, 1, 0, 4, 3, 0x40, 0, 0]))).toBeUndefined();
    expect(
      parseEsds(Uint8Array.from([1, 0, 0, 0, ...descriptor(3, [0, 1, 0, ...decoderConfig(0x40, [])])])),
    ).toBe(undefined);
  });
});

describe('readMp4Tracks: what the limits are checked against', () => {
  it('reads the picture size, the H.264 level and the movie duration', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mp4-limits-'));
    try {
      const file = join(dir, 'level.mp4');
      await runTestFfmpeg([
        ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=3'],
        ...['-c:v', 'libx264', '-preset', 'ultrafast', '-level', '4.1', file],
      ]);
      const [video] = (await readMp4Tracks(file)) ?? [];
      expect(video).toMatchObject({ width: 320, height: 240, levelIdc: 41 });
      expect(video?.movieDurationSeconds).toBeCloseTo(3, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
