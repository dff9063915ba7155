import type Hls from 'hls.js';
import type { ErrorData, HlsConfig } from 'hls.js';
import { createHlsConfig } from './hls-config.js';
import { subtitleTextTracks } from './subtitle-text-tracks.js';

/** Why the engine needs a fresh `hls_url` (or a reload) to go on. */
export type ReloadReason = 'forbidden' | 'network' | 'decode';

/** Codes the engine gives up with. */
export type EngineErrorCode = 'playback_network' | 'media_decode';

/** Where playback was when the engine stopped, so that the next load can resume there. */
export interface PlaybackSnapshot {
  position: number;
  playing: boolean;
}

/** One rendition of a multi-bitrate stream. */
export interface QualityLevel {
  width: number;
  height: number;
  /** Bits per second, as the playlist announces it. */
  bitrate: number;
}

/** A subtitle rendition the stream itself carries (not a `<track>` child). */
export interface SubtitleRendition {
  label: string;
  language: string;
}

export interface PlaybackEngineOptions {
  video: HTMLVideoElement;
  kind: 'mse' | 'native';
  /** Loads hls.js; called only for the `mse` engine, on the first `load`. */
  loadHls?: () => Promise<typeof Hls>;
  hlsConfig?: Partial<HlsConfig>;
  /** Recovery limits; the defaults suit production. */
  recovery?: RecoveryLimits;
  /** Playback cannot go on with the current URL (for example it expired): load a fresh one. */
  onReloadNeeded(reason: ReloadReason, at: PlaybackSnapshot): void;
  /** Automatic recovery gave up. The engine has already torn itself down. */
  onFatal(code: EngineErrorCode, message: string, at: PlaybackSnapshot, cause?: unknown): void;
  /** `levels`, `level`, `activeLevel`, `subtitles`, `subtitle` or `live` may have changed. */
  onChange?(): void;
}

export interface EngineSource {
  url: string;
  /** Seconds; where to start loading. */
  startPosition: number;
}

/** One playback engine per element; at most one hls.js instance alive at a time. */
export interface PlaybackEngine {
  readonly kind: 'mse' | 'native';
  /** Tears down whatever is loaded, then loads `source`. */
  load(source: EngineSource): Promise<void>;
  /**
   * Compares `url` (a fresh `hls_url` of the video playing) with what plays and, when its renditions or subtitle
   * renditions differ, plays from it without a restart: hls.js takes over the same media source and buffer.
   * Position, paused state, the chosen rendition and the captions shown are kept. Resolves once `levels` and
   * `subtitles` list the new ones, to whether it switched. Native HLS cannot take another playlist without a reload:
   * it never switches, and plays the new playlist from its next load.
   */
  update(url: string): Promise<boolean>;
  /** Destroys the hls.js instance, clears timers, detaches the media. Safe to call again. */
  destroy(): void;
  /** Renditions the viewer can choose from: hls.js levels; empty with native HLS, which always chooses itself. */
  readonly levels: readonly QualityLevel[];
  /** The chosen rendition, an index into `levels`, or -1 for automatic choice. Switches without a stall. */
  level: number;
  /** The rendition playing now, or -1 when not known. */
  readonly activeLevel: number;
  /** Subtitle renditions of the stream (hls.js subtitle tracks, or native HLS in-band text tracks). */
  readonly subtitles: readonly SubtitleRendition[];
  /** Index into `subtitles` of the rendition shown, or -1 for none. */
  subtitle: number;
  /** The playlist has no `EXT-X-ENDLIST` yet: the video is still being generated and its duration grows. */
  readonly live: boolean;
}

export interface RecoveryLimits {
  /** Fatal network errors are retried this many times before giving up (default 4). */
  networkRetries?: number;
  /** First backoff delay in ms, doubling up to 8 s, with ±20 % jitter (default 1000). */
  baseDelayMs?: number;
  /** At most this many `recoverMediaError` calls per load (default 3). */
  mediaRecoveries?: number;
}

type HlsClass = typeof Hls;

const defaultLoadHls = async (): Promise<typeof Hls> => (await import('hls.js')).default;

/** What an hls.js instance offers, comparable: its renditions and subtitle renditions (not their URLs or tokens). */
const shapeOf = (hls: Hls): string =>
  hls.levels.map((level) => `${level.width}x${level.height}@${level.bitrate}`) +
  '|' +
  hls.allSubtitleTracks.map((track) => `${track.lang}:${track.name}`);

