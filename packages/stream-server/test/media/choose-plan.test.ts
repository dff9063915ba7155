import { describe, expect, it } from 'vitest';
import { choosePlan, transcodeSize } from '../../src/media/choose-plan.js';
import { MediaError } from '../../src/media/media-error.js';
import { parseProbeOutput, type ProbeResult } from '../../src/media/probe-media.js';

const h264 = {
  index: 0,
  codec: 'h264',
  profile: 'High',
  pixFmt: 'yuv420p',
  width: 1280,
  height: 720,
  fps: 30,
};
const aac = { index: 1, codec: 'aac', channels: 2, sampleRate: 48000 };

function probe(overrides: Partial<ProbeResult>): ProbeResult {
  return {
    durationSeconds: 10,
    formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
    video: h264,
    audio: aac,
    ...overrides,
  };
}

describe('choosePlan', () => {
  it('copies H.264 8-bit 4:2:0 with AAC', () => {
    expect(choosePlan(probe({}))).toEqual({
      video: 'copy',
      audio: 'copy',
      mode: 'copy',
      videoStreamIndex: 0,
      audioStreamIndex: 1,
    });
  });

  it('copies full-range yuvj420p H.264', () => {
    expect(choosePlan(probe({ video: { ...h264, pixFmt: 'yuvj420p' } })).video).toBe('copy');
  });

  it('copies H.264 without audio', () => {
    expect(choosePlan(probe({ audio: undefined }))).toMatchObject({
      video: 'copy',
      audio: 'none',
      mode: 'copy',
    });
  });

  it.each([
    ['vp9', 'yuv420p', undefined],
    ['av1', 'yuv420p', undefined],
    ['hevc', 'yuv420p', 'Main'],
    ['mpeg4', 'yuv420p', undefined],
    ['h264', 'yuv420p10le', 'High 10'],
    ['h264', 'yuv422p', 'High 4:2:2'],
    ['h264', undefined, 'High'],
  ])('transcodes %s video (%s)', (codec, pixFmt, profile) => {
    const plan = choosePlan(probe({ video: { ...h264, codec, pixFmt, profile } }));
    expect(plan).toMatchObject({
      video: 'transcode',
      audio: 'copy',
      mode: 'transcode',
      width: 1280,
      height: 720,
    });
  });

  it.each(['opus', 'mp3', 'ac3', 'vorbis'])('copies the video and transcodes %s audio', (codec) => {
    expect(choosePlan(probe({ audio: { ...aac, codec } }))).toMatchObject({
      video: 'copy',
      audio: 'transcode',
      mode: 'transcode',
    });
  });

  it('transcodes 5.1 AAC to stereo', () => {
    expect(choosePlan(probe({ audio: { ...aac, channels: 6 } })).audio).toBe('transcode');
  });

  it('makes audio-only HLS from audio-only input, copying AAC', () => {
    expect(choosePlan(probe({ video: undefined }))).toEqual({
      video: 'none',
      audio: 'copy',
      mode: 'copy',
      audioStreamIndex: 1,
    });
    expect(choosePlan(probe({ video: undefined, audio: { ...aac, codec: 'mp3' } })).audio).toBe('transcode');
  });

  it('refuses input with neither video nor audio as unsupported and permanent', () => {
    const error = (() => {
      try {
        choosePlan(probe({ video: undefined, audio: undefined }));
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(MediaError);
    expect(error).toMatchObject({ code: 'unsupported', permanent: true });
  });

  it('ignores cover art: an MP3 with an attached picture is audio only', () => {
    const probed = parseProbeOutput(
      JSON.stringify({
        format: { format_name: 'mp3', duration: '10.03' },
        streams: [
          { index: 0, codec_name: 'mp3', codec_type: 'audio', channels: 2, sample_rate: '44100' },
          {
            index: 1,
            codec_name: 'mjpeg',
            codec_type: 'video',
            width: 600,
            height: 600,
            disposition: { attached_pic: 1 },
          },
        ],
      }),
    );
    expect(choosePlan(probed)).toEqual({
      video: 'none',
      audio: 'transcode',
      mode: 'transcode',
      audioStreamIndex: 0,
    });
  });

  it('caps transcoded video to a 1920x1080 box with even dimensions, portrait included', () => {
    expect(transcodeSize(3840, 2160)).toEqual({ width: 1920, height: 1080 });
    expect(transcodeSize(2160, 3840)).toEqual({ width: 1080, height: 1920 });
    expect(transcodeSize(321, 241)).toEqual({ width: 320, height: 240 });
  });
  it('transcodes H.264 a phone stored sideways, to the upright size', () => {
    const portrait = choosePlan(probe({ video: { ...h264, width: 1920, height: 1080, rotation: 90 } }));
    expect(portrait).toMatchObject({ video: 'transcode', audio: 'copy', width: 1080, height: 1920 });
    expect(choosePlan(probe({ video: { ...h264, rotation: 270 } }))).toMatchObject({
      width: 720,
      height: 1280,
    });
    expect(choosePlan(probe({ video: { ...h264, rotation: 180 } }))).toMatchObject({
      video: 'transcode',
      width: 1280,
      height: 720,
    });
    expect(choosePlan(probe({ video: { ...h264, rotation: 0 } })).video).toBe('copy');
  });
});

describe('parseProbeOutput', () => {
  it('reads duration, format, the first real video stream and the default audio stream', () => {
    const probed = parseProbeOutput(
      JSON.stringify({
        format: { format_name: 'matroska,webm', duration: '12.5' },
        streams: [
          { index: 0, codec_name: 'opus', codec_type: 'audio', channels: 2, sample_rate: '48000' },
          {
            index: 1,
            codec_name: 'vp9',
            codec_type: 'video',
            pix_fmt: 'yuv420p',
            width: 640,
            height: 360,
            avg_frame_rate: '30000/1001',
          },
          {
            index: 2,
            codec_name: 'aac',
            codec_type: 'audio',
            channels: 2,
            sample_rate: '44100',
            disposition: { default: 1 },
          },
        ],
      }),
    );
    expect(probed.durationSeconds).toBe(12.5);
    expect(probed.formatName).toBe('matroska,webm');
    expect(probed.video).toMatchObject({ index: 1, codec: 'vp9', width: 640, height: 360 });
    expect(probed.video?.fps).toBeCloseTo(29.97, 2);
    expect(probed.audio).toEqual({ index: 2, codec: 'aac', channels: 2, sampleRate: 44100 });
  });

  it('reads the display rotation from the display matrix or the old rotate tag', () => {
    const rotationOf = (stream: Record<string, unknown>) =>
      parseProbeOutput(
        JSON.stringify({
          format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '3' },
          streams: [
            { index: 0, codec_name: 'h264', codec_type: 'video', width: 1920, height: 1080, ...stream },
          ],
        }),
      ).video?.rotation;
    expect(rotationOf({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }] })).toBe(270);
    expect(rotationOf({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: 90 }] })).toBe(90);
    expect(rotationOf({ tags: { rotate: '180' } })).toBe(180);
    expect(rotationOf({})).toBeUndefined();
  });

  it('takes the longest stream duration when the container has none', () => {
    const probed = parseProbeOutput(
      JSON.stringify({
        format: { format_name: 'mpegts' },
        streams: [{ index: 0, codec_name: 'aac', codec_type: 'audio', duration: '7.5', channels: 2 }],
      }),
    );
    expect(probed.durationSeconds).toBe(7.5);
  });

  it('accepts live WebM without any duration (browser recordings) with a null duration', () => {
    const probed = parseProbeOutput(
      JSON.stringify({
        format: { format_name: 'matroska,webm' },
        streams: [{ index: 0, codec_name: 'vp9', codec_type: 'video', width: 320, height: 240 }],
      }),
    );
    expect(probed.durationSeconds).toBeNull();
  });

  it.each([
    ['no duration', { format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2' }, streams: [] }],
    ['a text-art "format"', { format: { format_name: 'bin' }, streams: [] }],
    ['no format', { streams: [] }],
  ])('rejects output with %s as invalid_input', (_name, output) => {
    expect(() => parseProbeOutput(JSON.stringify(output))).toThrow(
      expect.objectContaining({ code: 'invalid_input', permanent: true }),
    );
  });
});
