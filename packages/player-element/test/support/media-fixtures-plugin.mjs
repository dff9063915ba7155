// Makes small HLS streams with ffmpeg (once) for the browser tests, served by the test runner from .tmp/fixtures/:
// - vod/playlist.m3u8: 8 s, one rendition, 1 s segments;
// - storyboard/storyboard.vtt + sprite.jpg: seek thumbnails of the vod stream (one every 2 s, 160×90, 5×5 sprite);
// - quality/master.m3u8: 8 s in two renditions (640×360 and 320×180) and a German WebVTT subtitle rendition.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  makeFixtureFolder,
  makeStoryboardFixture,
  runFfmpeg,
  testSourceArgs,
  webVtt,
} from '@notetaker/test-support/media';

export async function makeVodFixture(dir, seconds = 8) {
  if (existsSync(path.join(dir, 'playlist.m3u8'))) return;
  mkdirSync(dir, { recursive: true });
  await runFfmpeg([
    ...testSourceArgs(seconds),
    '-f',
    'hls',
    '-hls_time',
    '1',
    '-hls_playlist_type',
    'vod',
    '-hls_segment_filename',
    path.join(dir, 'segment%d.ts'),
    path.join(dir, 'playlist.m3u8'),
  ]);
}

/** A multivariant playlist: two renditions made by ffmpeg and one WebVTT subtitle rendition. */
export function makeQualityFixture(dir, seconds = 8) {
  return makeFixtureFolder(dir, async (out) => {
    for (const [name, size] of [
      ['360p', '640x360'],
      ['180p', '320x180'],
    ]) {
      mkdirSync(path.join(out, name));
      const args = testSourceArgs(seconds);
      args[args.indexOf(`testsrc2=size=320x180:rate=25:duration=${seconds}`)] =
        `testsrc2=size=${size}:rate=25:duration=${seconds}`;
      await runFfmpeg([
        ...args,
        '-f',
        'hls',
        '-hls_time',
        '1',
        '-hls_playlist_type',
        'vod',
        '-hls_segment_filename',
        path.join(out, name, 'segment%d.ts'),
        path.join(out, name, 'playlist.m3u8'),
      ]);
    }
    mkdirSync(path.join(out, 'subs'));
    writeFileSync(
      path.join(out, 'subs', 'de.vtt'),
      webVtt([
        [0, 4, 'Erster Untertitel'],
        [4, seconds, 'Zweiter Untertitel'],
      ]).replace('WEBVTT\n', 'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n'),
    );
    writeFileSync(
      path.join(out, 'subs', 'de.m3u8'),
      `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:${seconds}\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:${seconds},\nde.vtt\n#EXT-X-ENDLIST\n`,
    );
    writeFileSync(
      path.join(out, 'master.m3u8'),
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Deutsch",LANGUAGE="de",DEFAULT=NO,AUTOSELECT=NO,URI="subs/de.m3u8"',
        '#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360,SUBTITLES="subs"',
        '360p/playlist.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=320x180,SUBTITLES="subs"',
        '180p/playlist.m3u8',
        '',
      ].join('\n'),
    );
  });
}

export function mediaFixtures({ rootDir = process.cwd() } = {}) {
  return {
    name: 'media-fixtures',
    async serverStart() {
      const fixtures = path.join(rootDir, '.tmp/fixtures');
      await makeVodFixture(path.join(fixtures, 'vod'));
      await Promise.all([
        makeStoryboardFixture(path.join(fixtures, 'storyboard')),
        makeQualityFixture(path.join(fixtures, 'quality')),
      ]);
    },
  };
}

/**
 * Serves the VOD fixture under /flaky/<key>/<mode>/playlist with segments misbehaving: mode `all` answers every
 * segment after the first 500 (an outage), `forbidden` answers segment1 403, a number N answers segment1 500 to its
 * first N requests, `conflict` answers the playlist itself 409 (a generation that failed or restarted). URLs have no extension so that
 * the test runner does not mark the answers (failures included) as cacheable for a year.
 */
export function flakyHlsMiddleware({ rootDir = process.cwd() } = {}) {
  const failures = new Map();
  return async (ctx, next) => {
    const match = /^\/flaky\/([\w-]+)\/(\w+)\/(playlist|segment\d+)$/.exec(ctx.path);
    if (!match) return next();
    const [, key, mode, name] = match;
    ctx.set('cache-control', 'no-store');
    if (name === 'playlist') {
      if (mode === 'conflict') {
        ctx.status = 409;
        return;
      }
      const playlist = readFileSync(path.join(rootDir, '.tmp/fixtures/vod/playlist.m3u8'), 'utf8');
      ctx.type = 'application/vnd.apple.mpegurl';
      ctx.body = playlist.replace(/\.ts$/gm, '');
      return;
    }
    if (mode === 'all' && name !== 'segment0') {
      ctx.status = 500;
      return;
    }
    if (name === 'segment1') {
      const count = (failures.get(key) ?? 0) + 1;
      failures.set(key, count);
      if (mode === 'forbidden') {
        ctx.status = 403;
        return;
      }
      if (/^\d+$/.test(mode) && count <= Number(mode)) {
        ctx.status = 500;
        return;
      }
    }
    ctx.type = 'video/mp2t';
    ctx.body = readFileSync(path.join(rootDir, '.tmp/fixtures/vod', `${name}.ts`));
  };
}
