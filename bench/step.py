"""One training step, taken apart: ms per step, ops per step, where the time goes, and two floors (issue 21).

For each configuration (the thesis pinwheel, the Playground's default pinwheel, the circles lesson, the MNIST quick
preset) this builds the trainer the CLI builds and times, per minibatch step (median of ``--repeats`` blocks):

* the step and its parts: forward (the ELBO loss), backward, gradient-norm clip, Adam (fused), with 1 and 2
  intra-op threads, and the per-epoch evaluation (the curves' log p(x) and ELBO terms);
* the aten ops of one step (torch profiler, top-level ops only: an op another op calls is not counted twice);
* **dispatch floor**: that op count times the measured cost of one op on a one-element tensor. No eager step with
  this many ops can be faster; what is above it is arithmetic (and small-matrix GEMMs, which run far below peak);
* **fused floor** (when a C++ compiler is found): the same forward + backward compiled by ``torch.compile``
  (inductor's C++ kernels), with the compile time it cost on this run (a cold on-disk cache costs far more than a
  warm one: both are printed over two runs);
* for the thesis pinwheel, the peer the issue names: a Python loop over K ``zuko.flows.RealNVP`` flows of the same
  sizes (8 coupling blocks, hidden width 8), the same posterior, ELBO, Adam and batch; and the whole-run ratio
  ours / zuko projected from the per-step numbers (``--full`` also times both full 400-epoch runs in this process).

Usage (the zuko peer needs ``pip install -r bench/requirements.txt``)::

    python bench/step.py [--configs thesis-pinwheel,pinwheel,circles,mnist] [--repeats 5] [--full] [--no-compile]

Writes ``docs/sweeps/step.json`` (with where it ran) and prints the README's table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from vmonf_core.experiments import load_data, make_trainer, resolve  # noqa: E402
from vmonf_core.runtime import configure_torch, provenance  # noqa: E402

CONFIGS = {  # name: (preset, recipe)
    "thesis-pinwheel": ("pinwheel", "thesis"),
    "pinwheel": ("pinwheel", "default"),
    "circles": ("circles", "default"),
    "mnist": ("mnist", "default"),
}
OUT = Path(__file__).resolve().parent.parent / "docs" / "sweeps" / "step.json"


def trainer_for(name: str):
    preset, recipe = CONFIGS[name]
    cfg = resolve(preset, recipe)
    tr = make_trainer(cfg, load_data(cfg))
    tr.model.train()
    return cfg, tr


def batch_of(tr) -> torch.Tensor:
    return tr.x[tr.train_idx[: tr.config.batch_size]]


def time_parts(tr, xb: torch.Tensor, steps: int) -> dict[str, float]:
    """Mean ms of each part of ``steps`` steps (after a warm-up), the trainer's own code in its own order."""
    parts = dict.fromkeys(("forward", "backward", "clip", "adam"), 0.0)
    for i in range(steps + 10):
        t0 = time.perf_counter()
        tr.optimizer.zero_grad(set_to_none=True)
        loss = tr._elbo_loss(xb)
        t1 = time.perf_counter()
        bool(torch.isfinite(loss))
        loss.backward()
        t2 = time.perf_counter()
        grads = [p.grad for p in tr.params if p.grad is not None]
        norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
        if bool(torch.isfinite(norm)) and norm > tr.config.grad_clip:
            torch._foreach_mul_(grads, tr.config.grad_clip / float(norm))
        t3 = time.perf_counter()
        tr.optimizer.step()
        t4 = time.perf_counter()
        if i >= 10:
            for k, a, b in (("forward", t0, t1), ("backward", t1, t2), ("clip", t2, t3), ("adam", t3, t4)):
                parts[k] += 1e3 * (b - a) / steps
    return parts


def median_parts(tr, xb, steps: int, repeats: int) -> dict[str, float]:
    runs = [time_parts(tr, xb, steps) for _ in range(repeats)]
    out = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    out["step"] = statistics.median(sum(r.values()) for r in runs)
    return out


