/** What a master playlist says about one rendition, all measured from what was produced. */
export interface VariantAttributes {
  /** Peak segment bit rate in bits/s (`BANDWIDTH`). */
  bandwidth: number;
  /** Total bits over total duration (`AVERAGE-BANDWIDTH`). */
  averageBandwidth: number;
  /** Picture size; `null` for audio-only. */
  width: number | null;
  height: number | null;
  /** RFC 6381, e.g. `avc1.64001f,mp4a.40.2`. */
  codecs: string;
  /** Frames per second (3 decimals); `null` when unknown or audio-only. */
  frameRate: number | null;
}

export interface MasterVariant extends VariantAttributes {
  /** The variant playlist's URL (absolute, carrying its playback token). */
  uri: string;
}

/** The `GROUP-ID` of the subtitle renditions a master playlist lists. */
export const SUBTITLES_GROUP_ID = 'subs';

/**
 * Writes an HLS master playlist (RFC 8216 4.3.4): the variants highest bandwidth first, each with `BANDWIDTH`,
 * `AVERAGE-BANDWIDTH`, `CODECS`, and `RESOLUTION` / `FRAME-RATE` when it has a picture; `mediaLines` (e.g. the
 * `#EXT-X-MEDIA:TYPE=SUBTITLES` lines of the captions) before them, and `SUBTITLES="<group>"` on every variant
 * when `subtitlesGroupId` is given.
 *
 * @example
 * buildMasterPlaylist({ variants: [{ uri: 'https://…/playlist.m3u8?token=t', bandwidth: 5_400_000,
 *   averageBandwidth: 4_100_000, width: 1920, height: 1080, codecs: 'avc1.640028,mp4a.40.2', frameRate: 30 }] });
 * // '#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-STREAM-INF:BANDWIDTH=5400000,…\nhttps://…\n'
 */
export function buildMasterPlaylist(options: {
  variants: readonly MasterVariant[];
  mediaLines?: readonly string[];
  subtitlesGroupId?: string | undefined;
}): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:4', '#EXT-X-INDEPENDENT-SEGMENTS', ...(options.mediaLines ?? [])];
  const variants = [...options.variants].sort((a, b) => b.bandwidth - a.bandwidth);
  for (const variant of variants) {
    const attributes = [
      `BANDWIDTH=${Math.ceil(variant.bandwidth)}`,
      `AVERAGE-BANDWIDTH=${Math.ceil(variant.averageBandwidth)}`,
      ...(variant.width && variant.height ? [`RESOLUTION=${variant.width}x${variant.height}`] : []),
      `CODECS="${variant.codecs}"`,
      ...(variant.frameRate && variant.width ? [`FRAME-RATE=${variant.frameRate.toFixed(3)}`] : []),
      ...(options.subtitlesGroupId ? [`SUBTITLES="${options.subtitlesGroupId}"`] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(',')}`, variant.uri);
  }
  return `${lines.join('\n')}\n`;
}

/** Reads a stored `VariantAttributes` JSON; `undefined` for videos generated before it was recorded. */
export function parseVariantAttributes(json: string | null): VariantAttributes | undefined {
  if (!json) return undefined;
  const value = JSON.parse(json) as Partial<VariantAttributes> | null;
  if (!value || typeof value.bandwidth !== 'number' || typeof value.codecs !== 'string') return undefined;
  return {
    bandwidth: value.bandwidth,
    averageBandwidth: value.averageBandwidth ?? value.bandwidth,
    width: value.width ?? null,
    height: value.height ?? null,
    codecs: value.codecs,
    frameRate: value.frameRate ?? null,
  };
}
