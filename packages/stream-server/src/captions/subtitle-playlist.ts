import type { VideoCaptionRow } from '../db/schema.js';

// HLS for caption tracks: the subtitle media playlist of one track, and the EXT-X-MEDIA lines a master playlist lists
// the tracks with. Pure functions.

/**
 * The MPEG-TS timestamp (90 kHz clock) at which the timeline of our HLS segments starts: 1.4 s.
 *
 * ffmpeg (without `-copyts`) shifts the input so its earliest timestamp is 0, and its MPEG-TS muxer then adds 1.4 s.
 * Measured on segments the generation makes (ffmpeg 5.1): H.264+AAC remuxed → audio PTS 126000, video PTS 127920;
 * remuxed with B-frames → video DTS 126000 (PTS 133200), audio PTS 131280; VP9/Opus transcoded → video DTS 126000,
 * audio PTS 131910. hls.js takes as its time 0 (`initPTS`) the smallest of the first audio PTS and the first video
 * DTS, which is 126000 in every case, and maps a WebVTT file with
 * `X-TIMESTAMP-MAP=MPEGTS:<n>,LOCAL:00:00:00.000` by shifting its cues by `(n - initPTS) / 90000` seconds; without the
 * header it assumes MPEGTS 0 (RFC 8216 §3.5) and every cue would show 1.4 s early. Safari follows RFC 8216 and maps
 * the same way against the segments' own timestamps, so one map serves both, within a frame or two. A test checks
 * this constant against real generated segments, and a Chromium test that a cue becomes active on time.
 */
export const SEGMENT_TIMELINE_START_MPEGTS = 126_000;

const seconds = (value: number) => (Math.round(value * 1000) / 1000).toFixed(3);

/**
 * A VOD WebVTT subtitle media playlist with one segment, `uri`, spanning the whole video.
 *
 * @example
 * buildSubtitlePlaylist(62.48, 'en.vtt?token=…');
 * // '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:63\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n'
 * // + '#EXTINF:62.480,\nen.vtt?token=…\n#EXT-X-ENDLIST\n'
 */
export function buildSubtitlePlaylist(durationSeconds: number, uri: string): string {
  if (!(durationSeconds > 0) || !Number.isFinite(durationSeconds)) {
    throw new RangeError('durationSeconds must be a positive number');
  }
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${Math.max(1, Math.ceil(Number(seconds(durationSeconds))))}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    `#EXTINF:${seconds(durationSeconds)},`,
    uri,
    '#EXT-X-ENDLIST',
    '',
  ].join('\n');
}

/**
 * A quoted-string attribute value: HLS quoted strings have no escapes and may not hold `"`, CR or LF, so double
 * quotes become single quotes and control characters spaces.
 */
function quoted(value: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${value.replace(/"/g, "'").replace(/[\u0000-\u001f\u007f]/g, ' ')}"`;
}

/**
 * The `#EXT-X-MEDIA:TYPE=SUBTITLES` lines of a master playlist, one per caption track, in the order given (e.g.
 * `listCaptions`'s). Each variant (`#EXT-X-STREAM-INF`) then names the group: `SUBTITLES="<groupId>"`.
 * At most one track is `DEFAULT=YES` (the first marked default); every track is `AUTOSELECT=YES`, so players may
 * pick one matching the viewer's language. Names are made unique within the group, as RFC 8216 requires, by
 * adding the language tag to a repeated label.
 *
 * @example
 * subtitleMediaLines(await listCaptions(db, video.id), (language) => `captions/${language}.m3u8?token=${token}`);
 * // ['#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="captions/en.m3u8?token=…"']
 */
export function subtitleMediaLines(
  captions: ReadonlyArray<Pick<VideoCaptionRow, 'language' | 'label' | 'is_default'>>,
  uriFor: (language: string) => string,
  groupId = 'subs',
): string[] {
  const names = new Set<string>();
  let defaultGiven = false;
  return captions.map((caption) => {
    let name = caption.label.trim() || caption.language;
    if (names.has(name)) name = `${name} (${caption.language})`;
    names.add(name);
    const isDefault = caption.is_default && !defaultGiven;
    if (isDefault) defaultGiven = true;
    return (
      `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=${quoted(groupId)},NAME=${quoted(name)},` +
      `LANGUAGE=${quoted(caption.language)},DEFAULT=${isDefault ? 'YES' : 'NO'},AUTOSELECT=YES,` +
      `URI=${quoted(uriFor(caption.language))}`
    );
  });
}
