"""GET /api/status/<id>/ requests per second next to a bare Django JSON view, same run.

    .venv/bin/python bench/service_status_rps.py [--seconds 3] [--rounds 5] [--clients 4]

One Gunicorn (the Procfile's web line and gunicorn.conf.py, WEB_CONCURRENCY=2) serves both
URLs; one client (threads with a keep-alive-less urllib) alternates between them for
`--rounds` rounds of `--seconds` each, so noise on the shared machine hits both alike.
/bench/bare-json goes through the same middleware but touches neither the database nor the
token; /api/status/ authenticates the token and reads the job (one query, see
simulator/api/authentication.py) and counts the read throttle (one Redis round trip; its
rate is raised so that it never refuses). Reported: the median of the rounds and their
ratio.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import urllib.request

from service_stack import http, master_config, stack


def rate(url: str, token: str | None, seconds: float, clients: int) -> float:
    stop = time.perf_counter() + seconds
    counts = [0] * clients

    def client(i: int) -> None:
        request = urllib.request.Request(url)
        if token:
            request.add_header("Authorization", f"Token {token}")
        while time.perf_counter() < stop:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
                assert response.status == 200
            counts[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with stack(web_concurrency=2) as running:
        _status, body = http(
            "POST", f"{running.base}/api/submit/", master_config(1000), running.token
        )
        status_url = f"{running.base}/api/status/{body['job_id']}/"
        bare_url = f"{running.base}/bench/bare-json"
        rate(status_url, running.token, 1.0, args.clients)  # warm both paths
        rate(bare_url, None, 1.0, args.clients)
        api, bare = [], []
        for _ in range(args.rounds):
            api.append(rate(status_url, running.token, args.seconds, args.clients))
            bare.append(rate(bare_url, None, args.seconds, args.clients))
    a, b = statistics.median(api), statistics.median(bare)
    print(
        f"{args.rounds} rounds x {args.seconds:.0f} s, {args.clients} client threads, "
        "gunicorn, 2 workers:"
    )
    api_rounds = ", ".join(f"{x:.0f}" for x in api)
    bare_rounds = ", ".join(f"{x:.0f}" for x in bare)
    print(f"  GET /api/status/<id>/   median {a:.0f} req/s  (rounds: {api_rounds})")
    print(f"  GET /bench/bare-json    median {b:.0f} req/s  (rounds: {bare_rounds})")
    print(f"  ratio status / bare     {a / b:.2f}")


if __name__ == "__main__":
    main()
