import { useCallback, useRef, useState } from 'react';
import { NotetakerPlayer } from '@notetaker/player-element/react';

// The page's notes (a real app loads its own): a list beside the player that seeks on click, and a marker per note on
// the seek bar. Defined once, so the `markers` property keeps the same array between renders.
const NOTES = [
  { id: 'n1', time: 1, label: 'Welcome' },
  { id: 'n2', time: 3, label: 'Agenda' },
  { id: 'n3', time: 5, label: 'Action items' },
];

const clock = (seconds) => `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;

export function App({ apiBase, token, videoId, captions }) {
  const [status, setStatus] = useState('—');
  const [activeNote, setActiveNote] = useState(null);
  const player = useRef(null);
  // Seeking works in every state: before the video plays it is queued.
  const seek = (note) => {
    setActiveNote(note.id);
    if (player.current) player.current.currentTime = note.time;
  };
  // A real app asks its backend here; `refresh` is true when the API rejected the previous token.
  const getToken = useCallback(async () => token, [token]);

  return (
    <main style={{ font: '16px/1.5 system-ui, sans-serif', maxWidth: '48rem', margin: '2rem auto' }}>
      <h1>React</h1>
      <div style={{ display: 'grid', gridTemplateColumns: 'minmax(0, 1fr) 14rem', gap: '1rem' }}>
        <NotetakerPlayer
          ref={player}
          markers={NOTES}
          onNotetakerMarkerClick={(event) => setActiveNote(event.detail.marker.id)}
          videoId={videoId}
          apiBase={apiBase}
          getToken={getToken}
          defaultCaptions={captions}
          autoplay="muted"
          onNotetakerStatus={(event) => setStatus(event.detail.status)}
          onNotetakerError={(event) => setStatus(`error: ${event.detail.code}`)}
          onPlaying={() => setStatus('playing')}
        />
        <ol className="notes" aria-label="Notes" style={{ margin: 0, padding: 0, listStyle: 'none' }}>
          {NOTES.map((note) => (
            <li key={note.id}>
              <button
                type="button"
                aria-current={activeNote === note.id ? 'true' : undefined}
                style={{ width: '100%', textAlign: 'left' }}
                onClick={() => seek(note)}
              >
                {clock(note.time)} {note.label}
              </button>
            </li>
          ))}
        </ol>
      </div>
      <p>
        Status: <output>{status}</output>
      </p>
    </main>
  );
}
