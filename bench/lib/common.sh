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
