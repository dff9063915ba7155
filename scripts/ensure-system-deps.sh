#!/usr/bin/env bash
# Makes sure the system tools the product needs are present: ffmpeg (always), the browser engines of the browser
# tests (Chromium, Firefox ESR, WebKitGTK through WebKitWebDriver under Xvfb, with GStreamer's H.264/AAC decoders),
# nginx (a URL-keyed cache standing in for a CDN in tests and the benchmark), podman and debootstrap (for the image
# test).
# Installs them with apt-get when running as root on Debian/Ubuntu; otherwise says exactly what to install.
# Usage: scripts/ensure-system-deps.sh ffmpeg [chromium] [firefox] [webkit] [nginx] [podman] [debootstrap]
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
    firefox)
      if [ -z "${FIREFOX_PATH:-}" ] && ! command -v firefox-esr >/dev/null 2>&1; then
        missing+=(firefox-esr)
      fi
      ;;
    webkit)
      # WebKitWebDriver starts MiniBrowser (libwebkit2gtk-4.1-0), which needs a display (xvfb-run, xauth) and
      # GStreamer's libav and good/bad plugin sets to decode H.264/AAC.
      if [ -z "${WEBKIT_DRIVER_PATH:-}" ] && ! command -v WebKitWebDriver >/dev/null 2>&1; then
        missing+=(webkit2gtk-driver)
      fi
      command -v xvfb-run >/dev/null 2>&1 || missing+=(xvfb)
      command -v xauth >/dev/null 2>&1 || missing+=(xauth)
      for plugin in gstreamer1.0-libav gstreamer1.0-plugins-good gstreamer1.0-plugins-bad; do
        dpkg-query -W -f='${Status}' "$plugin" 2>/dev/null | grep -q 'install ok installed' || missing+=("$plugin")
      done
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
echo "Or point FFMPEG_PATH/FFPROBE_PATH/CHROMIUM_PATH/FIREFOX_PATH/WEBKIT_DRIVER_PATH/NGINX_PATH at existing binaries." >&2
exit 1
