"""A catalogue of bad inputs across the UI (AppTest), the CLI and the Python API.

Each case must produce a clear message naming the problem, never a traceback, and the UI
must keep the last trained model and its data.
"""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
import torch
from apptest_utils import page, wait_for_job

from vmonf_core import ModelConfig, TrainConfig, VMoNF, load_checkpoint, save_checkpoint
from vmonf_core.datasets import load_csv, load_mnist
from vmonf_core.train_config import validate_data

# ---------------------------------------------------------------- Python API
API_CASES = [
    ("K = 0", lambda: ModelConfig(dim=2, n_components=0), "n_components"),
    ("depth 0", lambda: ModelConfig(dim=2, n_components=2, depth=0), "depth"),
    ("hidden width 0", lambda: ModelConfig(dim=2, n_components=2, hidden=0), "hidden"),
    ("unknown flow", lambda: ModelConfig(dim=2, n_components=2, flow="glow"), "flow"),
    ("lr 0", lambda: TrainConfig(lr=0.0), "lr"),
    ("negative lr", lambda: TrainConfig(lr=-0.1), "lr"),
    ("zero epochs", lambda: TrainConfig(epochs=0), "epochs"),
    ("negative batch size", lambda: TrainConfig(batch_size=-4), "batch_size"),
    ("temperature 0", lambda: TrainConfig(t0=0.0), "t0"),
    ("negative minimum temperature", lambda: TrainConfig(t_min=-1.0), "t_min"),
    ("K larger than the data", lambda: validate_data(np.random.rand(5, 2), 3), "2\\*K"),
    ("NaN in data", lambda: validate_data(np.array([[np.nan, 0.0]] * 10), 2), "NaN"),
    ("inf in data", lambda: validate_data(np.array([[np.inf, 0.0]] * 10), 2), "infinite"),
    ("empty data", lambda: validate_data(np.zeros((0, 2)), 2), "2\\*K"),
    ("one point", lambda: validate_data(np.zeros((1, 2)), 1), "2\\*K"),
    ("duplicate points only", lambda: validate_data(np.ones((50, 2)), 2), "identical"),
    ("labels >= K", lambda: validate_data(np.random.rand(20, 2), 2, np.full(20, 2)), "labels must be in"),
    ("labels below -1", lambda: validate_data(np.random.rand(20, 2), 2, np.full(20, -2)), "labels must be in"),
    ("non-integer labels", lambda: validate_data(np.random.rand(20, 2), 2, np.full(20, 0.5)), "integers"),
    ("empty CSV", lambda: load_csv(b""), "empty"),
    ("binary CSV", lambda: load_csv(bytes(range(256))), "binary"),
    ("wrong delimiter", lambda: load_csv(b"1;2\n3;4\n"), "delimiter"),
    ("wrong columns", lambda: load_csv(b"1,2,3,4\n5,6,7,8\n"), "2 columns"),
    ("10^6 rows", lambda: load_csv(b"1,2\n" * 1_000_000), "larger than|limit"),
    ("truncated checkpoint", lambda: load_checkpoint(io.BytesIO(_ckpt()[:300])), "not a (valid )?VMoNF checkpoint"),
    ("tampered checkpoint", lambda: load_checkpoint(io.BytesIO(_tampered())), "shape|not a (valid )?VMoNF|NaN"),
    ("missing MNIST folder", lambda: load_mnist(path="/nonexistent/mnist"), "not found"),
    ("wrong data dim for a model", lambda: VMoNF(2, 2).log_prob(torch.zeros(3, 5)), "shape"),
    ("temperature <= 0 at inference", lambda: VMoNF(2, 2).posterior(torch.zeros(3, 2), temperature=-1), "temperature"),
]


def _ckpt(**kw) -> bytes:
    buf = io.BytesIO()
    save_checkpoint(VMoNF(2, 3, **kw), buf)
    return buf.getvalue()


def _tampered() -> bytes:
    payload = torch.load(io.BytesIO(_ckpt()), weights_only=True)
    payload["state_dict"]["posterior_net.net.0.weight"] = torch.zeros(1, 7, 7)
    buf = io.BytesIO()
    torch.save(payload, buf)
    return buf.getvalue()


@pytest.mark.parametrize("name, call, message", API_CASES, ids=[c[0] for c in API_CASES])
def test_api_rejects_bad_input_with_a_clear_message(name, call, message):
    with pytest.raises(ValueError) as e:
        call()
    assert re.search(message, str(e.value)), str(e.value)
    assert len(str(e.value)) < 300


# ----------------------------------------------------------------------- UI
UI_SETTINGS = [  # (widget key, bad value, expected message, good value)
    ("depth", 0, "depth", 4),
    ("hidden", 0, "hidden", 32),
    ("lr", 0.0, "lr must be", 1e-2),
    ("lr", -1.0, "lr must be", 1e-2),
    ("epochs", 0, "epochs", 2),
    ("batch_size", 0, "batch_size", 128),
    ("t0", 0.0, "t0", 1.0),
    ("t0", -2.0, "t0", 1.0),
]


