// The one home of the HLS layout: where a video's objects live in the bucket and what the files ffmpeg writes
// and the service publishes are called. Kept from the original design, so an existing bucket works unchanged:
//   videos/{owner}/{video}.mp4                     the source
//   videos/{owner}/{video}_hls/playlist.m3u8       the source rendition's playlist, stored last
//   videos/{owner}/{video}_hls/segment{N}.ts       its segments
//   videos/{owner}/{video}_hls/{task folder}/…     lower renditions, posters and storyboards (after ready)
//   videos/{owner}/{video}_captions/{language}.{hash}.vtt one caption track per language, as players read it
//   (named by its content, so a cache never answers an old version under a new file's URL; older tracks were
//   stored as {language}.vtt without the timestamp map, and are rewritten on their first playback)

/** File name of the playlist ffmpeg writes and of the one we publish. */
export const HLS_PLAYLIST_NAME = 'playlist.m3u8';

/** The file name of the master playlist route beside `playlist.m3u8` (the source rendition). */
export const MASTER_PLAYLIST_NAME = 'master.m3u8';

/** The segment file pattern handed to ffmpeg (`segment0.ts`, `segment1.ts`, …). */
export const SEGMENT_FILE_PATTERN = 'segment%d.ts';

/** `segment0.ts`, `segment1.ts`, … — the storage layout `videos/{user}/{video}_hls/segment{N}.ts`. */
export function segmentFileName(index: number): string {
  return `segment${index}.ts`;
}

/** The index of a segment file name we produced, or `null` for anything else. */
export function parseSegmentIndex(name: string): number | null {
  const match = /^segment(\d+)\.ts$/.exec(name);
  return match?.[1] === undefined ? null : Number(match[1]);
}

/** File names of the poster and storyboard, in a thumbnails task's folder beside the HLS output. */
export const ThumbnailFile = {
  Poster: 'poster.jpg',
  Sprite: 'storyboard.jpg',
  Storyboard: 'storyboard.vtt',
} as const;
export type ThumbnailFile = (typeof ThumbnailFile)[keyof typeof ThumbnailFile];

/** Where a video's objects live in the bucket. */
export const storageKeys = {
  source: (ownerId: string, videoId: string) => `videos/${ownerId}/${videoId}.mp4`,
  hlsPrefix: (ownerId: string, videoId: string) => `videos/${ownerId}/${videoId}_hls/`,
  playlist: (ownerId: string, videoId: string) => `videos/${ownerId}/${videoId}_hls/${HLS_PLAYLIST_NAME}`,
  /** Every caption file of a video lives under this prefix (kept apart from the HLS, which is regenerated). */
  captionsPrefix: (ownerId: string, videoId: string) => `videos/${ownerId}/${videoId}_captions/`,
  /**
   * One caption track as players read it: `language` is a canonical BCP-47 tag (letters, digits and `-` only),
   * `contentHash` 16 hex digits of the file's SHA-256.
   */
  captions: (ownerId: string, videoId: string, language: string, contentHash: string) =>
    `videos/${ownerId}/${videoId}_captions/${language}.${contentHash}.vtt`,
} as const;

/** Whether a caption key is one of {@link storageKeys.captions} (content-named, stored as players read it). */
export function isContentNamedCaptionKey(key: string): boolean {
  return /_captions\/[A-Za-z0-9-]+\.[0-9a-f]{16}\.vtt$/.test(key);
}

/**
 * Keys under any video's generated prefixes (`…/{id}_hls/`: playlists, segments, renditions, posters, storyboards;
 * `…/{id}_captions/`): made and removed by the service, never a source.
 */
const GENERATED_KEY =
  /(^|\/)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}_(hls|captions)(\/|$)/i;

/** True when `key` lies under some video's generated prefixes (see `storageKeys`). */
export function isGeneratedKey(key: string): boolean {
  return GENERATED_KEY.test(key);
}
