-- wrk script of catalog_ingest_bench: POSTs the registry notification in the file named by the
-- first argument, each time with a fresh event id (the file's id 81890f62-... replaced), with
-- the content type and the webhook secret of the next two arguments; the fourth makes the ids
-- of this run unique.
--   wrk -t1 -c32 -d10s -s bench/catalog_ingest.lua URL -- BODY_FILE CONTENT_TYPE SECRET RUN
local threads = 0

function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

function init(args)
  local f = assert(io.open(args[1], "rb"))
  local template = f:read("*a")
  f:close()
  -- The text around the id, so that each request only joins strings.
  local from, to = assert(template:find("81890f62-054f-4d83-9ec4-54e165a96dd0", 1, true))
  before, after = template:sub(1, from - 1), template:sub(to + 1)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = args[2]
  wrk.headers["Authorization"] = "Bearer " .. args[3]
  prefix = "bench-" .. args[4] .. "-" .. tostring(thread_number) .. "-"
  sent = 0
end

function request()
  sent = sent + 1
  return wrk.format(nil, nil, nil, before .. prefix .. sent .. after)
end
