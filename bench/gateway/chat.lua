-- wrk: a non-streaming chat completion with a Tollgate key (or the upstream's none).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-0"
wrk.body = '{"model":"fast","messages":[{"role":"user","content":"Say hello."}]}'
