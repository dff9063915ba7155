import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHlsArgs, StreamAction } from '../../../src/media/ffmpeg-args.js';
import { createJobAbort } from '../../../src/media/job-abort.js';
import { directLauncher } from '../../../src/media/process-launcher.js';
import { startFfmpeg } from '../../../src/media/run-ffmpeg.js';
import { chooseHlsPlan, type PlanStepOptions } from '../../../src/media/hls/plan-step.js';
import {
  FFMPEG_PATH,
  FFPROBE_PATH,
  failureOf,
  makeTestMedia,
  serveDirectory,
  type ServedDirectory,
  type TestMediaKind,
} from '../../helpers/media.js';

let mediaDir: string;
let workRoot: string;
let server: ServedDirectory;
const silent = { info() {}, warn() {}, error() {} };

beforeAll(async () => {
  mediaDir = await mkdtemp(join(tmpdir(), 'plan-media-'));
  workRoot = await mkdtemp(join(tmpdir(), 'plan-work-'));
  server = await serveDirectory(mediaDir);
});
afterAll(async () => {
  await server.close();
  await rm(mediaDir, { recursive: true, force: true });
  await rm(workRoot, { recursive: true, force: true });
});

async function optionsFor(kind: TestMediaKind): Promise<PlanStepOptions> {
  const sourceUrl = server.url(basename(await makeTestMedia(mediaDir, kind, { seconds: 4 })));
  const job = createJobAbort(undefined);
  return {
    sourceUrl,
    tempRoot: await mkdtemp(join(workRoot, 'tmp-')),
    ffprobePath: FFPROBE_PATH,
    launcher: directLauncher,
    probeTimeoutMs: 30_000,
    optimisticCopy: true,
    job,
    logger: silent,
    startCopy: (plan, dir, signal) =>
      startFfmpeg({
        bin: FFMPEG_PATH,
        args: buildHlsArgs({ input: sourceUrl, outputDir: dir, plan, segmentSeconds: 2 }),
        timeoutMs: 60_000,
        signal,
        launcher: directLauncher,
      }),
    workDirs: [],
  };
}

describe('chooseHlsPlan (the plan step)', () => {
  it('keeps the copy already running when the MP4 index vouches for it, and lets ffprobe check later', async () => {
    const options = await optionsFor('h264-aac-faststart');
    const chosen = await chooseHlsPlan(options);
    expect(chosen.planFrom).toBe('mp4 index');
    expect(chosen.plan).toMatchObject({ video: StreamAction.Copy, audio: StreamAction.Copy, mode: 'copy' });
    expect(chosen.adopted?.dir).toBe(options.workDirs[0]);
    expect(chosen.probe).toBeUndefined();
    chosen.startProbe();
    await chosen.probeChecked();
    expect(options.job.firstError).toBeUndefined();
    expect(chosen.probe?.durationSeconds).toBeCloseTo(4, 0);
    await chosen.adopted?.process.result;
  });

  it('asks ffprobe for a WebM, chooses a transcode and stops the copy it had tried', async () => {
    const options = await optionsFor('vp9-opus-webm');
    const chosen = await chooseHlsPlan(options);
    expect(chosen.planFrom).toBe('ffprobe');
    expect(chosen.plan).toMatchObject({ video: StreamAction.Transcode, audio: StreamAction.Transcode });
    expect(chosen.adopted).toBeUndefined();
    expect(chosen.probe?.video?.codec).toBe('vp9');
    expect(await readdir(options.tempRoot)).toEqual([]);
  });

  it('probes first when the optimistic copy is off (a retry)', async () => {
    const options = { ...(await optionsFor('h264-aac-faststart')), optimisticCopy: false };
    const chosen = await chooseHlsPlan(options);
    expect(chosen.planFrom).toBe('ffprobe');
    expect(chosen.adopted).toBeUndefined();
  });

  it('fails a file that is not a video as invalid input and stops the copy it had started', async () => {
    const options = await optionsFor('random-bytes');
    const error = await failureOf(chooseHlsPlan(options));
    expect(error).toMatchObject({ code: 'invalid_input', permanent: true });
    expect(options.job.signal.aborted).toBe(true);
    expect(await readdir(options.tempRoot)).toEqual([]);
  });
});
