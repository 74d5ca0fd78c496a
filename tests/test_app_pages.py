"""AppTest smoke tests for the app frame, the home page and the playground."""

import numpy as np
import pytest
from apptest_utils import ROOT, page, texts, wait_for_job
from streamlit.testing.v1 import AppTest

from vmonf_core.experiments import resolve


def test_app_frame_runs_with_navigation():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert any("VMoNF Explorer" in t.value for t in at.title)  # the default page is home


def test_home_explains_the_model_and_shows_the_device():
    at = page("home")
    assert at.title[0].value == "VMoNF Explorer"
    assert [s.value for s in at.subheader][:3] == ["The model", "The ELBO", "The temperature"]
    assert any("Compute device" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) == 1


def test_playground_renders_its_controls():
    at = page("playground")
    labels = [b.label for b in at.button]
    for name in ("Train", "Stop", "Resume", "Fast settings", "Thesis settings"):
        assert name in labels
    assert at.sidebar.radio(key="source").value == "Toy dataset"
    assert at.sidebar.selectbox(key="dataset").value == "pinwheel"
    assert [c.key for c in at.get("plotly_chart")] == ["pg_data"]  # the data chart; the labeling chart waits for its expander


def _short(at, epochs=3, restarts=1):
    at.sidebar.number_input(key="epochs").set_value(epochs)
    at.sidebar.number_input(key="restarts").set_value(restarts)


def test_playground_trains_through_the_button_and_shows_results():
    at = page("playground")
    _short(at)
    at.button(key="pg_train").click().run()
    assert not at.error, [e.value for e in at.error]
    wait_for_job(at, "pg_job")
    assert at.session_state["pg_job"].status == "done"
    metrics = {m.label: m.value for m in at.metric}
    assert {"ARI", "NMI", "Accuracy", "Test log-lik"} <= set(metrics)
    assert 0 <= float(metrics["ARI"]) <= 1
    views = at.get("button_group")[-1]
    assert list(views.options) == ["Thesis figure", "Replay", "Density", "Components", "Usage", "Curves", "Baselines"]
    # only the chosen view is built and sent: the heavy components heatmaps wait until that view is picked
    figs = at.session_state["pg_result"].cache["figs"]
    assert "part" in figs and "comp" not in figs
    n_charts = len(at.get("plotly_chart"))
    at.session_state["pg_res_view"] = "Components"
    at.run()
    assert "comp" in figs and len(at.get("plotly_chart")) == n_charts  # one view's chart replaced the other
    assert not at.exception
    assert {"Download checkpoint", "Download metrics", "Download run config"} <= {b.label for b in at.get("download_button")}


def test_thesis_and_fast_buttons_set_the_recipes():
    at = page("playground")
    at.button(key="pg_thesis").click().run()
    assert at.sidebar.number_input(key="lr").value == 1e-3
    assert at.sidebar.number_input(key="restarts").value == 1
    assert at.sidebar.number_input(key="depth").value == 8  # the thesis's pinwheel: 8 blocks of width 8
    assert at.sidebar.number_input(key="hidden").value == 8
    assert at.sidebar.text_input(key="posterior_hidden").value == "3"
    assert at.sidebar.slider(key="n").value == 3200
    at.button(key="pg_fast").click().run()
    fast = resolve("pinwheel")  # our recipe, read from the one preset table
    assert fast["train"]["lr"] != 1e-3 and fast["model"]["restarts"] != 1  # so the click must change both
    assert at.sidebar.number_input(key="lr").value == fast["train"]["lr"]
    assert at.sidebar.number_input(key="restarts").value == fast["model"]["restarts"]


def test_bad_settings_show_an_error_and_keep_the_previous_model():
    at = page("playground")
    _short(at)
    at.button(key="pg_train").click().run()
    wait_for_job(at, "pg_job")
    model = at.session_state["pg_result"].model
    for key, value, message in (("lr", -1.0, "lr must be"), ("depth", 0, "depth"),
                                ("t0", 0.0, "t0")):
        at.sidebar.number_input(key=key).set_value(value)
        at.button(key="pg_train").click().run()
        assert not at.exception
        assert any(message in e.value for e in at.error), (key, [e.value for e in at.error])
        assert at.session_state["pg_result"].model is model  # nothing trained is lost
        at.sidebar.number_input(key=key).set_value({"lr": 4e-3, "K": 5, "depth": 4, "t0": 1.0}[key])
        at.run()
    at.sidebar.slider(key="n").set_value(100)
    at.sidebar.number_input(key="K").set_value(60)
    at.button(key="pg_train").click().run()
    assert any("2*K" in e.value for e in at.error)  # K larger than the data allows
    assert at.session_state["pg_result"].model is model


