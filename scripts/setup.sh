#!/usr/bin/env bash
# Installs the system packages the test suite needs, and only those missing. Safe to run again.
# The build toolchain for native npm modules (python3, make, g++) comes with the machine image.
set -euo pipefail

need=()
for tool in python3 make g++; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
# chromium: the browser tests (driven by playwright-core). fonts-wqy-microhei: Chinese glyphs, so the zh-CN
# screenshots the browser tests take show text rather than empty boxes. Later: baresip-core and sip-tester for SIP.
REQUIRED_PACKAGES=(chromium fonts-wqy-microhei)
for pkg in "${REQUIRED_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "setup: system packages ready"
