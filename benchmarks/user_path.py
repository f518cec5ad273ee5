"""The user's path, timed: the commands a user runs, as subprocesses on files on disk, against a plain
numpy baseline measured in the same run.

    .venv/bin/python benchmarks/user_path.py                                   # 100,000 × 1,000
    .venv/bin/python benchmarks/user_path.py --n 300000 --policies 4600        # the issue's size
    .venv/bin/python benchmarks/user_path.py --all-pairs --keep /tmp/up        # also match --all-pairs

Steps, each a ``qinqing`` subprocess timed whole (start-up, imports, reading and writing files) by
``/usr/bin/time`` (wall seconds, peak RSS of the process):

1. ``qinqing registry generate --n N --seed S --province 330000 --out reg.parquet``;
2. P Zhejiang-shaped policy YAML files written by ``zhejiang_policies.py`` (not timed), then
   ``qinqing policy check DIR`` (``--skip-check`` leaves it out);
3. with QINQING_DATABASE_URL an SQLite file and QINQING_RESULTS_DIR a store in the scratch
   directory: ``qinqing catalogue load DIR``, ``qinqing run full --enterprises reg.parquet --as-of
   2025-06-30``, ``qinqing match --enterprises reg.parquet --out match.parquet --as-of 2025-06-30``
   (kept pairs; with ``--all-pairs`` also every pair into all.parquet).

Baseline: a numpy three-valued evaluator with region pruning, over the same registry file and the
same policies taken from the generator's specs (not from the YAML). The registry is read, its
columns turned into (value, valid) numpy arrays and sorted by region code once, untimed; then, timed,
for each policy in force: the rows of its region subtree (one contiguous range), each condition as
(true, false) boolean arrays with NULL giving neither, Kleene AND, the status counts and the sum of
the capped amounts of the eligible rows. Its per-policy eligible / unknown counts and amount totals
are checked against what ``run full`` stored (ResultStore.counts_by_policy) and against the pairs
``match`` wrote; every mismatch is printed.

``--profile`` then runs catalogue load, run full and match once more under cProfile (into fresh
database and store files; main thread only) and prints the top functions by cumulative time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import zhejiang_policies  # noqa: E402

AS_OF = "2025-06-30"
VENV_BIN = Path(sys.executable).parent
QINQING = str(VENV_BIN / "qinqing")
FIELDS = sorted({f for f in zhejiang_policies.THRESHOLDS} | {"revenue"})
FLAGS = [f for f, _ in zhejiang_policies.FLAGS]


# -- subprocesses -----------------------------------------------------------------------------------
def timed(name: str, argv: list[str], env: dict[str, str], cwd: Path, ok_codes=(0,)) -> dict:
    out = cwd / f"time-{name.replace(' ', '_')}.txt"
    cmd = ["/usr/bin/time", "-f", "%e %M", "-o", str(out), *argv]
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    wall_outer = time.perf_counter() - t
    if proc.returncode not in ok_codes:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"{name}: exit status {proc.returncode}")
    last = out.read_text().strip().splitlines()[-1].split()
    wall, rss_kib = float(last[0]), int(last[1])
    tail = [line for line in proc.stdout.strip().splitlines() if line.strip()][-1:] or [""]
    print(f"  {name}: {wall:.2f} s, {rss_kib / 1024:.0f} MiB  | {tail[0][:150]}", flush=True)
    return {"name": name, "wall": wall, "wall_outer": wall_outer, "rss_mib": rss_kib / 1024}


# -- baseline ---------------------------------------------------------------------------------------
class Registry:
    """The registry's columns as numpy (value, valid) pairs, sorted by region code."""

    def __init__(self, path: Path):
        table = pq.read_table(path, columns=["uscc", "region_code", "industry_code", *FIELDS, *FLAGS])
        region = pc.cast(table["region_code"].fill_null("0"), pa.int64()).to_numpy()
        order = np.argsort(region, kind="stable")
        self.n = len(region)
        self.region = region[order]
        ind = table["industry_code"].fill_null("")
        self.section = pc.utf8_slice_codeunits(ind, 0, 1).to_numpy(zero_copy_only=False)[order].astype("U1")
        self.industry_valid = table["industry_code"].is_valid().to_numpy(zero_copy_only=False)[order]
        self.digits = {}
        for k in (2, 3, 4):  # division, group, class digits as integers (-1 where shorter)
            part = pc.utf8_slice_codeunits(ind, 1, 1 + k)
            whole = pc.equal(pc.utf8_length(part), k)
            num = pc.cast(pc.if_else(whole, part, "-1"), pa.int64()).to_numpy()
            self.digits[k] = num[order]
        self.values, self.valid = {}, {}
        for f in FIELDS:
            col = table[f]
            self.valid[f] = col.is_valid().to_numpy(zero_copy_only=False)[order]
            self.values[f] = pc.cast(col, pa.float64()).fill_null(0).to_numpy()[order]
        for f in FLAGS:
            col = table[f]
            self.valid[f] = col.is_valid().to_numpy(zero_copy_only=False)[order]
            self.values[f] = col.fill_null(False).to_numpy(zero_copy_only=False)[order]


