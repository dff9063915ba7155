/**
 * Types `<notetaker-player>` in Vue templates (`GlobalComponents`), for Volar and `vue-tsc`. Tell Vue's compiler
 * that it is a custom element too (`compilerOptions.isCustomElement`).
 *
 * @example
 * // once, in a .d.ts or any module of the app:
 * import type {} from '@notetaker/player-element/jsx-vue';
 * <notetaker-player :video-id="id" api-base="https://video.example.com" :getToken="getToken" />
 */
import type { DefineComponent } from 'vue';
import type { NotetakerPlayerElement } from './notetaker-player.js';
import type { NotetakerPlayerAttributes } from './element-attributes.js';

/** The props of `<notetaker-player>` in a Vue template. */
export type NotetakerPlayerVueProps = NotetakerPlayerAttributes &
  Partial<Pick<NotetakerPlayerElement, 'getToken' | 'client' | 'hlsConfig' | 'markers'>>;

declare module 'vue' {
  interface GlobalComponents {
    'notetaker-player': DefineComponent<NotetakerPlayerVueProps>;
  }
}
