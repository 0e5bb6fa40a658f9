# Helpers for bench/run (sourced).  Everything listens on 127.0.0.1 only,
# every wait is bounded, and every process started is recorded in
# $OUT/pids so that the EXIT trap can stop it.

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# render TEMPLATE DEST PREFIX PORT: fill in the @...@ values
render() {
    sed -e "s|@PREFIX@|$3|g" -e "s|@PORT@|$4|g" -e "s|@MOCK@|$MOCK_PORT|g" \
        -e "s|@RELAY@|${RELAY_PORT:-$MOCK_PORT}|g" \
        -e "s|@AFFINITY@|${AFFINITY:-}|g" \
        -e "s|@WORKERS@|$WORKERS|g" -e "s|@MOCK_WORKERS@|$MOCK_WORKERS|g" \
        -e "s|@MODULE@|$MODULE|g" -e "s|@ECHO_SO@|$ECHO_SO|g" \
        -e "s|@USER@|$(id -un)|g" "$1" > "$2"
}

# wait_http URL [tries]: until URL answers at all (bounded, 0.1 s steps)
wait_http() {
    local i
    for i in $(seq "${2:-100}"); do
        curl -s -o /dev/null --max-time 1 "$1" && return 0
        sleep 0.1
    done
    return 1
}

# port_free PORT: nothing listens on 127.0.0.1:PORT (or *:PORT)
port_free() {
    ! ss -Htln "( sport = :$1 )" 2>/dev/null | grep -q .
}

# start_nginx NAME: nginx with $OUT/NAME/nginx.conf as its prefix
start_nginx() {
    local p=$OUT/$1
    mkdir -p "$p/temp"
    "$NGINX" -p "$p" -c "$p/nginx.conf" -t -q 2>"$p/start.err" \
        || { cat "$p/start.err" >&2; die "nginx -t for $1"; }
    "$NGINX" -p "$p" -c "$p/nginx.conf" 2>>"$p/start.err" \
        || { cat "$p/start.err" >&2; die "nginx start for $1"; }
    local i
    for i in $(seq 50); do [ -s "$p/nginx.pid" ] && break; sleep 0.1; done
    [ -s "$p/nginx.pid" ] || die "no pid file for $1"
    echo "nginx $(cat "$p/nginx.pid")" >> "$OUT/pids"
}

stop_all() {
    [ -f "$OUT/pids" ] || return 0
    local kind pid i
    while read -r kind pid; do
        [ -n "$pid" ] || continue
        if [ "$kind" = nginx ]; then kill -QUIT "$pid" 2>/dev/null || true
        else kill -TERM "$pid" 2>/dev/null || true; fi
    done < "$OUT/pids"
    for i in $(seq 50); do
        local alive=0
        while read -r kind pid; do
            kill -0 "$pid" 2>/dev/null && alive=1
        done < "$OUT/pids"
        [ $alive = 0 ] && break
        sleep 0.1
    done
    while read -r kind pid; do
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    done < "$OUT/pids"
    rm -f "$OUT/pids"
}

# worker_pids NAME: the worker processes of nginx NAME
worker_pids() {
    local master
    master=$(cat "$OUT/$1/nginx.pid")
    pgrep -P "$master" 2>/dev/null | while read -r w; do
        grep -q 'worker process' "/proc/$w/cmdline" 2>/dev/null && echo "$w"
    done
}

# rss_kb PID...: the sum of VmRSS in kB
rss_kb() {
    local sum=0 pid v
    for pid in "$@"; do
        v=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}

# zone_used: bytes used in airouter's shared zone (GET /health)
zone_used() {
    curl -s --max-time 5 "http://127.0.0.1:$AIR_PORT/health" \
        | grep -o '"used":[0-9]*' | head -1 | cut -d: -f2
}

# wrk_run SECONDS URL BODY [HEADERS]: one wrk run, prints its BENCH line
wrk_run() {
    BENCH_BODY=$3 BENCH_HEADERS=${4:-} \
        timeout $(( $1 + 30 )) wrk -t"$THREADS" -c"$CONNS" -d"$1s" --timeout 5s \
        -s "$LIB/post.lua" "$2" 2>&1 | grep '^BENCH ' || true
}

