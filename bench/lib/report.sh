# Writes bench/RESULTS.md and bench/results.png from the numbers bench/run
# collected (sourced by bench/run; uses its variables).

us() { awk -v v="$1" 'BEGIN { if (v == "") print "–"; else if (v >= 10000) printf "%.1f ms", v / 1000; else printf "%d µs", v }'; }
num() { awk -v v="$1" 'BEGIN { if (v == "") { print "–"; exit } v = sprintf("%d", v); n = ""; while (length(v) > 3) { n = "," substr(v, length(v) - 2) n; v = substr(v, 1, length(v) - 3) } print v n }'; }
mb() { awk -v v="$1" 'BEGIN { printf "%.1f MB", v / 1024 }'; }

# cpu_table PREFIX: what the kernel accounted to each process per request,
# medians over the rounds of b, c, d (bench/run: rounds; common.sh:
# wrk_cpu_run)
cpu_table() {
    local pre=$1 n=$NROUNDS k
    [ -n "$pre" ] && n=$W2_ROUNDS
    [ -n "$pre" ] || { echo "What each process spent per request in those runs (medians over the rounds), read from /proc (\`schedstat\`: CPU time in ns and the time spent runnable but waiting for a CPU; context switches; CPU migrations) for the proxy's worker(s), the mock's worker and wrk (user + system). \"CPU b/x\": b's proxy CPU per request over the case's, the req/s ratio the case would have if the proxy's own work alone set the pace."; echo; }
    echo "| case | req/s | proxy CPU µs | waiting for a CPU µs | proxy busy | voluntary cs | involuntary cs | migrations / 1k | mock CPU µs | wrk CPU µs | CPU b/x |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for k in b c d; do
        echo "| $k | $(num "$(fmed "$pre$k" rps "$n" | cut -d. -f1)") | $(fmed "$pre$k" proxy_cpu_us "$n") | $(fmed "$pre$k" proxy_wait_us "$n") | $(fmed "$pre$k" proxy_busy "$n") % | $(fmed "$pre$k" proxy_vcs "$n") | $(fmed "$pre$k" proxy_ivcs "$n") | $(fmed "$pre$k" proxy_migr_1k "$n") | $(fmed "$pre$k" mock_cpu_us "$n") | $(fmed "$pre$k" wrk_cpu_us "$n") | $( [ $k = b ] && echo 1.000 || echo "${CPUR[$pre$k]}") |"
    done
    echo
}

