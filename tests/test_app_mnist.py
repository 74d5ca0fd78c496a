"""AppTest: the MNIST page runs, trains a tiny model, and shows grids, table and downloads."""

from apptest_utils import page, wait_for_job


def test_mnist_page_renders_and_a_tiny_training_completes():
    at = page("mnist")
    assert at.title[0].value == "MNIST digits"
    assert at.sidebar.multiselect(key="mn_digits").value == [0, 1, 2, 3, 4]
    assert at.sidebar.slider(key="mn_n").max == 5131  # the slider stops at the shipped images of digits 0-4
    assert at.get("plotly_chart")[0].key == "mn_examples"  # a preview of the data before any training
    at.sidebar.multiselect(key="mn_digits").set_value([0, 1]).run()  # the range changes: the count resets to all
    assert at.sidebar.slider(key="mn_n").max == at.sidebar.slider(key="mn_n").value == 2128
    at.sidebar.slider(key="mn_n").set_value(500)
    at.sidebar.number_input(key="mn_epochs").set_value(2)
    at.run()
    assert any("400 training and 100 test images" in c.value for c in at.caption)
    at.button(key="mn_train").click().run()
    assert not at.error, [e.value for e in at.error]
    wait_for_job(at, "mnist_job", timeout=300)
    assert at.session_state["mnist_job"].status == "done"
    m = at.session_state["mnist_result"].metrics
    assert m["contingency"].shape == (2, 2) and 0.5 <= m["accuracy"] <= 1
    assert {"k-means", "GaussianMixture", "VMoNF", "spectral clustering"} == set(at.dataframe[0].value["method"])
    assert len(at.get("download_button")) == 3
    charts = [c.key for c in at.get("plotly_chart")]
    assert {"mn_grid", "mn_cont", "mn_members", "mnist_job_curves"} <= set(charts)
    assert sum("curves" in k for k in charts) == 1  # drawn once, by the job panel


def test_mnist_page_errors_are_messages():
    at = page("mnist")
    at.sidebar.multiselect(key="mn_digits").set_value([3]).run()
    assert any("at least two digits" in e.value for e in at.error)
    at.sidebar.multiselect(key="mn_digits").set_value([0, 1])
    at.sidebar.text_input(key="mn_folder").set_value("/etc").run()
    assert any("for safety" in e.value for e in at.error)
    assert not at.exception


def test_thesis_preset_warns_about_cpu_time():
    at = page("mnist")
    at.sidebar.radio(key="mn_preset").set_value("mnist-thesis").run()
    assert any("15-20 minutes" in w.value for w in at.sidebar.warning)


def test_the_curves_caption_follows_the_run_config():
    from ui.mnist_view import curves_caption
    from vmonf_core.experiments import resolve

    quick = curves_caption(resolve("mnist"))
    assert "best validation log-likelihood (10% of the training images" in quick and "fresh dequantisation" in quick
    assert "8 epochs without improvement" in quick
    thesis = curves_caption(resolve("mnist-thesis"))
    assert "best training ELBO" in thesis and "validation" not in thesis and "fresh" not in thesis