# field LINE NAME: the value of NAME=... in a BENCH line
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# proc_snap PID...: what the kernel accounted to every thread of the
# processes so far, summed: "run_ns wait_ns voluntary involuntary
# migrations threads".  run_ns is the CPU time (/proc/PID/task/*/schedstat,
# nanoseconds, not clock ticks), wait_ns the time spent runnable but
# waiting for a CPU (what sharing 2 cores costs a process), voluntary the
# context switches where it slept (epoll_wait with nothing to do),
# involuntary the ones where the scheduler took the CPU away, migrations
# the moves from one CPU to the other.
proc_snap() {
    local pid files=()
    for pid in "$@"; do
        files+=(/proc/"$pid"/task/*/schedstat /proc/"$pid"/task/*/status
                /proc/"$pid"/task/*/sched)
    done
    awk 'FILENAME ~ /schedstat$/ { r += $1; w += $2; t++; nextfile }
         /^voluntary_ctxt_switches/ { v += $2 }
         /^nonvoluntary_ctxt_switches/ { n += $2; nextfile }
         /^se\.nr_migrations/ { m += $3; nextfile }
         END { printf "%.0f %.0f %.0f %.0f %.0f %.0f\n", r, w, v, n, m, t }' \
        "${files[@]}" 2>/dev/null || echo "0 0 0 0 0 0"
}

# per_request BEFORE AFTER REQUESTS WALL_NS: from two proc_snap lines,
# "cpu_us wait_us vcs ivcs migr_per_1k busy_pct threads" per request
per_request() {
    awk -v a="$1" -v b="$2" -v n="$3" -v ns="$4" 'BEGIN {
        split(a, x, " "); split(b, y, " ");
        if (n <= 0) n = 1; if (ns <= 0) ns = 1;
        printf "%.1f %.1f %.3f %.3f %.2f %.0f %d\n",
            (y[1] - x[1]) / 1e3 / n, (y[2] - x[2]) / 1e3 / n,
            (y[3] - x[3]) / n, (y[4] - x[4]) / n, (y[5] - x[5]) * 1000 / n,
            100 * (y[1] - x[1]) / ns, y[6] }'
}

# wrk_cpu_run SECONDS URL BODY PIDFILE-PREFIX: like wrk_run, but also
# accounts the CPU of the processes whose pids are listed in $CPU_PIDS_<k>
# (k = proxy, mock): prints the BENCH line plus " proxy=..." "mock=..."
# "wrk=<cpu_us per request>" fields (see per_request for the order)
wrk_cpu_run() {
    local secs=$1 url=$2 body=$3 p0 m0 p1 m1 t0 t1 line n tf
    tf=$(mktemp)
    p0=$(proc_snap $CPU_PROXY); m0=$(proc_snap $CPU_MOCK); t0=$(date +%s%N)
    if [ -x /usr/bin/time ]; then
        line=$(BENCH_BODY=$body /usr/bin/time -f 'TIME %U %S' -o "$tf" \
            timeout $((secs + 30)) wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" \
            --timeout 5s -s "$LIB/post.lua" "$url" 2>&1 | grep '^BENCH ' || true)
    else
        line=$(wrk_run "$secs" "$url" "$body")
    fi
    p1=$(proc_snap $CPU_PROXY); m1=$(proc_snap $CPU_MOCK); t1=$(date +%s%N)
    n=$(field "$line" requests)
    [ -n "$line" ] || { rm -f "$tf"; return 0; }
    local pr mr wr
    pr=$(per_request "$p0" "$p1" "${n:-0}" $((t1 - t0)))
    mr=$(per_request "$m0" "$m1" "${n:-0}" $((t1 - t0)))
    wr=$(awk -v n="${n:-1}" '/^TIME/ { printf "%.1f", ($2 + $3) * 1e6 / n }' "$tf")
    rm -f "$tf"
    set -- $pr
    printf '%s proxy_cpu_us=%s proxy_wait_us=%s proxy_vcs=%s proxy_ivcs=%s proxy_migr_1k=%s proxy_busy=%s proxy_threads=%s' \
        "$line" "$1" "$2" "$3" "$4" "$5" "$6" "$7"
    set -- $mr
    printf ' mock_cpu_us=%s mock_wait_us=%s wrk_cpu_us=%s\n' "$1" "$2" "${wr:-n/a}"
}
