# syntax=docker/dockerfile:1
# Notetaker Stream server image: the API, the generation worker and the web page, with ffmpeg, as a non-root user.
#
#   docker build -t notetaker-stream:local .
#   docker run -d -p 127.0.0.1:8787:8787 -v notetaker-data:/data notetaker-stream:local   # embedded defaults
#   docker compose up -d                                       # PostgreSQL + MinIO + API + worker (docker-compose.yml)
#
# The same image runs `serve` (API + worker), `serve --no-worker` (API only) and `worker` (worker only).
# `npm test` builds this file with podman and runs the result in all three roles (scripts/image-test/).

ARG NODE_IMAGE=node:20.20-bookworm-slim

# ---- manifests: every workspace's package.json and the lock file, wherever the workspaces live ------------------
# Only these decide the installs below, so those layers are reused until a manifest changes.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
  && find . -name node_modules -prune -o \( -name package.json -o -name package-lock.json \) -print \
    | xargs cp --parents -t /manifests

# ---- build: compile the server and the web page it serves (which bundles <notetaker-player>) ---------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV TURBO_TELEMETRY_DISABLED=1
COPY --from=manifests /manifests/ ./
# --ignore-scripts: the root `prepare` (a full build) runs below, once the sources are in.
RUN npm ci --ignore-scripts --no-audit --no-fund --no-update-notifier
COPY . .
# The server and every workspace it depends on, and the web page (apps/web), which goes into the server's dist/web:
# where the server looks for its page when WEB_DIR is unset (docs/decisions/0013-package-graph.md).
RUN npx turbo run build --filter=@notetaker/stream-server... --filter=@notetaker/web... --output-logs=errors-only \
  && mkdir -p /out/packages/stream-server \
  && cp -a packages/stream-server/package.json packages/stream-server/dist /out/packages/stream-server/ \
  && mkdir -p /out/packages/client-sdk \
  && cp -a packages/client-sdk/package.json packages/client-sdk/dist /out/packages/client-sdk/ \
  && cp -a apps/web/dist /out/packages/stream-server/dist/web \
  && find /out -type f \( -name '*.map' -o -name '*.d.ts' \) -delete

# ---- deps: the server's production dependencies, nested copies included -----------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=manifests /manifests/package.json /manifests/package-lock.json ./
COPY --from=manifests /manifests/packages/stream-server/package.json packages/stream-server/
COPY --from=manifests /manifests/packages/client-sdk/package.json packages/client-sdk/
# The server and the SDK its CLI calls the API with (no dependencies of its own) are the only workspaces here
# (`npm ci --workspace` would still install every workspace's dependencies); versions still come from the lock file,
# which places some packages under packages/stream-server/node_modules and links node_modules/@notetaker/client-sdk
# to packages/client-sdk, whose built files come from the build stage: the whole of /app is what the runtime takes.
RUN node -e "const fs = require('fs'); const p = JSON.parse(fs.readFileSync('package.json')); \
      p.workspaces = ['packages/client-sdk', 'packages/stream-server']; delete p.scripts; \
      fs.writeFileSync('package.json', JSON.stringify(p, null, 2));" \
  && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --no-update-notifier \
  && rm -rf package-lock.json /root/.npm \
  && find node_modules packages/stream-server/node_modules -type f \
    \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete

# ---- runtime ----------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# Debian's ffmpeg 5.1 (libx264, aac, libvpx, libopus) is the one the test suite runs against. Its display libraries
# bring Mesa's GL drivers and the LLVM and Z3 libraries those link (160 MB), which only drawing on a display loads:
# they are left out, and ldd proves that ffmpeg and ffprobe still find every library they link.
RUN printf '%s\n' 'path-exclude /usr/lib/*/dri/*' 'path-exclude /usr/lib/*/libLLVM-*' 'path-exclude /usr/lib/*/libz3.so*' \
    > /etc/dpkg/dpkg.cfg.d/no-gpu-drivers \
  && apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg tini \
  && rm -rf /var/lib/apt/lists/* \
  && if ldd /usr/bin/ffmpeg /usr/bin/ffprobe | grep 'not found'; then exit 1; fi
# NODE_OPTIONS: the memory settings `npm start` runs with (decision 0026): one V8 worker thread and a 4 MB young
# generation keep an idle server near 180 MB instead of 240 MB. An operator's own NODE_OPTIONS replaces them.
ENV NODE_ENV=production \
  NODE_OPTIONS="--v8-pool-size=1 --max-semi-space-size=4" \
  HOST=0.0.0.0 \
  PORT=8787 \
  DATA_DIR=/data \
  FFMPEG_PATH=/usr/bin/ffmpeg \
  FFPROBE_PATH=/usr/bin/ffprobe
WORKDIR /app
COPY --from=deps /app/ ./
COPY --from=build /out/ ./
RUN mkdir -p /data \
  && chown node:node /data \
  && ln -s /app/packages/stream-server/dist/cli.js /usr/local/bin/notetaker-stream
# Keep VERSION equal to packages/stream-server/package.json's version (the image test checks it). SOURCE_URL and
# REVISION describe where the image came from: --build-arg SOURCE_URL=<repository URL> REVISION=<commit>.
ARG VERSION=0.1.0
ARG SOURCE_URL=
ARG REVISION=
LABEL org.opencontainers.image.title="Notetaker Stream" \
  org.opencontainers.image.description="Self-hostable video streaming: video registry, on-demand HLS with ffmpeg, private-bucket playback, web page." \
  org.opencontainers.image.version="${VERSION}" \
  org.opencontainers.image.licenses="MIT" \
  org.opencontainers.image.source="${SOURCE_URL}" \
  org.opencontainers.image.revision="${REVISION}"
USER node
VOLUME ["/data"]
EXPOSE 8787
# `serve` and `serve --no-worker` answer /healthz; a worker (`worker`, PID 1 is `tini -- notetaker-stream worker`)
# has no HTTP port, so for it the check passes while it runs (docker-compose.yml turns it off for the worker).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const role = require('fs').readFileSync('/proc/1/cmdline', 'latin1').split('\\0'); if (role.includes('worker')) process.exit(0); fetch('http://127.0.0.1:' + (process.env.PORT || 8787) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["tini", "--", "notetaker-stream"]
CMD ["serve"]
