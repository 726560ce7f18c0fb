-- A GET with a different Bearer token each time, cycled from the file TOKENS (one per
-- line): resource-server verification when its cache of verified tokens does not help.
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = "Bearer " .. line end
local i = 0
function request()
  i = i % #tokens + 1
  return wrk.format("GET", nil, { ["Authorization"] = tokens[i] })
end
