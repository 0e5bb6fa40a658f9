-- wrk script: POST $BENCH_BODY as JSON (with the headers in $BENCH_HEADERS,
-- "Name: value" separated by "|"), and print one machine-readable line
-- at the end for bench/run.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or '{"model":"x","messages":[]}'
wrk.headers["Content-Type"] = "application/json"

local extra = os.getenv("BENCH_HEADERS") or ""
for name, value in string.gmatch(extra, "([^:|]+):%s*([^|]*)") do
    wrk.headers[name] = value
end

-- $BENCH_BODY2 and $BENCH_BODY3: requests take the bodies in turn (the
-- memory runs mix cases c, d and e)
local bodies = { wrk.body, os.getenv("BENCH_BODY2"), os.getenv("BENCH_BODY3") }
if bodies[2] then
    local n, i = #bodies, 0
    local reqs = {}
    function init(args)
        for k = 1, n do reqs[k] = wrk.format(nil, nil, nil, bodies[k]) end
    end
    function request()
        i = i % n + 1
        return reqs[i]
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d "
        .. "mean_us=%.1f max_us=%d connect_err=%d read_err=%d write_err=%d "
        .. "timeout_err=%d status_err=%d\n",
        summary.requests, summary.duration,
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency.mean, latency.max, e.connect, e.read, e.write, e.timeout,
        e.status))
end
