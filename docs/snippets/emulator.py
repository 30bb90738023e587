from airflow_provider_plusofon.emulator import running_emulator

with running_emulator(webhooks=[{"url": "https://a.example", "event": "create"}]) as emulator:
    emulator.base_url  # http://127.0.0.1:<free port>
    emulator.inject("drop_after_store", method="POST")  # store the next POST, then drop the connection
    emulator.inject("rate_limit", count=2, retry_after=1)
    emulator.inject("status", status=502, html=True)  # a proxy's HTML error page
    emulator.inject("success_false", message="Limit reached")
    emulator.inject("latency", latency_ms=500)
    emulator.inject("lagging_store", method="POST", lag_ms=400)  # answer lost, stored 0.4 s later
    emulator.inject("lagging_store", method="POST", held=True)  # ... stored at emulator.state.release_held()
    emulator.inject("redirect", location="https://elsewhere.example/")
    emulator.inject("paginator", overrides={"last_page": 10**9})  # or repeat_first_page=True
    emulator.inject("strip_ids")  # list items without their id
    emulator.inject("echo_token", status=422)  # an error that repeats the Authorization header
    emulator.inject("gzip_bomb", size_mb=64)
    emulator.requests("POST")  # what was sent, token redacted
