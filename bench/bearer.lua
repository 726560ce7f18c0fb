-- A GET with a fixed Bearer token from the environment.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
