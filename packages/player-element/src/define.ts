import { NOTETAKER_PLAYER_TAG } from './constants.js';
import { NotetakerPlayerElement } from './notetaker-player.js';

export { NotetakerPlayerElement };

if (typeof customElements !== 'undefined') {
  customElements.get(NOTETAKER_PLAYER_TAG) ||
    customElements.define(NOTETAKER_PLAYER_TAG, NotetakerPlayerElement);
}
