import { describe, expect, it } from 'vitest';
import { buildHlsArgs, buildInputArgs, buildProbeArgs, type HlsPlan } from '../../src/media/ffmpeg-args.js';
import { parseSegmentIndex, segmentFileName } from '../../src/media/hls-layout.js';

const copyPlan: HlsPlan = { video: 'copy', audio: 'copy', videoStreamIndex: 0, audioStreamIndex: 1 };

/** The value following `flag` in `args`. */
function valueOf(args: string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at < 0 ? undefined : args[at + 1];
}

describe('buildProbeArgs', () => {
  it('prints format and streams as JSON for the input, which comes last', () => {
    const args = buildProbeArgs('/data/in.mp4');
    expect(args).toEqual(expect.arrayContaining(['-print_format', 'json', '-show_format', '-show_streams']));
    expect(args.at(-1)).toBe('/data/in.mp4');
  });

  it('sets an I/O timeout in microseconds', () => {
    expect(valueOf(buildProbeArgs('/in.mp4', { readTimeoutSeconds: 5 }), '-rw_timeout')).toBe('5000000');
  });
});

describe('buildInputArgs', () => {
  it('adds reconnect options for HTTP sources only', () => {
    expect(buildInputArgs('https://bucket.example/a.mp4?sig=1')).toContain('-reconnect');
    expect(buildInputArgs('/local/a.mp4')).not.toContain('-reconnect');
  });

  it('reads only containers that hold their own media, never playlists that point elsewhere', () => {
    const formats = valueOf(buildInputArgs('https://bucket.example/a.mp4?sig=1'), '-format_whitelist')?.split(
      ',',
    );
    expect(formats).toEqual(expect.arrayContaining(['mov', 'matroska', 'mpegts', 'mp3']));
    for (const playlist of ['hls', 'dash', 'concat', 'ffconcat', 'sdp', 'rtsp', 'image2']) {
      expect(formats).not.toContain(playlist);
    }
  });
});

describe('segment names', () => {
  it('round-trips segment{N}.ts and rejects other names', () => {
    expect(segmentFileName(12)).toBe('segment12.ts');
    expect(parseSegmentIndex('segment12.ts')).toBe(12);
    expect(parseSegmentIndex('segment12.ts.tmp')).toBeNull();
    expect(parseSegmentIndex('../segment1.ts')).toBeNull();
  });
});

