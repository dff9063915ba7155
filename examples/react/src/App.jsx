import { useCallback, useState } from 'react';
import { NotetakerPlayer } from '@notetaker/player-element/react';

export function App({ apiBase, token, videoId, captions }) {
  const [status, setStatus] = useState('—');
  // A real app asks its backend here; `refresh` is true when the API rejected the previous token.
  const getToken = useCallback(async () => token, [token]);

  return (
    <main style={{ font: '16px/1.5 system-ui, sans-serif', maxWidth: '48rem', margin: '2rem auto' }}>
      <h1>React</h1>
      <NotetakerPlayer
        videoId={videoId}
        apiBase={apiBase}
        getToken={getToken}
        defaultCaptions={captions}
        autoplay="muted"
        onNotetakerStatus={(event) => setStatus(event.detail.status)}
        onNotetakerError={(event) => setStatus(`error: ${event.detail.code}`)}
        onPlaying={() => setStatus('playing')}
      />
      <p>
        Status: <output>{status}</output>
      </p>
    </main>
  );
}
