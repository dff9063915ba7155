/** Tag name under which `@notetaker/player-element/define` registers the element. */
export const NOTETAKER_PLAYER_TAG = 'notetaker-player';

/**
 * Names of the element's own events.
 *
 * @example
 * player.addEventListener(PlayerEventName.error, (event) => console.log(event.detail.code));
 */
export const PlayerEventName = {
  /** `CustomEvent<NotetakerStatusDetail>`: the stream is preparing, ready, or failed on the server. */
  status: 'notetaker-status',
  /** `CustomEvent<NotetakerErrorDetail>`: the player stopped on an error it could not recover from. */
  error: 'notetaker-error',
  /** `CustomEvent<NotetakerChapterChangeDetail>`: playback entered another chapter. */
  chapterChange: 'notetaker-chapterchange',
  /** `CustomEvent<NotetakerMarkerClickDetail>`: a note marker was clicked; the player seeks to it. */
  markerClick: 'notetaker-markerclick',
  /**
   * `CustomEvent<NotetakerTracksChangeDetail>`: a re-check of the stream (`refresh()`, or the player's own while
   * playing) brought other renditions, caption tracks or chapters.
   */
  tracksChange: 'notetaker-trackschange',
} as const;
export type PlayerEventName = (typeof PlayerEventName)[keyof typeof PlayerEventName];

/** Values of `NotetakerStatusDetail.status`. */
export const PlayerStatus = {
  preparing: 'preparing',
  ready: 'ready',
  failed: 'failed',
} as const;
export type PlayerStatus = (typeof PlayerStatus)[keyof typeof PlayerStatus];

/**
 * Every `code` a `notetaker-error` event can carry. Each has a page in `docs/player/errors/<code>.md`.
 */
export const PlayerErrorCode = {
  /** The token was missing or rejected, also after asking `getToken` again. */
  unauthorized: 'unauthorized',
  /** The video does not exist or belongs to another user. */
  notFound: 'not_found',
  /** The video was registered but its source file was never uploaded. */
  uploadIncomplete: 'upload_incomplete',
  /** The server could not make HLS for this video (for example a corrupt source). Retry asks it to try again. */
  generationFailed: 'generation_failed',
  /** The API could not be reached or answered with a server error. */
  network: 'network',
  /** Playlist or segments could not be loaded, also after the automatic retries. */
  playbackNetwork: 'playback_network',
  /** Playlist or segment URLs were refused (401/403), also after fetching fresh ones. */
  playbackForbidden: 'playback_forbidden',
  /** The browser could not decode the media, also after the automatic recoveries. */
  mediaDecode: 'media_decode',
  /** A seek never completed, also after seeking to the same time again (Retry loads the video there afresh). */
  seekStalled: 'seek_stalled',
  /** This browser has neither Media Source Extensions nor native HLS. */
  unsupportedBrowser: 'unsupported_browser',
} as const;
export type PlayerErrorCode = (typeof PlayerErrorCode)[keyof typeof PlayerErrorCode];

/** What the element is showing, reflected on the host as the `state` attribute. */
export const PlayerState = {
  /** No `video-id` (or no `api-base`/`client`) yet. */
  idle: 'idle',
  /** Waiting for the server's answer, or for the first frame. */
  loading: 'loading',
  /** The server is generating HLS; `progress` may be known. */
  preparing: 'preparing',
  /** Media is attached and can play. */
  ready: 'ready',
  /** Stopped on an error; `error` holds it and a Retry button is shown. */
  error: 'error',
} as const;
export type PlayerState = (typeof PlayerState)[keyof typeof PlayerState];

/** Media events of the inner `<video>` that the element dispatches again from itself. */
export const MEDIA_EVENTS = [
  'abort',
  'canplay',
  'canplaythrough',
  'durationchange',
  'emptied',
  'ended',
  'loadeddata',
  'loadedmetadata',
  'loadstart',
  'pause',
  'play',
  'playing',
  'progress',
  'ratechange',
  'seeked',
  'seeking',
  'stalled',
  'suspend',
  'timeupdate',
  'volumechange',
  'waiting',
] as const;
export type MediaEventName = (typeof MEDIA_EVENTS)[number];

/** `autoplay` values: `true` (plain attribute) plays with sound if the browser allows it. */
export type AutoplayPolicy = boolean | 'muted' | 'any';
/** `prefer-playback` values. */
export type PreferPlayback = 'mse' | 'native';

/** Detail of `notetaker-status`. */
export type NotetakerStatusDetail =
  | { status: 'preparing'; progress: number | null }
  | { status: 'ready'; generating: boolean }
  | { status: 'failed'; message: string };

/** Detail of `notetaker-trackschange`: which of the player's lists changed (read the properties for the new ones). */
export interface NotetakerTracksChangeDetail {
  /** `qualityLevels`: a rendition arrived (or went). */
  qualityLevels: boolean;
  /** `captionTracks`: a caption track of the stream arrived, went or was renamed. */
  captionTracks: boolean;
  /** `chapters`. */
  chapters: boolean;
}

/** Detail of `notetaker-error`. */
export interface NotetakerErrorDetail {
  code: PlayerErrorCode;
  message: string;
  cause?: unknown;
}
