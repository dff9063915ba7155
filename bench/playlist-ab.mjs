// The signed playlist of a ready 60-minute video (600 segments), served by two builds of the server measured in
// turn by the same client: the build of this checkout and another checkout's (e.g. a worktree of an older commit,
// built with `npx turbo run build --filter=@notetaker/stream-server`). Prints one JSON line per run.
//   node bench/playlist-ab.mjs [--other <checkout>] [--storage s3|local] [--rounds 3] [--requests 300]
// Shares bench/run.mjs's media cache (.tmp/bench-media), making the media there first if needed.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { prepareMedia } from './lib/media.mjs';
import { killChildren, startS3Process, startServerProcess } from './lib/processes.mjs';

const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));
const { values } = parseArgs({
  options: {
    other: { type: 'string' },
    storage: { type: 'string', default: 's3' },
    rounds: { type: 'string', default: '3' },
    requests: { type: 'string', default: '300' },
  },
});
const OWNER = 'bench-playlist';
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

/** One server of `checkout` on fresh data: import the 60-minute video, wait for ready, then time the playlist. */
async function measure(checkout, media, s3) {
  const serverDist = join(checkout, 'packages/stream-server/dist');
  const dataDir = await mkdtemp(join(os.tmpdir(), 'notetaker-playlist-ab-'));
  const server = await startServerProcess({
    cliPath: join(serverDist, 'cli.js'),
    env: { ...(s3?.env ?? {}), DATA_DIR: dataDir, SEGMENT_SECONDS: '6', WORKER_TASK_CONCURRENCY: '0' },
  });
  try {
    const load = (path) => import(pathToFileURL(join(serverDist, path)).href);
    const { loadConfig } = await load('config/load-config.js');
    const { loadOrCreateSecrets } = await load('config/secrets.js');
    const { createStorage } = await load('server/create-storage.js');
    const config = loadConfig(server.env);
    const secrets = await loadOrCreateSecrets(config.dataDir, {});
    const storage = await createStorage(config, {
      storageSecret: secrets.storageSecret,
      publicBaseUrl: () => server.url,
    });
    await storage.putFile(`uploads/${OWNER}/60min.mp4`, media.min60, { contentType: 'video/mp4' });
    const serviceKey = JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8')).serviceApiKey;
    const imported = await fetch(`${server.url}/api/manage/videos/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serviceKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ owner_id: OWNER, source_key: `uploads/${OWNER}/60min.mp4` }),
    });
    const { id } = await imported.json();
    const token = await server.token(OWNER);
    let stream;
    do {
      stream = await (
        await fetch(`${server.url}/api/videos/${id}/stream`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).json();
      if (stream.status === 'failed') throw new Error(`generation failed: ${JSON.stringify(stream)}`);
      if (stream.status !== 'ready') await new Promise((done) => setTimeout(done, 500));
    } while (stream.status !== 'ready');
    const times = [];
    let bytes = 0;
    for (let i = 0; i < Number(values.requests); i += 1) {
      const started = performance.now();
      const response = await fetch(stream.hls_url);
      const text = await response.text();
      if (response.status !== 200) throw new Error(`playlist answered ${response.status}`);
      times.push(performance.now() - started);
      bytes = text.length;
    }
    const repeated = times.slice(1).sort((a, b) => a - b);
    const ms = (value) => Number(value.toFixed(2));
    return {
      first_ms: ms(times[0]),
      p50_ms: ms(percentile(repeated, 50)),
      p90_ms: ms(percentile(repeated, 90)),
      bytes,
    };
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const media = await prepareMedia({
  dir: join(repoRoot, '.tmp', 'bench-media'),
  ffmpegPath: process.env.FFMPEG_PATH ?? 'ffmpeg',
  log: (line) => process.stderr.write(`${line}\n`),
});
const s3 = values.storage === 's3' ? await startS3Process({ repoRoot }) : undefined;
try {
  const checkouts = [repoRoot, ...(values.other ? [resolve(values.other)] : [])];
  for (let round = 1; round <= Number(values.rounds); round += 1) {
    for (const checkout of checkouts) {
      const result = await measure(checkout, media, s3);
      process.stdout.write(`${JSON.stringify({ checkout, storage: values.storage, round, ...result })}\n`);
    }
  }
} finally {
  await s3?.stop();
  killChildren();
}
