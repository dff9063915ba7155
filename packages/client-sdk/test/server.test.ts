import { HttpResponse, http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import {
  createManagementClient,
  uploadSource,
  type Caption,
  type UploadTarget,
  type Video,
} from '../src/server.js';
import { createFakeClock } from './fake-clock.js';
import { BASE_URL, VIDEO_ID, deferred, flushIo, useMockServer } from './mock-server.js';

const { server, requests } = useMockServer();
const API_KEY = 'service-key';
const MANAGE = `${BASE_URL}/api/manage/videos`;
const BUCKET = 'https://bucket.test';

const VIDEO: Video = {
  id: VIDEO_ID,
  owner_id: 'user-1',
  title: 'Demo',
  external_id: null,
  metadata: {},
  upload_status: 'pending',
  size_bytes: 10,
  duration_seconds: null,
  hls_status: null,
  hls_progress: null,
  hls_error_message: null,
  hls_generated_at: null,
  created_at: '2030-01-01T00:00:00Z',
};

const manage = () => createManagementClient({ baseUrl: BASE_URL, apiKey: API_KEY });
const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 251);
const multipart = (parts: number, part_size: number): UploadTarget => ({
  method: 'multipart',
  upload_id: 'up-1',
  part_size,
  parts: Array.from({ length: parts }, (_, i) => ({
    part_number: i + 1,
    url: `${BUCKET}/part/${i + 1}?sig=x`,
  })),
  expires_at: '2030-01-01T00:00:00Z',
});

/** A bucket accepting PUTs, answering each with an ETag made from the body; `stored` collects the bodies. */
const useBucket = () => {
  const stored = new Map<string, Uint8Array>();
  server.use(
    http.put(`${BUCKET}/*`, async ({ request }) => {
      const body = new Uint8Array(await request.arrayBuffer());
      const key = new URL(request.url).pathname;
      stored.set(key, body);
      return new HttpResponse(null, { status: 200, headers: { ETag: `"etag-${key.split('/').pop()}"` } });
    }),
  );
  return stored;
};

