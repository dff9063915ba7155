#!/usr/bin/env bash
# The image test (part of `npm test`): builds the Dockerfile with podman and runs the built image's filesystem in
# each of its roles (smoke.mjs). Needs root: debootstrap, podman build, mount namespaces and chroot.
#
#   bash scripts/image-test/run.sh          # as root
#   SKIP_IMAGE_TEST=1 npm test              # skips it, and says so
#
# No image registry is reachable here, so the Node base image is made locally (base-image.sh) and kept between
# runs; `podman run` does not work here either, so the smoke run starts the image's ENTRYPOINT/CMD itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD

if [ "${SKIP_IMAGE_TEST:-}" = "1" ]; then
  echo "image test: SKIPPED (SKIP_IMAGE_TEST=1): the Docker image was neither built nor run."
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  cat >&2 <<'MSG'
image test: FAILED: it must run as root (debootstrap makes the base image, podman builds, and the smoke run uses
mount namespaces and chroot). Run `npm test` as root, or skip this test explicitly with SKIP_IMAGE_TEST=1.
MSG
  exit 1
fi

bash scripts/ensure-system-deps.sh ffmpeg podman debootstrap
for tool in unshare nsenter chroot tar; do
  command -v "$tool" >/dev/null || { echo "image test: FAILED: $tool is missing" >&2; exit 1; }
done

NODE_MINOR=$(node -p 'process.versions.node.split(".").slice(0, 2).join(".")')
BASE_IMAGE=${IMAGE_TEST_BASE:-localhost/node:${NODE_MINOR}-bookworm-slim}
# docker-compose.yml's image name.
IMAGE=localhost/notetaker-stream:local

# One image test at a time on a machine (same image name, same base image). The commands below get `9>&-` so
# that nothing they leave behind holds the lock.
exec 9>"${TMPDIR:-/tmp}/notetaker-stream-image-test.lock"
if ! flock -n 9; then
  echo "image test: another one is running on this machine; waiting for it…"
  flock 9
fi

started=$SECONDS
WORK=$(mktemp -d /var/tmp/notetaker-image-test.XXXXXX)
container=""
smoke_pid=""
cleanup() {
  local status=$?
  if [ -n "$smoke_pid" ] && kill -0 "$smoke_pid" 2>/dev/null; then
    kill -TERM "$smoke_pid" 2>/dev/null || true
    wait "$smoke_pid" 2>/dev/null || true
  fi
  [ -n "$container" ] && podman rm -f "$container" >/dev/null 2>&1 || true
  # The smoke run mounts only inside its own (private) mount namespaces; unmount anything left here anyway.
  if findmnt -rn -o TARGET | grep -q "^$WORK/"; then
    findmnt -rn -o TARGET | grep "^$WORK/" | sort -r | xargs -r -n1 umount -l || true
  fi
  rm -rf --one-file-system "$WORK"
  if [ "$status" != "0" ]; then
    echo "image test: FAILED after $((SECONDS - started)) s" >&2
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { echo "image test [$((SECONDS - started)) s] $*"; }
# Prefixes each line with the seconds since the test started.
stamp() { while IFS= read -r line; do printf '%4d %s\n' "$((SECONDS - started))" "$line"; done; }

step "base image $BASE_IMAGE"
bash scripts/image-test/base-image.sh "$BASE_IMAGE" 9>&-
base_done=$SECONDS

BUILD_LOG="${TMPDIR:-/tmp}/notetaker-stream-image-build.log"
step "podman build -t $IMAGE (log: $BUILD_LOG)"
source_url=$(git remote get-url origin 2>/dev/null || true)
revision=$(git rev-parse HEAD 2>/dev/null || true)
# --format docker: the OCI format has no HEALTHCHECK (podman drops it), Docker's keeps it. Stages run one after
# another: with --jobs, a stage that fails leaves the other stages' RUN processes running (chroot isolation).
if ! podman build --isolation=chroot --network host --format docker \
  --build-arg NODE_IMAGE="$BASE_IMAGE" \
  --build-arg SOURCE_URL="$source_url" \
  --build-arg REVISION="$revision" \
  -t "$IMAGE" . 9>&- 2>&1 | stamp >"$BUILD_LOG"; then
  tail -n 60 "$BUILD_LOG" >&2
  echo "image test: FAILED: podman build" >&2
  exit 1
fi
build_done=$SECONDS
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
step "built $IMAGE: $(numfmt --to=iec --suffix=B "$size") ($size bytes) in $((build_done - base_done)) s"

step "exporting the image's filesystem"
podman image inspect "$IMAGE" >"$WORK/inspect.json"
container=$(podman create --no-healthcheck "$IMAGE" 9>&-)
mkdir "$WORK/rootfs"
podman export "$container" | tar -x --numeric-owner -C "$WORK/rootfs"
podman rm "$container" >/dev/null
container=""

step "smoke run"
node --openssl-legacy-provider scripts/image-test/smoke.mjs "$WORK/rootfs" "$WORK/inspect.json" 9>&- &
smoke_pid=$!
wait "$smoke_pid"
smoke_pid=""

total=$((SECONDS - started))
tested=$((SECONDS - base_done))
echo "image test: PASSED in ${total} s (base image $((base_done - started)) s, build $((build_done - base_done)) s," \
  "smoke run $((SECONDS - build_done)) s); image $IMAGE $(numfmt --to=iec --suffix=B "$size")"
if [ "$tested" -gt 360 ]; then
  echo "image test: WARNING: build + smoke run took ${tested} s, over its 6-minute budget" >&2
fi
