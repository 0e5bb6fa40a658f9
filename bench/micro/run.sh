#!/bin/sh
# Builds and runs the routing micro-benchmark (see README.md here).
# Usage: bench/micro/run.sh [shared-dir]   from the repository root.
set -e

top=$(cd "$(dirname "$0")/../.." && pwd)
shared=${1:-${AIROUTER_SHARED:-$top/../shared}}
out=${BUILD:-$top/build}/bench
mkdir -p "$out"

cc -std=c99 -O2 -Wall -Wextra -Werror -D_DEFAULT_SOURCE \
    -I"$top/src" -o "$out/bench_route" \
    "$top/bench/micro/bench_route.c" "$top"/src/airouter_*.c \
    -ljansson -lyaml -lm

"$out/bench_route" "$shared"
