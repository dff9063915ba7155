export { startServer, type RunningServer, type StartServerOptions } from './server/start-server.js';
export { loadConfig, ConfigError, type Config } from './config/load-config.js';
export { createApp, type AppDeps } from './http/create-app.js';
export { ApiError, ApiErrorCode } from './http/errors.js';
export { mintUserToken, createUserTokenVerifier } from './auth/user-tokens.js';
export type { StreamAnswer } from './videos/stream-service.js';
export type { VideoJson } from './videos/video-json.js';
export type { UploadInstructions } from './videos/video-registry.js';
export type { Storage, ObjectInfo } from './storage/storage.js';
