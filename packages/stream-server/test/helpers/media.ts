import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import type { HlsSink } from '../../src/media/generate-hls.js';
import { MediaError } from '../../src/media/media-error.js';
import type { Readable } from 'node:stream';
import type { PutOptions } from '../../src/storage/storage.js';

const run = promisify(execFile);

export const FFMPEG_PATH = '/usr/bin/ffmpeg';
export const FFPROBE_PATH = '/usr/bin/ffprobe';

/**
 * Kinds of generated test media. All 320x240 at 25 fps with a 440 Hz tone, small and fast to make, except the
 * 1080p one.
 * - `h264-aac-faststart`: MP4, moov at the front, keyframe every 2 s (copyable).
 * - `h264-aac-1080p`: the same at 1920x1080 (a source with room for a bitrate ladder below it; keep it short).
 * - `h264-aac-moov-end`: the same with the moov at the end (ffmpeg must seek over HTTP).
 * - `vp9-opus-webm`: WebM with one keyframe every 10 s (must be transcoded; segments come from forced keyframes).
 * - `vp9-opus-webm-live`: WebM written like a browser MediaRecorder: no duration, no cues.
 * - `hevc-mp4`: HEVC + AAC (libx265 is present in Debian's ffmpeg).
 * - `audio-only-m4a`: AAC in MP4.
 * - `audio-only-mp3`: MP3 with cover art (an attached-picture MJPEG stream that must be ignored).
 * - `truncated-mp4`: `h264-aac-faststart` cut to 55 % of its bytes (moov intact, data missing).
 * - `random-bytes`: 256 KiB from a fixed-seed generator (the same bytes every run).
 * - `zero-bytes`: an empty file.
 */
export const TestMediaKind = {
  H264AacFaststart: 'h264-aac-faststart',
  H264Aac1080p: 'h264-aac-1080p',
  H264AacMoovEnd: 'h264-aac-moov-end',
  /** Landscape frames with a 90° display matrix, as phones store portrait video. */
  H264AacRotated: 'h264-aac-rotated',
  Vp9OpusWebm: 'vp9-opus-webm',
  Vp9OpusWebmLive: 'vp9-opus-webm-live',
  HevcMp4: 'hevc-mp4',
  AudioOnlyM4a: 'audio-only-m4a',
  AudioOnlyMp3: 'audio-only-mp3',
  TruncatedMp4: 'truncated-mp4',
  RandomBytes: 'random-bytes',
  ZeroBytes: 'zero-bytes',
} as const;
export type TestMediaKind = (typeof TestMediaKind)[keyof typeof TestMediaKind];

const EXTENSIONS: Record<TestMediaKind, string> = {
  'h264-aac-faststart': 'mp4',
  'h264-aac-1080p': 'mp4',
  'h264-aac-moov-end': 'mp4',
  'h264-aac-rotated': 'mp4',
  'vp9-opus-webm': 'webm',
  'vp9-opus-webm-live': 'webm',
  'hevc-mp4': 'mp4',
  'audio-only-m4a': 'm4a',
  'audio-only-mp3': 'mp3',
  'truncated-mp4': 'mp4',
  'random-bytes': 'bin',
  'zero-bytes': 'mp4',
};

const cache = new Map<string, Promise<string>>();

function lavfi(seconds: number, size = '320x240'): string[] {
  return [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${size}:rate=25:duration=${seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
  ];
}

const H264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '32', '-g', '50', '-pix_fmt', 'yuv420p'];
const AAC = ['-c:a', 'aac', '-b:a', '64k', '-ac', '2'];

/** Runs ffmpeg quietly (errors only), overwriting its output; rejects when it fails. */
export async function runTestFfmpeg(args: string[]): Promise<void> {
  await run(FFMPEG_PATH, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args]);
}

function seededBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

