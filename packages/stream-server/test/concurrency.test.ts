import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeTestMedia } from './helpers/media.js';
import { api, startTestServer, VARIANTS, waitForStream, type TestServer } from './helpers/test-server.js';

describe.each(VARIANTS)('simultaneous first views (%s)', (variant) => {
  let server: TestServer;
  let dir: string;
  let runsFile: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-concurrency-'));
    runsFile = path.join(dir, 'ffmpeg-runs.log');
    // An ffmpeg that records each HLS run (not the poster and storyboard runs that follow it), so the test counts
    // processes rather than rows.
    const wrapper = path.join(dir, 'counting-ffmpeg');
    await fs.writeFile(
      wrapper,
      `#!/bin/sh\ncase " $* " in *" -f hls "*) echo run >> '${runsFile}';; esac\nexec ffmpeg "$@"\n`,
      { mode: 0o755 },
    );
    server = await startTestServer(variant, { FFMPEG_PATH: wrapper, WORKER_CONCURRENCY: '4' });
  });

  afterAll(async () => {
    await server?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('fifty simultaneous first views start exactly one ffmpeg', async () => {
    const file = await makeTestMedia(dir, 'h264-aac-faststart', { seconds: 6 });
    const { id } = await server.importVideo(file, { ownerId: 'alice' });
    const alice = api(server, await server.mintUserToken('alice'));

    const answers = await Promise.all(Array.from({ length: 50 }, () => alice(`/api/videos/${id}/stream`)));
    for (const answer of answers) {
      expect([200, 202]).toContain(answer.status);
      await answer.arrayBuffer();
    }
    const { body } = await waitForStream(alice, id);
    expect(body['status']).toBe('ready');
    const runs = (await fs.readFile(runsFile, 'utf8')).trim().split('\n');
    expect(runs).toHaveLength(1);
  });
});
