-- Client credentials with garbage mixed in: every GARBAGE_EVERY-th request (0: none;
-- 1: all, to measure what garbage costs) is one of the bad inputs below, in turn.
-- Valid requests must get 200 and garbage its 4xx (or an inactive introspection
-- answer); anything else counts as unexpected. A failed client authentication may be
-- answered 429 instead of 401 once the client or address passes admit's failure limit
-- (client_limits.rs).
-- BASIC (client svc's credentials, base64) and TOKEN (an access token admit issued)
-- come from the environment. Run with as many threads as connections, so each answer
-- belongs to the last request.
local threads = {}
function setup(thread) threads[#threads + 1] = thread end

local form = "application/x-www-form-urlencoded"
local basic = "Basic " .. os.getenv("BASIC")
-- A forged JWT: a real token of admit's (TOKEN) with the first character of its
-- signature changed, so the signature keeps its length and costs a whole check.
local head, first, rest = os.getenv("TOKEN"):match("^(.+)%.(.)(.*)$")
local forged = head .. "." .. (first == "A" and "B" or "A") .. rest
local every = tonumber(os.getenv("GARBAGE_EVERY") or "0")
local valid = { "POST", "/oauth2/token", { ["Content-Type"] = form, ["Authorization"] = basic },
  "grant_type=client_credentials", 200 }
local garbage = {
  -- a wrong secret for the known client ("svc:not-the-secret"); an unknown client
  -- ("nobody:nothing"); no Argon2id for either
  { "POST", "/oauth2/token", { ["Content-Type"] = form, ["Authorization"] = "Basic c3ZjOm5vdC10aGUtc2VjcmV0" },
    "grant_type=client_credentials", 401 },
  { "POST", "/oauth2/token", { ["Content-Type"] = form, ["Authorization"] = "Basic bm9ib2R5Om5vdGhpbmc=" },
    "grant_type=password&username=alice&password=guess", 401 },
  -- malformed bodies: a repeated parameter, a bad percent-escape
  { "POST", "/oauth2/token", { ["Content-Type"] = form, ["Authorization"] = basic },
    "grant_type=client_credentials&grant_type=password", 400 },
  { "POST", "/oauth2/token", { ["Content-Type"] = form, ["Authorization"] = basic }, "grant_type=%zz", 400 },
  -- a forged JWT: at UserInfo (401) and at introspection (inactive, no database read)
  { "GET", "/oauth2/userinfo", { ["Authorization"] = "Bearer " .. forged }, nil, 401 },
  { "POST", "/oauth2/introspect", { ["Content-Type"] = form, ["Authorization"] = basic },
    "token=" .. forged, 200 },
}

n, expected, valid_ok, unexpected = 0, 200, 0, 0
function request()
  n = n + 1
  local r = valid
  if every > 0 and n % every == 0 then r = garbage[math.floor(n / every) % #garbage + 1] end
  expected = r[5]
  return wrk.format(r[1], r[2], r[3], r[4])
end

function response(status, _, body)
  if expected == 401 and status == 429 then status = 401 end
  if status ~= expected or (expected == 200 and body:find('"active":true')) then
    unexpected = unexpected + 1
  elseif expected == 200 and body:find('access_token') then
    valid_ok = valid_ok + 1
  end
end

function done()
  local ok, bad = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("valid_ok")
    bad = bad + thread:get("unexpected")
  end
  io.write(string.format("valid %d\nunexpected %d\n", ok, bad))
end