describe('management calls', () => {
  it('registerVideo posts the input with the service key and returns video and upload target', async () => {
    const upload = {
      method: 'PUT',
      url: `${BUCKET}/src`,
      headers: { 'content-type': 'video/mp4' },
      expires_at: 'x',
    };
    server.use(http.post(MANAGE, () => HttpResponse.json({ video: VIDEO, upload }, { status: 201 })));
    const input = { owner_id: 'user-1', title: 'Demo', content_type: 'video/mp4', size_bytes: 10 };
    await expect(manage().registerVideo(input)).resolves.toEqual({ video: VIDEO, upload });
    expect(requests[0]!.headers.get('authorization')).toBe(`Bearer ${API_KEY}`);
    expect(requests[0]!.headers.get('content-type')).toBe('application/json');
    expect(await requests[0]!.clone().json()).toEqual(input);
  });

  it('completeUpload posts the parts and returns the video', async () => {
    server.use(http.post(`${MANAGE}/${VIDEO_ID}/upload/complete`, () => HttpResponse.json(VIDEO)));
    const parts = [{ part_number: 1, etag: '"a"' }];
    await expect(manage().completeUpload(VIDEO_ID, { parts })).resolves.toEqual(VIDEO);
    expect(await requests[0]!.clone().json()).toEqual({ parts });
  });

  it('completeUpload posts an empty object after a single PUT', async () => {
    server.use(http.post(`${MANAGE}/${VIDEO_ID}/upload/complete`, () => HttpResponse.json(VIDEO)));
    await manage().completeUpload(VIDEO_ID);
    expect(await requests[0]!.clone().json()).toEqual({});
  });

  it('importVideo registers an existing bucket object', async () => {
    server.use(http.post(`${MANAGE}/import`, () => HttpResponse.json(VIDEO, { status: 201 })));
    const input = { owner_id: 'user-1', source_key: `videos/user-1/${VIDEO_ID}.mp4` };
    await expect(manage().importVideo(input)).resolves.toEqual(VIDEO);
    expect(await requests[0]!.clone().json()).toEqual(input);
  });

  it('listVideos queries by owner and unwraps the array', async () => {
    server.use(http.get(MANAGE, () => HttpResponse.json({ videos: [VIDEO] })));
    await expect(manage().listVideos('user 1')).resolves.toEqual([VIDEO]);
    expect(new URL(requests[0]!.url).searchParams.get('owner_id')).toBe('user 1');
  });

  it('videos() pages across every owner when owner_id is omitted, and listVideos follows next_cursor', async () => {
    server.use(
      http.get(MANAGE, ({ request }) => {
        const cursor = new URL(request.url).searchParams.get('cursor');
        return HttpResponse.json(
          cursor
            ? { videos: [{ ...VIDEO, id: 'b' }], next_cursor: null }
            : { videos: [VIDEO], next_cursor: 'next' },
        );
      }),
    );
    const ids: string[] = [];
    for await (const video of manage().videos()) ids.push(video.id);
    expect(ids).toEqual([VIDEO.id, 'b']);
    expect(new URL(requests[0]!.url).searchParams.has('owner_id')).toBe(false);
    expect(new URL(requests[1]!.url).searchParams.get('cursor')).toBe('next');
    await expect(manage().listVideos('u')).resolves.toHaveLength(2);
    expect(new URL(requests[2]!.url).searchParams.get('owner_id')).toBe('u');
    expect(new URL(requests[3]!.url).search).toBe('?owner_id=u&cursor=next');
  });

  it('deleteVideo sends DELETE and accepts 204', async () => {
    server.use(http.delete(`${MANAGE}/${VIDEO_ID}`, () => new HttpResponse(null, { status: 204 })));
    await expect(manage().deleteVideo(VIDEO_ID)).resolves.toBeUndefined();
    expect(requests[0]!.method).toBe('DELETE');
  });

  it('generateStream pre-generates and returns the generating answer', async () => {
    server.use(
      http.post(`${MANAGE}/${VIDEO_ID}/hls`, () =>
        HttpResponse.json({ status: 'generating', retry_after: 2 }, { status: 202 }),
      ),
    );
    await expect(manage().generateStream(VIDEO_ID)).resolves.toEqual({
      status: 'generating',
      retry_after: 2,
    });
  });

  it('deleteStream deletes the HLS output', async () => {
    server.use(http.delete(`${MANAGE}/${VIDEO_ID}/hls`, () => new HttpResponse(null, { status: 204 })));
    await expect(manage().deleteStream(VIDEO_ID)).resolves.toBeUndefined();
  });

  it('retryStream restarts a failed generation', async () => {
    server.use(
      http.post(`${MANAGE}/${VIDEO_ID}/hls/retry`, () =>
        HttpResponse.json({ status: 'generating', retry_after: 2 }, { status: 202 }),
      ),
    );
    await expect(manage().retryStream(VIDEO_ID)).resolves.toMatchObject({ status: 'generating' });
  });

  it('reports a wrong service key as StreamHttpError 401 without retrying', async () => {
    server.use(
      http.get(MANAGE, () =>
        HttpResponse.json({ error: { code: 'unauthorized', message: 'Bad key' } }, { status: 401 }),
      ),
    );
    await expect(manage().listVideos('u')).rejects.toMatchObject({ name: 'StreamHttpError', status: 401 });
    expect(requests).toHaveLength(1);
  });
});

