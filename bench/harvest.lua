-- Client-credentials requests whose access tokens are appended to the file TOKENS.
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BASIC")
local out, count = nil, 0
function response(_, _, body)
  out = out or io.open(os.getenv("TOKENS"), "a")
  local token = body:match('"access_token":"([^"]+)"')
  if token then
    out:write(token, "\n")
    count = count + 1
    -- wrk never closes a thread's files: flush as we go (the tail may be lost).
    if count % 256 == 0 then out:flush() end
  end
end
