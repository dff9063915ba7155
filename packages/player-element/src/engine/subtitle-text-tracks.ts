/** A subtitle rendition as its text track is known by: label and language. */
export interface SubtitleTrackKey {
  label: string;
  language: string;
}

/**
 * The text tracks of the stream's subtitle renditions, which the player fills itself from the cues hls.js parses
 * (`renderTextTracksNatively: false`, event `CUES_PARSED`) instead of letting hls.js render them.
 *
 * hls.js 1.7 renders WebVTT renditions into `<track src="data:,WEBVTT">` elements of its own. In WebKit (Safari,
 * WebKitGTK) such an element loads its `src` once its mode leaves "disabled", and that load empties the track's cue
 * list — after hls.js may already have added the cues, which are then gone for good (hls.js issue #7691; its fix
 * covers CEA-608 captions only). hls.js also drops the cues of a fragment parsed while its track is disabled or not
 * created yet, which happens when the media attaches late (ManagedMediaSource does). Tracks made with
 * `addTextTrack` load nothing, and cues are kept whatever the mode, so every engine shows what was parsed.
 *
 * `addTextTrack` tracks cannot be removed from the video: they are kept per video element and reused by label and
 * language, emptied and disabled between loads.
 */
export interface SubtitleTextTracks {
  /** Adds cues of `rendition` (cues already there, by id, are skipped). */
  add(rendition: SubtitleTrackKey, cues: readonly TextTrackCue[]): void;
  /** Shows the track of `rendition` and disables the others; `null` shows none. */
  show(rendition: SubtitleTrackKey | null): void;
  /** Empties and disables every track (the load they belonged to is over). */
  clear(): void;
}

interface OwnTrack {
  track: TextTrack;
  cues: Map<string, TextTrackCue>;
}

const tracksOfVideo = new WeakMap<HTMLMediaElement, Map<string, OwnTrack>>();

const keyOf = ({ label, language }: SubtitleTrackKey) => `${language}\n${label}`;
const cueId = (cue: TextTrackCue) =>
  cue.id || `${cue.startTime}-${cue.endTime}-${(cue as Partial<VTTCue>).text ?? ''}`;

export function subtitleTextTracks(video: HTMLMediaElement): SubtitleTextTracks {
  let tracks = tracksOfVideo.get(video);
  if (!tracks) tracksOfVideo.set(video, (tracks = new Map()));
  const own = tracks;
  const trackOf = (rendition: SubtitleTrackKey): OwnTrack => {
    let entry = own.get(keyOf(rendition));
    if (!entry) {
      const track = video.addTextTrack('subtitles', rendition.label, rendition.language);
      track.mode = 'disabled';
      entry = { track, cues: new Map() };
      own.set(keyOf(rendition), entry);
    }
    return entry;
  };
  return {
    add(rendition, cues) {
      const { track, cues: added } = trackOf(rendition);
      for (const cue of cues) {
        const id = cueId(cue);
        if (added.has(id)) continue;
        track.addCue(cue);
        added.set(id, cue);
      }
    },
    show(rendition) {
      const shown = rendition ? trackOf(rendition) : undefined;
      for (const entry of own.values()) {
        const mode = entry === shown ? 'showing' : 'disabled';
        if (entry.track.mode !== mode) entry.track.mode = mode;
      }
    },
    clear() {
      for (const { track, cues } of own.values()) {
        for (const cue of cues.values()) track.removeCue(cue);
        cues.clear();
        if (track.mode !== 'disabled') track.mode = 'disabled';
      }
    },
  };
}
