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
