// CaptionsController on a bare Lit host instead of <notetaker-player>: <track> children copied into the video, the
// captions list and the choice, with the stream's subtitle renditions from a real playback engine (hls.js playing an
// ffmpeg-made stream with a German subtitle rendition).
import { LitElement, html, type PropertyValues } from 'lit';
import { CaptionsController, type CaptionsHost } from '../src/captions/captions-controller.js';
import { createPlaybackEngine, type PlaybackEngine } from '../src/engine/playback-engine.js';
import { assert, equal, waitFor } from './support/browser.js';

const QUALITY_HLS_URL = new URL('/.tmp/fixtures/quality/master.m3u8', location.href).href;
const EN = '<track kind="captions" srclang="en" label="English" src="data:text/vtt,WEBVTT">';
const FR = '<track kind="subtitles" srclang="fr" label="Français" src="data:text/vtt,WEBVTT">';

class CaptionsHostElement extends LitElement implements CaptionsHost {
  static override properties = { defaultCaptions: { attribute: 'default-captions' } };
  declare defaultCaptions: string | null;
  readonly media = document.createElement('video');
  engine: PlaybackEngine | null = null;
  readonly captions = new CaptionsController(this, () => this.engine);

  constructor() {
    super();
    this.defaultCaptions = null;
    this.media.muted = true;
  }

  protected override render() {
    return html`${this.media}`;
  }

  protected override updated(changed: PropertyValues): void {
    if (changed.has('defaultCaptions')) this.captions.applyDefault();
  }
}
customElements.define('captions-controller-host', CaptionsHostElement);

afterEach(() => {
  for (const host of document.querySelectorAll<CaptionsHostElement>('captions-controller-host')) {
    host.engine?.destroy();
    host.remove();
  }
});

function mount(children: string, defaultCaptions?: string): CaptionsHostElement {
  const host = document.createElement('captions-controller-host') as CaptionsHostElement;
  if (defaultCaptions) host.setAttribute('default-captions', defaultCaptions);
  host.innerHTML = children;
  document.body.append(host);
  return host;
}

const copies = (host: CaptionsHostElement) => [...host.media.querySelectorAll('track')];
const modes = (host: CaptionsHostElement) => [...host.media.textTracks].map((track) => track.mode).join();

describe('CaptionsController on a bare host', () => {
  it('copies <track> children into the video and keeps the copies in step, leaving other tracks alone', async () => {
    const host = mount(EN);
    await host.updateComplete;
    equal(copies(host).length, 1, 'copied on connection');
    // A track of the video's own (as hls.js adds for subtitle renditions) is neither listed nor removed.
    const own = document.createElement('track');
    own.kind = 'subtitles';
    own.srclang = 'de';
    host.media.append(own);
    const copy = copies(host)[0]!;
    host.setAttribute('data-unrelated', '');
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert(copy.isConnected, "the host's own attributes do not copy the tracks again");
    host.insertAdjacentHTML('beforeend', FR);
    await waitFor(() => copies(host).length === 3, 'added child copied');
    equal(
      JSON.stringify(host.captions.tracks),
      JSON.stringify([
        { label: 'English', language: 'en' },
        { label: 'Français', language: 'fr' },
      ]),
      'tracks listed',
    );
    host.querySelector('track')!.setAttribute('label', 'English (CC)');
    await waitFor(() => host.captions.tracks[0]?.label === 'English (CC)', 'changed child copied again');
    host.querySelector('track')!.remove();
    await waitFor(() => host.captions.tracks.length === 1, 'removed child removed');
    assert(own.isConnected, "the video's own track is left alone");
    host.remove();
    host.append(document.createRange().createContextualFragment(EN));
    await new Promise((resolve) => setTimeout(resolve, 50));
    equal(host.captions.tracks.length, 1, 'no copying while disconnected');
    document.body.append(host);
    equal(host.captions.tracks.length, 2, 'copied again on connection');
  });

  it('shows the track chosen and only that one, and none for -1', async () => {
    const host = mount(EN + FR);
    await host.updateComplete;
    equal(host.captions.track, -1, 'none shown at start');
    host.captions.track = 1;
    equal(modes(host), 'disabled,showing', 'Français shown');
    equal(host.captions.track, 1, 'choice read back');
    host.captions.track = -1;
    equal(modes(host), 'disabled,disabled', 'none shown');
    equal(host.captions.track, -1, 'none read back');
  });

  it('shows the default-captions track until the viewer chooses, and again for a new load', async () => {
    const host = mount(EN + FR, 'fr');
    await host.updateComplete;
    equal(host.captions.track, 1, 'default language shown');
    host.captions.track = 0;
    host.captions.applyDefault();
    equal(host.captions.track, 0, "the viewer's choice stays");
    host.captions.reset();
    host.captions.applyDefault();
    equal(host.captions.track, 1, 'default shown again after reset');
    host.defaultCaptions = 'EN-GB';
    await host.updateComplete;
    equal(host.captions.track, 1, 'no track of that language: the shown one stays');
  });

  it("lists the stream's subtitle renditions after the <track> children and switches between them", async function () {
    this.timeout(30_000);
    const host = mount(EN, 'de');
    await host.updateComplete;
    const fatal: string[] = [];
    const engine = (host.engine = createPlaybackEngine({
      video: host.media,
      kind: 'mse',
      onReloadNeeded: () => undefined,
      onFatal: (code, message) => fatal.push(`${code}: ${message}`),
      onChange: () => host.captions.streamChanged(),
    }));
    await engine.load({ url: QUALITY_HLS_URL, startPosition: 0 });
    await waitFor(
      () => host.captions.track === 1,
      () => `the stream's German rendition shown (${JSON.stringify(host.captions.tracks)}, ${fatal.join()})`,
      15_000,
    );
    equal(host.captions.tracks.map((track) => track.language).join(), 'en,de', 'tracks listed');
    equal(engine.subtitle, 0, "the engine's subtitle rendition");
    const english = [...host.media.textTracks].find((track) => track.label === 'English')!;
    host.captions.track = 0;
    equal(engine.subtitle, -1, 'stream subtitles off while English is shown');
    equal(english.mode, 'showing', 'English shown');
    host.captions.track = 1;
    equal(engine.subtitle, 0, 'stream subtitles on again');
    equal(english.mode, 'disabled', 'English off');
    equal(fatal.join(), '', 'no fatal engine error');
  });
});
