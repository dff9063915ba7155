// A type test (checked by `npm run typecheck`, never run): the element's typings in the DOM, React 19 JSX and Vue.
import type {} from '../../src/jsx-react.js';
import type {} from '../../src/jsx-vue.js';
import type { GlobalComponents } from 'vue';
import type { NotetakerPlayerElement } from '../../src/notetaker-player.js';

// HTMLElementTagNameMap: createElement and querySelector know the element's class.
const created: NotetakerPlayerElement = document.createElement('notetaker-player');
const found: NotetakerPlayerElement | null = document.querySelector('notetaker-player');
created.videoId = 'id';
void found;
// Its events are typed on the element.
created.addEventListener('notetaker-error', (event) => {
  const code: string = event.detail.code;
  void code;
});

// React 19 JSX.IntrinsicElements: attributes and object/function properties.
export const inReact = (
  <notetaker-player
    video-id="id"
    api-base="https://video.example.com"
    autoplay="muted"
    prefer-playback="mse"
    controls="native"
    start-time={12}
    getToken={async () => 'token'}
    hlsConfig={{ maxBufferLength: 10 }}
    className="player"
  />
);
// @ts-expect-error prefer-playback takes 'mse' or 'native' only
export const wrongValue = <notetaker-player prefer-playback="flash" />;
// @ts-expect-error no such attribute
export const wrongAttribute = <notetaker-player video="id" />;

// Vue GlobalComponents: the element is a known component with typed props.
type VuePlayer = GlobalComponents['notetaker-player'];
type VueProps = InstanceType<VuePlayer>['$props'];
export const vueProps: VueProps = {
  'video-id': 'id',
  'api-base': 'https://video.example.com',
  autoplay: 'any',
};
// @ts-expect-error autoplay takes true, '', 'muted' or 'any'
export const wrongVueProps: VueProps = { autoplay: 'sometimes' };
