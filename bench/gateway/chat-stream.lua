-- wrk: a streaming chat completion (SSE answer).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-0"
wrk.body = '{"model":"fast-stream","stream":true,"messages":[{"role":"user","content":"Say hello."}]}'
