"""Hostile checkpoints (issue 12): every one ends in a ValueError, quickly, before anything big is built."""

from __future__ import annotations

import io
import json
import time
import zipfile

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vmonf_core import checkpoints
from vmonf_core.mixture import CHECKPOINT_FORMAT, VMoNF, load_checkpoint, save_checkpoint


def _payload(model: VMoNF, **extra) -> dict:
    buf = io.BytesIO()
    save_checkpoint(model, buf, extra=extra)
    return torch.load(io.BytesIO(buf.getvalue()), weights_only=True)


def _bytes(payload: dict) -> bytes:
    buf = io.BytesIO()
    torch.save(payload, buf)
    return buf.getvalue()


def _rejects(data: bytes, match: str) -> None:
    t = time.perf_counter()
    with pytest.raises(ValueError, match=match):
        load_checkpoint(io.BytesIO(data))
    assert time.perf_counter() - t < 10


def test_empty_and_foreign_files():
    _rejects(b"", "empty")
    _rejects(b"hello, not a zip", "not a torch zip archive")


def test_a_config_asking_for_terabytes_is_refused_before_building():
    p = _payload(VMoNF(2, 2))
    cfg = json.loads(p["config"])
    cfg.update(n_components=256, restarts=64, depth=64, hidden=8192)
    p["config"] = json.dumps(cfg)
    _rejects(_bytes(p), "limit")


def test_deeply_nested_or_mistyped_metadata():
    p = _payload(VMoNF(2, 2))
    for field in ("config", "extra"):
        q = dict(p, **{field: "[" * 200_000 + "]" * 200_000})
        _rejects(_bytes(q), "nested")
    _rejects(_bytes(dict(p, extra="[1, 2]")), "JSON object")
    _rejects(_bytes(dict(p, extra=json.dumps({"history": [{"epoch": "x"}, 3]}))), "history")


def test_tampered_buffers_are_caught():
    base = VMoNF(3, 2, flow="maf", restarts=2, posterior_batch_norm=True)
    p = _payload(base)
    cases = [("active_restart", torch.tensor(7), "active_restart"), ("scale", -torch.ones(3), "positive"),
             ("temperature", torch.tensor(0.0), "positive")]
    var = next(k for k in p["state_dict"] if k.endswith("running_var"))
    cases.append((var, -torch.ones_like(p["state_dict"][var]), "positive"))
    mask = next(k for k in p["state_dict"] if k.endswith(".mask"))
    cases.append((mask, torch.ones_like(p["state_dict"][mask]), "does not match its config"))
    for key, value, match in cases:
        sd = dict(p["state_dict"], **{key: value})
        _rejects(_bytes(dict(p, state_dict=sd)), match)


def test_a_deflate_bomb_is_refused_before_inflating(monkeypatch):
    monkeypatch.setattr(checkpoints, "MAX_UNCOMPRESSED_BYTES", 1_000_000)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", b"\0" * 5_000_000)  # 5 MB inflated, a few KB on disk
    assert len(buf.getvalue()) < 50_000
    _rejects(buf.getvalue(), "inflates")


def test_a_complete_checkpoint_round_trips_with_its_history(tmp_path):
    m = VMoNF(2, 3)
    hist = [{"epoch": 1, "elbo": -1.0, "log_px": -0.8, "temperature": 0.9, "phase": "train", "step": 4}]
    m.save(tmp_path / "m.pt", extra={"history": hist, "seconds": 1.5})
    back, extra = load_checkpoint(tmp_path / "m.pt")
    assert extra["history"] == hist and extra["seconds"] == 1.5


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=5),
                           lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=20)


@settings(max_examples=60, deadline=None)
@given(config=json_values, extra=json_values)
def test_random_metadata_never_raises_anything_but_value_error(config, extra):
    p = _payload(VMoNF(2, 2))
    for field, value in (("config", config), ("extra", extra)):
        q = dict(p, **{field: json.dumps(value)})
        try:
            load_checkpoint(io.BytesIO(_bytes(q)))
        except ValueError:
            pass
    assert p["format"] == CHECKPOINT_FORMAT
