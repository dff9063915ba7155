import { describe, expect, it } from 'vitest';
import { StreamAction } from '../../../src/media/ffmpeg-args.js';
import type { MediaPlan } from '../../../src/media/choose-plan.js';
import type { ProbeResult } from '../../../src/media/probe-media.js';
import { durationTolerance, verifyOutput } from '../../../src/media/hls/verify-step.js';
import { MediaError } from '../../../src/media/media-error.js';

const probe: ProbeResult = {
  durationSeconds: 10,
  formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
  startSeconds: 0,
  video: {
    index: 0,
    codec: 'h264',
    profile: 'High',
    level: 40,
    pixFmt: 'yuv420p',
    width: 1920,
    height: 1080,
    fps: 30,
    startSeconds: 0,
    rotation: 0,
  },
  audio: { index: 1, codec: 'aac', profile: 'LC', channels: 2, sampleRate: 48000 },
} as ProbeResult;
const copy: MediaPlan = { video: StreamAction.Copy, audio: StreamAction.Copy, mode: 'copy' } as MediaPlan;
const segments = (durations: number[]) =>
  durations.map((durationSeconds, i) => ({ uri: `segment${i}.ts`, durationSeconds }));

describe('verifyOutput (the verify step)', () => {
  it('passes a full output and describes it: duration, bit rates, codecs, the VOD playlist', () => {
    const output = verifyOutput({
      segments: segments([4, 4, 2]),
      sizes: [500_000, 400_000, 100_000],
      probe,
      plan: copy,
      firstSegment: undefined,
      segmentSeconds: 4,
    });
    expect(output.durationSeconds).toBe(10);
    expect(output.bandwidth).toBe(1_000_000); // the largest segment: 500 kB over 4 s
    expect(output.averageBandwidth).toBe(800_000);
    expect(output.codecs).toMatch(/^avc1\.64/);
    expect(output).toMatchObject({ width: 1920, height: 1080, frameRate: 30 });
    expect(output.playlist).toContain('#EXT-X-ENDLIST');
    expect(output.playlist).toContain('segment2.ts');
  });

  it('accepts a shortfall within the tolerance and refuses a larger one as incomplete (permanent)', () => {
    expect(durationTolerance(10)).toBe(1);
    expect(durationTolerance(600)).toBe(12);
    const options = { sizes: [1, 1], probe, plan: copy, firstSegment: undefined, segmentSeconds: 4 };
    expect(verifyOutput({ ...options, segments: segments([4, 5.1]) }).durationSeconds).toBeCloseTo(9.1);
    let error: unknown;
    try {
      verifyOutput({ ...options, segments: segments([4, 4]) });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MediaError);
    expect(error).toMatchObject({ code: 'incomplete', permanent: true });
    expect((error as Error).message).toMatch(/only 8\.0 of 10\.0 seconds/);
  });

  it('refuses an output without segments', () => {
    expect(() =>
      verifyOutput({
        segments: [],
        sizes: [],
        probe: { ...probe, durationSeconds: null },
        plan: copy,
        firstSegment: undefined,
        segmentSeconds: 4,
      }),
    ).toThrow(MediaError);
  });

  it('describes transcoded video from the probe of the first produced segment', () => {
    const transcode = {
      video: StreamAction.Transcode,
      audio: StreamAction.Transcode,
      mode: 'transcode',
    } as MediaPlan;
    const firstSegment = {
      ...probe,
      video: { ...probe.video, profile: 'Main', level: 31, width: 1280, height: 720 },
    } as ProbeResult;
    const output = verifyOutput({
      segments: segments([4, 4, 2]),
      sizes: [1, 1, 1],
      probe,
      plan: transcode,
      firstSegment,
      segmentSeconds: 4,
    });
    expect(output.codecs).toMatch(/^avc1\.4d/);
    expect(output).toMatchObject({ width: 1280, height: 720 });
  });
});
