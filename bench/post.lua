-- A fixed form POST: BODY and BASIC (base64 client credentials) come from the environment.
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
if os.getenv("BASIC") then
  wrk.headers["Authorization"] = "Basic " .. os.getenv("BASIC")
end
