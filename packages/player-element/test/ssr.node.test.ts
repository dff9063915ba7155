import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dist = (file: string) => fileURLToPath(new URL(`../dist/${file}`, import.meta.url));

/** Imports `file` from dist/ in a fresh plain Node process and reports what it saw. */
async function importInNode(file: string, probe: string): Promise<Record<string, unknown>> {
  const script = `
    const m = await import(${JSON.stringify(dist(file))});
    console.log(JSON.stringify(${probe}));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('server-side import', () => {
  it('imports the main entry in plain Node without loading the element or any DOM API', async () => {
    const seen = await importInNode(
      'index.js',
      `{ exports: Object.keys(m).sort(), html: typeof HTMLElement, lit: typeof globalThis.litElementVersions,
         tag: m.NOTETAKER_PLAYER_TAG, error: m.PlayerEventName.error, engine: m.chooseEngine({ mse: true, nativeHls: true, apple: false }) }`,
    );
    expect(seen).toEqual({
      exports: [
        'EngineKind',
        'MEDIA_EVENTS',
        'NOTETAKER_PLAYER_TAG',
        'PlayerErrorCode',
        'PlayerEventName',
        'PlayerState',
        'PlayerStatus',
        'chooseEngine',
        'loadNotetakerPlayer',
      ],
      html: 'undefined',
      lit: 'undefined',
      tag: 'notetaker-player',
      error: 'notetaker-error',
      engine: 'mse',
    });
  });

  it('imports the define and React entries in plain Node without crashing', async () => {
    const define = await importInNode('define.js', `{ element: typeof m.NotetakerPlayerElement }`);
    expect(define).toEqual({ element: 'function' });
    const react = await importInNode(
      'react.js',
      `{ component: typeof m.NotetakerPlayer, render: typeof m.NotetakerPlayer.render }`,
    );
    expect(react).toEqual({ component: 'object', render: 'function' });
  });

  it('renders the React wrapper to an empty element on the server', async () => {
    const seen = await importInNode(
      'react.js',
      `{ html: (await import('react-dom/server')).renderToString(
          (await import('react')).createElement(m.NotetakerPlayer, { videoId: 'v', apiBase: 'https://stream.example.com' })) }`,
    );
    expect(seen).toEqual({ html: '<notetaker-player></notetaker-player>' });
  });
});