def baseline(reg: Registry, specs: list) -> tuple[dict[str, tuple[int, int, float]], int]:
    """(eligible, unknown, amount total) per policy in force, and the number of pairs evaluated."""
    out: dict[str, tuple[int, int, float]] = {}
    pairs = 0
    for spec in specs:
        if spec.expired:
            continue
        lo_code, hi_code = spec.region_range
        lo, hi = np.searchsorted(reg.region, [lo_code, hi_code + 1])
        m = hi - lo
        pairs += m
        true = np.ones(m, dtype=bool)
        false = np.zeros(m, dtype=bool)
        if spec.industries:
            hit = np.zeros(m, dtype=bool)
            for code in spec.industries:
                if len(code) == 1:
                    hit |= reg.section[lo:hi] == code
                else:
                    hit |= reg.digits[len(code) - 1][lo:hi] == int(code[1:])
            valid = reg.industry_valid[lo:hi]
            true &= valid & hit
            false |= valid & ~hit
        for field, op, value in spec.thresholds:
            v, valid = reg.values[field][lo:hi], reg.valid[field][lo:hi]
            holds = v >= value if op == ">=" else v <= value
            true &= valid & holds
            false |= valid & ~holds
        for flag in FLAGS:
            v, valid = reg.values[flag][lo:hi], reg.valid[flag][lo:hi]
            true &= valid & ~v
            false |= valid & v
        eligible = int(true.sum())
        unknown = m - eligible - int(false.sum())
        if spec.fixed is not None:
            total = spec.fixed * eligible
        else:
            rev = reg.values["revenue"][lo:hi][true]
            total = float(np.round(np.minimum(rev * spec.rate, spec.cap), 4).sum())
        out[spec.policy_id] = (eligible, unknown, total)
    return out, pairs


def compare(what: str, expected: dict[str, tuple[int, int, float]], got: dict[str, tuple[int, int, float]]) -> int:
    bad = 0
    for pid in sorted(set(expected) | set(got)):
        e, g = expected.get(pid), got.get(pid)
        if e is None or g is None:
            # a policy with no kept pair is absent from match output: fine if the baseline has none either
            if g is None and e is not None and e[0] == 0 and e[1] == 0 and what.startswith("match"):
                continue
            bad += 1
            if bad <= 20:
                print(f"  MISMATCH {what} {pid}: baseline {e}, qinqing {g}")
            continue
        amount_ok = abs(e[2] - g[2]) <= 0.0001 * max(1, e[0]) + 1e-9 * abs(e[2])
        if e[0] != g[0] or e[1] != g[1] or not amount_ok:
            bad += 1
            if bad <= 20:
                print(f"  MISMATCH {what} {pid}: baseline eligible {e[0]} unknown {e[1]} amount {e[2]:.4f}; "
                      f"qinqing eligible {g[0]} unknown {g[1]} amount {g[2]:.4f}")
    print(f"  {what}: {len(expected)} policies compared, {bad} mismatches", flush=True)
    return bad