async function generate(dir: string, kind: TestMediaKind, seconds: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${kind}-${seconds}s.${EXTENSIONS[kind]}`);
  switch (kind) {
    case 'h264-aac-faststart':
      await runTestFfmpeg([...lavfi(seconds), ...H264, ...AAC, '-movflags', '+faststart', '-shortest', file]);
      break;
    case 'h264-aac-1080p':
      await runTestFfmpeg([
        ...lavfi(seconds, '1920x1080'),
        ...H264,
        ...AAC,
        '-movflags',
        '+faststart',
        '-shortest',
        file,
      ]);
      break;
    case 'h264-aac-moov-end':
      await runTestFfmpeg([...lavfi(seconds), ...H264, ...AAC, '-shortest', file]);
      break;
    case 'h264-aac-rotated': {
      // ffmpeg 5.1 writes the rotate tag as a display matrix only when remuxing, not while encoding.
      const upright = await generate(dir, 'h264-aac-faststart', seconds);
      await runTestFfmpeg([
        '-i',
        upright,
        '-c',
        'copy',
        '-metadata:s:v:0',
        'rotate=90',
        '-movflags',
        '+faststart',
        file,
      ]);
      break;
    }
    case 'vp9-opus-webm':
    case 'vp9-opus-webm-live':
      await runTestFfmpeg([
        ...lavfi(seconds),
        ...['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k', '-g', '250'],
        ...['-c:a', 'libopus', '-b:a', '48k', '-ac', '2'],
        ...(kind === 'vp9-opus-webm-live' ? ['-live', '1'] : []),
        '-shortest',
        '-f',
        'webm',
        file,
      ]);
      break;
    case 'hevc-mp4':
      await runTestFfmpeg([
        ...lavfi(seconds),
        ...['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-tag:v', 'hvc1'],
        ...AAC,
        '-shortest',
        file,
      ]);
      break;
    case 'audio-only-m4a':
      await runTestFfmpeg([...lavfi(seconds).slice(4), ...AAC, file]);
      break;
    case 'audio-only-mp3':
      await runTestFfmpeg([
        ...lavfi(seconds).slice(4),
        ...['-f', 'lavfi', '-i', 'testsrc2=size=64x64:rate=1:duration=1'],
        ...[
          '-map',
          '0:a',
          '-map',
          '1:v',
          '-frames:v',
          '1',
          '-c:v',
          'mjpeg',
          '-disposition:v:0',
          'attached_pic',
        ],
        ...['-c:a', 'libmp3lame', '-b:a', '64k', '-id3v2_version', '3'],
        file,
      ]);
      break;
    case 'truncated-mp4': {
      const whole = await makeTestMedia(dir, 'h264-aac-faststart', { seconds });
      await copyFile(whole, file);
      await truncate(file, Math.floor((await stat(whole)).size * 0.55));
      break;
    }
    case 'random-bytes':
      await writeFile(file, seededBytes(256 * 1024, 0x5eed));
      break;
    case 'zero-bytes':
      await writeFile(file, new Uint8Array(0));
      break;
  }
  return file;
}

/**
 * Generates (once per process, per folder, kind and length) a test media file in `dir` and returns its path.
 *
 * @example
 * const file = await makeTestMedia(tmp, 'h264-aac-moov-end', { seconds: 12 });
 */
export function makeTestMedia(
  dir: string,
  kind: TestMediaKind,
  options: { seconds?: number } = {},
): Promise<string> {
  const seconds = options.seconds ?? 12;
  const key = `${dir}:${kind}:${seconds}`;
  let file = cache.get(key);
  if (!file) {
    file = generate(dir, kind, seconds);
    cache.set(key, file);
    file.catch(() => cache.delete(key));
  }
  return file;
}

export interface ServedDirectory {
  /** Absolute URL of a file in the directory. */
  url(name: string): string;
  /** Every request seen, e.g. `GET /a.mp4 bytes=0-`. */
  readonly requests: string[];
  close(): Promise<void>;
}

function serveFile(root: string, ranges: boolean) {
  return async (req: IncomingMessage, res: ServerResponse, log: string[]) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const path = resolve(root, `.${pathname}`);
    log.push(`${req.method} ${pathname} ${req.headers.range ?? ''}`.trim());
    if (!path.startsWith(root + sep)) return void res.writeHead(403).end();
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) return void res.writeHead(404).end();
    const size = info.size;
    const match = ranges ? /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '') : null;
    const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream' };
    if (ranges) headers['accept-ranges'] = 'bytes';
    let start = 0;
    let end = size - 1;
    if (match) {
      const [, from = '', to = ''] = match;
      if (from === '') {
        start = Math.max(0, size - Number(to));
      } else {
        start = Number(from);
        if (to !== '') end = Math.min(Number(to), size - 1);
      }
      if (start >= size || start > end) {
        return void res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` }).end();
      }
      res.writeHead(206, {
        ...headers,
        'content-range': `bytes ${start}-${end}/${size}`,
        'content-length': end - start + 1,
      });
    } else {
      res.writeHead(200, { ...headers, 'content-length': size });
    }
    if (req.method === 'HEAD' || size === 0) return void res.end();
    createReadStream(path, { start, end })
      .on('error', () => res.destroy())
      .pipe(res);
  };
}

