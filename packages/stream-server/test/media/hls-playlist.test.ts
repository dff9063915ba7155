import { describe, expect, it } from 'vitest';
import { buildHlsPlaylist, parseHlsPlaylist, playlistDuration } from '../../src/media/hls-playlist.js';

const ffmpegEventPlaylist = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:6
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:EVENT
#EXT-X-INDEPENDENT-SEGMENTS
#EXTINF:6.000000,
segment0.ts
#EXTINF:2.080000,
segment1.ts
`;

describe('parseHlsPlaylist', () => {
  it('reads segments and durations from an ffmpeg EVENT playlist', () => {
    expect(parseHlsPlaylist(ffmpegEventPlaylist)).toEqual({
      segments: [
        { uri: 'segment0.ts', durationSeconds: 6 },
        { uri: 'segment1.ts', durationSeconds: 2.08 },
      ],
      ended: false,
    });
  });

  it('notices ENDLIST', () => {
    expect(parseHlsPlaylist(`${ffmpegEventPlaylist}#EXT-X-ENDLIST\n`).ended).toBe(true);
  });

  it('sums durations', () => {
    expect(playlistDuration(parseHlsPlaylist(ffmpegEventPlaylist).segments)).toBeCloseTo(8.08, 6);
  });
});

describe('buildHlsPlaylist', () => {
  const segments = [
    { uri: 'segment0.ts', durationSeconds: 6 },
    { uri: 'segment1.ts', durationSeconds: 6.4 },
  ];

  it('writes a complete VOD playlist with relative URIs and ENDLIST', () => {
    const text = buildHlsPlaylist({ type: 'vod', segments });
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-TARGETDURATION:6',
        '#EXT-X-MEDIA-SEQUENCE:0',
        '#EXT-X-PLAYLIST-TYPE:VOD',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXTINF:6.000000,',
        'segment0.ts',
        '#EXTINF:6.400000,',
        'segment1.ts',
        '#EXT-X-ENDLIST',
        '',
      ].join('\n'),
    );
  });

  it('writes a growing EVENT playlist that starts at the beginning and has no ENDLIST', () => {
    const text = buildHlsPlaylist({
      type: 'event',
      segments: segments.slice(0, 1),
      minTargetDurationSeconds: 6,
    });
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(text).toContain('#EXT-X-START:TIME-OFFSET=0');
    expect(text).not.toContain('#EXT-X-ENDLIST');
  });

  it('keeps the target duration at least the rounded longest segment', () => {
    const text = buildHlsPlaylist({ type: 'vod', segments: [{ uri: 'segment0.ts', durationSeconds: 10.6 }] });
    expect(text).toContain('#EXT-X-TARGETDURATION:11');
  });

  it('parses back what it writes', () => {
    expect(parseHlsPlaylist(buildHlsPlaylist({ type: 'vod', segments }))).toEqual({ segments, ended: true });
  });
});