export function createPlaybackEngine(options: PlaybackEngineOptions): PlaybackEngine {
  const { video, kind } = options;
  const {
    networkRetries: maxNetwork = 4,
    baseDelayMs = 1000,
    mediaRecoveries: maxMedia = 3,
  } = options.recovery ?? {};
  let hls: Hls | null = null;
  let generation = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onNativeError: (() => void) | undefined;
  let live = false;
  let HlsCtor: HlsClass | undefined;
  const changed = () => options.onChange?.();
  /** hls.js: the text tracks of the stream's subtitle renditions, filled from its parsed cues. */
  const subtitleTracks = subtitleTextTracks(video);
  const rendition = (index: number) => {
    const track = hls?.subtitleTracks[index];
    return track ? { label: track.name, language: track.lang ?? '' } : null;
  };
  /** Shows the text track of hls.js's subtitle rendition when it displays one. */
  const showOwnSubtitle = () =>
    subtitleTracks.show(hls?.subtitleDisplay ? rendition(hls.subtitleTrack) : null);
  /** Native HLS: text tracks the stream brings, i.e. not those of `<track>` children. */
  const nativeSubtitles = (): TextTrack[] => {
    const own = new Set([...video.querySelectorAll('track')].map((element) => element.track));
    return [...video.textTracks].filter((track) => !own.has(track) && /^(sub|cap)/.test(track.kind));
  };

  // WebKit with ManagedMediaSource (an iPhone's path) ends playback when the playhead reaches the duration of a
  // playlist that is still growing, although that duration is only what exists so far: play on once it grows.
  let endedWhileGrowing = false;
  const onEnded = () => {
    endedWhileGrowing = live;
  };
  const onPlay = () => {
    endedWhileGrowing = false;
  };
  const onDurationChange = () => {
    if (endedWhileGrowing && video.duration - video.currentTime > 0.1) {
      endedWhileGrowing = false;
      video.play().catch(() => undefined);
    }
  };

  const teardown = () => {
    generation++;
    live = false;
    endedWhileGrowing = false;
    video.removeEventListener('ended', onEnded);
    video.removeEventListener('play', onPlay);
    video.removeEventListener('durationchange', onDurationChange);
    clearTimeout(timer);
    timer = undefined;
    if (hls) {
      hls.destroy();
      hls = null;
      subtitleTracks.clear();
    }
    if (onNativeError) {
      video.removeEventListener('error', onNativeError);
      onNativeError = undefined;
    }
    if (video.hasAttribute('src')) {
      video.removeAttribute('src');
      video.load();
    }
  };

  const snapshot = (): PlaybackSnapshot => ({ position: video.currentTime, playing: !video.paused });
  const reload = (reason: ReloadReason) => {
    const at = snapshot();
    teardown();
    options.onReloadNeeded(reason, at);
  };
  const giveUp = (code: EngineErrorCode, message: string, cause?: unknown) => {
    const at = snapshot();
    teardown();
    options.onFatal(code, message, at, cause);
  };

  const loadNative = (source: EngineSource) => {
    onNativeError = () => {
      reload(video.error?.code === 3 ? 'decode' : 'network');
    };
    video.addEventListener('error', onNativeError);
    video.src = source.url;
  };

  /** Listens to `instance` as the engine's hls.js, playing `source`: changes, errors and their recovery. */
  const wire = (Hls: HlsClass, instance: Hls, source: EngineSource) => {
    let networkRetries = 0;
    let mediaRecoveries = 0;
    let lastRecovery = -Infinity;
    instance.on(Hls.Events.FRAG_LOADED, () => {
      networkRetries = 0;
    });
    instance.on(Hls.Events.LEVEL_UPDATED, (_event, { details }) => {
      if (live !== (live = details.live)) changed();
    });
    for (const name of [
      Hls.Events.FRAG_CHANGED,
      Hls.Events.MANIFEST_PARSED,
      Hls.Events.LEVELS_UPDATED,
      Hls.Events.SUBTITLE_TRACKS_UPDATED,
      Hls.Events.SUBTITLE_TRACK_SWITCH,
    ] as const) {
      instance.on(name, changed);
    }
    // The cues of a subtitle fragment go to that rendition's track (see subtitle-text-tracks.ts).
    instance.on(Hls.Events.CUES_PARSED, (_event, { type, cues, subtitleTrack }) => {
      if (type !== 'subtitles' || !subtitleTrack) return;
      subtitleTracks.add({ label: subtitleTrack.name, language: subtitleTrack.lang ?? '' }, cues);
    });
    instance.on(Hls.Events.SUBTITLE_TRACK_SWITCH, showOwnSubtitle);
    instance.on(Hls.Events.ERROR, (_event, data: ErrorData) => {
      const status = data.response?.code;
      if (status === 401 || status === 403) {
        reload('forbidden');
        return;
      }
      // The playlist is gone (404) or not playable any more (409: the generation failed or restarted): only a
      // fresh answer from /stream can tell what to play now.
      if ((status === 404 || status === 409) && data.fatal && /^(manifest|level)/.test(data.details)) {
        reload('network');
        return;
      }
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
        if (networkRetries >= maxNetwork) {
          giveUp('playback_network', `Could not load the stream (${data.details}).`, data.error);
          return;
        }
        const delay = Math.min(8000, baseDelayMs * 2 ** networkRetries++) * (0.8 + Math.random() * 0.4);
        const manifest = /^manifest/i.test(data.details);
        timer = setTimeout(() => {
          if (manifest) instance.loadSource(source.url);
          else instance.startLoad(video.currentTime || source.startPosition);
        }, delay);
      } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < maxMedia) {
        const now = performance.now();
        if (now - lastRecovery < 3000) instance.swapAudioCodec();
        lastRecovery = now;
        mediaRecoveries++;
        instance.recoverMediaError();
      } else {
        giveUp('media_decode', `The media could not be played (${data.details}).`, data.error);
      }
    });
  };

  const loadMse = async (source: EngineSource, run: number) => {
    const Hls = (HlsCtor ??= await (options.loadHls ?? defaultLoadHls)());
    if (run !== generation) return;
    const instance = (hls = new Hls(createHlsConfig(source.startPosition, options.hlsConfig)));
    wire(Hls, instance, source);
    video.addEventListener('ended', onEnded);
    video.addEventListener('play', onPlay);
    video.addEventListener('durationchange', onDurationChange);
    instance.attachMedia(video);
    instance.loadSource(source.url);
  };

  /**
   * hls.js keeps a master playlist for the whole load, and `loadSource` again would recreate the media source (a
   * restart). So a second instance reads the fresh playlist without media; when its renditions or subtitle renditions
   * differ, the first one hands it the media source with its buffer (`transferMedia`, as hls.js does for
   * interstitials) and goes; the second goes on loading from where the buffer ends.
   */
  const update = async (url: string, run: number): Promise<boolean> => {
    const current = hls;
    const Hls = HlsCtor;
    if (!current || !Hls) return false;
    const next = new Hls({ ...createHlsConfig(video.currentTime, options.hlsConfig), autoStartLoad: false });
    let onError: ((event: unknown, data: ErrorData) => void) | undefined;
    const parsed = await new Promise<boolean>((resolve) => {
      next.once(Hls.Events.MANIFEST_PARSED, () => resolve(true));
      next.on(Hls.Events.ERROR, (onError = (_event, data) => data.fatal && resolve(false)));
      next.loadSource(url);
    });
    next.off(Hls.Events.ERROR, onError);
    if (!parsed || run !== generation || hls !== current || shapeOf(current) === shapeOf(next)) {
      next.destroy();
      return false;
    }
    const same = (a: { height: number; bitrate: number }) => (b: typeof a) =>
      a.height === b.height && a.bitrate === b.bitrate;
    const chosen = current.levels[current.manualLevel];
    const shown = current.subtitleDisplay ? current.subtitleTracks[current.subtitleTrack] : undefined;
    const position = video.currentTime;
    const media = current.transferMedia();
    clearTimeout(timer); // a retry of the instance that goes
    current.destroy();
    hls = next;
    next.config.autoStartLoad = true;
    wire(Hls, next, { url, startPosition: position });
    // The subtitle renditions of the playing rendition's group are listed once its playlist loads.
    const grouped = new Promise((resolve) => {
      next.once(Hls.Events.SUBTITLE_TRACKS_UPDATED, resolve);
      next.once(Hls.Events.DESTROYING, resolve);
    });
    next.attachMedia(media ?? video);
    next.startLoad(position, true);
    if (next.allSubtitleTracks.length && !next.subtitleTracks.length) await grouped;
    if (hls !== next) return false; // torn down meanwhile
    if (chosen) next.nextLevel = next.levels.findIndex(same(chosen));
    showSubtitle(
      shown ? next.subtitleTracks.findIndex((t) => t.lang === shown.lang && t.name === shown.name) : -1,
    );
    changed();
    return true;
  };

  const showSubtitle = (index: number) => {
    if (kind === 'native') {
      nativeSubtitles().forEach((track, i) => (track.mode = i === index ? 'showing' : 'disabled'));
    } else if (hls) {
      hls.subtitleDisplay = index >= 0;
      hls.subtitleTrack = index;
      showOwnSubtitle();
    }
  };

  return {
    kind,
    async load(source) {
      teardown();
      if (kind === 'native') loadNative(source);
      else await loadMse(source, generation);
    },
    update(url) {
      return update(url, generation);
    },
    destroy: teardown,
    get levels() {
      return (hls?.levels ?? []).map(({ width, height, bitrate }) => ({ width, height, bitrate }));
    },
    get level() {
      return hls?.manualLevel ?? -1;
    },
    set level(index) {
      if (hls) hls.nextLevel = index;
    },
    get activeLevel() {
      return hls?.currentLevel ?? -1;
    },
    get subtitles() {
      return kind === 'native'
        ? nativeSubtitles().map((track) => ({ label: track.label, language: track.language }))
        : (hls?.subtitleTracks ?? []).map((track) => ({ label: track.name, language: track.lang ?? '' }));
    },
    get subtitle() {
      if (kind === 'native') return nativeSubtitles().findIndex((track) => track.mode === 'showing');
      return hls?.subtitleDisplay ? hls.subtitleTrack : -1;
    },
    set subtitle(index) {
      showSubtitle(index);
    },
    get live() {
      return kind === 'native' ? video.duration === Infinity : live;
    },
  };
}
