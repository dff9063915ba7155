import type { VideoAnalytics } from './api.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 300;
const HEIGHT = 80;

const svg = (tag: string, attributes: Record<string, string>) => {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  return element;
};

const percent = (value: number | null) => (value === null ? '–' : `${Math.round(value * 100)} %`);

/**
 * A video's audience retention as an SVG area chart (share of sessions that watched each second, 0–100 %), with a
 * text alternative summing it up.
 *
 * @example
 * panel.append(retentionChart(await api.getAnalytics(video.id)));
 */
export function retentionChart(analytics: Pick<VideoAnalytics, 'retention' | 'views'>): SVGSVGElement {
  const { retention } = analytics;
  const last = Math.max(1, retention.length - 1);
  const points = retention.map((value, second) => {
    const x = (second / last) * WIDTH;
    const y = HEIGHT - Math.min(1, Math.max(0, value)) * HEIGHT;
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  const half = retention.findIndex((value) => value < 0.5);
  const chart = svg('svg', {
    class: 'retention-chart',
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    preserveAspectRatio: 'none',
    role: 'img',
    'aria-label':
      analytics.views === 0
        ? 'Retention: no views yet'
        : `Retention over ${retention.length} seconds: ${percent(retention[0] ?? 0)} at the start, ` +
          `${percent(retention[retention.length - 1] ?? 0)} at the end` +
          (half > 0 ? `, under half from second ${half}` : ''),
  }) as SVGSVGElement;
  chart.append(
    svg('line', {
      x1: '0',
      y1: String(HEIGHT / 2),
      x2: String(WIDTH),
      y2: String(HEIGHT / 2),
      class: 'half',
    }),
  );
  if (points.length > 0) {
    chart.append(
      svg('polygon', { points: `0,${HEIGHT} ${points.join(' ')} ${WIDTH},${HEIGHT}`, class: 'area' }),
      svg('polyline', { points: points.join(' '), class: 'curve' }),
    );
  }
  return chart;
}

/** One line of figures under the chart. */
export function analyticsSummary(analytics: VideoAnalytics): string {
  const minutes = Math.round(analytics.watch_time_seconds / 6) / 10;
  const startup = analytics.startup_ms.median;
  return [
    `${analytics.views} ${analytics.views === 1 ? 'view' : 'views'} (${analytics.unique_viewers} ${analytics.unique_viewers === 1 ? 'viewer' : 'viewers'})`,
    `${minutes} min watched`,
    `completion ${percent(analytics.completion_rate)}`,
    `startup ${startup === null ? '–' : `${(startup / 1000).toFixed(1)} s`}`,
    `rebuffering ${percent(analytics.rebuffer_ratio)}`,
    `failures ${percent(analytics.failure_rate)}`,
  ].join(' · ');
}
