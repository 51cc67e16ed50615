-- wrk script: `wrk -s pipeline.lua URL -- DEPTH` sends DEPTH requests for /
-- in one write (HTTP pipelining); wrk still counts and times each response.
init = function(args)
  local depth = tonumber(args[1]) or 1
  local requests = {}
  for i = 1, depth do
    requests[i] = wrk.format(nil, "/")
  end
  batch = table.concat(requests)
end

request = function()
  return batch
end
