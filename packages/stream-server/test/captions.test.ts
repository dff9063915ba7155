import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createPlaybackTokens } from '../src/auth/playback-tokens.js';
import { canonicalLanguage, languageLabel } from '../src/captions/language-tag.js';
import {
  buildSubtitlePlaylist,
  SEGMENT_TIMELINE_START_MPEGTS,
  subtitleMediaLines,
} from '../src/captions/subtitle-playlist.js';
import { checkWebVtt, parseTimestamp, WebVttError, withTimestampMap } from '../src/captions/webvtt.js';
import { segmentUris } from './helpers/hls.js';
import { makeTestMedia } from './helpers/media.js';
import { api, startTestServer, VARIANTS, waitForStream, type TestServer } from './helpers/test-server.js';

const exec = promisify(execFile);
const utf8 = (text: string) => new TextEncoder().encode(text);

const VTT = 'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello\n\n00:02.500 --> 00:03.000 align:start\nWorld\n';

/** `text` as players read it: the timestamp map that lines cue time 0 up with the segments added. */
const asPlayed = (text: string) =>
  text.replace('WEBVTT\n', 'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n');

/** The `Line N: …` problem `checkWebVtt` reports for `text`. */
function problem(text: string | Uint8Array): { line: number; message: string } {
  try {
    checkWebVtt(typeof text === 'string' ? utf8(text) : text);
  } catch (error) {
    if (error instanceof WebVttError) return { line: error.line, message: error.message };
    throw error;
  }
  throw new Error('expected the file to be refused');
}

describe('WebVTT checks', () => {
  it('accepts a file with a BOM and CRLF line ends and stores it with LF and no BOM', () => {
    const checked = checkWebVtt(utf8(`\uFEFF${VTT.replace(/\n/g, '\r\n')}\r\n\r\n`));
    expect(checked).toEqual({ text: VTT, cueCount: 2 });
  });

  it('keeps header metadata, notes, styles, regions and cue identifiers; drops an uploaded X-TIMESTAMP-MAP', () => {
    const text =
      'WEBVTT - with a title\nKind: captions\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\n' +
      'STYLE\n::cue { color: yellow }\n\nREGION\nid:r1\n\nNOTE a comment\nover two lines\n\n' +
      'intro\n0:00:00.000 --> 0:00:01.500 region:r1\n<v Ann>Hi</v>\n\n01:00:00.000 --> 01:00:01.000\nLater\n';
    const checked = checkWebVtt(utf8(text));
    expect(checked.cueCount).toBe(2);
    expect(checked.text).toBe(text.replace('X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n', ''));
  });

  it('names the line of each problem', () => {
    expect(problem('WEBVT\n\n00:01.000 --> 00:02.000\nx\n')).toMatchObject({ line: 1 });
    expect(problem('1\n00:00:01,000 --> 00:00:02,000\nHello\n').message).toMatch(/Line 1: .*SubRip/);
    expect(problem('WEBVTT\n\n00:00:01,000 --> 00:00:02.000\nx\n')).toMatchObject({ line: 3 });
    expect(problem('WEBVTT\n\n00:00:01,000 --> 00:00:02.000\nx\n').message).toMatch(
      /dot before the milliseconds/,
    );
    expect(problem('WEBVTT\n\n00:01.000 --> 00:02.000\nx\n\n00:03.000 --> 00:02.000\ny\n')).toMatchObject({
      line: 6,
      message: expect.stringMatching(/end after it starts/),
    });
    expect(problem('WEBVTT\n\n00:01.000 --> 00:01.000\nx\n')).toMatchObject({ line: 3 });
    expect(problem('WEBVTT\n\n00:01.000 --> 00:02.000\nx\n00:03.000 --> 00:04.000\ny\n')).toMatchObject({
      line: 5,
    });
    expect(problem('WEBVTT\n00:01.000 --> 00:02.000\nx\n')).toMatchObject({ line: 2 });
    expect(problem('WEBVTT\n\nid\nnot a timing\n')).toMatchObject({ line: 4 });
    expect(problem('WEBVTT\n\n00:01.000 --> 00:02.000\nx\n\nstray text\n')).toMatchObject({ line: 6 });
    expect(problem('WEBVTT\n\n00:01.000 -->00:02.000\nx\n')).toMatchObject({ line: 3 });
    expect(problem('WEBVTT\n\n00:61.000 --> 01:02.000\nx\n')).toMatchObject({ line: 3 });
    expect(problem('WEBVTT\n\n00:01.000 --> 00:02.000\nx\n\nSTYLE\n::cue {}\n')).toMatchObject({ line: 6 });
    expect(problem('WEBVTT\n\nNOTE\n')).toMatchObject({ message: expect.stringMatching(/no cues/) });
    const latin1 = Uint8Array.from([
      ...utf8('WEBVTT\n\n00:01.000 --> 00:02.000\n'),
      0x43,
      0x61,
      0x66,
      0xe9,
      0x0a,
    ]);
    expect(problem(latin1)).toMatchObject({ line: 4, message: expect.stringMatching(/UTF-8/) });
  });

  it('parses timestamps in both forms', () => {
    expect(parseTimestamp('01:02:03.450')).toBeCloseTo(3723.45, 6);
    expect(parseTimestamp('02:03.450')).toBeCloseTo(123.45, 6);
    expect(parseTimestamp('2:03.450')).toBeUndefined();
    expect(parseTimestamp('00:00:01.5')).toBeUndefined();
  });

  it('adds the timestamp map after the signature line', () => {
    expect(withTimestampMap('WEBVTT\nKind: captions\n\n00:01.000 --> 00:02.000\nx\n', 126000)).toBe(
      'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\nKind: captions\n\n00:01.000 --> 00:02.000\nx\n',
    );
  });
});