describe('captions', () => {
  const CAPTION: Caption = {
    language: 'pt-BR',
    label: 'Português',
    default: true,
    created_at: '2030-01-01T00:00:00Z',
    updated_at: '2030-01-01T00:00:00Z',
  };
  const VTT = 'WEBVTT\n\n00:00.000 --> 00:02.000\nOlá\n';

  it('putCaption sends the WebVTT as the body with the service key, label and default in the query', async () => {
    server.use(
      http.put(`${MANAGE}/${VIDEO_ID}/captions/:language`, () => HttpResponse.json(CAPTION, { status: 201 })),
    );
    await expect(
      manage().putCaption(VIDEO_ID, 'pt-BR', VTT, { label: 'Português', default: true }),
    ).resolves.toEqual(CAPTION);
    const request = requests[0]!;
    const url = new URL(request.url);
    expect(request.method).toBe('PUT');
    expect(url.pathname).toBe(`/api/manage/videos/${VIDEO_ID}/captions/pt-BR`);
    expect(Object.fromEntries(url.searchParams)).toEqual({ label: 'Português', default: 'true' });
    expect(request.headers.get('authorization')).toBe(`Bearer ${API_KEY}`);
    expect(request.headers.get('content-type')).toBe('text/vtt; charset=utf-8');
    expect(await request.clone().text()).toBe(VTT);
  });

  it('putCaption sends bytes and Blobs as they are, and no query without label or default', async () => {
    server.use(
      http.put(`${MANAGE}/${VIDEO_ID}/captions/:language`, () => HttpResponse.json(CAPTION, { status: 200 })),
    );
    const bytes = new TextEncoder().encode(VTT);
    for (const source of [bytes, bytes.buffer, new Blob([bytes])]) {
      await manage().putCaption(VIDEO_ID, 'en', source);
    }
    for (const request of requests) {
      expect(new URL(request.url).search).toBe('');
      expect(new Uint8Array(await request.clone().arrayBuffer())).toEqual(bytes);
    }
    expect(requests).toHaveLength(3);
  });

  it('putCaption rejects with the server message for a malformed file', async () => {
    const message = 'Line 3: a cue timing must look like 00:00:01.000 --> 00:00:04.000.';
    server.use(
      http.put(`${MANAGE}/${VIDEO_ID}/captions/:language`, () =>
        HttpResponse.json({ error: { code: 'bad_request', message } }, { status: 400 }),
      ),
    );
    await expect(manage().putCaption(VIDEO_ID, 'en', 'WEBVTT\n\nnot a cue')).rejects.toMatchObject({
      name: 'StreamHttpError',
      status: 400,
      code: 'bad_request',
      message,
    });
  });

  it('listCaptions unwraps the array and deleteCaption sends DELETE with the language escaped', async () => {
    server.use(
      http.get(`${MANAGE}/${VIDEO_ID}/captions`, () => HttpResponse.json({ captions: [CAPTION] })),
      http.delete(`${MANAGE}/${VIDEO_ID}/captions/:language`, () => new HttpResponse(null, { status: 204 })),
    );
    await expect(manage().listCaptions(VIDEO_ID)).resolves.toEqual([CAPTION]);
    await expect(manage().deleteCaption(VIDEO_ID, 'x/y')).resolves.toBeUndefined();
    expect(requests[1]!.method).toBe('DELETE');
    expect(new URL(requests[1]!.url).pathname).toBe(`/api/manage/videos/${VIDEO_ID}/captions/x%2Fy`);
  });
});