describe('buildHlsArgs', () => {
  const base = { input: 'http://127.0.0.1/v.mp4', outputDir: '/tmp/job' };

  it('writes an EVENT playlist with numbered TS segments in the output directory', () => {
    const args = buildHlsArgs({ ...base, plan: copyPlan });
    expect(valueOf(args, '-f')).toBe('hls');
    expect(valueOf(args, '-hls_playlist_type')).toBe('event');
    expect(valueOf(args, '-hls_list_size')).toBe('0');
    expect(valueOf(args, '-hls_flags')).toBe('independent_segments+temp_file');
    expect(valueOf(args, '-hls_segment_filename')).toBe('/tmp/job/segment%d.ts');
    expect(args.at(-1)).toBe('/tmp/job/playlist.m3u8');
  });

  it('uses 6-second segments unless told otherwise', () => {
    expect(valueOf(buildHlsArgs({ ...base, plan: copyPlan }), '-hls_time')).toBe('6');
    expect(valueOf(buildHlsArgs({ ...base, plan: copyPlan, segmentSeconds: 4 }), '-hls_time')).toBe('4');
  });

  it('reports progress on stdout, fails on corrupt input and reads the URL as input', () => {
    const args = buildHlsArgs({ ...base, plan: copyPlan });
    expect(valueOf(args, '-progress')).toBe('pipe:1');
    expect(args).toEqual(expect.arrayContaining(['-nostats', '-xerror', '-y', '-nostdin']));
    expect(valueOf(args, '-i')).toBe(base.input);
    expect(args.indexOf('-rw_timeout')).toBeLessThan(args.indexOf('-i'));
  });

  it('maps the chosen streams by absolute index', () => {
    const args = buildHlsArgs({ ...base, plan: { ...copyPlan, videoStreamIndex: 2, audioStreamIndex: 0 } });
    expect(args.join(' ')).toContain('-map 0:2 -map 0:0');
  });

  it('copies both streams for a copy plan', () => {
    const args = buildHlsArgs({ ...base, plan: copyPlan });
    expect(valueOf(args, '-c:v')).toBe('copy');
    expect(valueOf(args, '-c:a')).toBe('copy');
    expect(args).not.toContain('-force_key_frames');
  });

  it('transcodes to H.264 with keyframes forced at the segment length and AAC stereo 48 kHz', () => {
    const args = buildHlsArgs({
      ...base,
      segmentSeconds: 4,
      plan: { ...copyPlan, video: 'transcode', audio: 'transcode', width: 640, height: 360 },
    });
    expect(valueOf(args, '-c:v')).toBe('libx264');
    expect(valueOf(args, '-preset')).toBe('veryfast');
    expect(valueOf(args, '-pix_fmt')).toBe('yuv420p');
    expect(valueOf(args, '-vf')).toBe('scale=640:360');
    // Keyframes at 0, 2, 6, 10 … and nowhere else; the muxer cuts at each (hls_time = the short first segment).
    expect(valueOf(args, '-force_key_frames')).toBe(
      'expr:gte(t,if(lt(n_forced,2),n_forced*2,2+(n_forced-1)*4))',
    );
    expect(valueOf(args, '-hls_time')).toBe('2');
    expect(valueOf(args, '-sc_threshold')).toBe('0');
    expect(valueOf(args, '-g')).toBe('1000000');
    expect(valueOf(args, '-c:a')).toBe('aac');
    expect(valueOf(args, '-b:a')).toBe('128k');
    expect(valueOf(args, '-ac')).toBe('2');
    expect(valueOf(args, '-ar')).toBe('48000');
  });

  it('cuts every transcoded segment at the segment length when that is no longer than the short first one', () => {
    const args = buildHlsArgs({ ...base, segmentSeconds: 2, plan: { ...copyPlan, video: 'transcode' } });
    expect(valueOf(args, '-force_key_frames')).toBe('expr:gte(t,n_forced*2)');
    expect(valueOf(args, '-hls_time')).toBe('2');
  });

  it('cuts copies and audio-only output at the segment length', () => {
    const copy = buildHlsArgs({ ...base, segmentSeconds: 6, plan: { ...copyPlan, audio: 'transcode' } });
    expect(valueOf(copy, '-hls_time')).toBe('6');
    const audioOnly = buildHlsArgs({
      ...base,
      segmentSeconds: 6,
      plan: { video: 'none', audio: 'transcode', audioStreamIndex: 0 },
    });
    expect(valueOf(audioOnly, '-hls_time')).toBe('6');
  });

  it('rounds an unknown size down to even numbers when transcoding', () => {
    const args = buildHlsArgs({ ...base, plan: { ...copyPlan, video: 'transcode' } });
    expect(valueOf(args, '-vf')).toBe('scale=trunc(iw/2)*2:trunc(ih/2)*2');
  });

  it('copies video and transcodes audio when only the audio is odd', () => {
    const args = buildHlsArgs({ ...base, plan: { ...copyPlan, audio: 'transcode' } });
    expect(valueOf(args, '-c:v')).toBe('copy');
    expect(valueOf(args, '-c:a')).toBe('aac');
  });

  it('writes audio-only HLS when there is no video', () => {
    const args = buildHlsArgs({ ...base, plan: { video: 'none', audio: 'copy', audioStreamIndex: 0 } });
    expect(args).toContain('-vn');
    expect(args).not.toContain('-c:v');
    expect(args.join(' ')).toContain('-map 0:0');
  });

  it('refuses a plan without streams or without the index of a used stream', () => {
    expect(() => buildHlsArgs({ ...base, plan: { video: 'none', audio: 'none' } })).toThrow(TypeError);
    expect(() => buildHlsArgs({ ...base, plan: { video: 'copy', audio: 'none' } })).toThrow(TypeError);
  });
});
