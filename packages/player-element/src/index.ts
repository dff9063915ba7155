/**
 * `@notetaker/player-element`: constants, types and a lazy loader. Importing this entry defines nothing and
 * touches no DOM API, so it is safe in server-side rendering; the element itself comes from
 * `@notetaker/player-element/define` (or `loadNotetakerPlayer()`).
 *
 * @example
 * import { loadNotetakerPlayer, PlayerEventName } from '@notetaker/player-element';
 * await loadNotetakerPlayer(); // defines <notetaker-player> in the browser
 */
import type { NotetakerPlayerElement } from './notetaker-player.js';

export {
  MEDIA_EVENTS,
  NOTETAKER_PLAYER_TAG,
  PlayerErrorCode,
  PlayerEventName,
  PlayerState,
  PlayerStatus,
} from './constants.js';
export type {
  AutoplayPolicy,
  MediaEventName,
  NotetakerErrorDetail,
  NotetakerStatusDetail,
  NotetakerTracksChangeDetail,
  PreferPlayback,
} from './constants.js';
export type { CaptionTrack, ControlsMode, NotetakerPlayerElement } from './notetaker-player.js';
export type { QualityLevel } from './engine/playback-engine.js';
export type { NotetakerChapterChangeDetail } from './chapters/chapters-controller.js';
export type { PlayerChapter } from './chapters/chapters-vtt.js';
export type { NotetakerMarkerClickDetail, PlayerMarker } from './markers/timeline-marks.js';
export type { PlayerStreamClient, TokenProvider } from './stream-client.js';
export { EngineKind, chooseEngine } from './engine/choose-engine.js';
export type { EngineEnvironment } from './engine/choose-engine.js';

/**
 * Loads the element's code and registers `<notetaker-player>` (once); resolves to its class.
 * Call it in the browser only (for example in `useEffect` or `onMounted`).
 */
export async function loadNotetakerPlayer(): Promise<typeof NotetakerPlayerElement> {
  return (await import('./define.js')).NotetakerPlayerElement;
}