describe('chapters', () => {
  const CHAPTERS = [
    { start_seconds: 0, title: 'Intro' },
    { start_seconds: 95.5, title: 'Budget' },
  ];
  const answer = () => HttpResponse.json({ chapters: CHAPTERS, updated_at: '2030-01-01T00:00:00.000Z' });

  it('putChapters sends a list as JSON and a WebVTT file as text/vtt, and unwraps the chapters', async () => {
    server.use(http.put(`${MANAGE}/${VIDEO_ID}/chapters`, answer));
    await expect(manage().putChapters(VIDEO_ID, CHAPTERS)).resolves.toEqual(CHAPTERS);
    const vtt = 'WEBVTT\n\n00:00.000 --> 01:35.500\nIntro\n\n01:35.500 --> 02:00.000\nBudget\n';
    await expect(manage().putChapters(VIDEO_ID, vtt)).resolves.toEqual(CHAPTERS);
    await manage().putChapters(VIDEO_ID, new TextEncoder().encode(vtt).buffer);
    const [json, text, bytes] = requests;
    expect(json!.method).toBe('PUT');
    expect(new URL(json!.url).pathname).toBe(`/api/manage/videos/${VIDEO_ID}/chapters`);
    expect(json!.headers.get('authorization')).toBe(`Bearer ${API_KEY}`);
    expect(json!.headers.get('content-type')).toBe('application/json');
    expect(await json!.clone().json()).toEqual({ chapters: CHAPTERS });
    expect(text!.headers.get('content-type')).toBe('text/vtt; charset=utf-8');
    expect(await text!.clone().text()).toBe(vtt);
    expect(await bytes!.clone().text()).toBe(vtt);
  });

  it('putChapters rejects with the server message for a refused list', async () => {
    const message = 'Chapters must be sorted by start with unique starts: chapters[1] starts at 0.';
    server.use(
      http.put(`${MANAGE}/${VIDEO_ID}/chapters`, () =>
        HttpResponse.json({ error: { code: 'bad_request', message } }, { status: 400 }),
      ),
    );
    await expect(manage().putChapters(VIDEO_ID, [CHAPTERS[0]!, CHAPTERS[0]!])).rejects.toMatchObject({
      name: 'StreamHttpError',
      status: 400,
      message,
    });
  });

  it('getChapters unwraps the list and deleteChapters sends DELETE', async () => {
    server.use(
      http.get(`${MANAGE}/${VIDEO_ID}/chapters`, answer),
      http.delete(`${MANAGE}/${VIDEO_ID}/chapters`, () => new HttpResponse(null, { status: 204 })),
    );
    await expect(manage().getChapters(VIDEO_ID)).resolves.toEqual(CHAPTERS);
    await expect(manage().deleteChapters(VIDEO_ID)).resolves.toBeUndefined();
    expect(requests[1]!.method).toBe('DELETE');
  });
});