/**
 * A static file server on 127.0.0.1 (random port) honouring `Range` (206/416), so ffmpeg can read test media
 * through HTTP as it reads a presigned S3 URL. `ranges: false` answers every request with the whole file, like
 * a server that ignores `Range`.
 *
 * @example
 * const server = await serveDirectory(tmp);
 * await generateHls({ sourceUrl: server.url('video.mp4'), … });
 * await server.close();
 */
export async function serveDirectory(
  dir: string,
  options: { ranges?: boolean } = {},
): Promise<ServedDirectory> {
  const root = resolve(dir);
  const requests: string[] = [];
  const handle = serveFile(root, options.ranges ?? true);
  const server = createServer((req, res) => {
    handle(req, res, requests).catch(() => res.destroy());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name.split('/').map(encodeURIComponent).join('/')}`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** One call a {@link DirectorySink} received, in order. */
export interface SinkCall {
  op: 'putFile' | 'putObject' | 'deletePrefix';
  key: string;
  contentType?: string | undefined;
}

export interface DirectorySinkOptions {
  /** Throw from the n-th `putFile` call (1-based). */
  failOnPutFile?: number;
  /** Awaited at the start of each `putFile` (to hold uploads back). */
  beforePutFile?: (key: string, filePath: string) => Promise<void>;
}

/**
 * An {@link HlsSink} that stores objects as files under `root` (key = relative path) and records every call.
 * The real storages are tested on their own; this one makes the media tests about media.
 */
export class DirectorySink implements HlsSink {
  readonly calls: SinkCall[] = [];
  private putFileCount = 0;

  constructor(
    readonly root: string,
    private readonly options: DirectorySinkOptions = {},
  ) {}

  private pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (!path.startsWith(resolve(this.root) + sep)) throw new Error(`key outside the sink: ${key}`);
    return path;
  }

  async putFile(key: string, filePath: string, options?: PutOptions): Promise<void> {
    this.putFileCount += 1;
    const count = this.putFileCount;
    await this.options.beforePutFile?.(key, filePath);
    this.calls.push({ op: 'putFile', key, contentType: options?.contentType });
    if (count === this.options.failOnPutFile) throw new Error('storage is down');
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    await copyFile(filePath, path);
  }

  async putObject(key: string, body: Uint8Array | string | Readable, options?: PutOptions): Promise<void> {
    this.calls.push({ op: 'putObject', key, contentType: options?.contentType });
    if (typeof body !== 'string' && !(body instanceof Uint8Array))
      throw new Error('streams are not used here');
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
  }

  async deletePrefix(prefix: string): Promise<number> {
    this.calls.push({ op: 'deletePrefix', key: prefix });
    const keys = (await this.keys()).filter((key) => key.startsWith(prefix));
    await Promise.all(keys.map((key) => rm(this.pathOf(key), { force: true })));
    return keys.length;
  }

  /** Every stored key, sorted. */
  async keys(): Promise<string[]> {
    const found: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else found.push(relative(this.root, path).split(sep).join('/'));
      }
    };
    await walk(this.root);
    return found.sort();
  }

  readText(key: string): Promise<string> {
    return readFile(this.pathOf(key), 'utf8');
  }
}

/** The `MediaError` a promise rejects with; fails the test if it resolves or rejects with anything else. */
export async function failureOf(promise: Promise<unknown>): Promise<MediaError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MediaError) return error;
    throw error;
  }
  throw new Error('expected a MediaError');
}

/** The 24-byte `ftyp` box an MP4 opens with (brand `isom`). */
const FTYP_BOX = Buffer.from([
  0x00, 0x00, 0x00, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d, 0x00, 0x00, 0x02, 0x00, 0x69, 0x73,
  0x6f, 0x6d, 0x6d, 0x70, 0x34, 0x31,
]);

/**
 * `size` bytes that open like an MP4 (an `ftyp` box, cut short below 24 bytes) followed by random bytes: they pass
 * the fail-fast container check at upload completion and fail generation's full probe.
 */
export function videoLikeBytes(size: number): Buffer<ArrayBuffer> {
  const bytes = randomBytes(size);
  FTYP_BOX.copy(bytes, 0, 0, Math.min(size, FTYP_BOX.length));
  return bytes;
}
