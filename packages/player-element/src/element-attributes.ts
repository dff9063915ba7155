import type { AutoplayPolicy, PreferPlayback } from './constants.js';

/** The HTML attributes of `<notetaker-player>` (see the element's properties for what each does). */
export interface NotetakerPlayerAttributes {
  'video-id'?: string;
  'api-base'?: string;
  token?: string;
  'start-time'?: number | string;
  autoplay?: boolean | '' | Exclude<AutoplayPolicy, boolean>;
  muted?: boolean;
  loop?: boolean;
  poster?: string;
  preload?: 'none' | 'metadata' | 'auto';
  'prefer-playback'?: PreferPlayback;
  crossorigin?: 'anonymous' | 'use-credentials' | '';
  controls?: boolean | 'native' | 'none' | 'false';
  storyboard?: string;
  'default-captions'?: string;
  'disable-analytics'?: boolean;
  'show-heatmap'?: boolean;
}
