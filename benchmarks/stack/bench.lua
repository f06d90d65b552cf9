-- wrk script for compare.py.
--   wrk ... -s bench.lua URL -- get  <prefix> <nkeys>   random GET of <prefix>k00000..k<nkeys-1>
--   wrk ... -s bench.lua URL -- put  <prefix>           PUT 4 KiB to unique keys <prefix>-<thread>-<n>
--   wrk ... -s bench.lua URL -- path <path>             GET one fixed path
-- done() prints one line "WRKJSON {...}" with the summary (latencies in microseconds).

local threads_n = 0
function setup(thread)
  threads_n = threads_n + 1
  thread:set("tid", threads_n)
end

local mode, prefix, reqs, nkeys, counter, body

function init(args)
  mode = args[1] or "path"
  counter = 0
  if mode == "get" then
    prefix = args[2] or "/o/"
    nkeys = tonumber(args[3] or "1000")
    reqs = {}
    for i = 0, nkeys - 1 do
      reqs[i + 1] = wrk.format("GET", string.format("%sk%05d", prefix, i))
    end
    math.randomseed(tid * 7919)
  elseif mode == "put" then
    prefix = args[2] or "/o/put"
    body = string.rep("x", 4096)
  else
    reqs = { wrk.format("GET", args[2] or "/") }
  end
end

function request()
  if mode == "get" then
    return reqs[math.random(nkeys)]
  elseif mode == "put" then
    counter = counter + 1
    return wrk.format("PUT", prefix .. "-" .. tid .. "-" .. counter,
      { ["Content-Type"] = "application/octet-stream" }, body)
  end
  return reqs[1]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"lat_mean_us":%.1f,"lat_p50_us":%d,"lat_p90_us":%d,"lat_p99_us":%d,"lat_max_us":%d,"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