def store_counts(store_dir: Path) -> dict[str, tuple[int, int, float]]:
    from qinqing.matching.results import ResultStore

    store = ResultStore(store_dir)
    try:
        return {pid: (c.eligible, c.unknown, float(c.amount_total or 0))
                for pid, c in store.counts_by_policy().items()}
    finally:
        store.close()


def match_counts(path: Path) -> dict[str, tuple[int, int, float]]:
    t = pq.read_table(path, columns=["policy_id", "status", "amount"])
    g = t.group_by(["policy_id", "status"]).aggregate([("status", "count"), ("amount", "sum")]).to_pylist()
    out: dict[str, list] = {}
    for row in g:
        rec = out.setdefault(row["policy_id"], [0, 0, 0.0])
        if row["status"] == "eligible":
            rec[0] = row["status_count"]
            rec[2] = float(row["amount_sum"] or 0)
        elif row["status"] == "unknown":
            rec[1] = row["status_count"]
    return {k: tuple(v) for k, v in out.items()}


# -- profile ----------------------------------------------------------------------------------------
ENTRY = "import sys\nfrom qinqing.cli import app\nsys.exit(app(prog_name='qinqing'))\n"


def profile(name: str, args: list[str], env: dict[str, str], cwd: Path, top: int = 18) -> None:
    import pstats

    entry = cwd / "qinqing_entry.py"
    entry.write_text(ENTRY)
    prof = cwd / f"{name.replace(' ', '_')}.prof"
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cProfile", "-o", str(prof), str(entry), *args], env=env, cwd=cwd,
                   capture_output=True, text=True)
    print(f"\n-- profile: qinqing {' '.join(args)} ({time.perf_counter() - t:.1f} s under cProfile)")
    stats = pstats.Stats(str(prof))
    stats.sort_stats("cumulative")
    rows = []
    for func, (_cc, nc, tt, ct, _callers) in stats.stats.items():
        file, line, fn = func
        if "qinqing" in file or fn.startswith("<built-in") or "duckdb" in fn or "numba" in file:
            rows.append((ct, tt, nc, f"{file.split('/src/')[-1].split('site-packages/')[-1]}:{line}({fn})"))
    rows.sort(reverse=True)
    for ct, tt, nc, where in rows[:top]:
        print(f"  {ct:8.2f} s cum  {tt:8.2f} s own  {nc:>9} calls  {where}")


