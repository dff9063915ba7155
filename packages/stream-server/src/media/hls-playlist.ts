/** One media segment of a playlist. */
export interface HlsSegment {
  /** As written in the playlist; relative (`segment0.ts`) for the playlists we publish. */
  uri: string;
  durationSeconds: number;
}

/**
 * Reads the segments (`#EXTINF` + URI) of a media playlist and whether it has `#EXT-X-ENDLIST`. Pure; ignores
 * every other tag.
 */
export function parseHlsPlaylist(text: string): { segments: HlsSegment[]; ended: boolean } {
  const segments: HlsSegment[] = [];
  let ended = false;
  let duration: number | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#EXTINF:')) {
      const value = Number(line.slice('#EXTINF:'.length).split(',')[0]);
      duration = Number.isFinite(value) && value >= 0 ? value : undefined;
    } else if (line === '#EXT-X-ENDLIST') {
      ended = true;
    } else if (!line.startsWith('#')) {
      if (duration !== undefined) segments.push({ uri: line, durationSeconds: duration });
      duration = undefined;
    }
  }
  return { segments, ended };
}

/** Sum of the segment durations, in seconds. */
export function playlistDuration(segments: readonly HlsSegment[]): number {
  return segments.reduce((total, segment) => total + segment.durationSeconds, 0);
}

export interface BuildHlsPlaylistOptions {
  segments: readonly HlsSegment[];
  /**
   * `event`: still growing (no ENDLIST), starts at the beginning (`EXT-X-START:TIME-OFFSET=0`; hls.js also needs
   * `startPosition: 0`). `vod`: complete, with `EXT-X-ENDLIST`.
   */
  type: 'event' | 'vod';
  /** Lower bound for `EXT-X-TARGETDURATION` (the configured segment length keeps it stable while growing). */
  minTargetDurationSeconds?: number;
}

/**
 * Writes a media playlist with relative segment URIs.
 *
 * @example
 * buildHlsPlaylist({ type: 'vod', segments: [{ uri: 'segment0.ts', durationSeconds: 6 }] })
 */
export function buildHlsPlaylist(options: BuildHlsPlaylistOptions): string {
  const longest = Math.max(0, ...options.segments.map((segment) => segment.durationSeconds));
  // Every EXTINF rounded to the nearest integer must be <= the target duration (RFC 8216 4.3.3.1).
  const target = Math.max(1, Math.ceil(options.minTargetDurationSeconds ?? 0), Math.round(longest));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    `#EXT-X-PLAYLIST-TYPE:${options.type === 'vod' ? 'VOD' : 'EVENT'}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  if (options.type === 'event') lines.push('#EXT-X-START:TIME-OFFSET=0');
  for (const segment of options.segments) {
    lines.push(`#EXTINF:${segment.durationSeconds.toFixed(6)},`, segment.uri);
  }
  if (options.type === 'vod') lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}
