#!/bin/sh
# Builds and runs the routing micro-benchmark (see README.md here).
# Usage: bench/micro/run.sh [fixtures-dir]   (default tests/fixtures)
set -e

top=$(cd "$(dirname "$0")/../.." && pwd)
fixtures=${1:-${AIROUTER_FIXTURES:-$top/tests/fixtures}}
out=${BUILD:-$top/build}/bench
mkdir -p "$out"

cc -std=c99 -O2 -Wall -Wextra -Werror -D_DEFAULT_SOURCE \
    -I"$top/src" -o "$out/bench_route" \
    "$top/bench/micro/bench_route.c" "$top"/src/airouter_*.c \
    -ljansson -lyaml -lm

"$out/bench_route" "$fixtures"
