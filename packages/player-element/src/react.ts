/**
 * React wrapper of `<notetaker-player>` (React 18 and 19). Props set the element's properties; `on…` props
 * listen to its events.
 *
 * @example
 * import { NotetakerPlayer } from '@notetaker/player-element/react';
 *
 * <NotetakerPlayer videoId={id} apiBase="https://video.example.com" getToken={getToken}
 *   onNotetakerError={(event) => console.log(event.detail.code)} />
 */
import * as React from 'react';
import { createComponent, type EventName } from '@lit/react';
import {
  NOTETAKER_PLAYER_TAG,
  type NotetakerErrorDetail,
  type NotetakerStatusDetail,
  type NotetakerTracksChangeDetail,
} from './constants.js';
import type { NotetakerChapterChangeDetail } from './chapters/chapters-controller.js';
import type { NotetakerMarkerClickDetail } from './markers/timeline-marks.js';
import { NotetakerPlayerElement } from './define.js';

export const NotetakerPlayer = createComponent({
  react: React,
  tagName: NOTETAKER_PLAYER_TAG,
  elementClass: NotetakerPlayerElement,
  displayName: 'NotetakerPlayer',
  events: {
    onNotetakerStatus: 'notetaker-status' as EventName<CustomEvent<NotetakerStatusDetail>>,
    onNotetakerError: 'notetaker-error' as EventName<CustomEvent<NotetakerErrorDetail>>,
    onNotetakerChapterChange: 'notetaker-chapterchange' as EventName<
      CustomEvent<NotetakerChapterChangeDetail>
    >,
    onNotetakerMarkerClick: 'notetaker-markerclick' as EventName<CustomEvent<NotetakerMarkerClickDetail>>,
    onNotetakerTracksChange: 'notetaker-trackschange' as EventName<CustomEvent<NotetakerTracksChangeDetail>>,
    onPlay: 'play',
    onPause: 'pause',
    onPlaying: 'playing',
    onEnded: 'ended',
    onWaiting: 'waiting',
    onSeeking: 'seeking',
    onSeeked: 'seeked',
    onTimeUpdate: 'timeupdate',
    onDurationChange: 'durationchange',
    onLoadedMetadata: 'loadedmetadata',
    onLoadedData: 'loadeddata',
    onCanPlay: 'canplay',
    onVolumeChange: 'volumechange',
    onRateChange: 'ratechange',
    onProgress: 'progress',
  },
});

/** Props of `NotetakerPlayer`. */
export type NotetakerPlayerProps = React.ComponentProps<typeof NotetakerPlayer>;
export { NotetakerPlayerElement };
