/**
 * Types `<notetaker-player>` in React 19 JSX: attributes as in HTML, and the properties that take objects or
 * functions (React 19 sets a custom element's known properties as properties).
 *
 * @example
 * // once, in a .d.ts or any module of the app:
 * import type {} from '@notetaker/player-element/jsx-react';
 * <notetaker-player video-id={id} api-base="https://video.example.com" getToken={getToken} />
 */
import type { DetailedHTMLProps, HTMLAttributes } from 'react';
import type { NotetakerPlayerElement } from './notetaker-player.js';
import type { NotetakerPlayerAttributes } from './element-attributes.js';

/** The props of `<notetaker-player>` in JSX. */
export type NotetakerPlayerJsxProps = DetailedHTMLProps<
  HTMLAttributes<NotetakerPlayerElement>,
  NotetakerPlayerElement
> &
  NotetakerPlayerAttributes &
  Partial<Pick<NotetakerPlayerElement, 'getToken' | 'client' | 'hlsConfig' | 'markers'>>;

declare module 'react' {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace JSX {
    interface IntrinsicElements {
      'notetaker-player': NotetakerPlayerJsxProps;
    }
  }
}
