# Where the time goes (sourced by bench/run when c/b misses its target,
# or with BENCH_PROFILE=1).  Two views:
#
#  1. perf (cpu-clock sampling; this VM has no hardware counters): the
#     worker of plain nginx (b) and of airouter (c), each under the same
#     5 s wrk load, split by shared object, plus airouter's top symbols.
#  2. callgrind: airouter alone (master_process off) under a short, light
#     wrk load of case c, instrumentation switched on only for the load
#     (start-up, i.e. the catalogue build, is not counted): the top
#     functions by instructions, self and inclusive; then the same for
#     case d (its top functions too) and for plain nginx (b): instructions
#     per request of b, c and d.
#
# Writes $OUT/profile/{perf-b,perf-c,callgrind-self,callgrind-incl}.txt,
# which report.sh quotes, and cg-requests.txt, callgrind-{c,d}-incl-all.txt,
# which lib/goals.sh renders.

profile_airouter() {
    local P=$OUT/profile pid i w
    mkdir -p "$P/temp"

    # --- 1. perf: DSO split of b's and c's worker, same load ---------------
    if command -v perf >/dev/null 2>&1 \
        && perf record -e cpu-clock -o "$P/perf-test.data" true >/dev/null 2>&1
    then
        for k in b c; do
            if [ $k = b ]; then w=$(worker_pids plain | head -1); url=$URL_B; body=$BODY_PLAIN
            else w=$(worker_pids airouter | head -1); url=$URL_AIR; body=$BODY_C; fi
            log "profile: perf on the $k worker ($w), 5 s of wrk"
            ( wrk_run 7 "$url" "$body" > "$P/perf-$k-wrk.txt" ) &
            local wp=$!
            sleep 1
            local t0 t1 c0 c1
            c0=$(awk '{print $14 + $15}' "/proc/$w/stat"); t0=$(date +%s%N)
            timeout 30 perf record -e cpu-clock -F 999 -g -p "$w" -o "$P/perf-$k.data" \
                -- sleep 5 >/dev/null 2>&1 || true
            c1=$(awk '{print $14 + $15}' "/proc/$w/stat"); t1=$(date +%s%N)
            wait "$wp" || true
            # the worker's CPU time per request (clock ticks -> µs), and its
            # busy share of one core, over the perf window
            local hz rps
            hz=$(getconf CLK_TCK)
            rps=$(field "$(cat "$P/perf-$k-wrk.txt")" rps)
            awk -v c="$((c1 - c0))" -v hz="$hz" -v ns="$((t1 - t0))" -v r="$rps" 'BEGIN {
                    cpu = c / hz; wall = ns / 1e9;
                    printf "%.1f %.0f\n", cpu * 1e6 / (r * wall), 100 * cpu / wall }' \
                > "$P/perf-$k-cpu.txt"
            perf report -i "$P/perf-$k.data" --no-children --sort dso --stdio -g none \
                2>/dev/null | grep '%' | grep -v '^#' | head -12 > "$P/perf-$k.txt" || true
            perf report -i "$P/perf-$k.data" --no-children --sort dso,symbol --stdio -g none \
                2>/dev/null | grep '%' | grep -v '^#' | head -40 > "$P/perf-$k-symbols.txt" || true
        done
        PERF_OK=1
    else
        PERF_OK=0
    fi

    # --- 1b. strace -c: system calls per request, b and c ---------------------
    if command -v strace >/dev/null 2>&1; then
        for k in b c; do
            if [ $k = b ]; then w=$(worker_pids plain | head -1); url=$URL_B; body=$BODY_PLAIN
            else w=$(worker_pids airouter | head -1); url=$URL_AIR; body=$BODY_C; fi
            timeout -s INT 6 strace -c -p "$w" -o "$P/strace-$k.txt" 2>/dev/null &
            local sp=$!
            sleep 0.5
            wrk_run 4 "$url" "$body" > "$P/strace-$k-wrk.txt"
            wait "$sp" 2>/dev/null || true
        done
        STRACE_OK=1
    fi

    # --- 2. callgrind: c, then d and b for their instructions per request ---
    command -v valgrind >/dev/null 2>&1 || return 1
    sed -e "s|$OUT/airouter|$P|g" -e "s|127.0.0.1:$AIR_PORT|127.0.0.1:$PROF_PORT|" \
        -e "s|airouter_config .*;|airouter_config $OUT/airouter/router_config.yaml;|" \
        -e "s|airouter_zone .*;|airouter_zone airouter_prof 32m;|" \
        -e "s|^worker_processes.*|worker_processes 1;|" \
        -e "s|load_module .*;|load_module $MODULE;|" \
        "$OUT/airouter/nginx.conf" > "$P/nginx.conf"
    mkdir -p "$P/plain/temp"
    sed -e "s|$OUT/plain|$P/plain|g" -e "s|127.0.0.1:$PLAIN_PORT|127.0.0.1:$PROF_PORT|" \
        -e "s|^worker_processes.*|worker_processes 1;|" \
        "$OUT/plain/nginx.conf" > "$P/plain/nginx.conf"
    cg_run c "$P" "$BODY_C" || return 1
    local f short
    f=$(ls -S "$P"/callgrind-c.out* 2>/dev/null | head -1)
    [ -n "$f" ] || return 1
    CG_REQUESTS=$CG_N
    # shorter paths: the module's sources, the libraries' directory
    short='s#/usr/share/nginx/src/\./##; s#\[[^]]*/([^/]*\.so[^]]*)\]#[\1]#; s#^( *[0-9,]+ \([ 0-9.]+%\)) +#\1  #'
    callgrind_annotate --inclusive=no "$f" 2>/dev/null | grep -E '^ *[0-9,]+ ' \
        | grep -v 'PROGRAM TOTALS' | sed -E "$short" | head -30 > "$P/callgrind-self.txt"
    callgrind_annotate --inclusive=yes "$f" 2>/dev/null | grep -E '^ *[0-9,]+ ' \
        | grep -v -E 'PROGRAM TOTALS|\?\?\?:0x|\?\?\?:[a-z_0-9.]+(\x27[0-9]+)?$' \
        | sed -E "$short" | head -45 > "$P/callgrind-incl.txt"
    # who calls the JSON library: the callers of json_loadb and json_dumpb
    callgrind_annotate --tree=caller --inclusive=yes "$f" 2>/dev/null \
        | awk '/^ *[0-9,]+ .*< / { buf = buf $0 "\n"; next }
               /\* .*json_(loadb|dumpb) \[/ { printf "%s%s\n\n", buf, $0 }
               { buf = "" }' \
        | grep -v -E '< \?\?\?:0x' | sed -E "$short" > "$P/callgrind-json-callers.txt"
    CG_TOTAL=$(callgrind_annotate "$f" 2>/dev/null | grep -m1 'PROGRAM TOTALS' | awk '{print $1}')
    # the raw numbers lib/goals.sh renders: requests and instructions per
    # case, every function's inclusive instructions
    echo "c $CG_N $(echo "$CG_TOTAL" | tr -d ,)" > "$P/cg-requests.txt"
    cg_incl "$f" | sed -E "$short" > "$P/callgrind-c-incl-all.txt"
    # d (the tag query) and b (plain nginx): instructions per request, and
    # d's own top functions
    declare -gA CG_PER
    CG_PER[c]=$(awk -v t="$(echo "$CG_TOTAL" | tr -d ,)" -v n="$CG_N" 'BEGIN { if (n > 0) printf "%d", t / n }')
    local k
    for k in d b; do
        if [ $k = d ]; then cg_run d "$P" "$BODY_D" || continue
        else cg_run b "$P/plain" "$BODY_PLAIN" || continue; fi
        f=$(ls -S "$P"/callgrind-$k.out* 2>/dev/null | head -1)
        [ -n "$f" ] || continue
        CG_PER[$k]=$(callgrind_annotate "$f" 2>/dev/null | grep -m1 'PROGRAM TOTALS' \
            | awk -v n="$CG_N" '{ gsub(",", "", $1); if (n > 0) printf "%d", $1 / n }')
        echo "$k $CG_N $(callgrind_annotate "$f" 2>/dev/null | grep -m1 'PROGRAM TOTALS' \
            | awk '{ gsub(",", "", $1); print $1 }')" >> "$P/cg-requests.txt"
        [ $k = d ] && cg_incl "$f" | sed -E "$short" > "$P/callgrind-d-incl-all.txt"
        [ $k = d ] && callgrind_annotate --inclusive=no "$f" 2>/dev/null | grep -E '^ *[0-9,]+ ' \
            | grep -v 'PROGRAM TOTALS' | sed -E "$short" | head -15 > "$P/callgrind-d-self.txt"
        [ $k = d ] && CG_N_D=$CG_N
    done
    # the shared zone's lock: acquisitions per request and who takes it
    # (what two workers pay each other, #16 item 5)
    local lc ld who
    f=$(ls -S "$P"/callgrind-c.out* 2>/dev/null | head -1)
    lc=$(cg_calls "$f" ngx_shmtx_lock)
    who=$(callgrind_annotate --tree=caller "$f" 2>/dev/null | awk '
        /^ *[0-9,]+ .*< / { b = b $0 "\n"; next }
        /  \*  .*:ngx_shmtx_lock / { printf "%s", b }
        { b = "" }' | sed -E 's/.*< [^:]*:([A-Za-z0-9_]+).*/\1/' \
        | sed 's/^ngx_http_airouter_//' | tr '\n' ' ' | sed 's/ $//; s/ /, /g')
    f=$(ls -S "$P"/callgrind-d.out* 2>/dev/null | head -1)
    ld=""; [ -n "$f" ] && ld=$(cg_calls "$f" ngx_shmtx_lock)
    if [ -n "$lc" ] && [ "${CG_REQUESTS:-0}" -gt 0 ]; then
        CG_LOCKS="$(awk -v v="$lc" -v n="$CG_REQUESTS" 'BEGIN { printf "%.1f", v / n }') zone-lock acquisitions (\`ngx_shmtx_lock\`) per request in c (by $who)"
        [ -n "$ld" ] && [ "${CG_N_D:-0}" -gt 0 ] \
            && CG_LOCKS="$CG_LOCKS and $(awk -v v="$ld" -v n="$CG_N_D" 'BEGIN { printf "%.1f", v / n }') in d"
    fi
    return 0
}

# cg_incl FILE: every function's inclusive instructions (callgrind_annotate
# --inclusive=yes, its default 0.1 % threshold), one per line
cg_incl() {
    callgrind_annotate --inclusive=yes "$1" 2>/dev/null | grep -E '^ *[0-9,]+ ' \
        | grep -v 'PROGRAM TOTALS'
}

# cg_calls FILE FUNCTION: how many times FUNCTION was called in a callgrind
# profile (the call counts of its callers, callgrind_annotate --tree=caller)
cg_calls() {
    callgrind_annotate --tree=caller "$1" 2>/dev/null | awk -v fn="$2" '
        /^ *[0-9,]+ .*< / { if (match($0, /\(([0-9,]+)x\)/)) { v = substr($0, RSTART + 1, RLENGTH - 3); gsub(",", "", v); n += v } next }
        /  \*  / { if ($0 ~ (":" fn " ")) t += n; n = 0; next }
        { n = 0 }
        END { print t + 0 }'
}


# cg_run NAME PREFIX BODY: nginx with PREFIX/nginx.conf (master_process off)
# under callgrind, instrumentation on for 8 s of light wrk load only;
# PREFIX/callgrind-NAME.out*, the requests served in $CG_N
cg_run() {
    local name=$1 prefix=$2 body=$3 pid i line
    log "profile: callgrind, case $name"
    rm -f "$OUT/profile/callgrind-$name.out"*
    valgrind --tool=callgrind --instr-atstart=no --dump-instr=no \
        --callgrind-out-file="$OUT/profile/callgrind-$name.out" \
        "$NGINX" -p "$prefix" -c "$prefix/nginx.conf" -g 'daemon off; master_process off;' \
        > "$OUT/profile/valgrind-$name.log" 2>&1 &
    pid=$!
    echo "valgrind $pid" >> "$OUT/pids"
    for i in $(seq 600); do
        kill -0 "$pid" 2>/dev/null || return 1
        curl -s -o /dev/null --max-time 1 -H 'Content-Type: application/json' \
            -d "$body" "http://127.0.0.1:$PROF_PORT/v1/chat/completions" && break
        sleep 0.1
    done
    for i in $(seq 20); do
        curl -s -o /dev/null -H 'Content-Type: application/json' -d "$body" \
            "http://127.0.0.1:$PROF_PORT/v1/chat/completions" || true
    done
    callgrind_control -i on "$pid" >/dev/null 2>&1 || true
    line=$(CONNS=4 THREADS=1 wrk_run 8 \
           "http://127.0.0.1:$PROF_PORT/v1/chat/completions" "$body")
    callgrind_control -i off "$pid" >/dev/null 2>&1 || true
    # the load's counts written now: a loaded machine's valgrind may take
    # longer to exit than the wait below, and a killed one dumps nothing
    callgrind_control -d "$pid" >/dev/null 2>&1 || true
    CG_N=$(field "$line" requests)
    kill -QUIT "$pid" 2>/dev/null || true
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 0
}
