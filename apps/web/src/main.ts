import '@notetaker/player-element/define';
import './styles.css';

import { ApiRequestError, createPageApi, type Caption, type Video } from './api.js';
import { describeUploadError, startUpload } from './upload.js';
import { analyticsSummary, retentionChart } from './retention-chart.js';

/** What the server tells the page about itself (injected into index.html). */
interface PageConfig {
  dev_login: boolean;
  user_uploads: boolean;
}

interface Session {
  token: string;
  user: string;
}

const SESSION_KEY = 'notetaker-stream.session';
/** Poll fast while something changes on the server, slowly otherwise. */
const BUSY_POLL_MS = 1500;
const IDLE_POLL_MS = 15_000;

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
};

/** Creates an element with attributes and children; text always goes in as text, never as HTML. */
function h(
  tag: string,
  attributes: Record<string, string | boolean | undefined> = {},
  ...children: Array<Node | string>
): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === true) element.setAttribute(name, '');
    else if (typeof value === 'string') element.setAttribute(name, value);
  }
  element.append(...children);
  return element;
}

function readConfig(): PageConfig {
  const text = document.getElementById('notetaker-config')?.textContent ?? '{}';
  const parsed = JSON.parse(text) as Partial<PageConfig>;
  return { dev_login: parsed.dev_login === true, user_uploads: parsed.user_uploads === true };
}

function loadSession(): Session | null {
  try {
    const parsed = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
    return parsed && typeof parsed.token === 'string' && typeof parsed.user === 'string' ? parsed : null;
  } catch {
    return null;
  }
}

/** The `sub` of a JWT, for display only (the server verifies the token). */
function subjectOf(token: string): string | null {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const sub = (JSON.parse(json) as { sub?: unknown }).sub;
    return typeof sub === 'string' ? sub : null;
  } catch {
    return null;
  }
}

/** The language tag in a caption file name such as `talk.en.vtt` or `talk.pt-BR.vtt`, if any. */
function languageFromFileName(name: string): string | null {
  return /\.([a-z]{2,3}(?:-[a-z0-9]{2,8})*)\.vtt$/i.exec(name)?.[1] ?? null;
}

