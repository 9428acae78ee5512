-- wrk script of bench_api.py. The request comes from the environment:
--   BENCH_MODE     get | order | validate
--   BENCH_AUTH     the Authorization header (empty: none)
--   BENCH_CUSTOMER the customer's public id (validate)
--   BENCH_ORDER_BODY the order's JSON, with __NUMBER__ where each request puts a new order number
--   BENCH_COUPON   the coupon code (validate)
--   BENCH_RUN      a run id, so order numbers are new on every run
-- `done` prints one line that bench_api.py reads: requests, seconds, p50/p95/p99/mean in ms, errors.

local mode = os.getenv("BENCH_MODE") or "get"
local auth = os.getenv("BENCH_AUTH") or ""
local customer = os.getenv("BENCH_CUSTOMER") or ""
local coupon = os.getenv("BENCH_COUPON") or ""
local run = os.getenv("BENCH_RUN") or "0"
local order_body = os.getenv("BENCH_ORDER_BODY") or ""

local threads = {}
local counter = 0

function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

local function headers(extra)
   local h = {["Accept"] = "application/json"}
   if auth ~= "" then h["Authorization"] = auth end
   for name, value in pairs(extra or {}) do h[name] = value end
   return h
end

function request()
   if mode == "order" then
      counter = counter + 1
      local number = string.format("BENCH-%s-%d-%d", run, tid, counter)
      local body = order_body:gsub("__NUMBER__", number)
      return wrk.format("POST", nil, headers({["Content-Type"] = "application/json", ["Idempotency-Key"] = number}), body)
   elseif mode == "validate" then
      local body = string.format('{"code":"%s","customer":"%s","order_value":"120.00"}', coupon, customer)
      return wrk.format("POST", nil, headers({["Content-Type"] = "application/json"}), body)
   end
   return wrk.format("GET", nil, headers(), nil)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("BENCH_RESULT %d %.3f %.3f %.3f %.3f %.3f %d %d\n",
      summary.requests, summary.duration / 1e6,
      latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.mean / 1000,
      e.status, e.connect + e.read + e.write + e.timeout))
end
