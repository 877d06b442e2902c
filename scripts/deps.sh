#!/usr/bin/env bash
# Installs the Debian 12 packages chatroute needs to build, where they are missing, plus
# any packages named as arguments (scripts/test.sh adds what only the tests need).
set -euo pipefail

packages=(cmake ninja-build g++ clang libexpected-dev libfmt-dev catch2 libbenchmark-dev
          nlohmann-json3-dev libasio-dev pkg-config
          libsodium-dev libssl-dev openssl  # examples/asio_host (chatdesk)
          libnats-dev nats-server "$@")     # examples/node (chatroute-node) and its scale-out test
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
