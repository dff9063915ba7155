import { describe, expect, it } from 'vitest';
import {
  audioCodecString,
  codecsFor,
  estimateH264Level,
  h264CodecString,
  measureBandwidth,
  targetDurationOf,
} from '../../src/media/hls-codecs.js';
import { parseProbeOutput } from '../../src/media/probe-media.js';

describe('codecsFor', () => {
  it.each([
    ['High', 31, 'avc1.64001f'],
    ['High', 40, 'avc1.640028'],
    ['Main', 30, 'avc1.4d401e'],
    ['Constrained Baseline', 40, 'avc1.42c028'],
    ['Baseline', 21, 'avc1.420015'],
    ['High 10', 51, 'avc1.6e0033'],
  ] as const)('writes H.264 %s at level_idc %i as %s', (profile, level, expected) => {
    expect(h264CodecString({ codec: 'h264', profile, level })).toBe(expected);
  });

  it.each([
    ['LC', 'mp4a.40.2'],
    ['HE-AAC', 'mp4a.40.5'],
    ['HE-AACv2', 'mp4a.40.29'],
    [undefined, 'mp4a.40.2'],
  ] as const)('writes AAC profile %s as %s', (profile, expected) => {
    expect(audioCodecString({ codec: 'aac', profile })).toBe(expected);
  });

  it('lists video first, then audio, and either alone', () => {
    const video = { codec: 'h264', profile: 'Main', level: 30 };
    const audio = { codec: 'aac', profile: 'HE-AAC' };
    expect(codecsFor({ video, audio })).toBe('avc1.4d401e,mp4a.40.5');
    expect(codecsFor({ video })).toBe('avc1.4d401e');
    expect(codecsFor({ audio })).toBe('mp4a.40.5');
    expect(codecsFor({ audio: { codec: 'mp3' } })).toBe('mp4a.40.34');
  });

  it('estimates the level from size and frame rate when ffprobe does not know it', () => {
    expect(estimateH264Level(1920, 1080, 30)).toBe(40);
    expect(estimateH264Level(1280, 720, 30)).toBe(31);
    expect(estimateH264Level(1280, 720, 60)).toBe(32);
    expect(estimateH264Level(640, 360, 25)).toBe(30);
    expect(estimateH264Level(320, 240, 25)).toBe(13);
    expect(estimateH264Level(3840, 2160, 30)).toBe(51);
    expect(h264CodecString({ codec: 'h264', profile: 'High', width: 1920, height: 1080, fps: 60 })).toBe(
      'avc1.64002a',
    );
  });

  it('refuses codecs HLS in MPEG-TS does not carry, and an empty description', () => {
    expect(() => codecsFor({ video: { codec: 'vp9' } })).toThrow(TypeError);
    expect(() => codecsFor({ audio: { codec: 'opus' } })).toThrow(TypeError);
    expect(() => codecsFor({})).toThrow(TypeError);
  });

  it('reads profile and level from ffprobe output (an unknown level of -99 is left out)', () => {
    const probe = parseProbeOutput(
      JSON.stringify({
        format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '10', start_time: '-0.021333' },
        streams: [
          {
            index: 0,
            codec_name: 'h264',
            codec_type: 'video',
            profile: 'High',
            level: 41,
            width: 1920,
            height: 1080,
            start_time: '0.000000',
          },
          { index: 1, codec_name: 'aac', codec_type: 'audio', profile: 'HE-AAC', channels: 2 },
        ],
      }),
    );
    expect(probe.video).toMatchObject({ level: 41, startSeconds: 0 });
    expect(probe.audio?.profile).toBe('HE-AAC');
    expect(probe.startSeconds).toBeCloseTo(-0.021333, 6);
    expect(codecsFor(probe)).toBe('avc1.640029,mp4a.40.5');

    const unknown = parseProbeOutput(
      JSON.stringify({
        format: { format_name: 'mpegts', duration: '4' },
        streams: [{ index: 0, codec_name: 'h264', codec_type: 'video', level: -99, width: 640, height: 360 }],
      }),
    );
    expect(unknown.video?.level).toBeUndefined();
    expect(unknown.startSeconds).toBeUndefined();
  });
});

describe('measureBandwidth', () => {
  it('gives the same peak and average for a constant rate, in bits/s', () => {
    const segments = [4, 4, 2].map((durationSeconds) => ({
      bytes: durationSeconds * 125_000,
      durationSeconds,
    }));
    expect(measureBandwidth(segments)).toEqual({ bandwidth: 1_000_000, averageBandwidth: 1_000_000 });
  });

  it('takes the peak from the busiest segment run and rounds both up', () => {
    const result = measureBandwidth([
      { bytes: 100_000, durationSeconds: 4 },
      { bytes: 1_000_001, durationSeconds: 4 },
      { bytes: 100_000, durationSeconds: 4 },
    ]);
    expect(result.bandwidth).toBe(Math.ceil((1_000_001 * 8) / 4));
    expect(result.averageBandwidth).toBe(Math.ceil((1_200_001 * 8) / 12));
  });

  it('does not let a tiny last segment set the peak on its own (RFC 8216 0.5–1.5 target durations)', () => {
    // A 0.04 s tail of 20 kB would be 4 Mbit/s alone; within a window of 0.5–1.5 × 4 s it only counts with
    // its neighbour.
    const result = measureBandwidth([
      { bytes: 250_000, durationSeconds: 4 },
      { bytes: 250_000, durationSeconds: 4 },
      { bytes: 20_000, durationSeconds: 0.04 },
    ]);
    expect(result.bandwidth).toBe(Math.ceil((270_000 * 8) / 4.04));
    expect(result.bandwidth).toBeLessThan(600_000);
  });

  it('uses the given target duration for the window', () => {
    const segments = [
      { bytes: 100_000, durationSeconds: 2 },
      { bytes: 400_000, durationSeconds: 2 },
      { bytes: 100_000, durationSeconds: 2 },
    ];
    // Target 2 s: the 2 s busy segment alone. Target 6 s: at least 3 s per window, so it is diluted.
    expect(measureBandwidth(segments, { targetDurationSeconds: 2 }).bandwidth).toBe(1_600_000);
    expect(measureBandwidth(segments, { targetDurationSeconds: 6 }).bandwidth).toBe(1_000_000);
  });

  it('falls back to the overall rate for a playlist shorter than half a target duration, and zeros for none', () => {
    expect(measureBandwidth([{ bytes: 1, durationSeconds: 3 }], { targetDurationSeconds: 10 })).toEqual({
      bandwidth: 3,
      averageBandwidth: 3,
    });
    expect(measureBandwidth([])).toEqual({ bandwidth: 0, averageBandwidth: 0 });
  });

  it('computes the target duration as the playlist writer does', () => {
    expect(targetDurationOf([4, 4, 2])).toBe(4);
    expect(targetDurationOf([6.5, 2])).toBe(7);
    expect(targetDurationOf([3, 3, 2], 6)).toBe(6);
    expect(targetDurationOf([0.2])).toBe(1);
  });
});
