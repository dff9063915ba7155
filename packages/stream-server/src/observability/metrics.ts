import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's Prometheus metrics, on a registry of their own (no global state). */
export interface Metrics {
  readonly registry: Registry;
  readonly generationStarted: Counter;
  readonly generationSucceeded: Counter<'mode'>;
  readonly generationFailed: Counter<'reason'>;
  readonly generationDuration: Histogram<'mode'>;
  readonly webhookDeliveries: Counter<'event' | 'outcome'>;
  readonly videoTasks: Counter<'kind' | 'outcome'>;
  /** Viewers' startup time (first `/stream` → first frame), one observation per ended viewing session. */
  readonly playbackStartup: Histogram;
  /** Viewers' rebuffer ratio (rebuffering over watching plus rebuffering), one per ended viewing session. */
  readonly playbackRebufferRatio: Histogram;
  /** Hono middleware recording request counts and durations by route pattern (never by raw path). */
  httpMiddleware(): MiddlewareHandler;
}

export interface MetricsOptions {
  /** Counts the videos generating now, by whether a worker holds them; read on every scrape. */
  generationQueue(): Promise<{ running: number; waiting: number }>;
  defaultMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'notetaker_' });

  const generationStarted = new Counter({
    name: 'notetaker_generation_started_total',
    help: 'HLS generation attempts started',
    registers: [registry],
  });
  const generationSucceeded = new Counter({
    name: 'notetaker_generation_succeeded_total',
    help: 'HLS generations that ended ready, by copy or transcode',
    labelNames: ['mode'] as const,
    registers: [registry],
  });
  const generationFailed = new Counter({
    name: 'notetaker_generation_failed_total',
    help: 'HLS generation attempts that failed, by reason (media error code)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const generationDuration = new Histogram({
    name: 'notetaker_generation_duration_seconds',
    help: 'Wall-clock time of successful generations, by copy or transcode',
    labelNames: ['mode'] as const,
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [registry],
  });
  const webhookDeliveries = new Counter({
    name: 'notetaker_webhook_deliveries_total',
    help: 'Webhook deliveries that ended delivered or abandoned',
    labelNames: ['event', 'outcome'] as const,
    registers: [registry],
  });
  const videoTasks = new Counter({
    name: 'notetaker_video_tasks_total',
    help: 'After-ready tasks (thumbnails, rendition) by outcome: done, dropped (run over), retried, failed',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  });
  const playbackStartup = new Histogram({
    name: 'notetaker_playback_startup_seconds',
    help: "Viewers' startup time, first /stream request to first frame, per ended viewing session",
    buckets: [0.25, 0.5, 1, 2, 3, 5, 10, 20, 60],
    registers: [registry],
  });
  const playbackRebufferRatio = new Histogram({
    name: 'notetaker_playback_rebuffer_ratio',
    help: "Viewers' rebuffer ratio (rebuffering / (watching + rebuffering)), per ended viewing session",
    buckets: [0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
    registers: [registry],
  });
  new Gauge({
    name: 'notetaker_generation_queue_depth',
    help: 'Videos generating, by whether a worker holds them (running) or not (waiting)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const queue = await options.generationQueue();
      this.set({ state: 'running' }, queue.running);
      this.set({ state: 'waiting' }, queue.waiting);
    },
  });
  const httpRequests = new Counter({
    name: 'notetaker_http_requests_total',
    help: 'HTTP requests, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'notetaker_http_request_duration_seconds',
    help: 'HTTP request durations, by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  return {
    registry,
    generationStarted,
    generationSucceeded,
    generationFailed,
    generationDuration,
    webhookDeliveries,
    videoTasks,
    playbackStartup,
    playbackRebufferRatio,
    httpMiddleware() {
      return async (c, next) => {
        const started = performance.now();
        await next();
        // The pattern of the handler that answered (e.g. /api/videos/:id/stream), never the raw path.
        const route = c.res.status === 404 && routePath(c, -1) === '*' ? 'unmatched' : routePath(c, -1);
        httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
        httpDuration.observe({ method: c.req.method, route }, (performance.now() - started) / 1000);
      };
    },
  };
}
