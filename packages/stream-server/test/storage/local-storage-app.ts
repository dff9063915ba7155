import { Hono } from 'hono';
import { pino } from 'pino';

import { answerError, corsRules } from '../../src/http/create-app.js';
import { createLocalStorageRoutes } from '../../src/http/routes/local-storage-routes.js';
import type { LocalStorage } from '../../src/storage/local-storage.js';

/**
 * Local storage's signed object routes as the service serves them: the app's CORS rule for object URLs, the
 * routes at the storage's prefix, and the app's one error answer.
 */
export function localStorageApp(storage: LocalStorage, corsOrigins: '*' | string[] = '*'): Hono {
  const app = new Hono();
  app.use('*', corsRules(corsOrigins).objects);
  app.route(storage.routePrefix, createLocalStorageRoutes(storage));
  app.onError(answerError(pino({ level: 'silent' })));
  return app;
}
