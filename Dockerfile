# syntax=docker/dockerfile:1
# Notetaker Stream server image: the API, the generation worker and the web page, with ffmpeg, as a non-root user.
#
#   docker build -t notetaker-stream .
#   docker run -p 8787:8787 -v notetaker-data:/data notetaker-stream          # embedded defaults (PGlite, local storage)
#   docker compose up -d                                                      # PostgreSQL + MinIO + API + worker
#
# The same image runs `serve` (API + worker), `serve --no-worker` (API only) and `worker` (worker only).

ARG NODE_IMAGE=node:20.20-bookworm-slim

# ---- build: compile the three workspaces and bundle the web page -----------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json turbo.json tsconfig.base.json ./
COPY packages/stream-server/package.json packages/stream-server/
COPY packages/client-sdk/package.json packages/client-sdk/
COPY packages/player-element/package.json packages/player-element/
# --ignore-scripts: the root `prepare` (a full build) runs below, once the sources are in.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY packages/ packages/
RUN npx turbo run build --filter=@notetaker/stream-server... --output-logs=errors-only

# ---- deps: the server's production dependencies only ----------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/stream-server/package.json packages/stream-server/
# The server is the only workspace here (`npm ci --workspace` would still install every workspace's
# dependencies); versions still come from the lock file. The web page's code is already bundled into dist/web.
RUN node -e "const fs = require('fs'); const p = JSON.parse(fs.readFileSync('package.json')); \
      p.workspaces = ['packages/stream-server']; fs.writeFileSync('package.json', JSON.stringify(p, null, 2));" \
  && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force

# ---- runtime ----------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# Debian's ffmpeg 5.1 (libx264, aac, libvpx, libopus) is the one the test suite runs against.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=8787 \
  DATA_DIR=/data \
  FFMPEG_PATH=/usr/bin/ffmpeg \
  FFPROBE_PATH=/usr/bin/ffprobe
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/package.json ./package.json
COPY packages/stream-server/package.json packages/stream-server/package.json
COPY --from=build /src/packages/stream-server/dist packages/stream-server/dist
RUN mkdir -p /data \
  && chown node:node /data \
  && ln -s /app/packages/stream-server/dist/cli.js /usr/local/bin/notetaker-stream
USER node
VOLUME ["/data"]
EXPOSE 8787
# A worker-only container (`worker`) has no HTTP port: turn this check off for it (docker-compose.yml does).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8787) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["tini", "--", "notetaker-stream"]
CMD ["serve"]
