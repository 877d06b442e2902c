#!/usr/bin/env bash
# Installs chatroute to a temporary prefix, then builds and runs a small consumer each
# way a project takes it in: find_package from the prefix, add_subdirectory of the source
# tree, FetchContent from a local archive (no network), and pkg-config.
#
#   tests/consumers/run.sh [--source DIR] [--work DIR] [--generator NAME] [--cxx COMPILER]
#
# Consumers build with -Wall -Wextra -Wpedantic -Werror: the headers must stay clean
# under a strict consumer's flags. CTest runs this as the `consumers` test.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
source_dir="$(cd "$here/../.." && pwd)"
work=""
generator="Ninja"
cxx="${CXX:-c++}"
while [ $# -gt 0 ]; do
  case "$1" in
    --source) source_dir="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --generator) generator="$2"; shift 2 ;;
    --cxx) cxx="$2"; shift 2 ;;
    *) echo "usage: $0 [--source DIR] [--work DIR] [--generator NAME] [--cxx COMPILER]" >&2; exit 2 ;;
  esac
done
if [ -z "$work" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
else
  rm -rf "$work"
  mkdir -p "$work"
fi
prefix="$work/prefix"
strict="-Wall -Wextra -Wpedantic -Werror"
configure=(-G "$generator" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Debug)

step() { printf '\n== %s ==\n' "$*"; }

step "install to $prefix"
cmake -S "$source_dir" -B "$work/chatroute" "${configure[@]}" -DCHATROUTE_BUILD_TESTS=OFF \
  -DCHATROUTE_BUILD_EXAMPLES=OFF -DCHATROUTE_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$work/chatroute"
cmake --install "$work/chatroute" --prefix "$prefix"
for file in include/chatroute/chatroute.hpp include/chatroute/detail/roster.hpp \
            share/cmake/chatroute/chatrouteConfig.cmake share/cmake/chatroute/chatrouteConfigVersion.cmake \
            share/cmake/chatroute/chatrouteTargets.cmake share/pkgconfig/chatroute.pc; do
  [ -f "$prefix/$file" ] || { echo "not installed: $file" >&2; exit 1; }
done

# Builds consumer project $1 with the extra configure arguments that follow, then runs it.
consume() {
  local way="$1"
  shift
  step "$way"
  cmake -S "$here/$way" -B "$work/$way" "${configure[@]}" -DCMAKE_CXX_FLAGS="$strict" "$@" >/dev/null
  cmake --build "$work/$way"
  "$work/$way/consumer"
}

consume find_package -DCMAKE_PREFIX_PATH="$prefix"
consume add_subdirectory -DCHATROUTE_SOURCE_DIR="$source_dir"
tar -czf "$work/chatroute-src.tar.gz" -C "$source_dir" --transform 's,^,chatroute-0.2.0/,' \
  CMakeLists.txt cmake include
consume fetchcontent -DCHATROUTE_ARCHIVE="$work/chatroute-src.tar.gz"

step "version check"
# 0.x: another minor version is not compatible, so find_package(chatroute 0.1) must fail.
mkdir -p "$work/version"
cat >"$work/version/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(chatroute_version_check LANGUAGES CXX)
find_package(chatroute 0.1 CONFIG QUIET)
if(chatroute_FOUND)
  message(FATAL_ERROR "chatroute ${chatroute_VERSION} accepted for a request of 0.1")
endif()
find_package(chatroute 0.2 CONFIG REQUIRED)
message(STATUS "found chatroute ${chatroute_VERSION}")
CMAKE
cmake -S "$work/version" -B "$work/version/build" "${configure[@]}" -DCMAKE_PREFIX_PATH="$prefix" | grep found

if command -v pkg-config >/dev/null; then
  step "pkg-config"
  export PKG_CONFIG_PATH="$prefix/share/pkgconfig"
  pkg-config --exact-version=0.2.0 chatroute
  mkdir -p "$work/pkg-config"
  # shellcheck disable=SC2046,SC2086  # pkg-config's flags split on purpose
  "$cxx" -std=c++20 $strict "$here/consumer.cpp" -o "$work/pkg-config/consumer" \
    $(pkg-config --cflags --libs chatroute)
  "$work/pkg-config/consumer"
else
  echo "pkg-config is not installed: its consumer is skipped"
fi

step "all consumers built and ran"
