"""Latency of the 我的政策 API under concurrent users: a bounded load run on localhost.

    .venv/bin/python benchmarks/web_latency.py                    # 50 users, 2,000 requests, 5,000 enterprises
    .venv/bin/python benchmarks/web_latency.py --users 50 --requests 1000 --enterprises 2000

Builds a fresh SQLite store (synthetic registry, the whole policies/ catalogue, a full matching run
into a results store), gives each of ``--users`` enterprise users an API token, serves the app with
`qinqing serve` in a subprocess, and has ``--users`` concurrent httpx clients (made and
connected first) ask GET /api/my/matches: once each (first views, reported apart), then until
``--requests`` have been answered. Prints p50/p95/p99 and throughput.
The users are the enterprises with the most matches, so every page carries real explanations.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pyarrow.parquet as pq
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]


def build_store(directory: Path, enterprises: int, users: int, province: str,
                as_of: date, policies: Path) -> tuple[str, Path, list[str]]:
    from qinqing.accounts import AccountService
    from qinqing.accounts.passwords import hash_password
    from qinqing.accounts.tables import users as users_table
    from qinqing.catalogue import CatalogueStore, load_directory
    from qinqing.db import make_engine, migrate
    from qinqing.matching.results import ResultStore
    from qinqing.matching.run import full_run
    from qinqing.registry.generator import generate
    from qinqing.registry.store import to_arrow, upsert_enterprises
    from qinqing.web.demo import sample_enterprises
    from qinqing.matching.plans import published_plans

    url = f"sqlite:///{directory / 'bench.db'}"
    migrate(url)
    engine = make_engine(url)
    generate(directory / "registry.parquet", enterprises, seed=7, province=province)
    upsert_enterprises(engine, pq.read_table(directory / "registry.parquet").to_pylist())
    catalogue = CatalogueStore(engine)
    report = load_directory(catalogue, policies)
    results_dir = directory / "results"
    results = ResultStore(results_dir)
    run = full_run(published_plans(engine, as_of).plans, to_arrow(engine), results, as_of)
    usccs = sample_enterprises(engine, results, users)
    per_user = results.kept_count(usccs) / max(1, len(usccs))
    results.close()
    # One hash for every benchmark user: argon2 is slow on purpose, and logins are not what is measured.
    password_hash = hash_password("bench-password")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(users_table), [
            {"username": f"bench{i}", "password_hash": password_hash, "role": "enterprise",
             "display_name": f"bench{i}", "uscc": uscc, "active": True, "created_at": now}
            for i, uscc in enumerate(usccs)
        ])
    accounts = AccountService(engine)
    tokens = [accounts.issue_token(p, "bench") for p in accounts.list_users()]
    print(f"store: {enterprises} enterprises, {len(report.loaded)} policies, run {run.run_id}: "
          f"{run.eligible} eligible + {run.unknown} unknown pairs; {len(tokens)} users, "
          f"{per_user:.1f} policies on each one's page")
    engine.dispose()
    return url, results_dir, tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def load(clients: list[httpx.AsyncClient], total: int) -> tuple[list[float], int]:
    """``total`` requests from the ``clients`` at once, each client sending its next one when answered."""
    latencies: list[float] = []
    errors = 0
    remaining = total

    async def user(client: httpx.AsyncClient) -> None:
        nonlocal remaining, errors
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            response = await client.get("/api/my/matches")
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                errors += 1

    await asyncio.gather(*(user(c) for c in clients))
    return latencies, errors


async def run_load(base: str, tokens: list[str], requests: int) -> tuple[float, list[float], list[float], int, float]:
    """First views (each user's first request, all users at once), then ``requests`` measured ones.

    The clients are made and connected before anything is timed: building 50 httpx clients (an SSL
    context each) and opening 50 connections inside the timed run made the load generator, not the
    server, the slowest part of the first requests."""
    clients = [httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {t}"}, timeout=60) for t in tokens]
    try:
        cold = time.perf_counter()
        await load(clients[:1], 1)  # the very first 我的政策 after the server started
        cold = time.perf_counter() - cold
        await load(clients[:5], 50)  # warm-up: a few users, so the process-wide caches are filled
        first, _ = await load(clients, len(clients))
        started = time.perf_counter()
        latencies, errors = await load(clients, requests)
        return cold, first, latencies, errors, time.perf_counter() - started
    finally:
        for c in clients:
            await c.aclose()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--enterprises", type=int, default=5000)
    # As `qinqing demo`: a Fujian registry (the province with most catalogue policies) read in mid-2025.
    parser.add_argument("--province", default="350000")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2025, 6, 30))
    parser.add_argument("--workers", type=int, default=0, help="`qinqing serve --workers` (0: its default)")
    parser.add_argument("--policies", type=Path, default=ROOT / "policies",
                        help="policy files to load (default: the shipped catalogue; e.g. a directory written by "
                             "benchmarks/zhejiang_policies.py, with --province 330000)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="qinqing-web-bench-") as tmp:
        url, results_dir, tokens = build_store(Path(tmp), args.enterprises, args.users, args.province, args.as_of,
                                               args.policies)
        port = free_port()
        env = {**os.environ, "QINQING_DATABASE_URL": url, "QINQING_REFERENCE_DATE": args.as_of.isoformat(),
               "QINQING_SECRET_KEY": "bench", "QINQING_RESULTS_DIR": str(results_dir)}
        command = [str(Path(sys.executable).parent / "qinqing"), "serve", "--port", str(port)]
        if args.workers:
            command += ["--workers", str(args.workers)]
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        launched = time.monotonic()
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 300
            while True:
                try:
                    if httpx.get(base + "/api/openapi.json", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("server did not start")
                time.sleep(0.2)
            ready = time.monotonic() - launched
            cold, first, latencies, errors, elapsed = asyncio.run(run_load(base, tokens, args.requests))
        finally:
            server.terminate()
            server.wait(timeout=20)
    ms = [x * 1000 for x in latencies]
    first_ms = [x * 1000 for x in first]
    print(f"server ready {ready:.1f} s after start; the first 我的政策 after that {cold * 1000:.0f} ms")
    print(f"first view of each of {len(tokens)} users, all at once: p50 {percentile(first_ms, 50):.0f} ms, "
          f"max {max(first_ms):.0f} ms")
    print(f"GET /api/my/matches, {len(tokens)} concurrent users, {len(ms)} requests, {errors} errors")
    print(f"  p50 {percentile(ms, 50):.1f} ms   p95 {percentile(ms, 95):.1f} ms   p99 {percentile(ms, 99):.1f} ms   "
          f"mean {statistics.fmean(ms):.1f} ms   max {max(ms):.1f} ms")
    print(f"  throughput {len(ms) / elapsed:.0f} requests/s over {elapsed:.1f} s")


if __name__ == "__main__":
    main()