describe('language tags', () => {
  it('validates and canonicalises BCP-47 tags, and names them', () => {
    expect(canonicalLanguage('pt-br')).toBe('pt-BR');
    expect(canonicalLanguage('ZH-hant')).toBe('zh-Hant');
    expect(canonicalLanguage('es-419')).toBe('es-419');
    for (const bad of ['en_US', 'x-foo', '123', '', 'en-', 'english!', 'a'.repeat(80)]) {
      expect(canonicalLanguage(bad), bad).toBeUndefined();
    }
    expect(languageLabel('en')).toBe('English');
    expect(languageLabel('pt-BR')).toBe('Portuguese (Brazil)');
  });
});

describe('subtitle playlists', () => {
  it('writes a VOD playlist with one segment spanning the video', () => {
    expect(buildSubtitlePlaylist(8.0427, 'en.vtt?token=t')).toBe(
      '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:9\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n' +
        '#EXTINF:8.043,\nen.vtt?token=t\n#EXT-X-ENDLIST\n',
    );
    expect(() => buildSubtitlePlaylist(0, 'x')).toThrow(RangeError);
  });

  it('writes EXT-X-MEDIA lines: one default, unique quoted names', () => {
    const lines = subtitleMediaLines(
      [
        { language: 'en', label: 'English', is_default: true },
        { language: 'en-GB', label: 'English', is_default: true },
        { language: 'fr', label: 'Français "CC"', is_default: false },
      ],
      (language) => `captions/${language}.m3u8?token=t`,
    );
    expect(lines).toEqual([
      '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="captions/en.m3u8?token=t"',
      '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English (en-GB)",LANGUAGE="en-GB",DEFAULT=NO,AUTOSELECT=YES,URI="captions/en-GB.m3u8?token=t"',
      `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Français 'CC'",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,URI="captions/fr.m3u8?token=t"`,
    ]);
    expect(
      subtitleMediaLines([{ language: 'de', label: 'Deutsch', is_default: false }], () => 'u', 'cc')[0],
    ).toContain('GROUP-ID="cc"');
  });
});