def eval_ms(tr, repeats: int) -> float:
    tr.evaluate()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        tr.evaluate()
        ts.append(1e3 * (time.perf_counter() - t))
    return statistics.median(ts)


def op_count(tr, xb) -> int:
    """Top-level aten ops of one step (forward, backward, clip, Adam)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        tr._step(tr._elbo_loss(xb))
    return sum(1 for e in prof.events() if e.name.startswith("aten::")
               and (e.cpu_parent is None or not e.cpu_parent.name.startswith("aten::")))


def one_op_us(n: int = 20000) -> float:
    """The cost of one eager op on a one-element tensor (dispatch and allocation, no arithmetic)."""
    a = torch.zeros(1)
    for _ in range(1000):
        a * 1.0
    t = time.perf_counter()
    for _ in range(n):
        a * 1.0
    return 1e6 * (time.perf_counter() - t) / n


def compiled_ms(tr, xb, steps: int) -> tuple[float, float] | None:
    """(ms per forward+backward+Adam step with the loss compiled by inductor, compile seconds) or None."""
    if not (shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")):
        return None
    m = tr.model
    temperature = float(tr.temperature)  # a constant here: the floor of one step, not a schedule

    def loss_fn(x, T):
        return -m.all_elbo_terms(x, T)["elbo"].mean(1).sum()

    try:
        fn = torch.compile(loss_fn, dynamic=False)
        t = time.perf_counter()
        fn(xb, temperature).backward()
        compile_s = time.perf_counter() - t
    except Exception as e:  # noqa: BLE001 (no working toolchain: the fused floor is not measured)
        print(f"  torch.compile failed ({type(e).__name__}): no fused floor", file=sys.stderr)
        return None
    for _ in range(5):
        tr.optimizer.zero_grad(set_to_none=True)
        fn(xb, temperature).backward()
        tr.optimizer.step()
    t = time.perf_counter()
    for _ in range(steps):
        tr.optimizer.zero_grad(set_to_none=True)
        fn(xb, temperature).backward()
        tr.optimizer.step()
    return 1e3 * (time.perf_counter() - t) / steps, compile_s


def zuko_epoch(cfg: dict):
    """``(one epoch of the zuko peer, its steps per epoch)``: a Python loop over K zuko RealNVP flows of the
    config's sizes (bench/speed.py's peer), on as many points as the config trains on."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import speed

    m, t = cfg["model"], cfg["train"]
    n_train = round(cfg["data"]["n"] * (1 - cfg["data"].get("test_fraction", 0.2)))
    peer = dict(D=2, K=m["n_components"], flow="realnvp", depth=m["depth"], hidden=m["hidden"],
                hidden_layers=m["hidden_layers"], N=n_train, batch=t["batch_size"], q=m["posterior_hidden"])
    return speed.zuko_loop(peer, speed.data(peer)), -(-n_train // t["batch_size"])


def zuko_ms(cfg: dict, steps: int, repeats: int) -> float | None:
    """ms per step of the zuko peer (:func:`zuko_epoch`), or ``None`` without zuko."""
    try:
        import zuko  # noqa: F401
    except ImportError:
        return None
    epoch, per_epoch = zuko_epoch(cfg)
    epoch()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(max(1, steps // per_epoch)):
            epoch()
        ts.append(1e3 * (time.perf_counter() - t0) / (max(1, steps // per_epoch) * per_epoch))
    return statistics.median(ts)


def full_runs(cfg: dict, threads: int) -> dict[str, float]:
    """Seconds of the whole CLI run (training as ``python -m vmonf_core train`` reports it) and of the zuko loop."""
    from vmonf_core.experiments import run

    configure_torch(threads)
    ours = run(cfg, with_baselines=False).metrics["seconds"]
    epoch, _ = zuko_epoch(cfg)
    t0 = time.perf_counter()
    for _ in range(cfg["train"]["epochs"]):
        epoch()
    return {"ours_s": ours, "zuko_s": time.perf_counter() - t0}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--configs", default=",".join(CONFIGS))
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--steps", type=int, default=40, help="steps per timed block")
    p.add_argument("--full", action="store_true", help="also time the whole thesis-pinwheel run and the zuko loop")
    p.add_argument("--no-compile", action="store_true")
    a = p.parse_args()
    rows = []
    for name in a.configs.split(","):
        cfg, tr = trainer_for(name)
        xb = batch_of(tr)
        row: dict = {"config": name, "batch": int(xb.shape[0]), "K": tr.model.K, "R": tr.model.R, "D": tr.model.D,
                     "flow": cfg["model"]["flow"], "steps_per_epoch": -(-len(tr.train_idx) // tr.config.batch_size),
                     "epochs": tr.config.epochs}
        steps = a.steps if tr.model.D < 100 else max(5, a.steps // 8)
        for threads in (1, 2):
            configure_torch(threads)
            row[f"t{threads}"] = {k: round(v, 3) for k, v in median_parts(tr, xb, steps, a.repeats).items()}
            row[f"t{threads}"]["eval"] = round(eval_ms(tr, a.repeats), 3)
        configure_torch(1)
        row["ops"] = op_count(tr, xb)
        row["one_op_us"] = round(one_op_us(), 3)
        row["dispatch_floor_ms"] = round(row["ops"] * row["one_op_us"] / 1e3, 3)
        comp = None if a.no_compile else compiled_ms(tr, xb, steps)
        row["fused_floor_ms"], row["compile_s"] = (round(comp[0], 3), round(comp[1], 1)) if comp else (None, None)
        if name == "thesis-pinwheel":
            configure_torch(1)
            z1 = zuko_ms(cfg, a.steps, a.repeats)
            configure_torch(2)
            z2 = zuko_ms(cfg, a.steps, a.repeats)
            row["zuko_ms"] = {"t1": z1 and round(z1, 3), "t2": z2 and round(z2, 3)}
            if z1 and z2:
                per_epoch = row["steps_per_epoch"]
                ours = min(row["t1"]["step"] + row["t1"]["eval"] / per_epoch, row["t2"]["step"] + row["t2"]["eval"] / per_epoch)
                row["projected_ratio"] = round(ours / min(z1, z2), 3)
            if a.full:
                row["full_run"] = {k: round(v, 2) for k, v in full_runs(cfg, 1).items()}
                row["full_run"]["ratio"] = round(row["full_run"]["ours_s"] / row["full_run"]["zuko_s"], 3)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"made_on": provenance(), "torch": torch.__version__, "rows": rows}, indent=1) + "\n")
    print("| config | ms/step, 1 thread (fwd / bwd / clip / Adam) | 2 threads | eval ms/epoch (1 / 2 thr.) | "
          "ops/step | dispatch floor | fused floor (compile s) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        t1, t2 = r["t1"], r["t2"]
        fused = f"{r['fused_floor_ms']:.2f} ({r['compile_s']:.0f} s)" if r["fused_floor_ms"] else "n/a"
        print(f"| {r['config']} (K={r['K']}, D={r['D']}, {r['flow']}, batch {r['batch']}) | **{t1['step']:.2f}** "
              f"({t1['forward']:.2f} / {t1['backward']:.2f} / {t1['clip']:.2f} / {t1['adam']:.2f}) | {t2['step']:.2f} | "
              f"{t1['eval']:.1f} / {t2['eval']:.1f} | {r['ops']} | {r['dispatch_floor_ms']:.2f} | {fused} |")
    for r in rows:
        if "zuko_ms" in r:
            print(f"\nzuko loop ({r['config']}): {r['zuko_ms']['t1']} ms/step (1 thread), {r['zuko_ms']['t2']} (2 threads); "
                  f"projected whole-run ratio ours/zuko: {r.get('projected_ratio')}"
                  + (f"; full runs: ours {r['full_run']['ours_s']} s, zuko {r['full_run']['zuko_s']} s, "
                     f"ratio {r['full_run']['ratio']}" if "full_run" in r else ""))


if __name__ == "__main__":
    main()