@pytest.fixture(scope="module")
def trained_playground():
    at = page("playground")
    at.sidebar.number_input(key="epochs").set_value(2)
    at.sidebar.number_input(key="restarts").set_value(1)
    at.button(key="pg_train").click().run()
    wait_for_job(at, "pg_job")
    return at


def _assert_kept(at, model) -> None:
    assert not at.exception, at.exception
    assert at.session_state["pg_result"].model is model


def test_ui_bad_settings_catalogue(trained_playground):
    at = trained_playground
    model = at.session_state["pg_result"].model
    k = at.sidebar.number_input(key="K")
    assert (k.min, k.max) == (2, 64)  # K is bounded by the widget: no K = 100,000 rerun costs
    for key, bad, message, good in UI_SETTINGS:
        at.sidebar.number_input(key=key).set_value(bad)
        at.button(key="pg_train").click().run()
        errors = [e.value for e in at.error]
        assert any(message in e for e in errors), (key, bad, errors)
        _assert_kept(at, model)
        at.sidebar.number_input(key=key).set_value(good)
    at.sidebar.text_input(key="posterior_hidden").set_value("64,abc")
    at.button(key="pg_train").click().run()
    assert any("comma-separated integers" in e.value for e in at.error)
    at.sidebar.text_input(key="posterior_hidden").set_value("64,64")
    at.run()
    _assert_kept(at, model)


@pytest.mark.parametrize(
    "raw, message",
    [(b"", "empty"), (b"\x00\x01", "binary"), (b"1;2\n3;4\n", "delimiter"), (b"1,2,3,4\n", "2 columns"),
     (b"1,2\nnan,1\n", "NaN"), (b"a,b\nx,y\n", "non-numeric")],
)
def test_ui_bad_csv_uploads(raw, message):
    at = page("playground")
    at.sidebar.radio(key="source").set_value("Upload CSV").run()
    at.sidebar.file_uploader(key="pg_csv").set_value(("bad.csv", raw, "text/csv")).run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]


def test_ui_drawn_data_edge_cases_and_labels(trained_playground):
    at = trained_playground
    model = at.session_state["pg_result"].model
    at.sidebar.radio(key="source").set_value("Draw").run()
    assert any("Click on the canvas" in i.value for i in at.info)  # empty drawing: a prompt, no training possible
    for pts, message in (([[0.2, 0.3]], "2*K"), ([[0.2, 0.3]] * 30, "identical")):
        at.session_state["pg_drawn"] = pts
        at.run()
        at.button(key="pg_train").click().run()
        assert any(message in e.value for e in at.error), [e.value for e in at.error]
        _assert_kept(at, model)
    # labels >= K: label points as class 5, then lower K to 3
    at.sidebar.radio(key="source").set_value("Toy dataset").run()
    at.session_state["pg_labeling_open"] = True  # open the labeling expander, as a click does
    at.run()
    at.selectbox(key="pg_label_class").set_value(5)
    at.session_state[f"pg_label_chart_{at.session_state['pg_labels_v'] if 'pg_labels_v' in at.session_state else 0}"] = {
        "selection": {"points": [{"curve_number": 0, "point_index": 0, "customdata": 0}], "point_indices": [0], "box": [], "lasso": []}}
    at.run()
    at.sidebar.number_input(key="K").set_value(3)
    at.button(key="pg_train").click().run()
    assert any("labels must be in" in e.value for e in at.error), [e.value for e in at.error]
    # labels of a single class: a warning, and training still runs
    at.sidebar.number_input(key="K").set_value(5)
    at.button(key="pg_train").click().run()
    assert any("Only 1 of the K = 5 classes have labels" in w.value for w in at.warning)
    wait_for_job(at, "pg_job")
    # a changed dataset under labels: they are cleared with a notice
    at.sidebar.slider(key="n").set_value(500).run()
    assert any("labels made on the previous one were cleared" in w.value for w in at.warning)


def _with_checkpoint_box():
    """The Playground with its "Load a checkpoint" box open, as a click opens it (the uploader is built only then)."""
    at = page("playground")
    at.session_state["pg_ckpt_open"] = True
    at.run()
    return at


@pytest.mark.parametrize(
    "content, message",
    [(b"not a checkpoint", "VMoNF checkpoint"), (None, "VMoNF checkpoint"), ("dim", "3-dimensional"), ("tampered", "shape")],
)
def test_ui_bad_checkpoint_uploads(content, message):
    if content is None:
        content = _ckpt()[:500]  # truncated
    elif content == "dim":
        buf = io.BytesIO()
        save_checkpoint(VMoNF(3, 2, flow="maf"), buf)
        content = buf.getvalue()
    elif content == "tampered":
        content = _tampered()
    at = _with_checkpoint_box()
    at.file_uploader(key="pg_ckpt").set_value(("m.pt", content, "application/octet-stream")).run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]


