#!/usr/bin/env bash
# bench/lib/goals.sh, the goals table at the top of bench/RESULTS.md,
# rendered from a saved run's raw files (tests/fixtures/bench-goals: the
# per-round numbers of the quiet make bench of 958a17b, with CPU per
# request filled in, and a smoke run's callgrind profile), then from
# copies changed one number at a time: each verdict must follow the
# numbers.  Prints "bench-goals: N passed, M failed" (tests/run-all).
set -u
cd "$(dirname "$0")/.."
. bench/lib/goals.sh

fix=tests/fixtures/bench-goals
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() {   # ok NAME COMMAND...: COMMAND succeeds
    local name=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "not ok: $name" >&2
    fi
}

# row TABLE GOAL: the table's row whose goal cell starts with GOAL
row() {
    grep -F "| $2" <<<"$1" | head -1
}

# has ROW TEXT: the row says TEXT
has() { grep -qF -- "$2" <<<"$1"; }

# fresh: a copy of the fixture to change
fresh() {
    rm -rf "$tmp/f"
    cp -r "$fix" "$tmp/f"
}

render() { goals_table "$tmp/f/data" "$tmp/f/profile"; }

# setcpu CASE VALUE [ROUND]: the proxy CPU per request of CASE's rounds
setcpu() {
    awk -v k="$1" -v v="$2" -v r="${3:-}" '$1 == k && (r == "" || $2 == r) {
        sub(/proxy_cpu_us=[0-9.]+/, "proxy_cpu_us=" v) } { print }' \
        "$tmp/f/data/rounds.txt" > "$tmp/r" && mv "$tmp/r" "$tmp/f/data/rounds.txt"
}

# the saved run as it renders
fresh
out=$(render)
ok "the fixture renders as tests/fixtures/bench-goals/expected.md" \
    diff -u "$fix/expected.md" <(render)

# c: every round's CPU b/c >= 0.95 is met; one round under it is not
# judgeable; every round under it is missed with its gap, whatever req/s say
r=$(row "$out" "physical name (c): req/s")
ok "c: the rounds' CPU meets, perf's does not: not judgeable" \
    has "$r" "| not judgeable here (the two CPU measures disagree) |"
ok "c: perf's measure shown" has "$r" "perf CPU per request b/c [9]: 0.906 (b 30.0 µs, c 33.1 µs)"
ok "c: perf's gap" has "$r" "perf: b/c 0.906, 0.044 under 0.95: c 33.1 µs of CPU per request, b 30.0 µs; 1.5 µs over b / 0.95"
r=$(row "$out" "physical name (c): added p50")
ok "p50: the rounds meet, perf's 50 x 3.1 µs does not: not judgeable" \
    has "$r" "| not judgeable here (the two CPU measures disagree) | perf: 155 µs, 105 µs over |"
fresh; rm "$tmp/f/profile/perf-c-cpu.txt"
ok "c met by the rounds' CPU per request without perf" \
    has "$(row "$(render)" "physical name (c): req/s")" "| **met** |"
fresh; echo "31.0 92" > "$tmp/f/profile/perf-c-cpu.txt"
ok "c met when perf's CPU meets too" \
    has "$(row "$(render)" "physical name (c): req/s")" "| **met** |"
fresh; rm "$tmp/f/profile/perf-c-cpu.txt"; setcpu c 36.0 2
r=$(row "$(render)" "physical name (c): req/s")
ok "c with one round under 0.95: not judgeable" has "$r" "not judgeable here (rounds on both sides) |"
ok "no gap when the median meets" has "$r" "(rounds on both sides) |  |"
fresh; setcpu c 40.0
r=$(row "$(render)" "physical name (c): req/s")
ok "c missed when every round's CPU misses, though req/s meet" has "$r" "**missed**"
ok "c's gap in µs of CPU over b / 0.95" has "$r" "c 40.0 µs of CPU per request, b 33.0 µs; 5.3 µs over b / 0.95"
ok "c's wall ratio still shown" has "$r" "req/s c/b [1]: 1.246"

# the p50 under load: the connections times the added CPU
fresh; setcpu c 36.0
r=$(row "$(render)" "physical name (c): added p50")
ok "p50 under load missed at 50 x 2-6 µs" has "$r" "**missed**"
ok "p50 under load: 150 µs (median)" has "$r" "50 × (CPU per request c − b) [2]: 150 µs (100 … 300 µs, 5 rounds)"

# idle: CPU per request c - b over 10 µs misses whatever the median says;
# under it the median must meet too
r=$(row "$out" "physical name (c): added latency idle")
ok "idle missed at 14 µs more CPU" has "$r" "the worker adds 14.0 µs of CPU per request: 4.0 µs over"
fresh
awk '$1 == "c" { $3 = 4200000 } { print }' "$tmp/f/data/seq-cpu.txt" > "$tmp/s" && mv "$tmp/s" "$tmp/f/data/seq-cpu.txt"
ok "idle met at 4 µs more CPU and a 0 µs median" \
    has "$(row "$(render)" "physical name (c): added latency idle")" "| **met** |"
awk '{ $3 += 0.000033; print }' "$fix/data/seq-c.raw" > "$tmp/f/data/seq-c.raw"
ok "idle not judgeable at 4 µs more CPU and a 33 µs median" \
    has "$(row "$(render)" "physical name (c): added latency idle")" "not judgeable here"