describe('uploadSource', () => {
  it('sends one PUT with the target headers and no API key, then reports full progress', async () => {
    const stored = useBucket();
    const onProgress = vi.fn();
    const target: UploadTarget = {
      method: 'PUT',
      url: `${BUCKET}/source?sig=x`,
      headers: { 'content-type': 'video/mp4' },
      expires_at: 'x',
    };
    await expect(uploadSource(target, bytes(10), { onProgress })).resolves.toEqual({});
    expect(stored.get('/source')).toEqual(bytes(10));
    expect(requests[0]!.headers.get('authorization')).toBeNull();
    expect(requests[0]!.headers.get('content-type')).toBe('video/mp4');
    expect(onProgress.mock.calls).toEqual([[{ loaded: 10, total: 10 }]]);
  });

  it('uploads a Blob in parts, reporting progress per part and returning sorted ETags', async () => {
    const stored = useBucket();
    const onProgress = vi.fn();
    const blob = new Blob([bytes(25)]);
    await expect(uploadSource(multipart(3, 10), blob, { onProgress, concurrency: 2 })).resolves.toEqual({
      parts: [
        { part_number: 1, etag: '"etag-1"' },
        { part_number: 2, etag: '"etag-2"' },
        { part_number: 3, etag: '"etag-3"' },
      ],
    });
    expect([...stored.keys()].sort()).toEqual(['/part/1', '/part/2', '/part/3']);
    expect(stored.get('/part/3')).toEqual(bytes(25).slice(20));
    expect(onProgress.mock.calls.map(([p]) => p.loaded).sort((a, b) => a - b)).toEqual([10, 20, 25]);
    expect(onProgress).toHaveBeenLastCalledWith({ loaded: 25, total: 25 });
  });

  it('never runs more parts at once than the concurrency', async () => {
    let running = 0;
    let most = 0;
    server.use(
      http.put(`${BUCKET}/*`, async () => {
        most = Math.max(most, ++running);
        await flushIo(2);
        running--;
        return new HttpResponse(null, { headers: { ETag: '"e"' } });
      }),
    );
    await uploadSource(multipart(6, 1), bytes(6), { concurrency: 2 });
    expect(most).toBe(2);
    expect(requests).toHaveLength(6);
  });

  it('retries a part after a 5xx with backoff, without restarting other parts', async () => {
    let failures = 1;
    server.use(
      http.put(`${BUCKET}/part/2`, () =>
        failures-- > 0
          ? new HttpResponse('<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>', {
              status: 503,
            })
          : new HttpResponse(null, { headers: { ETag: '"two"' } }),
      ),
      http.put(`${BUCKET}/*`, () => new HttpResponse(null, { headers: { ETag: '"other"' } })),
    );
    const clock = createFakeClock(() => 0);
    const done = await clock.run(uploadSource(multipart(2, 5), bytes(10), { clock, concurrency: 1 }));
    expect(done.parts).toEqual([
      { part_number: 1, etag: '"other"' },
      { part_number: 2, etag: '"two"' },
    ]);
    expect(clock.delays).toEqual([250]);
    expect(requests.map((r) => new URL(r.url).pathname)).toEqual(['/part/1', '/part/2', '/part/2']);
  });

  it('rejects with the storage error code after the retries and stops the other parts', async () => {
    server.use(
      http.put(
        `${BUCKET}/part/1`,
        () =>
          new HttpResponse('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>', {
            status: 403,
          }),
      ),
      http.put(`${BUCKET}/*`, () => new HttpResponse(null, { headers: { ETag: '"e"' } })),
    );
    await expect(uploadSource(multipart(4, 1), bytes(4), { concurrency: 1 })).rejects.toMatchObject({
      name: 'StreamHttpError',
      status: 403,
      code: 'AccessDenied',
      message: 'Request has expired',
    });
    expect(requests).toHaveLength(1);
  });

  it('rejects a part answer without ETag', async () => {
    server.use(http.put(`${BUCKET}/*`, () => new HttpResponse(null, { status: 200 })));
    await expect(uploadSource(multipart(1, 4), bytes(4))).rejects.toMatchObject({ code: 'missing_etag' });
  });

  it('refuses a source whose size does not match the parts, before uploading', async () => {
    await expect(uploadSource(multipart(3, 10), bytes(5))).rejects.toBeInstanceOf(RangeError);
    expect(requests).toHaveLength(0);
  });

  it('rejects with the abort reason mid-upload and leaves no request running', async () => {
    const started = deferred();
    const release = deferred();
    server.use(
      http.put(`${BUCKET}/*`, async () => {
        started.resolve();
        await release.promise;
        return new HttpResponse(null, { headers: { ETag: '"e"' } });
      }),
    );
    const controller = new AbortController();
    const uploading = uploadSource(multipart(4, 1), bytes(4), { signal: controller.signal, concurrency: 2 });
    await started.promise;
    controller.abort();
    const error = await uploading.catch((e: unknown) => e);
    expect(error).toBe(controller.signal.reason);
    expect(requests.length).toBeLessThanOrEqual(2);
    expect(requests.every((r) => r.signal.aborted)).toBe(true);
    release.resolve();
  });
});

describe('uploadVideo', () => {
  it('registers with the source size and type, uploads and completes', async () => {
    const stored = useBucket();
    const registered: unknown[] = [];
    server.use(
      http.post(MANAGE, async ({ request }) => {
        registered.push(await request.json());
        return HttpResponse.json(
          { video: VIDEO, upload: { method: 'PUT', url: `${BUCKET}/source`, headers: {}, expires_at: 'x' } },
          { status: 201 },
        );
      }),
      http.post(`${MANAGE}/${VIDEO_ID}/upload/complete`, () =>
        HttpResponse.json({ ...VIDEO, upload_status: 'complete' }),
      ),
    );
    const file = new Blob([bytes(10)], { type: 'video/mp4' });
    await expect(manage().uploadVideo({ owner_id: 'user-1', title: 'Demo' }, file)).resolves.toMatchObject({
      upload_status: 'complete',
    });
    expect(registered).toEqual([
      { owner_id: 'user-1', title: 'Demo', content_type: 'video/mp4', size_bytes: 10 },
    ]);
    expect(stored.get('/source')).toEqual(bytes(10));
    expect(requests.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'POST /api/manage/videos',
      'PUT /source',
      `POST /api/manage/videos/${VIDEO_ID}/upload/complete`,
    ]);
  });
});
