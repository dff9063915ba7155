#!/usr/bin/env bash
# Makes sure the system tools the product needs are present: ffmpeg (always), Chromium (for the browser tests),
# nginx (a URL-keyed cache standing in for a CDN in tests and the benchmark), podman and debootstrap (for the image
# test).
# Installs them with apt-get when running as root on Debian/Ubuntu; otherwise says exactly what to install.
# Usage: scripts/ensure-system-deps.sh ffmpeg [chromium] [nginx] [podman] [debootstrap]
set -euo pipefail

missing=()
for tool in "$@"; do
  case "$tool" in
    ffmpeg)
      if ! command -v "${FFMPEG_PATH:-ffmpeg}" >/dev/null 2>&1 || ! command -v "${FFPROBE_PATH:-ffprobe}" >/dev/null 2>&1; then
        missing+=(ffmpeg)
      fi
      ;;
    chromium)
      if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
        missing+=(chromium)
      fi
      ;;
    nginx)
      if [ -z "${NGINX_PATH:-}" ] && ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
        missing+=(nginx)
      fi
      ;;
    podman | debootstrap)
      command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
      ;;
    *) echo "ensure-system-deps: unknown tool '$tool'" >&2; exit 2 ;;
  esac
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${missing[*]} with apt-get…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "Missing system packages: ${missing[*]}" >&2
echo "Install them first, for example:" >&2
echo "  Debian/Ubuntu: sudo apt-get install -y ${missing[*]}" >&2
echo "  macOS:         brew install ${missing[*]/chromium/--cask chromium}" >&2
echo "Or point FFMPEG_PATH/FFPROBE_PATH/CHROMIUM_PATH/NGINX_PATH at existing binaries." >&2
exit 1
