-- wrk script: each client loads the citizen form, then submits it with its cookie, CSRF token
-- and submission id (a queue per thread hands GET results to the next POST of any connection).
queue = {}
posts, post_ok, post_fail, gets = 0, 0, 0, 0
local form_path = os.getenv("FORM_PATH")
local answers = os.getenv("ANSWERS")

request = function()
  local item = table.remove(queue)
  if item then
    local body = "csrf_token=" .. item.csrf .. "&submission_id=" .. item.sid .. "&" .. answers
    return wrk.format("POST", form_path, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Cookie"] = item.cookie,
      ["X-Kind"] = "post",
    }, body)
  end
  return wrk.format("GET", form_path, {["X-Kind"] = "get"})
end

response = function(status, headers, body)
  local csrf = body:match('name="csrf_token" value="([^"]+)"')
  if csrf then
    gets = gets + 1
    local sid = body:match('id="submission_id" name="submission_id" type="hidden" value="([^"]+)"')
    -- the device cookie carries the public form's CSRF binding (no session on /f/ since issue 17);
    -- an older build sent a session cookie instead
    local set = headers["Set-Cookie"] or headers["set-cookie"] or ""  -- granian sends lower case
    local cookie = set:match("(session=[^;]+)") or set:match("(dv=[^;]+)")
    if sid and cookie then table.insert(queue, {csrf = csrf, sid = sid, cookie = cookie}) end
  else
    posts = posts + 1
    if status == 200 then post_ok = post_ok + 1 else post_fail = post_fail + 1 end
  end
end

local threads = {}
setup = function(thread) table.insert(threads, thread) end

done = function(summary, latency, requests)
  local ok, fail, g = 0, 0, 0
  for _, t in ipairs(threads) do
    ok = ok + t:get("post_ok"); fail = fail + t:get("post_fail"); g = g + t:get("gets")
  end
  io.write(string.format("RESULT gets=%d posts_ok=%d posts_failed=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f\n",
    g, ok, fail, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