def test_drawn_dataset_too_small_or_identical_is_refused():
    at = page("playground")
    at.sidebar.radio(key="source").set_value("Draw").run()
    at.session_state["pg_drawn"] = [[0.1, 0.2]] * 3
    at.run()
    at.button(key="pg_train").click().run()
    assert any("2*K" in e.value for e in at.error)
    at.session_state["pg_drawn"] = [[0.1, 0.2]] * 40
    at.sidebar.number_input(key="K").set_value(2)
    at.run()
    at.button(key="pg_train").click().run()
    assert any("identical" in e.value for e in at.error)


def test_drawing_by_selection_adds_points():
    at = page("playground")
    at.sidebar.radio(key="source").set_value("Draw").run()
    assert "Click on the canvas" in texts(at)
    at.session_state["pg_canvas_0"] = {"selection": {"points": [{"curve_number": 0, "point_index": 5, "x": 0.5, "y": -0.25}],
                                                     "point_indices": [5], "box": [], "lasso": []}}
    at.run()
    drawn = at.session_state["pg_drawn"]
    assert len(drawn) == 5  # the default spray
    assert np.allclose(np.mean(drawn, 0), [0.5, -0.25], atol=0.1)
    at.button(key="pg_draw_undo").click().run()
    assert at.session_state["pg_drawn"] == []


def open_labeling(at):
    """Open the labeling expander, as a click on it does (its content is built only while it is open)."""
    at.session_state["pg_labeling_open"] = True
    return at.run()


def test_the_labeling_panel_is_built_only_when_opened():
    at = page("playground")
    assert not [c for c in at.get("plotly_chart") if (c.key or "").startswith("pg_label_chart")]
    open_labeling(at)
    assert [c for c in at.get("plotly_chart") if (c.key or "").startswith("pg_label_chart")]


def test_selection_event_assigns_labels_and_counts_change():
    at = open_labeling(page("playground"))
    counts = at.dataframe[0].value
    assert int(counts["class 1"][0]) == 0
    at.selectbox(key="pg_label_class").set_value(2)
    at.session_state["pg_label_chart_0"] = {"selection": {"points": [{"curve_number": 0, "point_index": i, "customdata": i}
                                                                     for i in (3, 5, 8)], "point_indices": [3, 5, 8], "box": [], "lasso": []}}
    at.run()
    counts = at.dataframe[0].value
    assert int(counts["class 2"][0]) == 3 and int(counts["unlabeled"][0]) == 797
    at.button(key="pg_label_undo").click().run()
    assert int(at.dataframe[0].value["class 2"][0]) == 0


def test_random_labels_and_changed_dataset_clears_them():
    at = open_labeling(page("playground"))
    at.button(key="pg_label_random").click().run()
    counts = at.dataframe[0].value
    assert all(int(counts[f"class {k}"][0]) == 16 for k in range(1, 6))
    at.sidebar.slider(key="n").set_value(600).run()
    assert "labels made on the previous one were cleared" in texts(at)
    assert int(at.dataframe[0].value["unlabeled"][0]) == 480


def test_after_a_run_the_suggested_uncertain_points_get_their_true_labels():
    at = open_labeling(page("playground"))
    assert not [b for b in at.button if b.key == "pg_label_suggest"]  # no model yet, no suggestions
    _short(at)
    at.button(key="pg_train").click().run()
    wait_for_job(at, "pg_job")
    at.run()
    at.button(key="pg_label_suggest").click().run()
    counts = at.dataframe[0].value
    assert int(counts["unlabeled"][0]) == 790
    assert sum(int(counts[f"class {k}"][0]) for k in range(1, 6)) == 10


def test_bad_csv_upload_message(tmp_path):

    from ui.data_panel import cached_csv

    x, y, error = cached_csv(b"1,2\nnan,3\n")  # the rejection itself is cached: no reparse on every rerun
    assert x is None and "NaN" in error


def test_two_runs_appear_in_the_history_and_side_by_side():
    """Train two seeds; both are in the run table; picking both shows their figures and curves side by side."""
    at = page("playground")
    _short(at)
    for seed in (0, 1):
        at.sidebar.number_input(key="seed").set_value(seed)
        at.button(key="pg_train").click().run()
        wait_for_job(at, "pg_job")
    runs = at.session_state["pg_runs"]
    assert [r.config["train"]["seed"] for r in runs] == [1, 0]  # newest first
    table = next(d.value for d in at.table if "ELBO" in d.value.columns)  # the run table (a static table)
    assert list(table["seed"]) == [1, 0] and {"ARI", "NMI", "ACC", "ELBO", "seconds"} <= set(table.columns)
    at.multiselect(key="pg_hist_pick").set_value([r.number for r in runs]).run()
    keys = {c.key for c in at.get("plotly_chart") if c.key}  # noqa: SIM118
    for r in runs:
        assert f"pg_hist_cmp_part_{r.number}" in keys and f"pg_hist_cmp_curves_{r.number}" in keys
    assert len(at.columns) >= 2
    at.button(key="pg_hist_drop").click().run()
    assert at.session_state["pg_runs"] == []


