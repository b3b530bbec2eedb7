-- wrk script of bench/throughput.py: POSTs pre-signed Stripe events. Each line of the file
-- (first argument) is "<Stripe-Signature>\t<body>"; thread n of N (second argument) sends
-- lines n, n+N, n+2N, ... in turn, so no two requests carry the same event until a thread
-- has sent all of its share.
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local mine, next_one = {}, 1
function init(args)
  local n, i = tonumber(args[2]), 0
  for line in io.lines(args[1]) do
    if i % n == tid then
      local tab = line:find("\t", 1, true)
      table.insert(mine, {line:sub(1, tab - 1), line:sub(tab + 1)})
    end
    i = i + 1
  end
end

function request()
  local item = mine[next_one]
  next_one = next_one % #mine + 1
  return wrk.format("POST", nil, {
    ["Stripe-Signature"] = item[1], ["Content-Type"] = "application/json"}, item[2])
end
