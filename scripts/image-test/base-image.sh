#!/usr/bin/env bash
# Makes the local Node base image the Dockerfile builds FROM when no image registry is reachable:
# Debian bookworm (debootstrap, minbase) + this machine's Node and npm + the user `node` (uid/gid 1000), laid out
# like the official node:<version>-bookworm-slim image (/usr/local/bin/node, npm, npx; slim's dpkg path excludes).
# Kept between runs: an image that exists with the same recipe and Node version is reused.
#
# Usage (as root): scripts/image-test/base-image.sh <image-name>    e.g. localhost/node:20.20-bookworm-slim
set -euo pipefail

IMAGE=${1:?usage: base-image.sh <image-name>}
# Bump when the recipe below changes, so an image made by an older recipe is rebuilt.
RECIPE=2
NODE_VERSION=$(node -p 'process.versions.node')
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if podman image exists "$IMAGE"; then
  have=$(podman image inspect --format '{{index .Config.Labels "org.notetaker.base.recipe"}} {{index .Config.Labels "org.notetaker.base.node"}}' "$IMAGE")
  if [ "$have" = "$RECIPE $NODE_VERSION" ]; then
    echo "base image $IMAGE: reused (Node $NODE_VERSION)"
    exit 0
  fi
  echo "base image $IMAGE: made by another recipe or Node ($have), making it again"
fi

for tool in debootstrap podman; do
  command -v "$tool" >/dev/null || { echo "base-image: $tool is missing (apt-get install -y $tool)" >&2; exit 1; }
done

ROOT=$(mktemp -d /var/tmp/notetaker-base-rootfs.XXXXXX)
trap 'rm -rf --one-file-system "$ROOT"' EXIT
started=$SECONDS

echo "base image $IMAGE: debootstrap bookworm (minbase) from $MIRROR, a few minutes…"
debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >"$ROOT.log" 2>&1 || {
  tail -n 30 "$ROOT.log" >&2
  rm -f "$ROOT.log"
  exit 1
}
rm -f "$ROOT.log"

# What debian:bookworm-slim adds over minbase: the update and security suites, and no docs, man pages or
# translations from later package installs (copyright files stay).
cat >"$ROOT/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
cat >"$ROOT/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
DPKG
cat >"$ROOT/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
cat >"$ROOT/etc/apt/apt.conf.d/docker-no-languages" <<'APT'
Acquire::Languages "none";
APT
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/*

# Node and npm where the official image has them.
npm_dir="$(npm root -g)/npm"
install -D -m 0755 "$(readlink -f "$(command -v node)")" "$ROOT/usr/local/bin/node"
mkdir -p "$ROOT/usr/local/lib/node_modules"
cp -a "$npm_dir" "$ROOT/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ROOT/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ROOT/usr/local/bin/npx"
chroot "$ROOT" /usr/local/bin/node --version >/dev/null

chroot "$ROOT" groupadd --gid 1000 node
chroot "$ROOT" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

# npm's registry is reached through a TLS-intercepting proxy whose CA only this machine's bundle has.
install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"

tar --numeric-owner -C "$ROOT" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change "LABEL org.notetaker.base.recipe=$RECIPE" \
  --change "LABEL org.notetaker.base.node=$NODE_VERSION" \
  --change 'CMD ["node"]' \
  --quiet - "$IMAGE" >/dev/null
echo "base image $IMAGE: made in $((SECONDS - started)) s ($(podman image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=iec) )"
