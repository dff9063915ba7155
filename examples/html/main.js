import '@notetaker/player-element/define';

// The stream server, a user token and a video id, from the query string (see ../README.md).
const params = new URLSearchParams(location.search);
const player = document.getElementById('player');
const status = document.getElementById('status');

player.getToken = async () => params.get('token') ?? '';
player.setAttribute('api-base', params.get('api') ?? 'http://127.0.0.1:8787');
player.setAttribute('video-id', params.get('video') ?? '');
// Optional: a storyboard WebVTT for thumbnails over the seek bar (the server's own is used when it has one).
if (params.has('storyboard')) player.setAttribute('storyboard', params.get('storyboard'));
// Optional: the language of the captions to show at start, e.g. `captions=en` (the video's own default otherwise).
if (params.has('captions')) player.setAttribute('default-captions', params.get('captions'));

// The page's notes (a real app loads its own): a list beside the player that seeks on click, and a marker per note on
// the seek bar. Seeking works in every state: before the video plays it is queued.
const notes = [
  { id: 'n1', time: 1, label: 'Welcome' },
  { id: 'n2', time: 3, label: 'Agenda' },
  { id: 'n3', time: 5, label: 'Action items' },
];
player.markers = notes;
const list = document.getElementById('notes');
for (const note of notes) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = `${Math.floor(note.time / 60)}:${String(note.time % 60).padStart(2, '0')} ${note.label}`;
  button.addEventListener('click', () => (player.currentTime = note.time));
  list.append(Object.assign(document.createElement('li'), { id: `note-${note.id}` }));
  list.lastElementChild.append(button);
}
// A click on a marker seeks there too; highlight its note.
player.addEventListener('notetaker-markerclick', (event) => {
  document.getElementById(`note-${event.detail.marker.id}`)?.querySelector('button').focus();
});

player.addEventListener('notetaker-status', (event) => {
  const { detail } = event;
  status.value =
    detail.status === 'preparing' && detail.progress !== null
      ? `preparing ${Math.round(detail.progress * 100)} %`
      : detail.status;
});
player.addEventListener('notetaker-error', (event) => {
  status.value = `error: ${event.detail.code}`;
});
player.addEventListener('playing', () => {
  status.value = 'playing';
});
