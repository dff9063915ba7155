import type { Storage } from '../../storage/storage.js';

/** Where the HLS output goes: the three storage calls generation needs. */
export type HlsSink = Pick<Storage, 'putFile' | 'putObject' | 'deletePrefix'>;

/** The log calls generation makes (a pino logger fits). */
export interface HlsLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const SEGMENT_CONTENT_TYPE = 'video/mp2t';
export const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl';

/** A logger that drops everything: the default when the caller passes none. */
export const silentLogger: HlsLogger = { info() {}, warn() {}, error() {} };

/** A segment stored together with every one before it: what the progressive playlist may list. */
export interface SegmentStored {
  index: number;
  /** Relative URI, e.g. `segment3.ts`. */
  uri: string;
  durationSeconds: number;
  /** An EVENT playlist (with `EXT-X-START:TIME-OFFSET=0`, without ENDLIST) listing segments 0…index. */
  playlistSoFar: string;
}
