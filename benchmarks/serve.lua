-- wrk script for benchmarks/serve.py: round-robins pre-signed requests read from a file.
--
--   wrk -t N -s serve.lua URL -- <request-file> <body-file or ""> <N>
--
-- <request-file> has one request a line: "METHOD<TAB>PATH[<TAB>Header: value]...". The paths
-- carry their own (pre-computed, query-string) signature, so no signing happens here. Thread t of
-- n takes lines t, t+n, t+2n, ... and cycles through them. A PUT sends the whole <body-file>.
-- done() prints one line "WRKJSON {...}" (latencies in microseconds).

local threads_n = 0
function setup(thread)
  threads_n = threads_n + 1
  thread:set("tid", threads_n)
end

local lines, body, nreq, cursor, cache

local function split(line)
  local fields = {}
  for f in string.gmatch(line, "[^\t]+") do
    fields[#fields + 1] = f
  end
  return fields
end

function init(args)
  -- wrk runs setup() then init() thread by thread, so the total comes as an argument
  local nthreads = tonumber(args[3] or "1") or 1
  lines, cache, cursor = {}, {}, 0
  local all = {}
  for line in io.lines(args[1]) do
    if #line > 0 then
      all[#all + 1] = line
    end
  end
  if nthreads < 1 then
    nthreads = 1
  end
  for i = tid, #all, nthreads do
    lines[#lines + 1] = split(all[i])
  end
  if #lines == 0 then
    -- more threads than requests: every thread takes them all
    for i = 1, #all do
      lines[i] = split(all[i])
    end
  end
  nreq = #lines
  if args[2] and args[2] ~= "" then
    local f = assert(io.open(args[2], "rb"))
    body = f:read("*a")
    f:close()
  end
end

local function build(fields)
  local headers = {}
  for i = 3, #fields do
    local name, value = string.match(fields[i], "^([^:]+):%s*(.*)$")
    if name then
      headers[name] = value
    end
  end
  if fields[1] == "PUT" then
    return wrk.format("PUT", fields[2], headers, body or "")
  end
  return wrk.format(fields[1], fields[2], headers)
end

function request()
  cursor = cursor % nreq + 1
  local fields = lines[cursor]
  if fields[1] == "PUT" then
    -- not cached: a 1 MiB body times thousands of keys would not fit in LuaJIT's heap
    return build(fields)
  end
  local req = cache[cursor]
  if req == nil then
    req = build(fields)
    cache[cursor] = req
  end
  return req
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"lat_mean_us":%.1f,"lat_p50_us":%d,'
      .. '"lat_p90_us":%d,"lat_p99_us":%d,"lat_max_us":%d,"err_connect":%d,"err_read":%d,'
      .. '"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