function formatBytes(bytes: number | null): string {
  if (bytes === null) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

function formatDuration(seconds: number | null): string {
  if (seconds === null) return '';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

function start(): void {
  const config = readConfig();
  let session = loadSession();
  const api = createPageApi({ base: location.origin, token: () => session?.token ?? null });

  const notice = $('notice');
  const showNotice = (message: string | null) => {
    notice.textContent = message ?? '';
    notice.hidden = message === null;
  };
  const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

  // ---- signing in and out ----------------------------------------------------------------------------------

  const setSession = (next: Session | null) => {
    session = next;
    pagesShown = 1;
    if (next) sessionStorage.setItem(SESSION_KEY, JSON.stringify(next));
    else sessionStorage.removeItem(SESSION_KEY);
    render();
  };

  /** A rejected token (expired, or the server's secret changed) signs the user out with a readable reason. */
  const handleError = (error: unknown) => {
    if (error instanceof ApiRequestError && error.status === 401 && session) {
      closePlayer();
      setSession(null);
      showNotice('Your session has expired or the token was refused. Sign in again.');
      return;
    }
    showNotice(describe(error));
  };

  $('dev-login').addEventListener('submit', (event) => {
    event.preventDefault();
    const user = $<HTMLInputElement>('dev-user').value.trim();
    api.devToken(user).then(
      (answer) => {
        showNotice(null);
        setSession({ token: answer.token, user: answer.user });
      },
      (error: unknown) => showNotice(describe(error)),
    );
  });

  $('token-login').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $<HTMLTextAreaElement>('token-input').value.trim();
    const candidate: Session = { token, user: subjectOf(token) ?? 'unknown user' };
    const previous = session;
    session = candidate;
    // Check the token against the server before keeping it.
    api.listVideos().then(
      () => {
        showNotice(null);
        $<HTMLTextAreaElement>('token-input').value = '';
        setSession(candidate);
      },
      (error: unknown) => {
        session = previous;
        showNotice(
          error instanceof ApiRequestError && error.status === 401
            ? `This server refused the token: ${error.message}`
            : describe(error),
        );
      },
    );
  });

  $('sign-out').addEventListener('click', () => {
    closePlayer();
    setSession(null);
    showNotice(null);
  });

  // ---- the video list ---------------------------------------------------------------------------------------

  let videos: Video[] = [];
  let pollTimer: number | undefined;
  let loading: Promise<void> | null = null;
  /** Videos this page is uploading right now (their rows say so instead of "waiting for upload"). */
  const uploading = new Set<string>();

  /** Pages of the list shown: the first, plus one per "Load more"; every refresh reloads that many. */
  let pagesShown = 1;
  /** Where the next page starts; `null` when every video is shown. */
  let nextCursor: string | null = null;

  /** The first `pages` pages of the list, newest first, and the cursor after them. */
  const loadPages = async (pages: number) => {
    const list: Video[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < pages; page += 1) {
      const answer = await api.listVideoPage(cursor ?? undefined);
      list.push(...answer.videos);
      cursor = answer.next_cursor;
      if (!cursor) break;
    }
    return { list, cursor };
  };

  const showList = (list: Video[], cursor: string | null) => {
    videos = list;
    nextCursor = cursor;
    $('load-more').hidden = nextCursor === null;
    renderVideos();
  };

  const refresh = (): Promise<void> => {
    if (!session) return Promise.resolve();
    loading ??= loadPages(pagesShown)
      .then(({ list, cursor }) => showList(list, cursor), handleError)
      .finally(() => {
        loading = null;
        schedulePoll();
      });
    return loading;
  };

  $('load-more').addEventListener('click', () => {
    if (!nextCursor || !session) return;
    const button = $<HTMLButtonElement>('load-more');
    button.disabled = true;
    api
      .listVideoPage(nextCursor)
      .then((page) => {
        pagesShown += 1;
        const shown = new Set(videos.map((video) => video.id));
        showList([...videos, ...page.videos.filter((video) => !shown.has(video.id))], page.next_cursor);
      }, handleError)
      .finally(() => {
        button.disabled = false;
      });
  });

  const schedulePoll = () => {
    window.clearTimeout(pollTimer);
    if (!session) return;
    const busy = videos.some((v) => v.hls_status === 'generating' || uploading.has(v.id));
    pollTimer = window.setTimeout(() => void refresh(), busy ? BUSY_POLL_MS : IDLE_POLL_MS);
  };

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void refresh();
  });
  $('refresh').addEventListener('click', () => void refresh());

  const statusOf = (video: Video): { key: string; label: string } => {
    if (video.upload_status === 'pending') {
      return { key: 'uploading', label: uploading.has(video.id) ? 'Uploading…' : 'Waiting for upload' };
    }
    switch (video.hls_status) {
      case null:
        return { key: 'uploaded', label: 'Not prepared yet' };
      case 'generating':
        return {
          key: 'generating',
          label:
            video.hls_progress === null ? 'Preparing…' : `Preparing ${Math.round(video.hls_progress * 100)}%`,
        };
      case 'ready':
        return { key: 'ready', label: 'Ready' };
      case 'failed':
        return { key: 'failed', label: 'Failed' };
    }
  };

  const renderVideo = (video: Video): HTMLElement => {
    const status = statusOf(video);
    const title = video.title ?? video.id;
    const meta = [formatDuration(video.duration_seconds), formatBytes(video.size_bytes)]
      .filter(Boolean)
      .join(' · ');
    const actions = h('div', { class: 'actions' });
    if (video.upload_status === 'complete' && video.hls_status !== 'failed') {
      const play = h('button', { type: 'button', 'data-action': 'play' }, 'Play');
      play.addEventListener('click', () => openPlayer(video));
      actions.append(play);
    }
    if (video.upload_status === 'complete') {
      const open = captionPanels.has(video.id);
      const captions = h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          'data-action': 'captions',
          'aria-expanded': String(open),
          'aria-controls': `captions-${video.id}`,
        },
        'Captions',
      );
      captions.addEventListener('click', () => toggleCaptions(video, captions));
      actions.append(captions);
    }
    if (video.hls_status === 'ready') {
      const open = analyticsPanels.has(video.id);
      const stats = h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          'data-action': 'analytics',
          'aria-expanded': String(open),
          'aria-controls': `analytics-${video.id}`,
        },
        'Stats',
      );
      stats.addEventListener('click', () => toggleAnalytics(video, stats));
      actions.append(stats);
    }
    if (video.hls_status === 'failed') {
      const retry = h('button', { type: 'button', 'data-action': 'retry' }, 'Retry');
      retry.addEventListener('click', () => {
        retry.setAttribute('disabled', '');
        api.retry(video.id).then(() => refresh(), handleError);
      });
      actions.append(retry);
    }
    if (config.user_uploads) {
      const remove = h('button', { type: 'button', class: 'danger', 'data-action': 'delete' }, 'Delete');
      remove.addEventListener('click', () => {
        if (!window.confirm(`Delete “${title}”? The video and its stream are removed for good.`)) return;
        remove.setAttribute('disabled', '');
        api.remove(video.id).then(() => {
          if (playing === video.id) closePlayer();
          return refresh();
        }, handleError);
      });
      actions.append(remove);
    }
    const statusLine = h(
      'div',
      { class: 'status', 'data-status': status.key },
      h('span', { class: 'badge' }, status.label),
    );
    if (status.key === 'generating') {
      const progress = h('progress', { max: '1', 'aria-label': `Preparing ${title}` }) as HTMLProgressElement;
      if (video.hls_progress !== null) progress.value = video.hls_progress;
      statusLine.append(progress);
    }
    if (video.hls_status === 'failed' && video.hls_error_message) {
      statusLine.append(h('span', { class: 'error-message' }, video.hls_error_message));
    }
    const row = h(
      'li',
      { class: 'video', 'data-video-id': video.id, 'data-status': status.key },
      h(
        'div',
        { class: 'info' },
        h('strong', { class: 'title' }, title),
        h('span', { class: 'meta' }, meta),
        statusLine,
      ),
      actions,
    );
    // An open captions panel moves into the new row with what was typed or chosen in it.
    const panel = captionPanels.get(video.id);
    if (panel) row.append(panel);
    const stats = analyticsPanels.get(video.id);
    if (stats) row.append(stats);
    return row;
  };

  const rendered = new Map<string, { json: string; element: HTMLElement }>();
  const renderVideos = () => {
    const list = $('videos');
    const seen = new Set<string>();
    let previous: HTMLElement | null = null;
    for (const video of videos) {
      seen.add(video.id);
      const json = JSON.stringify(video) + (uploading.has(video.id) ? ':uploading' : '');
      let entry = rendered.get(video.id);
      if (!entry || entry.json !== json) {
        const element = renderVideo(video);
        entry?.element.replaceWith(element);
        entry = { json, element };
        rendered.set(video.id, entry);
      }
      // Keep the server's order (newest first) without re-creating unchanged rows.
      const expected: Element | null = previous ? previous.nextElementSibling : list.firstElementChild;
      if (expected !== entry.element) list.insertBefore(entry.element, expected);
      previous = entry.element;
    }
    for (const [id, entry] of rendered) {
      if (!seen.has(id)) {
        entry.element.remove();
        rendered.delete(id);
        captionPanels.delete(id);
        analyticsPanels.delete(id);
      }
    }
    $('empty').hidden = videos.length > 0;
  };

  // ---- watch analytics ------------------------------------------------------------------------------------

  /** The analytics panels that are open, by video id; kept while the rows around them are rendered again. */
  const analyticsPanels = new Map<string, HTMLElement>();

  /** The retention curve of a video as a chart, and its figures, loaded when opened. */
  const analyticsPanel = (video: Video): HTMLElement => {
    const summary = h('p', { class: 'hint', role: 'status' }, 'Loading…');
    const panel = h(
      'div',
      { class: 'analytics', id: `analytics-${video.id}`, 'data-analytics-for': video.id },
      h('h3', {}, 'Audience retention'),
      summary,
    );
    api.getAnalytics(video.id).then(
      (analytics) => {
        summary.textContent = analyticsSummary(analytics);
        summary.before(retentionChart(analytics));
      },
      (error: unknown) => {
        summary.textContent = error instanceof Error ? error.message : 'The figures could not be loaded.';
      },
    );
    return panel;
  };

  const toggleAnalytics = (video: Video, button: HTMLElement) => {
    const open = analyticsPanels.get(video.id);
    if (open) {
      open.remove();
      analyticsPanels.delete(video.id);
    } else {
      const panel = analyticsPanel(video);
      analyticsPanels.set(video.id, panel);
      button.closest('li')?.append(panel);
    }
    button.setAttribute('aria-expanded', String(!open));
  };

  // ---- captions ---------------------------------------------------------------------------------------------

  /** The captions panels that are open, by video id; kept while the rows around them are rendered again. */
  const captionPanels = new Map<string, HTMLElement>();

  const toggleCaptions = (video: Video, button: HTMLElement) => {
    const open = captionPanels.get(video.id);
    if (open) {
      open.remove();
      captionPanels.delete(video.id);
    } else {
      const panel = captionPanel(video);
      captionPanels.set(video.id, panel);
      button.closest('li')?.append(panel);
      panel.querySelector<HTMLElement>('input')?.focus();
    }
    button.setAttribute('aria-expanded', String(!open));
  };

  /**
   * The player of `id`, if open, asks /stream again (its master playlist now lists the change) and resumes where it
   * was: connected again, the element loads afresh at the same position.
   */
  const reloadPlayer = (id: string) => {
    const player = $('player-slot').querySelector('notetaker-player');
    if (playing !== id || !player) return;
    player.remove();
    $('player-slot').append(player);
  };

  /** The caption tracks of one video, a delete button on each, and a form to add one (a .vtt file and its language). */
  const captionPanel = (video: Video): HTMLElement => {
    const title = video.title ?? video.id;
    const list = h('ul', { class: 'caption-list', 'aria-label': `Caption tracks of ${title}` });
    const error = h('p', { class: 'error-message caption-error', role: 'alert', hidden: true });
    const done = h('p', { class: 'hint caption-done', role: 'status' });
    const panel = h(
      'div',
      { class: 'captions', id: `captions-${video.id}`, 'data-captions-for': video.id },
      h('h3', {}, 'Captions'),
      list,
    );
    const showError = (message: string | null) => {
      error.textContent = message ?? '';
      error.hidden = message === null;
    };
    const fail = (failure: unknown) => {
      if (failure instanceof ApiRequestError && failure.status === 401) handleError(failure);
      else showError(describe(failure));
    };
    let isDefault: HTMLInputElement | null = null;

    const renderList = (captions: Caption[]) => {
      list.replaceChildren(
        ...captions.map((caption) => {
          const item = h(
            'li',
            { 'data-language': caption.language },
            h(
              'span',
              {},
              `${caption.label} (${caption.language})`,
              ...(caption.default ? [h('span', { class: 'badge' }, ' · shown by default')] : []),
            ),
          );
          if (config.user_uploads) {
            const remove = h(
              'button',
              {
                type: 'button',
                class: 'danger',
                'data-action': 'delete-caption',
                'aria-label': `Delete the ${caption.label} captions`,
              },
              'Delete',
            );
            remove.addEventListener('click', () => {
              remove.setAttribute('disabled', '');
              showError(null);
              api.deleteCaption(video.id, caption.language).then(
                () => {
                  done.textContent = `Deleted the ${caption.label} captions.`;
                  reloadPlayer(video.id);
                  return load();
                },
                (failure: unknown) => {
                  remove.removeAttribute('disabled');
                  fail(failure);
                },
              );
            });
            item.append(remove);
          }
          return item;
        }),
      );
      if (!captions.length) list.append(h('li', { class: 'hint' }, 'No captions yet.'));
      // The first track shows without choosing, unless asked otherwise.
      if (isDefault) isDefault.checked = captions.length === 0;
    };
    const load = () => api.listCaptions(video.id).then(renderList, fail);

    if (config.user_uploads) {
      const id = (name: string) => `caption-${name}-${video.id}`;
      const language = h('input', {
        id: id('language'),
        name: 'language',
        required: true,
        maxlength: '35',
        size: '8',
        placeholder: 'en',
        autocomplete: 'off',
        spellcheck: 'false',
        title: 'A language tag such as en, fr or pt-BR',
      }) as HTMLInputElement;
      const file = h('input', {
        id: id('file'),
        name: 'file',
        type: 'file',
        accept: '.vtt,text/vtt',
        required: true,
      }) as HTMLInputElement;
      isDefault = h('input', { id: id('default'), name: 'default', type: 'checkbox' }) as HTMLInputElement;
      const submit = h('button', { type: 'submit' }, 'Add captions');
      const form = h(
        'form',
        { class: 'caption-form' },
        h('label', { for: id('file') }, 'WebVTT file'),
        file,
        h('label', { for: id('language') }, 'Language'),
        language,
        h('label', { class: 'check', for: id('default') }, isDefault, 'Show by default'),
        submit,
      );
      file.addEventListener('change', () => {
        const tag = file.files?.[0] && languageFromFileName(file.files[0].name);
        if (tag && !language.value.trim()) language.value = tag;
      });
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const chosen = file.files?.[0];
        if (!chosen) return;
        submit.setAttribute('disabled', '');
        showError(null);
        done.textContent = '';
        const shown = isDefault?.checked ?? false;
        api
          .putCaption(video.id, language.value.trim(), chosen, { isDefault: shown })
          .then((caption) => {
            (form as HTMLFormElement).reset();
            done.textContent = `Added the ${caption.label} captions.`;
            reloadPlayer(video.id);
            return load();
          }, fail)
          .finally(() => submit.removeAttribute('disabled'));
      });
      panel.append(form);
    } else {
      panel.append(
        h(
          'p',
          { class: 'hint' },
          "Captions are added through your app's backend on this server (USER_UPLOADS is off).",
        ),
      );
    }
    panel.append(error, done);
    void load();
    return panel;
  };

  // ---- uploads ----------------------------------------------------------------------------------------------

  const upload = async (file: File) => {
    const row = h('li', { class: 'upload', 'data-file': file.name });
    const label = h('span', { class: 'name' }, file.name);
    const bar = h('progress', {
      max: '1',
      value: '0',
      'aria-label': `Uploading ${file.name}`,
    }) as HTMLProgressElement;
    const text = h('span', { class: 'percent' }, 'Starting…');
    const cancel = h('button', { type: 'button', 'data-action': 'cancel-upload' }, 'Cancel');
    row.append(label, bar, text, cancel);
    $('uploads').prepend(row);
    const handle = startUpload(api, file, (fraction) => {
      bar.value = fraction;
      text.textContent = `${Math.floor(fraction * 100)}%`;
    });
    row.dataset['state'] = 'uploading';
    handle.addEventListener('registered', (event) => {
      if (handle.videoId) uploading.add(handle.videoId);
      // The same file picked again after a reload or a failure: the upload goes on from the parts storage holds.
      if ((event as CustomEvent<{ resumed: boolean }>).detail.resumed) {
        row.dataset['resumed'] = 'true';
        text.textContent = 'Resuming…';
      }
      void refresh();
    });
    handle.addEventListener('retrying', () => {
      text.textContent = 'Connection lost, resuming…';
    });
    cancel.addEventListener('click', () => {
      text.textContent = 'Cancelling…';
      void handle.abort().finally(() => {
        row.dataset['state'] = 'cancelled';
        text.textContent = 'Cancelled';
        window.setTimeout(() => row.remove(), 4000);
      });
    });
    try {
      const video = await handle.done;
      cancel.remove();
      // The first /stream request starts generation; the list shows its progress.
      await api.startStream(video.id);
      row.dataset['state'] = 'done';
      text.textContent = 'Uploaded';
      window.setTimeout(() => row.remove(), 4000);
    } catch (error) {
      if (row.dataset['state'] === 'cancelled' || text.textContent === 'Cancelling…') return;
      cancel.remove();
      row.dataset['state'] = 'failed';
      const failure = describeUploadError(error);
      text.textContent = `Failed: ${describe(failure)}`;
      if (failure instanceof ApiRequestError && failure.status === 401) handleError(failure);
    } finally {
      if (handle.videoId) uploading.delete(handle.videoId);
      void refresh();
    }
  };

  const dropZone = $('drop-zone');
  const input = $<HTMLInputElement>('file-input');
  input.addEventListener('change', () => {
    for (const file of Array.from(input.files ?? [])) void upload(file);
    input.value = '';
  });
  dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropZone.classList.add('over');
  });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('over'));
  dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    dropZone.classList.remove('over');
    for (const file of Array.from(event.dataTransfer?.files ?? [])) void upload(file);
  });

  // ---- the player -------------------------------------------------------------------------------------------

  let playing: string | null = null;

  const openPlayer = (video: Video) => {
    closePlayer();
    playing = video.id;
    const player = document.createElement('notetaker-player');
    player.setAttribute('api-base', location.origin);
    player.setAttribute('autoplay', 'any');
    player.getToken = async ({ refresh: renew }) => {
      // A dev session can mint itself a fresh token; a pasted one cannot.
      if (renew && config.dev_login && session) {
        const answer = await api.devToken(session.user);
        setSession({ token: answer.token, user: answer.user });
      }
      if (!session) throw new Error('Signed out');
      return session.token;
    };
    player.setAttribute('video-id', video.id);
    $('player-title').textContent = video.title ?? video.id;
    $('player-slot').append(player);
    $('player-panel').hidden = false;
    $('player-panel').scrollIntoView({ block: 'nearest' });
    // Playing a video that was never prepared starts its generation: show that in the list.
    window.setTimeout(() => void refresh(), 500);
  };

  const closePlayer = () => {
    playing = null;
    $('player-slot').replaceChildren();
    $('player-panel').hidden = true;
  };
  $('close-player').addEventListener('click', closePlayer);

  // ---- the page as a whole ----------------------------------------------------------------------------------

  function render() {
    const signedIn = session !== null;
    $('sign-in').hidden = signedIn;
    $('dev-login').hidden = !config.dev_login;
    $('token-login').hidden = config.dev_login;
    $('app').hidden = !signedIn;
    $('who').hidden = !signedIn;
    $('who-name').textContent = session?.user ?? '';
    dropZone.hidden = !config.user_uploads;
    $('uploads-off').hidden = config.user_uploads;
    if (signedIn) {
      void refresh();
    } else {
      window.clearTimeout(pollTimer);
      videos = [];
      rendered.clear();
      captionPanels.clear();
      $('videos').replaceChildren();
      $('uploads').replaceChildren();
    }
  }

  render();
}

start();
