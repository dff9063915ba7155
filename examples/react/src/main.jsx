import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.jsx';

const params = new URLSearchParams(location.search);

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <App
      apiBase={params.get('api') ?? 'http://127.0.0.1:8787'}
      token={params.get('token') ?? ''}
      videoId={params.get('video') ?? ''}
      captions={params.get('captions')}
    />
  </StrictMode>,
);
