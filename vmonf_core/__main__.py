"""Command line: ``python -m vmonf_core train|sweep --preset NAME ...`` or ``--data FILE`` (any dimension), and
``python -m vmonf_core presets``; installed, the same as ``vmonf``.

Errors in arguments or data print one line and exit with code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .cli import build_parser, config_of, overrides
from .experiments import jsonable_metrics, run
from .mixture import save_checkpoint
from .presets import PRESETS
from .runtime import configure_torch
from .training import TrainingError


def cmd_presets() -> None:
    for name, p in PRESETS.items():
        print(f"{name}: {p['description']}")
        print(f"  data:  {json.dumps(p['data'])}")
        print(f"  model: {json.dumps(p['model'])}")
        print(f"  train: {json.dumps(p['train'])}")
        if "thesis" in p:
            print(f"  --recipe thesis: {json.dumps(p['thesis'])}")
        if "all_digits" in p:
            print(f"  all ten digits:  {json.dumps(p['all_digits'])}")


def _out_dir(path: str) -> Path:
    """Create the output folder before any training, so a bad ``--out`` fails at once."""
    if not path.strip():
        raise ValueError("--out must name a folder (it was empty)")
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".vmonf-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise ValueError(f"cannot write to --out {path!r}: {e.strerror or e}") from None
    return out


def _engine(args: argparse.Namespace, required: bool):
    from .engine import Engine, settings_from_env

    settings = settings_from_env()
    if args.scheduler:
        settings = dataclasses.replace(settings, scheduler=args.scheduler)
        settings_from_env({"VMONF_SCHEDULER": args.scheduler})  # validates the address
    if not required and settings.scheduler is None:
        return None
    return Engine(settings)


def cmd_sweep(args: argparse.Namespace) -> int:
    from .engine import SWEEP_FIELDS, sweep_configs
    from .experiments import load_data
    from .presets import validate

    shared = None
    if args.data:  # one table, read and split once here (a remote worker need not see the file): cells vary seed/init
        base = config_of(args)
        cfgs = []
        for init in list(args.inits or [None]):
            for seed in args.seeds:
                cfg = json.loads(json.dumps(base))
                cfg["train"].update({"seed": int(seed), **({"init": init} if init else {})})
                validate(dict(cfg, model=dict(cfg["model"], dim=2)))  # options only: the dimension was checked above
                cfgs.append(cfg)
        shared = load_data(base)
    else:
        if args.preset is None:
            raise ValueError("give --preset NAME (see `presets`) or --data FILE")
        data, model, train = overrides(args)
        cfgs = sweep_configs(args.preset, args.seeds, args.inits, args.recipe, data, model, train)
    out = _out_dir(args.out)
    eng = _engine(args, required=True)
    cols = ("init", "seed", "ari", "nmi", "accuracy", "elbo", "log_px", "test_log_likelihood", "seconds", "worker")
    print(" ".join(f"{c:>10}" for c in cols), flush=True)
    finished: list[dict[str, Any]] = []

    def show(r: dict[str, Any]) -> None:
        finished.append(r)
        print(" ".join(f"{r[c]:>10.4f}" if isinstance(r[c], float) else f"{str(r[c])[-10:]:>10}" for c in cols), flush=True)

    records, interrupted = _interruptible(lambda: eng.sweep(cfgs, on_record=show, data=shared, with_baselines=args.baselines),
                                          eng)
    if interrupted:
        records = sorted(finished, key=lambda r: (str(r["init"]), r["seed"]))
    keep = (*SWEEP_FIELDS, "best_restart", "baselines")
    rows = [{k: r[k] for k in keep if k in r} for r in records]
    payload: Any = rows if not interrupted else {"partial": True, "planned": len(cfgs), "records": rows}
    (out / "sweep.json").write_text(json.dumps(payload, indent=2))
    if records:
        table = summary_table(records, args.format)
        print(table)
        if args.format == "csv":
            (out / "summary.csv").write_text(table + "\n")
    if interrupted:
        print(f"interrupted: wrote the {len(records)} of {len(cfgs)} runs that had finished to {out / 'sweep.json'} "
              "(marked partial)", file=sys.stderr)
        return 130
    print(f"wrote {out / 'sweep.json'} ({len(records)} runs)")
    return 0


def _interruptible(work: Callable[[], Any], eng) -> tuple[Any, bool]:
    """Run ``work`` in a thread while this (main) thread waits, so that Ctrl-C and SIGTERM are noticed at once (a main
    thread blocked inside Dask's ``as_completed`` did not see SIGINT at all). Returns ``(result, interrupted)``; on an
    interrupt the engine is killed (:meth:`Engine.kill`), otherwise closed. An error from ``work`` is raised here."""
    import signal
    import threading

    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["result"] = work()
        except BaseException as e:  # noqa: BLE001 (re-raised in the main thread)
            box["error"] = e
        finally:
            done.set()

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    # SIGINT too: a process started in the background by a non-interactive shell inherits SIGINT *ignored*, and Python
    # then installs no handler (that is why "SIGINT to the sweep's PID was ignored" in issue 25)
    old = signal.signal(signal.SIGTERM, on_term)
    old_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    interrupted = False
    threading.Thread(target=run, daemon=True, name="vmonf-sweep").start()
    try:
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        interrupted = True
    finally:
        signal.signal(signal.SIGTERM, old)
        signal.signal(signal.SIGINT, old_int)
        if interrupted:
            eng.kill()
        else:
            eng.close()
    if not interrupted and "error" in box:
        raise box["error"]
    return box.get("result"), interrupted


SUMMARY_METRICS = ("ari", "nmi", "accuracy", "elbo", "log_px", "test_log_likelihood", "seconds")


def summary_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per method (each init of VMoNF, then each baseline): runs, and mean, sd, median, min and max of every metric."""
    import numpy as np

    groups: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault(f"vmonf {r['init']}", []).append(r)
    seen: set[tuple[str, int]] = set()
    for r in records:  # a seed's baselines once, however many inits ran on it
        for name, b in (r.get("baselines") or {}).items():
            if (name, r["seed"]) not in seen:
                seen.add((name, r["seed"]))
                groups.setdefault(name, []).append(b)
    rows = []
    for name, rs in groups.items():
        row: dict[str, Any] = {"method": name, "runs": len(rs)}
        for k in SUMMARY_METRICS:
            v = np.array([r[k] for r in rs if k in r and r[k] is not None], dtype=float)
            v = v[np.isfinite(v)]
            if len(v):
                row.update({f"{k}_mean": float(v.mean()), f"{k}_sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                            f"{k}_median": float(np.median(v)), f"{k}_min": float(v.min()), f"{k}_max": float(v.max())})
        rows.append(row)
    return rows


def summary_table(records: list[dict[str, Any]], fmt: str = "markdown") -> str:
    """The sweep's summary: per method, mean ± sd and median [min, max] of ARI, the ELBO, log p(x) and the held-out
    log-likelihood, and how often ARI >= 0.95. ``fmt="csv"``: every statistic of :func:`summary_rows` as columns."""
    rows = summary_rows(records)
    if fmt == "csv":
        cols = ["method", "runs"] + [f"{k}_{s}" for k in SUMMARY_METRICS for s in ("mean", "sd", "median", "min", "max")]
        return "\n".join([",".join(cols)] + [",".join("" if r.get(c) is None else (f"{r[c]:.6g}" if isinstance(r[c], float)
                                                                                    else str(r[c])) for c in cols)
                                                for r in rows])

    def cell(r: dict[str, Any], k: str, digits: int) -> str:
        if f"{k}_mean" not in r:
            return "-"
        return (f"{r[k + '_mean']:.{digits}f} ± {r[k + '_sd']:.{digits}f} (median {r[k + '_median']:.{digits}f} "
                f"[{r[k + '_min']:.{digits}f}, {r[k + '_max']:.{digits}f}])")

    lines = ["| method | runs | ARI mean ± sd (median [range]) | ARI >= 0.95 | ELBO | test log-lik | mean s |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        ours = [x for x in records if f"vmonf {x['init']}" == r["method"]]
        hits = f"{sum(1 for x in ours if x['ari'] >= 0.95)}/{len(ours)}" if ours else "-"
        secs = f"{r['seconds_mean']:.1f}" if "seconds_mean" in r else "-"
        lines.append(f"| {r['method']} | {r['runs']} | {cell(r, 'ari', 2)} | {hits} | {cell(r, 'elbo', 3)} "
                     f"| {cell(r, 'test_log_likelihood', 3)} | {secs} |")
    return "\n".join(lines)


def cmd_train(args: argparse.Namespace) -> int:
    cfg = config_of(args)
    out = _out_dir(args.out)
    eng = _engine(args, required=False)
    if eng is not None:
        return _train_on_cluster(eng, cfg, out, args)
    if args.threads is not None:
        configure_torch(args.threads)

    def progress(r: dict[str, Any]) -> None:
        if not args.quiet:
            ll = f" test_ll {r['test_log_likelihood']:.3f}" if "test_log_likelihood" in r else ""
            print(f"epoch {r['epoch']:>4}/{r['epochs']} [{r['phase']}] elbo {r['elbo']:.4f} "
                  f"T {r['temperature']:.3f}{ll} {r['seconds']:.1f}s", flush=True)

    res = run(cfg, progress)
    _write(out, cfg, dict(res.metrics, history=res.result.history), res.result.model)
    return 0


def _train_on_cluster(eng, cfg: dict[str, Any], out: Path, args: argparse.Namespace) -> int:
    """``train`` on a Dask cluster: the same task the app submits; progress printed as it arrives."""
    import time

    from .engine import model_from_result
    from .experiments import load_data

    data = load_data(cfg)
    try:
        job = eng.submit("cli", cfg, data)
        shown = 0
        while True:
            finished = job.poll().finished
            for r in job.history[shown:]:
                if not args.quiet:
                    print(f"epoch {r['epoch']:>4}/{r['epochs']} [{r['phase']}] elbo {r['elbo']:.4f} "
                          f"T {r['temperature']:.3f} {r['seconds']:.1f}s", flush=True)
            shown = len(job.history)
            if finished:
                break
            time.sleep(0.3)
        if job.status != "done":
            if job.error_type == "ValueError":  # bad data or settings, found in the worker: exit 2 like a local run
                raise ValueError(job.error)
            raise TrainingError(job.error or f"the job ended as {job.status}")
        r = job.result
        print(f"trained on worker {job.worker}")
        _write(out, cfg, dict(r["metrics"], history=r["history"]), model_from_result(r))
    finally:
        eng.close()
    return 0


def _write(out: Path, cfg: dict[str, Any], raw_metrics: dict[str, Any], model) -> None:
    metrics = jsonable_metrics({k: v for k, v in raw_metrics.items() if k != "history"})
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (out / "config.json").write_text(json.dumps(cfg, indent=2))
    save_checkpoint(model, out / "model.pt", extra={"run_config": cfg, "history": raw_metrics.get("history", []),
                                                    "seconds": metrics.get("seconds")})
    keys = [k for k in ("ari", "nmi", "accuracy", "test_log_likelihood", "elbo", "seconds") if k in metrics]
    print("vmonf   " + "  ".join(f"{k} {metrics[k]:.4f}" for k in keys))
    for b, v in metrics.get("baselines", {}).items():
        shown = [f"{k} {v[k]:.4f}" for k in ("ari", "nmi", "accuracy", "test_log_likelihood") if k in v]
        if shown:  # spectral clustering has no likelihood, and without true classes nothing to compare
            print(f"{b:<7} " + "  ".join(shown))
    print(f"wrote {out / 'metrics.json'} and {out / 'model.pt'}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "presets":
            cmd_presets()
            return 0
        if args.threads is not None and args.threads < 1:
            raise ValueError(f"--threads must be >= 1, got {args.threads}")
        return cmd_sweep(args) if args.command == "sweep" else cmd_train(args)
    except (ValueError, OSError) as e:
        print(f"error: {str(e).splitlines()[0] if str(e) else type(e).__name__}", file=sys.stderr)
        return 2
    except MemoryError:
        print("error: out of memory (a smaller model, batch or dataset would fit)", file=sys.stderr)
        return 2
    except TrainingError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def cli() -> None:
    """The console entry (``python -m vmonf_core``, ``vmonf``): after an interrupt the process ends at once; its
    results are written by then, and Dask's exit handlers would spend seconds on a cluster already killed."""
    code = main()
    if code == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    cli()
