-- wrk script: only GET the citizen form, with the Accept-Encoding a phone sends (ACCEPT_ENCODING)
-- or none (as bench/submit.lua, whose Lua cannot read a compressed page for its tokens).
local accept = os.getenv("ACCEPT_ENCODING")
if accept and accept ~= "" then wrk.headers["Accept-Encoding"] = accept end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.errors.status, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000))
end