# the 100k and two-worker rows, and what they point to
r=$(row "$out" "tag query, 100,000")
ok "100k missed, 0.80 target" has "$r" "CPU b/d 0.769, 0.031 under 0.80"
ok "2 workers c missed" has "$(row "$out" "2 workers (item 5): c")" "**missed**"
ok "2 workers point to their CPU breakdown" has "$(row "$out" "2 workers (item 5): d")" "(#two-workers)"
fresh; grep -v '^w2' "$fix/data/rounds.txt" > "$tmp/f/data/rounds.txt"
ok "no 2-worker rounds: not measured" \
    has "$(row "$(render)" "2 workers (item 5)")" "not judgeable here (not measured)"
fresh; rm "$tmp/f/data/rounds.txt"
ok "no rounds at all: c not measured" \
    has "$(row "$(render)" "physical name (c): req/s")" "not judgeable here (not measured)"

# discovery: wall clock, every round
ok "discovery missed at +32 %" has "$(row "$out" "p99 during a discovery run, 3,558")" "+32 %, 22 points over"
fresh; printf '3558 1 18.0 19.0\n3558 2 18.0 19.5\n3558 3 18.0 19.2\n' > "$tmp/f/data/discovery-p99.txt"
r=$(row "$(render)" "p99 during a discovery run, 3,558")
ok "discovery met, wall clock only, with its rounds" has "$r" "**met** (wall clock only)"
ok "discovery's median and range" has "$r" "+7 % (+6 … +8 %, 3 rounds)"
printf '3558 1 18.0 19.0\n3558 2 18.0 21.0\n' > "$tmp/f/data/discovery-p99.txt"
ok "discovery with a round each side: not judgeable" \
    has "$(row "$(render)" "p99 during a discovery run, 3,558")" "not judgeable here (rounds on both sides)"

# memory: flat needs the whole series length
ok "RSS: too short a series is not judged" \
    has "$(row "$out" "worker RSS")" "the series served 1,314,529 of 5,000,000 requests"
fresh; echo "40 5200000 13924 4931584 200" >> "$tmp/f/data/memory.dat"
ok "RSS met over 5M requests" has "$(row "$(render)" "worker RSS")" "| **met** |"
echo "41 5300000 16000 4931584 205" >> "$tmp/f/data/memory.dat"
ok "RSS missed when it grows" has "$(row "$(render)" "worker RSS")" "2084 kB over"
fresh; echo "MEM_REQUESTS=1000000" >> "$tmp/f/data/settings.txt"
ok "RSS judged over the run's own series length (MEM_REQUESTS)" \
    has "$(row "$(render)" "worker RSS flat over 1,000,000 requests")" "| **met** |"

# wall-clock goals: met only over 3 rounds
r=$(row "$out" "streaming TTFB")
ok "TTFB met over 3 rounds, wall clock only" has "$r" "| **met** (wall clock only) |"
ok "TTFB's rounds" has "$r" "[4]: 65 µs (60 … 67 µs, 3 rounds)"
fresh; rm "$tmp/f/data/stream-rounds.txt"
ok "TTFB from one run's medians: not judgeable" \
    has "$(row "$(render)" "streaming TTFB")" "not judgeable here (1 round: met on the wall clock needs 3)"
fresh; grep -v ' 3 ' "$fix/data/relay.txt" > "$tmp/f/data/relay.txt"
ok "relay met in 2 rounds: not judgeable" \
    has "$(row "$(render)" "streaming relay")" "not judgeable here (2 rounds: met on the wall clock needs 3)"
printf '3558 1 18.0 24.0\n' > "$tmp/f/data/discovery-p99.txt"
ok "discovery missed in 1 round: missed" has "$(row "$(render)" "p99 during a discovery run")" "| **missed** |"

# the relay's rounds
fresh; printf 'b 1 0.343\nc 1 0.400\nb 2 0.349\nc 2 0.380\n' > "$tmp/f/data/relay.txt"
ok "relay with a round each side: not judgeable" \
    has "$(row "$(render)" "streaming relay")" "not judgeable here"

# the profile behind c and d: instructions per request of airouter's
# functions, from callgrind_annotate's inclusive lists
p=$(goals_profile "$fix/profile")
ok "profile: the api handler per request in c and d" \
    has "$p" "| \`ngx_http_airouter_api_handler\` | 17,793 | 27,045 | +9,252 |"
ok "profile: instructions per request in all" has "$p" "b –; c 51,281; d 61,672."
fresh; echo "b 4530 102527490" >> "$tmp/f/profile/cg-requests.txt"
ok "c's row points to its profile with b beside it" \
    has "$(row "$(render)" "physical name (c): req/s")" "51,281 instructions per request, b 22,633 (+28,648)"

# under bench/run's shell options, raw files a run did not write make
# rows "not measured" and the table still ends
ok "a run without raw files still renders every row" bash -c \
    'set -euo pipefail; . bench/lib/goals.sh; goals_table "$1" "$1" | grep -c "not judgeable here (not measured)" | grep -qx 11' _ "$tmp/none"
ok "profile: only airouter functions" bash -c '! grep -E "^\| \`(ngx_http_(process|core)|json_)" <<<"$1"' _ "$p"

# profiling runs when a goal it explains is not met, not when all are
ok "profile needed (2 workers missed)" goals_need_profile "$fix/data"
fresh; for k in c d w2c w2d; do setcpu "$k" 20.0; done
ok "profile not needed when c, d and 2 workers meet" \
    bash -c '. bench/lib/goals.sh; ! goals_need_profile "$1"' _ "$tmp/f/data"

echo "bench-goals: $passed passed, $failed failed"
[ "$failed" = 0 ]