def test_ui_checkpoint_from_another_K_is_used_with_its_own_K():
    at = _with_checkpoint_box()
    at.file_uploader(key="pg_ckpt").set_value(("m.pt", _ckpt(), "application/octet-stream")).run()
    at.button(key="pg_use_ckpt").click().run()
    assert not at.exception and not at.error
    assert at.session_state["pg_result"].model.K == 3


GOOD_RECORD = {"epoch": 1, "elbo": -2.0, "log_px": -1.5, "temperature": 0.9, "phase": "train"}
CRAFTED_EXTRAS = [  # issue 25 rows 2 and 3: metadata a view reads, crafted
    ({"history": [{**GOOD_RECORD, "elbo": 10**400}]}, "elbo is too large"),
    ({"history": [{k: v for k, v in GOOD_RECORD.items() if k != "log_px"}]}, "has no log_px"),
    ({"history": [{**GOOD_RECORD, "test_log_likelihood": "high"}]}, "test_log_likelihood is not a number"),
    ({"history": [{**GOOD_RECORD, "phase": "<script>"}]}, "phase must be one of"),
    ({"history": [{**GOOD_RECORD, "epoch": -3}]}, "epoch is not a whole number"),
    ({"run_config": [1, 2]}, "run_config must be a mapping"),
    ({"run_config": "x"}, "run_config must be a mapping"),
    ({"run_config": {"train": [1]}}, "run_config['train'] must be a mapping"),
    ({"seconds": 10**400}, "seconds is too large"),
    ({"seconds": -1}, "must not be negative"),
]


@pytest.mark.parametrize("extra, message", CRAFTED_EXTRAS, ids=[m for _, m in CRAFTED_EXTRAS])
def test_ui_crafted_history_or_run_config_is_refused_at_upload(extra, message):
    buf = io.BytesIO()
    save_checkpoint(VMoNF(2, 3), buf, extra=extra)
    at = _with_checkpoint_box()
    at.file_uploader(key="pg_ckpt").set_value(("m.pt", buf.getvalue(), "application/octet-stream")).run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert "pg_use_ckpt" not in {b.key for b in at.button}  # nothing to use


def test_ui_a_diverged_history_is_used_and_compared_with_gaps():
    """NaN and infinite numbers in an honest history (a diverged epoch) are gaps in the curves, not errors; the
    loaded run stays usable on every view, after leaving the page and in the comparison."""
    hist = [GOOD_RECORD, {**GOOD_RECORD, "epoch": 2, "elbo": float("nan"), "log_px": float("-inf")},
            {**GOOD_RECORD, "epoch": 3, "eta": float("nan"), "plan": [["train", 3]], "junk": "x"}]
    buf = io.BytesIO()
    save_checkpoint(VMoNF(2, 3), buf, extra={"history": hist, "run_config": {"train": {"seed": 4}}, "seconds": 2})
    at = _with_checkpoint_box()
    for _ in range(2):
        at.file_uploader(key="pg_ckpt").set_value(("m.pt", buf.getvalue(), "application/octet-stream")).run()
        at.button(key="pg_use_ckpt").click().run()
        assert not at.exception and not at.error
    runs = at.session_state["pg_runs"]
    assert len(runs) == 2 and runs[0].history[1]["elbo"] is None and "junk" not in runs[0].history[2]
    at.multiselect(key="pg_hist_pick").set_value([r.number for r in runs]).run()
    assert not at.exception
    assert {f"pg_hist_cmp_curves_{r.number}" for r in runs} <= {c.key for c in at.get("plotly_chart")}
    at.switch_page("pages/two_circles.py").run()
    at.switch_page("pages/playground.py").run()
    assert not at.exception


def test_ui_missing_mnist_folder():
    at = page("mnist")
    at.sidebar.text_input(key="mn_folder").set_value(str(__import__("pathlib").Path.home() / "no-such-mnist")).run()
    assert any("not found" in e.value for e in at.error)
    assert not at.exception


# ---------------------------------------------------------------------- CLI
def test_cli_catalogue_is_in_test_cli():
    """The CLI's bad-argument cases live in test_cli.py (one line on stderr, exit code 2)."""
    from test_cli import test_bad_arguments_give_one_line_and_exit_2 as t

    cases = t.pytestmark[0].args[1]
    assert len(cases) >= 9
    assert len(API_CASES) + len(UI_SETTINGS) + 6 + 2 + 3 + 4 + 1 + len(cases) >= 30
    json.dumps([c[1] for c in cases])
