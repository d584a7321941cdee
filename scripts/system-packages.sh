#!/usr/bin/env bash
# Install the Debian packages the project needs, if missing. Idempotent: checks first, installs only
# what is missing. As root it installs them; otherwise it names the packages and stops.
# PostgreSQL, PostGIS and pgRouting are handled by `python -m geo.db start`, which installs the PostGIS and pgRouting
# packages matching the installed server version.
set -euo pipefail

packages=(chromium chromium-driver fonts-wqy-microhei gdal-bin)
missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "installing system packages: ${missing[*]}"
if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
