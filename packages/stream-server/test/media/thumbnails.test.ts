import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directLauncher } from '../../src/media/process-launcher.js';

import { rewriteStoryboard } from '../../src/http/routes/playlist-routes.js';
import { generateThumbnails } from '../../src/media/generate-thumbnails.js';
import {
  buildPosterArgs,
  buildStoryboardArgs,
  buildStoryboardVtt,
  jpegSize,
  storyboardLayout,
} from '../../src/media/thumbnail-args.js';
import { DirectorySink, FFMPEG_PATH, makeTestMedia } from '../helpers/media.js';

describe('storyboardLayout', () => {
  it('takes one tile per second for short videos', () => {
    expect(storyboardLayout(8.3)).toEqual({ intervalSeconds: 1, count: 9, columns: 9, rows: 1 });
  });

  it('never makes more than 100 tiles, ten to a row', () => {
    for (const duration of [99, 100, 101, 599.5, 3600, 7 * 3600 + 13]) {
      const layout = storyboardLayout(duration);
      expect(layout.count, String(duration)).toBeLessThanOrEqual(100);
      expect(layout.count * layout.intervalSeconds, String(duration)).toBeGreaterThanOrEqual(duration);
      expect(layout.columns * layout.rows, String(duration)).toBeGreaterThanOrEqual(layout.count);
      expect(layout.columns, String(duration)).toBeLessThanOrEqual(10);
    }
    expect(storyboardLayout(3600)).toEqual({ intervalSeconds: 36, count: 100, columns: 10, rows: 10 });
  });
});

describe('thumbnail ffmpeg arguments', () => {
  it('seeks before the input for the poster and caps its width at 1280', () => {
    const args = buildPosterArgs({
      input: 'https://b.example/v.mp4?sig=1',
      output: '/tmp/p.jpg',
      atSeconds: 6.25,
    });
    expect(args.indexOf('-ss')).toBeLessThan(args.indexOf('-i'));
    expect(args[args.indexOf('-ss') + 1]).toBe('6.250');
    expect(args[args.indexOf('-vf') + 1]).toBe("scale='min(1280,iw)':-2");
    expect(args.at(-1)).toBe('/tmp/p.jpg');
  });

  it('tiles 160-wide thumbnails into one sprite, decoding only keyframes for long intervals', () => {
    const short = buildStoryboardArgs({ input: '/v.mp4', output: '/s.jpg', layout: storyboardLayout(8) });
    expect(short[short.indexOf('-vf') + 1]).toBe('fps=1/1,scale=160:-2,tile=8x1');
    expect(short).not.toContain('-skip_frame');
    const long = buildStoryboardArgs({ input: '/v.mp4', output: '/s.jpg', layout: storyboardLayout(3600) });
    expect(long[long.indexOf('-vf') + 1]).toBe('fps=1/36,scale=160:-2,tile=10x10');
    expect(long.indexOf('-skip_frame')).toBeLessThan(long.indexOf('-i'));
  });
});

describe('buildStoryboardVtt', () => {
  it('writes gapless cues from 0 to the duration, row by row in the sprite', () => {
    const vtt = buildStoryboardVtt({
      layout: storyboardLayout(12.5, { columns: 5 }),
      durationSeconds: 12.5,
      tileWidth: 160,
      tileHeight: 90,
    });
    const lines = vtt.split('\n');
    expect(lines[0]).toBe('WEBVTT');
    expect(lines.slice(2, 4)).toEqual(['00:00:00.000 --> 00:00:01.000', 'storyboard.jpg#xywh=0,0,160,90']);
    expect(vtt).toContain('00:00:05.000 --> 00:00:06.000\nstoryboard.jpg#xywh=0,90,160,90');
    expect(vtt).toContain('00:00:12.000 --> 00:00:12.500\nstoryboard.jpg#xywh=320,180,160,90');
    expect(vtt.match(/-->/g)).toHaveLength(13);
  });
});

describe('rewriteStoryboard', () => {
  it('makes the sprite reference absolute and keeps the fragment, signing each file once', async () => {
    const signed: string[] = [];
    const vtt =
      'WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nstoryboard.jpg#xywh=0,0,160,90\n\n00:00:01.000 --> 00:00:02.000\nstoryboard.jpg#xywh=160,0,160,90\n';
    const out = await rewriteStoryboard(vtt, async (name) => {
      signed.push(name);
      return `https://b.example/k/${name}?sig=x`;
    });
    expect(signed).toEqual(['storyboard.jpg']);
    expect(out).toContain('\nhttps://b.example/k/storyboard.jpg?sig=x#xywh=160,0,160,90\n');
    expect(out).not.toMatch(/^storyboard\.jpg/m);
  });
});

describe('generateThumbnails', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-thumbs-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('stores a poster, a sprite and a VTT beside the HLS output', async () => {
    const source = await makeTestMedia(path.join(dir, 'media'), 'h264-aac-faststart', { seconds: 4 });
    const sink = new DirectorySink(path.join(dir, 'out'));
    const result = await generateThumbnails({
      sourceUrl: source,
      outputPrefix: 'videos/u/v_hls/',
      durationSeconds: 4,
      sink,
      tempRoot: path.join(dir, 'tmp'),
      ffmpegPath: FFMPEG_PATH,
      launcher: directLauncher,
    });
    expect(result).toEqual({
      posterKey: 'videos/u/v_hls/poster.jpg',
      storyboardKey: 'videos/u/v_hls/storyboard.vtt',
    });
    const poster = await fs.readFile(path.join(dir, 'out', 'videos/u/v_hls/poster.jpg'));
    expect(jpegSize(poster)).toEqual({ width: 320, height: 240 });
    const sprite = await fs.readFile(path.join(dir, 'out', 'videos/u/v_hls/storyboard.jpg'));
    expect(jpegSize(sprite)).toEqual({ width: 4 * 160, height: 120 });
    expect(await fs.readdir(path.join(dir, 'tmp'))).toEqual([]);
  });

  it('leaves both out without throwing when ffmpeg fails', async () => {
    const sink = new DirectorySink(path.join(dir, 'failed'));
    const result = await generateThumbnails({
      sourceUrl: path.join(dir, 'does-not-exist.mp4'),
      outputPrefix: 'videos/u/w_hls/',
      durationSeconds: 4,
      sink,
      tempRoot: path.join(dir, 'tmp'),
      ffmpegPath: FFMPEG_PATH,
      launcher: directLauncher,
    });
    expect(result).toEqual({ posterKey: null, storyboardKey: null });
  });
});
