import { createApp } from 'vue';
import '@notetaker/player-element/define';
import App from './App.vue';

const params = new URLSearchParams(location.search);

createApp(App, {
  apiBase: params.get('api') ?? 'http://127.0.0.1:8787',
  token: params.get('token') ?? '',
  videoId: params.get('video') ?? '',
  captions: params.get('captions'),
}).mount('#app');