write_report() {
    local md=$here/RESULTS.md png=$here/results.png
    local k line
    local -A WHAT=(
        [a]="mock upstream directly (no proxy)"
        [b]="plain nginx \`proxy_pass\` + upstream keepalive"
        [c]="airouter, physical model name (\`bench/physical-model\`, 1 channel)"
        [d]="airouter, tag query \`$QUERY_D\` ($D_MATCHED matches) on the generated catalogue: 3,400 entries on 38 channels (the instance: $CAT_MODELS models, $CAT_CHANNELS channels)"
        [e]="airouter, best candidate answers 503, falls back to the 2nd"
        [f]="Portkey AI gateway $PK_VERSION (Node $(node --version 2>/dev/null))"
    )
    [ "$E_MODE" = cooldown ] && WHAT[e]="airouter, best candidate answers 503 (ranked second after its first failure: see below)"

    local tb rss_last qb0 qc0
    tb=$(echo "${S[b]}" | cut -d' ' -f1)
    rss_last=$(awk '!/^#/ {v = $3} END {print v}' "$DATA/memory.dat")
    qb0=$(echo "${Q[b]}" | cut -d' ' -f1); qc0=$(echo "${Q[c]}" | cut -d' ' -f1)

    {
    echo "# airouter benchmark results"
    echo
    echo "Written by \`make bench\` (\`bench/run\`, see [README.md](README.md)) — do not edit by hand."
    echo
    echo "| | |"
    echo "| --- | --- |"
    echo "| date | $START_DATE ($(( $(date +%s) - started )) s for the whole run); load average before the run: $LOADAVG |"
    echo "| machine | $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo) RAM, Linux $(uname -r) |"
    echo "| software | $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), Node $(node --version), Portkey gateway $PK_VERSION, curl $(curl --version | head -1 | awk '{print $2}') |"
    echo "| module | \`build/ngx_http_airouter_module.so\` sha1 $MODULE_SHA |"
    echo "| command | \`make bench\` (BENCH_DURATION=$DURATION BENCH_WARMUP=$WARMUP BENCH_CONNECTIONS=$CONNS BENCH_THREADS=$THREADS BENCH_WORKERS=$WORKERS BENCH_MOCK_WORKERS=$MOCK_WORKERS) |"
    echo "| load | wrk, $THREADS threads, $CONNS keepalive connections; b, c and d in $NROUNDS interleaved rounds of 1 s warm-up + ${ROUND_SECONDS} s each, the other cases ${WARMUP} s warm-up then ${DURATION} s; POST of a $(printf '%s' "$BODY_C" | wc -c)-byte chat request; the answer is a $(wc -c < "$DATA/a.b")-byte chat completion |"
    echo "| processes | every nginx under test (b–e) and the mock: \`worker_processes $WORKERS\` / \`$MOCK_WORKERS\`, access log off; Portkey: one Node process; wrk, mock and proxy share the $(nproc) cores (nothing pinned) |"
    echo
    if awk -v l="${LOADAVG%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n * 0.75) }'; then
        echo "**The machine was busy during this run** (load average $LOADAVG before it, on $(nproc) CPUs): other work shared the cores with every case, so the absolute rates are far below a quiet run's and the ratios are noisy. Compare them with a quiet run before drawing conclusions."
        echo
    fi
    . "$LIB/goals.sh"
    goals_table "$DATA" "$OUT/profile"
    echo "## Throughput and latency"
    echo
    echo "| case | what | req/s | p50 | p90 | p99 | req/s vs b |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
    for k in a b c d e f; do
        line=${R[$k]:-}
        if [ -z "$line" ]; then
            [ "$k" = f ] && echo "| f | ${WHAT[f]} | not run: $PORTKEY_WHY | | | | |"
            continue
        fi
        local vb; vb=$(ratio "$(field "$line" rps)" "$rps_b")
        case $k in c|d) vb=${RATIO[$k]} ;; esac
        echo "| $k | ${WHAT[$k]} | $(num "$(field "$line" rps | cut -d. -f1)") | $(us "$(field "$line" p50_us)") | $(us "$(field "$line" p90_us)") | $(us "$(field "$line" p99_us)") | $vb |"
    done
    echo
    echo "b, c and d were measured in $NROUNDS rounds (1 s warm-up + ${ROUND_SECONDS} s each), each round starting one case later, so that whatever else runs on the machine, and where the scheduler puts wrk's $THREADS threads, the mock and the proxy on the $(nproc) shared cores, hits all three alike; their rows are the round with the median req/s, their ratio is the median of the rounds' ratios. Per round, req/s (b / c / d):"
    echo
    local r
    for r in $(seq "$NROUNDS"); do
        printf '%s%s / %s / %s' "$( [ "$r" = 1 ] || echo '; ')" "$(num "$(field "${RR[b,$r]}" rps)")" \
            "$(num "$(field "${RR[c,$r]}" rps)")" "$(num "$(field "${RR[d,$r]}" rps)")"
    done
    echo "."
    echo
    cpu_table ""
    echo "Under load each of the $CONNS connections waits its turn, so the p50 follows the rate: $CONNS / req/s is $(awk -v r="$rps_b" -v n="$CONNS" 'BEGIN { if (r > 0) printf "%d", n / r * 1e6 }') µs for b and $(awk -v r="$rps_c" -v n="$CONNS" 'BEGIN { if (r > 0) printf "%d", n / r * 1e6 }') µs for c (measured p50: $(field "${R[b]}" p50_us) and $(field "${R[c]}" p50_us) µs). The c − b p50 under load (goal ≤ +50 µs) is the throughput gap seen from one request; the idle latency below is what one request costs on its own."
    echo
    if [ -n "${R[f]:-}" ] && [ "$(field "${R[f]}" status_err)" != 0 ]; then
        echo "Portkey answered $(field "${R[f]}" status_err) of $(field "${R[f]}" requests) requests with a non-2xx status."
        echo
    fi
    if [ "$E_MODE" = every ]; then
        echo "Case e: every request fell back once ($(num "$E_FALLBACKS") fallbacks logged during its warm-up and measured run; \`X-Router-Attempts: 2\` checked before and after)."
    else
        echo "Case e: **after its first failure the failing candidate ranks below the backup** —"
        echo "with \`cooldown_periods.server_error: 0\` it is not cooled down, but its"
        echo "reliability score drops, so the strategy puts the healthy backup first"
        echo "and requests go straight to it: $(num "$E_FALLBACKS") fallbacks in"
        echo "$(num "$(field "${R[e]}" requests)") measured requests (plus warm-up). A request"
        echo "that does fall back is measured below (idle latency, e: each of the $SEQ requests"
        echo "names a fresh model, so each one falls back; $SEQ_E_FALLBACKS fallbacks logged)."
    fi
    echo
    if [ -n "${R[w2b]:-}" ]; then
        echo "## Two workers"
        echo
        echo "b, c and d again with \`worker_processes 2\`, each worker pinned to its own core (\`worker_cpu_affinity 01 10\`, nginx's own taskset); wrk ($THREADS threads, $CONNS connections) and the mock (one worker) float over the same 2 cores, so all of them share the cores and the ratios, not the totals, are the result. $W2_ROUNDS interleaved rounds of 1 s warm-up + ${ROUND_SECONDS} s; the rows are the median round, the ratios the median of the rounds'."
        echo
        echo "| case | req/s | p50 | p99 | req/s vs b |"
        echo "| --- | ---: | ---: | ---: | ---: |"
        for k in b c d; do
            line=${R[w2$k]}
            local v2; v2=1.000; [ $k = b ] || v2=${RATIO[w2$k]}
            echo "| $k (2 workers) | $(num "$(field "$line" rps | cut -d. -f1)") | $(us "$(field "$line" p50_us)") | $(us "$(field "$line" p99_us)") | $v2 |"
        done
        echo
        echo "The gap, process by process (as in the table of the one-worker cases; proxy CPU: both workers together):"
        echo
        cpu_table w2
        local c1 c2
        printf 'From one worker to two, the proxy'"'"'s CPU per request (both workers) goes'
        for k in b c d; do
            c1=$(fmed "$k" proxy_cpu_us "$NROUNDS"); c2=$(fmed "w2$k" proxy_cpu_us "$W2_ROUNDS")
            printf '%s %s: %s → %s µs (%s)' "$( [ $k = b ] || echo ';')" "$k" "$c1" "$c2" \
                "$(awk -v a="$c1" -v b="$c2" 'BEGIN { if (a > 0) printf "%+.0f %%", (b / a - 1) * 100 }')"
        done
        echo ". What c and d add over b's change is what the two workers cost each other (the shared zone's lock, cache lines both write)${CG_LOCKS:+; with one worker, callgrind counts $CG_LOCKS per request}."
        echo
    fi
    if [ -n "${R[d100k]:-}" ]; then
        echo "## Tag query on $(num "$BIG_ENTRIES") entries"
        echo
        echo "A third airouter (one worker) whose catalogue is generated as case d's: $(num "$BIG_ENTRIES") (channel, model) entries on $BIG_CHANNELS channels, each serving a contiguous slice of the same pool of models ($(num "$BIG_MODELS") models once a channel's repeated ids are merged); \`$QUERY_D\` matches $(num "$BIG_MATCHED"). Plain nginx (b) and it in $BIG_ROUNDS interleaved rounds of 1 s warm-up + ${ROUND_SECONDS} s; the rows are the median round, the ratio the median of the rounds', \"CPU\" b's proxy CPU per request over d's (median)."
        echo
        echo "| case | req/s | p50 | p99 | req/s vs b |"
        echo "| --- | ---: | ---: | ---: | ---: |"
        for k in bigb d100k; do
            line=${R[$k]}
            echo "| $( [ $k = bigb ] && echo b || echo "d, $(num "$BIG_ENTRIES") entries") | $(num "$(field "$line" rps | cut -d. -f1)") | $(us "$(field "$line" p50_us)") | $(us "$(field "$line" p99_us)") | $( [ $k = bigb ] && echo 1.000 || echo "${RATIO[bigd]} (CPU ${CPUR[bigd]})") |"
        done
        echo
        echo "| | |"
        echo "| --- | --- |"
        echo "| start-up (nginx started → \`/health\` answers, catalogue built from the $BIG_CHANNELS models files) | $(awk -v v="$BIG_START_MS" 'BEGIN { printf "%.1f s", v / 1000 }') |"
        echo "| shared zone used (\`/health\` → \`zone.used\`) | $(num "$BIG_ZONE_USED") B of $(num "$BIG_ZONE_SIZE") ($(awk -v u="$BIG_ZONE_USED" -v n="$BIG_MODELS" 'BEGIN { printf "%.0f", u / n }') B per model) |"
        echo "| worker RSS after start / after the load | $(mb "$BIG_RSS0") / $(mb "$BIG_RSS1") |"
        echo
    fi
    echo "## Idle latency (one request at a time)"
    echo
    echo "$SEQ sequential requests per case over one keepalive connection (curl \`time_total\`), no other benchmark load; in $ROUNDS rounds with the cases taking turns. At this scale (tens of µs) other work on the machine shows: compare medians, not p99."
    echo
    echo "\"proxy CPU\": the CPU time of the serving worker (the mock's for a, \`schedstat\`, ns) during the case's $SEQ requests, per request."
    echo
    echo "| case | median | p99 | median − b | proxy CPU µs / request |"
    echo "| --- | ---: | ---: | ---: | ---: |"
    local qb; qb=$(echo "${Q[b]}" | cut -d' ' -f1)
    for k in a b c d e; do
        local m p
        m=$(echo "${Q[$k]}" | cut -d' ' -f1); p=$(echo "${Q[$k]}" | cut -d' ' -f2)
        local label=$k
        [ "$k" = e ] && label="e (one fallback each)"
        echo "| $label | $(us "$m") | $(us "$p") | $((m - qb)) µs | $(awk -v ns="${SEQ_NS[$k]:-0}" -v n="$SEQ" 'BEGIN { printf "%.1f", ns / 1e3 / n }') |"
    done
    local qc qe; qc=$(echo "${Q[c]}" | cut -d' ' -f1); qe=$(echo "${Q[e]}" | cut -d' ' -f1)
    echo
    echo "One fallback (a 503 from the first candidate, then the second) costs $((qe - qc)) µs over case c at the median."
    echo
    local icb icc
    icb=$(awk -v ns="${SEQ_NS[b]:-0}" -v n="$SEQ" 'BEGIN { printf "%.1f", ns / 1e3 / n }')
    icc=$(awk -v ns="${SEQ_NS[c]:-0}" -v n="$SEQ" 'BEGIN { printf "%.1f", ns / 1e3 / n }')
    echo "Where the idle gap goes: one request at a time, nothing queues, so c − b is the extra work on the request's path. airouter's worker spends $icc µs of CPU per request against $icb µs for plain nginx's: $(awk -v a="$icb" -v c="$icc" 'BEGIN { printf "%.1f", c - a }') µs more CPU, beside a median latency gap of $((qc0 - qb0)) µs (user space and kernel; callgrind below gives the user-space instructions per request of b, c and d and where they go)."
    echo
    echo "## Streaming"
    echo
    echo "$STREAMS sequential requests per path for a 50-chunk SSE stream (the mock flushes a chunk every ~1 ms, then a usage chunk and \`[DONE]\`), one keepalive connection (b and c in $STREAM_ROUNDS rounds, taking turns); curl's \`time_starttransfer\` (TTFB) and \`time_total\`."
    echo
    echo "| path | TTFB median | TTFB p99 | total median | total p99 | TTFB − b |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    for k in b c f; do
        [ -n "${S[$k]:-}" ] || continue
        set -- ${S[$k]}
        echo "| $k | $(us "$1") | $(us "$2") | $(us "$3") | $(us "$4") | $(( $1 - tb )) µs |"
    done
    echo
    if [ -n "${PK_STOCK_STREAM:-}" ]; then
        echo "f: the stock Portkey gateway answers every stream on Node $(node --version) with \`${PK_STOCK_STREAM}\` and logs \`TypeError: immutable\` (a known bug: Portkey-AI/gateway#1550, #1389). The f row is the same gateway with [lib/portkey-stream-fix.mjs](lib/portkey-stream-fix.mjs) preloaded, which gives it upstream responses with mutable headers (what its proposed fix, PR #1551, does); case f above runs the stock gateway."
        echo
    fi
    echo "## Streaming relay"
    echo
    echo "$RELAY_STREAMS streams in a row per path over one keepalive connection (one curl), each $RELAY_EVENTS SSE chat chunks of ~165 bytes that the mock sends back to back, one HTTP chunk each, then a usage event and \`[DONE]\` ($(num "$RELAY_BYTES") bytes per stream); the time is the sum of curl's \`time_total\`, the best of three rounds. Every stream is checked whole (status, size, event count, \`[DONE]\`)."
    echo
    echo "| path | $RELAY_STREAMS streams | per stream | MB/s | µs per event | throughput vs b |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    for k in a b c; do
        awk -v t="${RL[$k]}" -v n="$RELAY_STREAMS" -v e="$RELAY_EVENTS" -v by="$RELAY_BYTES" -v tb="${RL[b]}" -v k="$k" 'BEGIN {
            printf "| %s | %.3f s | %.1f ms | %.0f | %.2f | %.3f |\n", k, t, t / n * 1000,
                by * n / t / 1048576, t / n / e * 1e6, tb / t }'
    done
    echo
    echo "a: the mock directly; b: plain nginx \`proxy_pass\` with \`proxy_buffering off\`; c: airouter (\`bench/relay-model\`). Rounds: a ${RL[a1]} / ${RL[a2]} / ${RL[a3]} s, b ${RL[b1]} / ${RL[b2]} / ${RL[b3]} s, c ${RL[c1]} / ${RL[c2]} / ${RL[c3]} s."
    echo
    echo "## Memory"
    echo
    echo "airouter's worker(s) (\`VmRSS\` from /proc) and its shared zone (\`GET /health\` → \`zone.used\`, of $(num "$(grep -o '"size":[0-9]*' "$DATA/health.json" | cut -d: -f2)") bytes)."
    echo
    echo "| moment | worker RSS | zone used |"
    echo "| --- | ---: | ---: |"
    echo "| after start (catalogue loaded, no request yet) | $(mb "$rss_start") | $(num "$zone_start") B |"
    echo "| after the checks and cases a, b | $(mb "$rss_before_c") | |"
    echo "| after cases c–f | $(mb "$rss_after_cases") | |"
    if [ -n "$mem100k" ]; then
        set -- $mem100k
        echo "| memory series, after $(num "$2") more requests | $(mb "$3") | $(num "$4") B |"
    fi
    echo "| end ($(num "$air_total") requests served by airouter in all) | $(mb "$rss_last") | $(num "$(awk '!/^#/ {v = $4} END {print v}' "$DATA/memory.dat")") B |"
    echo
    echo "Series: $MEM_DONE wrk runs of $MEM_SECONDS s each (at least $MEM_RUNS, then on to $(num "$MEM_REQUESTS") requests), the bodies of c, d and e in turn, sampled after each run$( [ "$MEM_DONE" -le 15 ] || echo " (one in $(( (MEM_DONE + 11) / 12 )) here, and the last; all of them in \`bench/out/data/memory.dat\`)"):"
    echo
    echo "| after | requests | worker RSS (kB) | zone used (B) |"
    echo "| ---: | ---: | ---: | ---: |"
    # at most about a dozen rows: every k-th sample and the last
    awk -v n="$MEM_DONE" 'BEGIN { k = (n <= 15) ? 1 : int((n + 11) / 12) }
        !/^#/ && ($1 % k == 0 || $1 == n) { print $5, $2, $3, $4 }' "$DATA/memory.dat" \
    | while read -r t n r z; do
        echo "| $t s | $(num "$n") | $(num "$r") | $(num "$z") |"
    done
    echo
    if [ "$PROFILED" = 1 ]; then
        echo "## Where the time goes"
        echo
        if [ "${PERF_OK:-0}" = 1 ]; then
            # obj F CPU PATTERN: µs of CPU per request spent in objects matching PATTERN
            obj() { awk -v cpu="$2" -v pat="$3" '$0 ~ pat { s += $1 } END { printf "%.1f", s * cpu / 100 }' "$1"; }
            local pb=$OUT/profile/perf-b.txt pc=$OUT/profile/perf-c.txt cb0 cc0
            cb0=$(cut -d' ' -f1 "$OUT/profile/perf-b-cpu.txt"); cc0=$(cut -d' ' -f1 "$OUT/profile/perf-c-cpu.txt")
            echo "**Summary.** Under perf, airouter's worker spends **$cc0 µs of CPU per request against $cb0 µs** for plain nginx's worker (busy $(cut -d' ' -f2 "$OUT/profile/perf-c-cpu.txt")% and $(cut -d' ' -f2 "$OUT/profile/perf-b-cpu.txt")% of a core): if the proxy's own work set the pace, c/b would be $(ratio "$cb0" "$cc0"); the rounds above, without perf, measured CPU b/c ${CPUR[c]} beside the req/s ratio ${RATIO[c]} (rounds ${SPREAD[c]}). The req/s of one run also depends on where the scheduler puts wrk, the mock and the proxy on the $(nproc) shared cores (the \"waiting for a CPU\" column). By object, c vs b, µs per request: JSON library (jansson) $(obj "$pc" "$cc0" jansson) vs $(obj "$pb" "$cb0" jansson); libc (malloc, free, memcpy) $(obj "$pc" "$cc0" 'libc') vs $(obj "$pb" "$cb0" 'libc'); the module's own code $(obj "$pc" "$cc0" airouter) vs 0; nginx $(obj "$pc" "$cc0" '(^| )nginx') vs $(obj "$pb" "$cb0" '(^| )nginx'); kernel $(obj "$pc" "$cc0" kernel) vs $(obj "$pb" "$cb0" kernel). The kernel's share grows although the system calls per request are the same (table below): with a busier worker, more of the kernel time goes to wake-ups and scheduling (\`_raw_spin_unlock_irqrestore\` under \`sock_def_readable\`, \`finish_task_switch\`) on the 2 shared cores. callgrind (below) says which calls the user-space time goes to."
            echo
            echo "\`perf record -e cpu-clock\` (no hardware counters on this VM) on the worker of b and of c, each under the same 5 s wrk load (${CONNS} connections). Share of the worker's CPU samples by object:"
            echo
            local cpub cpuc
            cpub=$(cut -d' ' -f1 "$OUT/profile/perf-b-cpu.txt"); cpuc=$(cut -d' ' -f1 "$OUT/profile/perf-c-cpu.txt")
            echo "| object | b: plain nginx | b: µs CPU / request | c: airouter | c: µs CPU / request |"
            echo "| --- | ---: | ---: | ---: | ---: |"
            awk -v cb="$cpub" -v cc="$cpuc" 'FNR == 1 { f++ }
                 { p = $1; $1 = ""; sub(/^ +/, ""); sub(/ *\(deleted\)$/, ""); sub(/ +$/, ""); o[$0] = 1; v[f, $0] = p + 0 }
                 END { for (k in o) printf "| %s | %s | %s | %s | %s |\n", k,
                           (v[1, k] ? v[1, k] "%" : "–"), (v[1, k] ? sprintf("%.1f", v[1, k] * cb / 100) : "–"),
                           (v[2, k] ? v[2, k] "%" : "–"), (v[2, k] ? sprintf("%.1f", v[2, k] * cc / 100) : "–") }' \
                "$OUT/profile/perf-b.txt" "$OUT/profile/perf-c.txt" | sort -t'|' -k6 -g -r
            echo "| **all** | 100% | **$cpub** | 100% | **$cpuc** |"
            echo
            echo "The worker's CPU time (utime + stime from /proc) over the profile, divided by the requests served in it; the worker was busy $(cut -d' ' -f2 "$OUT/profile/perf-b-cpu.txt")% (b) and $(cut -d' ' -f2 "$OUT/profile/perf-c-cpu.txt")% (c) of the time."
            echo
            echo "Request rates during the two profiles: b $(field "$(cat "$OUT/profile/perf-b-wrk.txt")" rps) req/s, c $(field "$(cat "$OUT/profile/perf-c-wrk.txt")" rps) req/s. Top symbols of c's worker:"
            echo
            echo '```'
            head -25 "$OUT/profile/perf-c-symbols.txt" | sed 's/ *$//'
            echo '```'
            echo
        fi
        if [ "${STRACE_OK:-0}" = 1 ] && [ -s "$OUT/profile/strace-b.txt" ] && [ -s "$OUT/profile/strace-c.txt" ]; then
            local nb nc
            nb=$(field "$(cat "$OUT/profile/strace-b-wrk.txt")" requests)
            nc=$(field "$(cat "$OUT/profile/strace-c-wrk.txt")" requests)
            echo "System calls per request (\`strace -c\` on the worker during 4 s of the same load, slowed by strace; b served $(num "$nb") requests, c $(num "$nc")):"
            echo
            echo "| system call | b | c |"
            echo "| --- | ---: | ---: |"
            awk -v nb="$nb" -v nc="$nc" 'FNR == 1 { f++ }
                 /^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+/ && $NF != "total" { c[f, $NF] = $4; o[$NF] = 1; t[f] += $4 }
                 END { for (k in o) printf "| %s | %.2f | %.2f |\n", k, c[1, k] / nb, c[2, k] / nc;
                       printf "| **all** | **%.2f** | **%.2f** |\n", t[1] / nb, t[2] / nc }' \
                "$OUT/profile/strace-b.txt" "$OUT/profile/strace-c.txt" | sort -t'|' -k4 -g -r
            echo
        fi
        if [ -s "$OUT/profile/callgrind-self.txt" ]; then
            echo "callgrind on airouter (\`master_process off\`, instrumentation on for the load only), $(num "$CG_REQUESTS") requests of case c: $(num "$(echo "$CG_TOTAL" | tr -d ,)") instructions, $(num "$(awk -v t="$(echo "$CG_TOTAL" | tr -d ,)" -v n="$CG_REQUESTS" 'BEGIN { if (n > 0) printf "%d", t / n }')") per request (kernel time not counted). Top functions by own instructions:"
            echo
            echo '```'
            sed -n '1,25{s/ *$//;p}' "$OUT/profile/callgrind-self.txt"
            echo '```'
            echo
            local jl jd jx pct
            # a function no longer called (json_dumpb since the body
            # splice) is 0%, not the end of the report under set -e
            pct() { grep -m1 -E "[ :]$1 \\[" "$OUT/profile/callgrind-incl.txt" | sed -E 's/^[^(]*\( *([0-9.]+)%\).*/\1/' || true; }
            jl=$(pct json_loadb); jd=$(pct json_dumpb); jx=$(pct json_delete)
            echo "JSON through jansson, inclusive: \`json_loadb\` ${jl:-0}% (parsing), \`json_dumpb\` ${jd:-0}% (serialising), \`json_delete\` ${jx:-0}% (freeing) of airouter's user-space instructions per request."
            echo
            if [ -s "$OUT/profile/callgrind-json-callers.txt" ]; then
                echo "Who calls them (\`<\` caller, with its calls; \`*\` the function; inclusive instructions):"
                echo
                echo '```'
                sed 's/ *$//' "$OUT/profile/callgrind-json-callers.txt"
                echo '```'
                echo
            fi
            if [ -n "${CG_PER[b]:-}" ] || [ -n "${CG_PER[d]:-}" ]; then
                echo "Instructions per request under the same callgrind load (user space, the nginx process alone): b (plain nginx) $(num "${CG_PER[b]:-}"), c $(num "${CG_PER[c]:-}"), d (tag query) $(num "${CG_PER[d]:-}")."
                echo
                if [ -s "$OUT/profile/callgrind-d-self.txt" ]; then
                    echo "Case d, top functions by own instructions:"
                    echo
                    echo '```'
                    sed 's/ *$//' "$OUT/profile/callgrind-d-self.txt"
                    echo '```'
                    echo
                fi
            fi
            goals_profile "$OUT/profile"
            echo "Inclusive (a function and what it calls):"
            echo
            echo '```'
            # sed reads to the end (head would leave grep a closed pipe:
            # SIGPIPE, and set -o pipefail ends the report)
            sed 's/ *$//' "$OUT/profile/callgrind-incl.txt" | grep -v -E '\?\?\?:0x|_dl_|valgrind|vgpreload' | sed -n '1,35p'
            echo '```'
            echo
        fi
    fi
    echo "![results](results.png)"
    } > "$md"

    # --- the chart -----------------------------------------------------------
    {
        for k in a b c d e f; do
            line=${R[$k]:-}
            [ -n "$line" ] || continue
            echo "$k $(field "$line" rps) $(field "$line" p50_us) $(field "$line" p99_us)"
        done
    } > "$DATA/cases.dat"
    gnuplot <<EOG 2>"$DATA/gnuplot.err" || log "gnuplot failed: $(cat "$DATA/gnuplot.err")"