/** hls.js's time 0 for a segment: the smaller of the first audio PTS and the first video DTS (90 kHz). */
async function segmentTimelineStart(url: string): Promise<number> {
  const { stdout } = await exec(
    'ffprobe',
    [
      '-v',
      'error',
      '-show_entries',
      'stream=index,codec_type:packet=stream_index,pts,dts',
      '-of',
      'json',
      url,
    ],
    { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
  );
  const probe = JSON.parse(stdout) as {
    streams: Array<{ index: number; codec_type: string }>;
    packets: Array<{ stream_index: number; pts?: number; dts?: number }>;
  };
  let start = Infinity;
  for (const stream of probe.streams) {
    const first = probe.packets.find((p) => p.stream_index === stream.index);
    const value = stream.codec_type === 'video' ? first?.dts : first?.pts;
    if (value !== undefined) start = Math.min(start, value);
  }
  return start;
}

const PLAYBACK_SECRET = 'captions-test-playback-secret-0123456789';

describe.each(VARIANTS)('captions API (%s)', (variant) => {
  let server: TestServer;
  let mediaDir: string;
  let alice: ReturnType<typeof api>;
  let bob: ReturnType<typeof api>;
  let service: ReturnType<typeof api>;
  /** Alice's video with HLS (ready). */
  let readyId: string;
  let hlsUrl: string;
  let mediaFile: string;

  const put = (call: ReturnType<typeof api>, id: string, language: string, body: string, query = '') =>
    call(`/api/videos/${id}/captions/${language}${query}`, {
      method: 'PUT',
      body,
      headers: { 'content-type': 'text/vtt' },
    });
  const list = async (call: ReturnType<typeof api>, id: string) => {
    const response = await call(`/api/videos/${id}/captions`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { captions: Array<Record<string, unknown>> }).captions;
  };
  const newVideo = async () => (await server.importVideo(mediaFile, { ownerId: 'alice' })).id;
  /** The keys of a video's caption files in storage. */
  const captionKeys = async (id: string) =>
    (await server.storage.listObjects(`videos/alice/${id}_captions/`)).map((object) => object.key).sort();

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-media-'));
    server = await startTestServer(variant, { PLAYBACK_SECRET, CORS_ORIGINS: '*' });
    alice = api(server, await server.mintUserToken('alice'));
    bob = api(server, await server.mintUserToken('bob'));
    service = api(server, server.serviceApiKey);
    mediaFile = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 4 });
    readyId = await newVideo();
    await alice(`/api/videos/${readyId}/stream`);
    const { body } = await waitForStream(alice, readyId);
    expect(body['status']).toBe('ready');
    hlsUrl = body['hls_url'] as string;
  });

  afterAll(async () => {
    await server?.close();
    await fs.rm(mediaDir, { recursive: true, force: true });
  });

  it('stores a valid file (normalised), answers the caption JSON and lists it', async () => {
    const id = await newVideo();
    const created = await put(alice, id, 'pt-br', `\uFEFF${VTT.replace(/\n/g, '\r\n')}`);
    expect(created.status).toBe(201);
    const caption = (await created.json()) as Record<string, unknown>;
    expect(caption).toMatchObject({ language: 'pt-BR', label: 'Portuguese (Brazil)', default: false });
    expect(caption).not.toHaveProperty('url');

    // Stored as players read it, under a name that changes with the content.
    const [key, ...others] = await captionKeys(id);
    expect(others).toEqual([]);
    expect(key).toMatch(new RegExp(`^videos/alice/${id}_captions/pt-BR\\.[0-9a-f]{16}\\.vtt$`));
    expect(await server.storage.getObjectText(key!)).toBe(asPlayed(VTT));
    expect(await list(alice, id)).toEqual([caption]);

    // Replacing keeps the label unless a new one is given; text/plain is accepted too.
    const replaced = await alice(
      `/api/videos/${id}/captions/pt-BR?label=${encodeURIComponent('Português (CC)')}`,
      {
        method: 'PUT',
        body: VTT.replace('Hello', 'Olá'),
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      },
    );
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ language: 'pt-BR', label: 'Português (CC)' });
    // A new version gets a new file; the old one is gone.
    const [newKey, ...rest] = await captionKeys(id);
    expect(rest).toEqual([]);
    expect(newKey).not.toBe(key);
    expect(await server.storage.getObjectText(newKey!)).toContain('Olá');
    expect(await list(alice, id)).toHaveLength(1);
    // The same content again keeps its name.
    expect((await put(alice, id, 'pt-BR', VTT.replace('Hello', 'Olá'))).status).toBe(200);
    expect(await captionKeys(id)).toEqual([newKey]);
  });

  it('refuses an invalid language tag with a 400 JSON error', async () => {
    const id = await newVideo();
    for (const tag of ['en_US', 'x-private', 'e', 'en-']) {
      const response = await put(alice, id, tag, VTT);
      expect(response.status, tag).toBe(400);
      expect(await response.json()).toEqual({
        error: { code: 'bad_request', message: expect.stringContaining('BCP-47') },
      });
    }
    expect(await list(alice, id)).toEqual([]);
  });

  it('refuses malformed WebVTT with a 400 naming the line, and a wrong content type', async () => {
    const id = await newVideo();
    const response = await put(
      alice,
      id,
      'en',
      'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nOne\n\n00:00:05.000 --> 00:00:04.000\nTwo\n',
    );
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('bad_request');
    expect(body.error.message).toMatch(/Line 6: the cue must end after it starts/);

    const json = await alice(`/api/videos/${id}/captions/en`, {
      method: 'PUT',
      body: JSON.stringify({ vtt: VTT }),
      headers: { 'content-type': 'application/json' },
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { error: { message: string } }).error.message).toMatch(/text\/vtt/);
    expect(await list(alice, id)).toEqual([]);
    expect(await captionKeys(id)).toEqual([]);
  });

  it('refuses a file over 1 MiB with 413', async () => {
    const id = await newVideo();
    const cue = '00:00:01.000 --> 00:00:02.000\n' + 'x'.repeat(1000) + '\n\n';
    const big = `WEBVTT\n\n${cue.repeat(1100)}`;
    const response = await put(alice, id, 'en', big);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      error: { code: 'payload_too_large', message: expect.stringContaining('1 MiB') },
    });
    expect(await list(alice, id)).toEqual([]);
  });

  it("answers 404 for another user's video and for an unknown one", async () => {
    const id = await newVideo();
    expect((await put(alice, id, 'en', VTT)).status).toBe(201);
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const target of [id, unknown, 'not-a-uuid']) {
      expect((await put(bob, target, 'en', VTT)).status, target).toBe(404);
      expect((await bob(`/api/videos/${target}/captions`)).status, target).toBe(404);
      expect((await bob(`/api/videos/${target}/captions/en`, { method: 'DELETE' })).status, target).toBe(404);
    }
    expect((await fetch(`${server.url}/api/videos/${id}/captions`)).status).toBe(401);
    expect(await list(alice, id)).toHaveLength(1);
  });

  it('keeps at most one default track per video', async () => {
    const id = await newVideo();
    expect((await put(alice, id, 'en', VTT, '?default=true')).status).toBe(201);
    expect((await put(alice, id, 'fr', VTT, '?default=true')).status).toBe(201);
    expect((await put(alice, id, 'de', VTT)).status).toBe(201);
    const defaults = async () =>
      (await list(alice, id)).filter((c) => c['default']).map((c) => c['language']);
    expect(await defaults()).toEqual(['fr']);
    // Replacing without the flag keeps it; default=false clears it.
    expect((await put(alice, id, 'fr', VTT)).status).toBe(200);
    expect(await defaults()).toEqual(['fr']);
    expect((await put(alice, id, 'en', VTT, '?default=true')).status).toBe(200);
    expect(await defaults()).toEqual(['en']);
    expect((await put(alice, id, 'en', VTT, '?default=false')).status).toBe(200);
    expect(await defaults()).toEqual([]);
    expect((await put(alice, id, 'en', VTT, '?default=yes')).status).toBe(400);
  });

  it('deletes a track and its file', async () => {
    const id = await newVideo();
    expect((await put(alice, id, 'en-us', VTT)).status).toBe(201);
    expect(await captionKeys(id)).toHaveLength(1);
    expect((await alice(`/api/videos/${id}/captions/EN-US`, { method: 'DELETE' })).status).toBe(204);
    expect(await captionKeys(id)).toEqual([]);
    expect(await list(alice, id)).toEqual([]);
    expect((await alice(`/api/videos/${id}/captions/en-US`, { method: 'DELETE' })).status).toBe(404);
  });

  it('deleting a video deletes its caption files (user and management API)', async () => {
    for (const remove of [
      (id: string) => alice(`/api/videos/${id}`, { method: 'DELETE' }),
      (id: string) => service(`/api/manage/videos/${id}`, { method: 'DELETE' }),
    ]) {
      const id = await newVideo();
      expect((await put(alice, id, 'en', VTT)).status).toBe(201);
      expect((await put(alice, id, 'fr', VTT)).status).toBe(201);
      expect(await server.storage.listObjects(`videos/alice/${id}_captions/`)).toHaveLength(2);
      expect((await remove(id)).status).toBe(204);
      expect(await server.storage.listObjects(`videos/alice/${id}_captions/`)).toEqual([]);
      const rows = await server.database.db
        .selectFrom('video_captions')
        .selectAll()
        .where('video_id', '=', id)
        .execute();
      expect(rows).toEqual([]);
    }
  });

  it('manages captions with the service API key under /api/manage', async () => {
    const id = await newVideo();
    const created = await service(
      `/api/manage/videos/${id}/captions/es-419?label=Espa%C3%B1ol&default=true`,
      {
        method: 'PUT',
        body: VTT,
        headers: { 'content-type': 'text/vtt' },
      },
    );
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ language: 'es-419', label: 'Español', default: true });
    const listed = await service(`/api/manage/videos/${id}/captions`);
    expect(((await listed.json()) as { captions: unknown[] }).captions).toHaveLength(1);
    expect((await put(alice, id, 'en', VTT)).status).toBe(201); // the owner sees and adds to the same tracks
    expect((await list(alice, id)).map((c) => c['language'])).toEqual(['en', 'es-419']);
    expect((await service(`/api/manage/videos/${id}/captions/es-419`, { method: 'DELETE' })).status).toBe(
      204,
    );
    expect((await put(alice, id, 'en', VTT, '')).status).toBe(200);
    expect((await put(bob, id, 'en', VTT)).status).toBe(404);
    expect((await put(api(server, 'wrong-key'), id, 'en', VTT)).status).toBe(401);
    const noKey = await fetch(`${server.url}/api/manage/videos/${id}/captions`);
    expect(noKey.status).toBe(401);
    expect((await service(`/api/manage/videos/00000000-0000-4000-8000-000000000000/captions`)).status).toBe(
      404,
    );
  });

  describe('playback', () => {
    const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;

    beforeAll(async () => {
      expect((await put(alice, readyId, 'en', VTT, '?default=true')).status).toBeLessThan(300);
    });

    it('answers a subtitle playlist spanning the video whose one URI is the VTT in storage, with a timestamp map', async () => {
      const token = tokenOf(hlsUrl);
      const url = `${server.url}/api/videos/${readyId}/captions/en.m3u8?token=${encodeURIComponent(token)}`;
      const response = await fetch(url, { headers: { origin: 'https://host.example' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      const playlist = await response.text();
      const video = (await (await alice(`/api/videos/${readyId}`)).json()) as { duration_seconds: number };
      expect(playlist).toContain(`#EXTINF:${video.duration_seconds.toFixed(3)},`);
      expect(playlist).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
      expect(playlist.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
      const uris = segmentUris(playlist);
      expect(uris).toHaveLength(1);
      // Straight from storage with a presigned URL, like the segments: no playback token in it.
      expect(uris[0]).not.toContain('/api/videos/');
      expect(uris[0]).not.toContain('token=');
      expect(uris[0]).toMatch(/X-Amz-Signature=|X-Signature=/);

      const vtt = await fetch(uris[0]!, { headers: { origin: 'https://host.example' } });
      expect(vtt.status).toBe(200);
      expect(vtt.headers.get('content-type')).toBe('text/vtt; charset=utf-8');
      if (variant === 'embedded') expect(vtt.headers.get('access-control-allow-origin')).toBe('*');
      // A shared cache may keep it for the rest of the URL's life (S3: an absolute Expires signed into the URL).
      if (variant === 'embedded') expect(vtt.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
      else {
        expect(vtt.headers.get('cache-control')).toBe('public');
        expect(Date.parse(vtt.headers.get('expires') ?? '')).toBeGreaterThan(Date.now());
      }
      expect(await vtt.text()).toBe(asPlayed(VTT));
    });

    it('hands every viewer of a signing window the same caption file URL (owner and grantee alike)', async () => {
      const viewers = [
        await server.mintUserToken('alice'),
        await server.mintUserToken('alice'),
        await server.mintUserToken('carol', 3600, [readyId]),
      ];
      const urls = new Set<string>();
      for (const userToken of viewers) {
        const { body } = await waitForStream(api(server, userToken), readyId);
        const token = encodeURIComponent(tokenOf(body['hls_url'] as string));
        const response = await fetch(`${server.url}/api/videos/${readyId}/captions/en.m3u8?token=${token}`);
        expect(response.status).toBe(200);
        expect(response.headers.get('cache-control')).toBe('private, no-store');
        urls.add(segmentUris(await response.text())[0]!);
      }
      expect(urls.size).toBe(1);
    });

    it('rewrites a track stored before caption files were content-named on its first playback', async () => {
      const id = await newVideo();
      const { body } = await waitForStream(alice, id);
      expect(body['status']).toBe('ready');
      // As an older version stored it: the normalised file without a timestamp map, at <language>.vtt.
      const legacyKey = `videos/alice/${id}_captions/de.vtt`;
      await server.storage.putObject(legacyKey, VTT, { contentType: 'text/vtt; charset=utf-8' });
      await server.database.db
        .insertInto('video_captions')
        .values({ video_id: id, language: 'de', label: 'German', storage_key: legacyKey })
        .execute();
      const token = encodeURIComponent(tokenOf(body['hls_url'] as string));
      const base = `${server.url}/api/videos/${id}/captions`;
      // The route of older playlists adds the map to the old file.
      expect(await (await fetch(`${base}/de.vtt?token=${token}`)).text()).toBe(asPlayed(VTT));

      const uri = segmentUris(await (await fetch(`${base}/de.m3u8?token=${token}`)).text())[0]!;
      expect(uri).toMatch(/_captions\/de\.[0-9a-f]{16}\.vtt\?/);
      expect(await (await fetch(uri)).text()).toBe(asPlayed(VTT));
      const [key, ...others] = await captionKeys(id);
      expect(others).toEqual([]);
      expect(uri).toContain(key!.split('/').pop());
      // The old route still answers the file once, map included once.
      expect(await (await fetch(`${base}/de.vtt?token=${token}`)).text()).toBe(asPlayed(VTT));
      expect(segmentUris(await (await fetch(`${base}/de.m3u8?token=${token}`)).text())[0]).toBe(uri);
    });

    it('maps cue time 0 to where the generated segments start (MPEGTS 126000)', async () => {
      const playlist = await (await fetch(hlsUrl)).text();
      expect(await segmentTimelineStart(segmentUris(playlist)[0]!)).toBe(SEGMENT_TIMELINE_START_MPEGTS);
    });

    it('checks the playback token and ownership like the playlist', async () => {
      const base = `${server.url}/api/videos/${readyId}/captions`;
      const real = createPlaybackTokens(PLAYBACK_SECRET);
      const forged = createPlaybackTokens('some-other-secret-0123456789-abcdef');
      const mint = async (tokens: typeof real, userId: string, videoId: string) =>
        encodeURIComponent((await tokens.mint({ userId, videoId }, 60)).token);
      const otherVideo = await newVideo();
      for (const file of ['en.m3u8', 'en.vtt']) {
        expect((await fetch(`${base}/${file}`)).status, file).toBe(401);
        expect((await fetch(`${base}/${file}?token=garbage`)).status, file).toBe(401);
        expect(
          (await fetch(`${base}/${file}?token=${await mint(forged, 'alice', readyId)}`)).status,
          file,
        ).toBe(401);
        expect(
          (await fetch(`${base}/${file}?token=${await mint(real, 'alice', otherVideo)}`)).status,
          file,
        ).toBe(403);
        expect((await fetch(`${base}/${file}?token=${await mint(real, 'bob', readyId)}`)).status, file).toBe(
          404,
        );
        expect(
          (await fetch(`${base}/${file}?token=${await mint(real, 'alice', readyId)}`)).status,
          file,
        ).toBe(200);
      }
      const token = await mint(real, 'alice', readyId);
      expect((await fetch(`${base}/EN.m3u8?token=${token}`)).status).toBe(200);
      expect((await fetch(`${base}/fr.m3u8?token=${token}`)).status).toBe(404);
      expect((await fetch(`${base}/en.srt?token=${token}`)).status).toBe(404);
      expect((await fetch(`${base}/en_US.vtt?token=${token}`)).status).toBe(404);
    });

    it('answers 409 for the playlist of a video whose duration is not known yet', async () => {
      const id = await newVideo();
      expect((await put(alice, id, 'en', VTT)).status).toBe(201);
      const token = encodeURIComponent(
        (await createPlaybackTokens(PLAYBACK_SECRET).mint({ userId: 'alice', videoId: id }, 60)).token,
      );
      const response = await fetch(`${server.url}/api/videos/${id}/captions/en.m3u8?token=${token}`);
      expect(response.status).toBe(409);
      expect((await fetch(`${server.url}/api/videos/${id}/captions/en.vtt?token=${token}`)).status).toBe(200);
    });
  });
});

describe('captions when USER_UPLOADS is off', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer('embedded', { USER_UPLOADS: 'false' });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('refuses user writes with 403 and takes them through the management API', async () => {
    const service = api(server, server.serviceApiKey);
    const registered = await service('/api/manage/videos', {
      method: 'POST',
      body: JSON.stringify({ owner_id: 'alice' }),
    });
    const { video } = (await registered.json()) as { video: { id: string } };
    const alice = api(server, await server.mintUserToken('alice'));
    const put = (call: ReturnType<typeof api>, route: string) =>
      call(route, { method: 'PUT', body: VTT, headers: { 'content-type': 'text/vtt' } });
    const denied = await put(alice, `/api/videos/${video.id}/captions/en`);
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { message: string } }).error.message).toMatch(/USER_UPLOADS/);
    expect((await put(service, `/api/manage/videos/${video.id}/captions/en`)).status).toBe(201);
    expect((await alice(`/api/videos/${video.id}/captions/en`, { method: 'DELETE' })).status).toBe(403);
    const listed = (await (await alice(`/api/videos/${video.id}/captions`)).json()) as {
      captions: unknown[];
    };
    expect(listed.captions).toHaveLength(1);
  });
});
