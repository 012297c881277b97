#!/bin/sh
# Installs rtpengine (Debian package rtpengine-daemon) for the media benchmark's same-run comparison.
# Idempotent: does nothing when the binary is already there. Needs root and a reachable Debian mirror.
# The benchmark runs it only when BENCH_RTPENGINE=1; `npm run bench` never installs packages by itself.
set -eu
if command -v rtpengine >/dev/null 2>&1; then
  echo "rtpengine already installed: $(command -v rtpengine)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "installing rtpengine-daemon needs root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends rtpengine-daemon
# The package enables its own service; the benchmark starts a private instance instead.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now rtpengine-daemon.service >/dev/null 2>&1 || true
fi
command -v rtpengine