set terminal pngcairo size 1500,500 font "sans,10"
set output "$png"
set multiplot layout 1,3 title "airouter benchmark, $START_DATE, $(nproc) CPUs, wrk -t$THREADS -c$CONNS -d${DURATION}s"
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.8
set grid ytics
set key top right
set title "throughput (req/s, log scale)"
set logscale y
set yrange [10:*]
plot "$DATA/cases.dat" using 2:xtic(1) title "req/s" lc rgb "#3b7dd8"
unset logscale y
set yrange [0:*]
set title "latency (ms)"
set style histogram clustered gap 1
set logscale y
set yrange [0.01:10000]
set key top left
plot "$DATA/cases.dat" using (\$3/1000):xtic(1) title "p50" lc rgb "#56a64b", \
     "" using (\$4/1000) title "p99" lc rgb "#d8703b"
unset logscale y
set style data linespoints
set key bottom right
set title "airouter worker RSS and zone over the memory series"
set xlabel "requests (thousands)"
set ylabel "RSS (MB)"
set y2label "zone used (MB)"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set autoscale xfix
plot "$DATA/memory.dat" using (\$2/1000):(\$3/1024) title "worker RSS" lw 2 lc rgb "#3b7dd8", \
     "" using (\$2/1000):(\$4/1048576) axes x1y2 title "zone used" lw 2 lc rgb "#d8703b"
unset multiplot
EOG
}
