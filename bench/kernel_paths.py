"""How far stored results move across CPU kernel paths (ATen's vector width, MKL's code path).

Training is chaotic in the last bits of floating point: the kernels a CPU picks change the rounding and thousands
of steps amplify it. This bench reruns stored results in fresh processes under each kernel path and reports, per
stored result, how far ARI and ELBO move and whether the *outcome* (the kind of partition) changes.

Usage:
    python bench/kernel_paths.py lesson [--paths native,default,avx2,mkl-compatible,default+mkl-compatible]
    python bench/kernel_paths.py mnist --seeds 0,1,2 --parallel 1
    python bench/kernel_paths.py pinwheel --seeds 0-9

``lesson`` reruns the lesson's 10 seeds x 4 starts (``assets/lesson_starts.json``, from
``docs/sweeps/circles-starts.json``); ``mnist`` the MNIST bench sweep (``docs/sweeps/mnist-quick-bench.jsonl``);
``pinwheel`` and ``circles-semi`` the README's quality rows. Writes ``docs/sweeps/kernel-paths-<what>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PATHS = {
    "native": {},
    "default": {"ATEN_CPU_CAPABILITY": "default"},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "mkl-compatible": {"MKL_CBWR": "COMPATIBLE"},
    "default+mkl-compatible": {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"},
}
KERNEL_VARS = ("ATEN_CPU_CAPABILITY", "MKL_CBWR")


def _seeds(s: str) -> list[int]:
    if "-" in s:
        a, b = s.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(v) for v in s.split(",")]


def worker(what: str, seeds: list[int], threads: int) -> None:
    """Run the stored results of ``what`` in this process (its kernel path is set by the environment)."""
    from vmonf_core.experiments import resolve, run
    from vmonf_core.metrics import partition_kind
    from vmonf_core.runtime import configure_torch, provenance

    configure_torch(threads)  # 1: as the sweep's workers and the app's jobs train; the MNIST bench used 2
    print(json.dumps({"provenance": provenance()}), flush=True)
    if what == "lesson":
        from ui.lesson import start_config

        for init in ("random", "kmeans", "spectral", "truth"):
            for seed in seeds:
                out = run(start_config(init, seed), with_baselines=False)
                m = out.metrics
                print(json.dumps({"init": init, "seed": seed, "ari": m["ari"], "elbo": m["elbo"],
                                  "kind": partition_kind(out.data.x, m["predictions"], out.data.y)}), flush=True)
    else:
        for seed in seeds:
            out = run(resolve(what, train={"seed": seed}), with_baselines=False)
            m = out.metrics
            print(json.dumps({"init": what, "seed": seed, "ari": m["ari"], "elbo": m["elbo"], "acc": m["accuracy"],
                              "test_ll": m["test_log_likelihood"]}), flush=True)


def spawn(what: str, seeds: list[int], path: str, threads: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in KERNEL_VARS}
    env.update(PATHS[path])
    cmd = [sys.executable, __file__, what, "--worker", "--seeds", ",".join(map(str, seeds)), "--threads", str(threads)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT)


def summarise(rows: dict[str, list[dict]], reference: str) -> dict:
    """Per start (or preset) and path: the largest move of ARI and ELBO from ``reference``, and the outcome changes."""
    ref = {(r["init"], r["seed"]): r for r in rows[reference]}
    out: dict = {}
    for path, rs in rows.items():
        for r in rs:
            o = ref[(r["init"], r["seed"])]
            s = out.setdefault(r["init"], {}).setdefault(path, {"max_abs_d_ari": 0.0, "max_abs_d_elbo": 0.0,
                                                                 "kind_changed": 0, "identical": 0, "runs": 0})
            s["runs"] += 1
            s["max_abs_d_ari"] = max(s["max_abs_d_ari"], abs(r["ari"] - o["ari"]))
            s["max_abs_d_elbo"] = max(s["max_abs_d_elbo"], abs(r["elbo"] - o["elbo"]))
            s["kind_changed"] += int(r.get("kind") != o.get("kind"))
            s["identical"] += int(r["ari"] == o["ari"] and r["elbo"] == o["elbo"])
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["lesson", "mnist", "pinwheel", "circles-semi"])
    p.add_argument("--seeds", default="0-9")
    p.add_argument("--paths", default=",".join(PATHS))
    p.add_argument("--parallel", type=int, default=2, help="processes at once (each trains on one thread)")
    p.add_argument("--threads", type=int, default=None, help="threads per run (default: 2 for mnist, as its bench; else 1)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    seeds = _seeds(a.seeds)
    threads = a.threads or (2 if a.what == "mnist" else 1)
    if a.worker:
        return worker(a.what, seeds, threads)
    paths = a.paths.split(",")
    rows: dict[str, list[dict]] = {}
    prov: dict[str, dict] = {}
    for i in range(0, len(paths), a.parallel):
        batch = {path: spawn(a.what, seeds, path, threads) for path in paths[i:i + a.parallel]}
        for path, proc in batch.items():
            out, _ = proc.communicate()
            if proc.returncode:
                raise SystemExit(f"{path}: exit {proc.returncode}")
            recs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
            prov[path] = recs[0]["provenance"]
            rows[path] = recs[1:]
            print(f"{path}: kernel {prov[path]['kernel']}, {len(rows[path])} runs", file=sys.stderr, flush=True)
    summary = summarise(rows, paths[0])
    print(f"| result | path | kernel | max abs change of ARI | of ELBO | outcome changed | bit-identical to {paths[0]} |")
    print("|---|---|---|---|---|---|---|")
    for init, per in summary.items():
        for path, s in per.items():
            print(f"| {a.what} {init} | {path} | {prov[path]['kernel']} | {s['max_abs_d_ari']:.3f} | {s['max_abs_d_elbo']:.3f} "
                  f"| {s['kind_changed']}/{s['runs']} | {s['identical']}/{s['runs']} |")
    for init in summary:
        for path in paths:
            v = [r for r in rows[path] if r["init"] == init]
            print(f"{init:9s} {path:24s} ARI median {statistics.median(r['ari'] for r in v):.3f} "
                  f"[{min(r['ari'] for r in v):.3f}, {max(r['ari'] for r in v):.3f}]  kinds "
                  + " ".join(str(r.get("kind", "-"))[:4] for r in v))
    dest = ROOT / "docs" / "sweeps" / f"kernel-paths-{a.what}.json"
    dest.write_text(json.dumps({"command": "python bench/kernel_paths.py " + " ".join(sys.argv[1:]), "reference": paths[0],
                                "provenance": prov, "runs": rows, "summary": summary}, indent=1))
    print(f"wrote {dest.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