def test_replay_exports_an_animated_gif():
    """A run records preview frames by training progress (not the clock): the same frames on a fast or slow machine."""
    from io import BytesIO

    from PIL import Image

    from ui.replay import gif_bytes

    at = page("playground")
    _short(at, epochs=40)
    at.button(key="pg_train").click().run()
    wait_for_job(at, "pg_job")
    from vmonf_core.engine import PREVIEW_FRAMES, preview_stride

    result = at.session_state["pg_result"]
    total = result.history[-1]["epochs"]
    stride = preview_stride(total, PREVIEW_FRAMES)
    epochs = [e for e, _ in result.previews]
    # one frame every `stride` epochs, then the returned model after the last epoch
    assert epochs == [e for e in range(1, total) if e % stride == 0] + [total], epochs
    gif = Image.open(BytesIO(gif_bytes(result.previews, result.data.x)))
    assert gif.format == "GIF" and gif.n_frames == len(result.previews) >= PREVIEW_FRAMES // 2
    at.session_state["pg_res_view"] = "Replay"  # views are built when picked: pick Replay, as a click on it does
    at.run()
    slider = at.slider(key=f"pg_res_replay_{result.number}_pos")
    assert slider.max == len(result.previews) - 1 and slider.value == slider.max  # starts on the final frame


def test_labels_caption_follows_the_start():
    at = open_labeling(page("playground"))
    at.button(key="pg_label_random").click().run()
    captions = lambda: " ".join(c.value for c in at.caption)  # noqa: E731
    assert "spectral start's clusters are renumbered to agree with them" in captions()  # the pinwheel's default start
    at.sidebar.selectbox(key="init").set_value("random").run()
    assert "the run first trains on them alone for 10 epochs" in captions()


def test_run_numbers_are_per_session():
    """Run numbers (the run table, the comparison labels, widget keys) count each browser session's own runs; a
    module-level counter used to be shared by every user of the server."""
    from streamlit.testing.v1 import AppTest

    def script():
        import streamlit as st

        from ui.results import next_run_number

        st.write(f"run {next_run_number()}")

    a, b = AppTest.from_function(script), AppTest.from_function(script)
    a.run()
    a.run()
    b.run()
    assert a.markdown[0].value == "run 2" and b.markdown[0].value == "run 1"


def test_the_setup_link_is_built_when_its_box_is_opened():
    """The closed "Link to this setup" box sends nothing (its code box cost every first visit); opened, it holds the
    link of the current settings."""
    at = page("playground")
    assert not at.get("code")
    at.sidebar.selectbox(key="dataset").set_value("circles").run()
    at.session_state["link_open"] = True  # open the expander, as a click does
    at.run()
    (code,) = at.get("code")
    assert "dataset=circles" in code.value and "K=2" in code.value, code.value


def test_every_toy_dataset_opens_in_the_playground_with_its_registry_defaults():
    """Picking any toy dataset sets K and the noise slider from its one registry entry (datasets.TOYS); a dataset
    missing from a hand-kept table used to be a KeyError on the page."""
    from vmonf_core.datasets import TOYS

    at = page("playground")
    for name, toy in TOYS.items():
        at.sidebar.selectbox(key="dataset").set_value(name).run()
        assert not at.exception, (name, at.exception)
        assert at.sidebar.number_input(key="K").value == toy.K
        assert at.sidebar.slider(key="noise").value == pytest.approx(toy.noise)


def test_the_first_page_of_a_session_sends_the_widget_code_prefetch_once():
    """ui/prefetch.py: the first page of a session carries one script that imports the app's widget chunks (files
    that exist in the installed Streamlit); later reruns do not send it again."""
    from pathlib import Path

    import streamlit

    from ui.prefetch import WIDGETS, widget_chunks

    chunks = widget_chunks()
    static = Path(streamlit.__file__).parent / "static"
    assert {u.split("/")[-1].split(".")[0] for u in chunks} == set(WIDGETS)  # every widget found, none twice
    assert all((static / u[2:]).is_file() for u in chunks)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    sent = [h.proto.body for h in at.get("html")]
    assert len(sent) == 1 and all(u in sent[0] for u in chunks) and "import(" in sent[0]
    at.run()
    assert not at.get("html")