# -- main -------------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--policies", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--all-pairs", action="store_true", help="also time match --all-pairs")
    ap.add_argument("--keep", type=Path, help="scratch directory to use and keep (default: a temporary one)")
    ap.add_argument("--skip-check", action="store_true", help="leave out the separate qinqing policy check")
    ap.add_argument("--profile", action="store_true", help="then profile load, run full and match (cProfile)")
    args = ap.parse_args()

    if args.keep:
        scratch = args.keep
        if scratch.exists():
            shutil.rmtree(scratch)
        scratch.mkdir(parents=True)
    else:
        scratch = Path(tempfile.mkdtemp(prefix="qinqing-user-path-"))
    env = dict(os.environ)
    env["QINQING_DATABASE_URL"] = f"sqlite:///{scratch / 'qinqing.db'}"
    env["QINQING_RESULTS_DIR"] = str(scratch / "store")
    reg_path, pol_dir = scratch / "reg.parquet", scratch / "policies"
    print(f"user path: n={args.n:,} policies={args.policies:,} seed={args.seed} scratch={scratch}", flush=True)

    steps = []
    steps.append(timed("registry generate", [QINQING, "registry", "generate", "--n", str(args.n), "--seed",
                                              str(args.seed), "--province", "330000", "--out", str(reg_path)],
                       env, scratch))
    t = time.perf_counter()
    specs = zhejiang_policies.write(pol_dir, args.policies, seed=args.seed + 1)
    levels = {lvl: sum(s.level == lvl for s in specs) for lvl in ("province", "city", "county")}
    print(f"  wrote {len(specs)} policy files in {time.perf_counter() - t:.1f} s: {levels}, "
          f"{sum(bool(s.industries) for s in specs)} industry-restricted, {sum(s.expired for s in specs)} expired",
          flush=True)
    if not args.skip_check:
        steps.append(timed("policy check", [QINQING, "policy", "check", str(pol_dir)], env, scratch))
    steps.append(timed("catalogue load", [QINQING, "catalogue", "load", str(pol_dir)], env, scratch))
    steps.append(timed("run full", [QINQING, "run", "full", "--enterprises", str(reg_path), "--as-of", AS_OF],
                       env, scratch))
    match_out = scratch / "match.parquet"
    steps.append(timed("match", [QINQING, "match", "--enterprises", str(reg_path), "--out", str(match_out),
                                 "--as-of", AS_OF], env, scratch))
    if args.all_pairs:
        steps.append(timed("match --all-pairs", [QINQING, "match", "--enterprises", str(reg_path), "--out",
                                                 str(scratch / "all.parquet"), "--as-of", AS_OF, "--all-pairs"],
                           env, scratch))

    # baseline, in this process: setup untimed, evaluation timed
    t = time.perf_counter()
    reg = Registry(reg_path)
    t_setup = time.perf_counter() - t
    baseline(reg, specs[:5])  # warm-up
    t = time.perf_counter()
    expected, pairs = baseline(reg, specs)
    t_base = time.perf_counter() - t
    import resource

    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    eligible = sum(e for e, _, _ in expected.values())
    unknown = sum(u for _, u, _ in expected.values())
    print(f"  baseline: setup {t_setup:.2f} s (untimed), evaluation {t_base:.2f} s; {len(expected)} policies in "
          f"force, {pairs:,} pairs in scope of {reg.n * len(expected):,}; {eligible:,} eligible, {unknown:,} unknown",
          flush=True)

    print("\ncounts:")
    mismatches = compare("run full store", expected, store_counts(scratch / "store"))
    mismatches += compare("match output", expected, match_counts(match_out))

    print(f"\n{'command':<22}{'wall s':>10}{'peak RSS MiB':>14}{'baseline / command':>20}")
    for s in steps:
        ratio = f"{t_base / s['wall']:.3f}" if s["name"] in ("run full", "match", "match --all-pairs") else ""
        print(f"{s['name']:<22}{s['wall']:>10.2f}{s['rss_mib']:>14.0f}{ratio:>20}")
    print(f"{'numpy baseline (eval)':<22}{t_base:>10.2f}{base_rss:>14.0f}{'1.000':>20}")
    print(f"(baseline RSS is this benchmark process's peak, registry columns included; "
          f"{len(specs)} policies, {reg.n:,} enterprises; mismatches: {mismatches})")

    if args.profile:
        penv = dict(env)
        penv["QINQING_DATABASE_URL"] = f"sqlite:///{scratch / 'profile.db'}"
        penv["QINQING_RESULTS_DIR"] = str(scratch / "profile-store")
        profile("catalogue load", ["catalogue", "load", str(pol_dir)], penv, scratch)
        profile("run full", ["run", "full", "--enterprises", str(reg_path), "--as-of", AS_OF], penv, scratch)
        profile("match", ["match", "--enterprises", str(reg_path), "--out", str(scratch / "profile-match.parquet"),
                          "--as-of", AS_OF], penv, scratch)
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    if mismatches:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
