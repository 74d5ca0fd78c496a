"""Issue 12's budget for hostile checkpoints: each load ends in a ValueError within 10 s and 1.5 GB of RSS.

Every case is written to a file and loaded by ``load_checkpoint`` in a fresh Python process; the table gives the
wall time, the child's peak RSS (``wait4``) and the first line of the error.

Usage: python bench/hostile_checkpoints.py
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vmonf_core.mixture import VMoNF, save_checkpoint  # noqa: E402

LOADER = """
import sys, time
from vmonf_core import load_checkpoint
t = time.perf_counter()
try:
    load_checkpoint(sys.argv[1])
except ValueError as e:
    print(f"{time.perf_counter() - t:.3f} ValueError: " + (str(e).splitlines() or [""])[0][:70]); sys.exit(0)
except BaseException as e:
    print(f"{time.perf_counter() - t:.3f} {type(e).__name__}: {str(e)[:70]}"); sys.exit(3)
print(f"{time.perf_counter() - t:.3f} LOADED"); sys.exit(4)
"""


def _payload(model: VMoNF, **extra) -> dict:
    buf = io.BytesIO()
    save_checkpoint(model, buf, extra=extra)
    return torch.load(io.BytesIO(buf.getvalue()), weights_only=True)


def _bytes(p: dict) -> bytes:
    buf = io.BytesIO()
    torch.save(p, buf)
    return buf.getvalue()


def cases() -> dict[str, bytes]:
    out: dict[str, bytes] = {"0-byte file": b"", "not a zip": b"hello"}
    p = _payload(VMoNF(2, 2))
    big = json.loads(p["config"])
    big.update(n_components=256, restarts=64, depth=64, hidden=8192)
    out["config asking for TBs (1.6 KB)"] = _bytes(dict(p, config=json.dumps(big)))
    slow = json.loads(p["config"])
    slow.update(n_components=8, restarts=8, depth=64, hidden=2048)
    out["config of 64 GiB (K8 R8 depth64 hidden2048)"] = _bytes(dict(p, config=json.dumps(slow)))
    out["config nested 200,000 deep"] = _bytes(dict(p, config="[" * 200_000 + "]" * 200_000))
    out["extra nested 200,000 deep"] = _bytes(dict(p, extra="[" * 200_000 + "]" * 200_000))
    out["extra is a JSON list"] = _bytes(dict(p, extra="[1, 2]"))
    out["history with garbage entries"] = _bytes(dict(p, extra=json.dumps({"history": [{"epoch": "x"}, 3]})))
    m = VMoNF(3, 2, flow="maf", restarts=2, posterior_batch_norm=True)
    q = _payload(m)
    sd = q["state_dict"]
    out["active_restart = 7"] = _bytes(dict(q, state_dict=dict(sd, active_restart=torch.tensor(7))))
    out["scale <= 0"] = _bytes(dict(q, state_dict=dict(sd, scale=-torch.ones(3))))
    var = next(k for k in sd if k.endswith("running_var"))
    out["BatchNorm running_var < 0"] = _bytes(dict(q, state_dict=dict(sd, **{var: -torch.ones_like(sd[var])})))
    mask = next(k for k in sd if k.endswith(".mask"))
    out["MADE mask all ones"] = _bytes(dict(q, state_dict=dict(sd, **{mask: torch.ones_like(sd[mask])})))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("archive/data.pkl", "w", force_zip64=True) as f:
            chunk = b"\0" * (64 << 20)
            for _ in range(32):  # 2 GiB of zeros, about 2 MB on disk
                f.write(chunk)
    out[f"deflate bomb ({len(buf.getvalue()) / 1e6:.1f} MB -> 2 GiB)"] = buf.getvalue()
    return out


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in cases().items():
            path = Path(tmp) / "case.pt"
            path.write_bytes(data)
            t = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-c", LOADER, str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
            _, status, usage = os.wait4(proc.pid, 0)
            out = proc.stdout.read().strip()
            rows.append((name, len(data), time.perf_counter() - t, usage.ru_maxrss / 1024, out, os.waitstatus_to_exitcode(status)))
    print("process = a fresh Python that imports torch and vmonf_core (about 4 s and 450 MB of that is the import);")
    print("load = load_checkpoint alone")
    print(f"{'case':46s} {'bytes':>9s} {'process s':>9s} {'load s':>7s} {'peak RSS MB':>11s}  result")
    ok = True
    for name, size, secs, rss, out, code in rows:
        good = code == 0 and secs <= 10 and rss <= 1536
        ok &= good
        load, _, msg = out.partition(" ")
        print(f"{name:46s} {size:9d} {secs:9.2f} {load:>7s} {rss:11.0f}  {msg}{'' if good else '   <-- OVER BUDGET'}")
    print("all within 10 s and 1.5 GB, all ValueError" if ok else "SOME CASES FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
