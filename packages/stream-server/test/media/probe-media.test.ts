import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directLauncher } from '../../src/media/process-launcher.js';
import { checkSource } from '../../src/media/check-source.js';
import { MediaMessage } from '../../src/media/ffmpeg-failure.js';
import { probeMedia } from '../../src/media/probe-media.js';
import {
  FFPROBE_PATH,
  makeTestMedia,
  serveDirectory,
  type ServedDirectory,
  type TestMediaKind,
  failureOf,
} from '../helpers/media.js';

let dir: string;
let server: ServedDirectory;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'probe-media-'));
  server = await serveDirectory(dir);
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function urlOf(kind: TestMediaKind, seconds = 8): Promise<string> {
  return server.url(basename(await makeTestMedia(dir, kind, { seconds })));
}

const probeOptions = { ffprobePath: FFPROBE_PATH, timeoutMs: 30_000, launcher: directLauncher };

describe('probeMedia over HTTP', () => {
  it.each([
    ['h264-aac-faststart', 'h264', 'aac'],
    ['h264-aac-moov-end', 'h264', 'aac'],
    ['vp9-opus-webm', 'vp9', 'opus'],
    ['hevc-mp4', 'hevc', 'aac'],
  ] as const)('reads duration, size and codecs of %s', async (kind, videoCodec, audioCodec) => {
    const probe = await probeMedia(await urlOf(kind), probeOptions);
    expect(probe.durationSeconds).toBeCloseTo(8, 0);
    expect(probe.video).toMatchObject({ codec: videoCodec, width: 320, height: 240, pixFmt: 'yuv420p' });
    expect(probe.video?.fps).toBe(25);
    expect(probe.audio).toMatchObject({ codec: audioCodec, channels: 2, sampleRate: 48000 });
  });

  it('reads an AAC-only M4A as audio without video', async () => {
    const probe = await probeMedia(await urlOf('audio-only-m4a'), probeOptions);
    expect(probe.video).toBeUndefined();
    expect(probe.audio?.codec).toBe('aac');
    expect(probe.durationSeconds).toBeCloseTo(8, 0);
  });

  it('ignores the cover art of an MP3', async () => {
    const probe = await probeMedia(await urlOf('audio-only-mp3'), probeOptions);
    expect(probe.video).toBeUndefined();
    expect(probe.audio).toMatchObject({ index: 0, codec: 'mp3' });
    expect(probe.formatName).toBe('mp3');
  });

  it('reports a null duration for live WebM written without one', async () => {
    const probe = await probeMedia(await urlOf('vp9-opus-webm-live'), probeOptions);
    expect(probe.durationSeconds).toBeNull();
    expect(probe.video?.codec).toBe('vp9');
  });

  it('passes a truncated MP4 whose index is intact, with the full duration (ffmpeg must catch it later)', async () => {
    const probe = await probeMedia(await urlOf('truncated-mp4'), probeOptions);
    expect(probe.durationSeconds).toBeCloseTo(8, 0);
  });

  it.each(['random-bytes', 'zero-bytes'] as const)(
    'rejects %s as invalid_input with a readable message',
    async (kind) => {
      const error = await failureOf(probeMedia(await urlOf(kind), probeOptions));
      expect(error).toMatchObject({
        code: 'invalid_input',
        permanent: true,
        message: MediaMessage.NotAVideo,
      });
    },
  );

  it('rejects a missing object as invalid_input: not found', async () => {
    const error = await failureOf(probeMedia(server.url('missing.mp4'), probeOptions));
    expect(error).toMatchObject({
      code: 'invalid_input',
      permanent: true,
      message: MediaMessage.SourceNotFound,
    });
    expect(error.details.stderrTail).toMatch(/404/);
  });
});

describe('probeMedia on a local path', () => {
  it('reads a file by path', async () => {
    const probe = await probeMedia(
      await makeTestMedia(dir, 'h264-aac-faststart', { seconds: 8 }),
      probeOptions,
    );
    expect(probe.video?.codec).toBe('h264');
  });

  it('rejects an empty file as invalid_input', async () => {
    const error = await failureOf(
      probeMedia(await makeTestMedia(dir, 'zero-bytes', { seconds: 8 }), probeOptions),
    );
    expect(error).toMatchObject({ code: 'invalid_input', permanent: true });
  });
});

describe('checkSource', () => {
  it('returns the size of a reachable object', async () => {
    const file = await makeTestMedia(dir, 'h264-aac-faststart', { seconds: 8 });
    const info = await checkSource(server.url(basename(file)), { timeoutMs: 5_000 });
    expect(info).toEqual({
      sizeBytes: (await stat(file)).size,
      contentType: 'application/octet-stream',
      rangeSupported: true,
    });
  });

  it('notices a server that ignores Range', async () => {
    const noRanges = await serveDirectory(dir, { ranges: false });
    try {
      const file = await makeTestMedia(dir, 'h264-aac-faststart', { seconds: 8 });
      expect(await checkSource(noRanges.url(basename(file)), { timeoutMs: 5_000 })).toMatchObject({
        rangeSupported: false,
      });
    } finally {
      await noRanges.close();
    }
  });

  it('rejects an empty object as invalid_input: empty', async () => {
    const error = await failureOf(checkSource(await urlOf('zero-bytes'), { timeoutMs: 5_000 }));
    expect(error).toMatchObject({ code: 'invalid_input', permanent: true, message: MediaMessage.Empty });
  });

  it('rejects a missing object permanently', async () => {
    const error = await failureOf(checkSource(server.url('missing.mp4'), { timeoutMs: 5_000 }));
    expect(error).toMatchObject({
      code: 'invalid_input',
      permanent: true,
      message: MediaMessage.SourceNotFound,
    });
  });

  it.each([
    [403, 'storage', true],
    [500, 'storage', false],
    [503, 'storage', false],
  ] as const)('maps HTTP %i to %s (permanent: %s)', async (status, code, permanent) => {
    const failing = createServer((_req, res) => res.writeHead(status).end());
    await new Promise<void>((done) => failing.listen(0, '127.0.0.1', done));
    try {
      const { port } = failing.address() as AddressInfo;
      const error = await failureOf(checkSource(`http://127.0.0.1:${port}/v.mp4`, { timeoutMs: 5_000 }));
      expect(error).toMatchObject({ code, permanent });
    } finally {
      failing.closeAllConnections();
      await new Promise((done) => failing.close(done));
    }
  });

  it('treats an unreachable server as a transient storage failure', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const { port } = closed.address() as AddressInfo;
    await new Promise((done) => closed.close(done));
    const error = await failureOf(checkSource(`http://127.0.0.1:${port}/v.mp4`, { timeoutMs: 5_000 }));
    expect(error).toMatchObject({
      code: 'storage',
      permanent: false,
      message: MediaMessage.SourceUnreachable,
    });
  });

  it('does not check local paths', async () => {
    expect(await checkSource('/no/such/file.mp4', { timeoutMs: 5_000 })).toEqual({});
  });
});
