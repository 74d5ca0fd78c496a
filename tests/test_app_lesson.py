"""AppTest: the two-circles lesson from start to end on the default seed."""

from apptest_utils import page, texts, wait_for_job


def test_lesson_runs_end_to_end():
    at = page("two_circles")
    assert at.title[0].value == "Two circles lesson"
    assert "Will the mixture find the two circles" in texts(at)
    at.button(key="lesson_go_unsup").click().run()
    wait_for_job(at, "lesson_unsup_job")
    unsup = at.session_state["lesson_unsup_result"].metrics
    assert unsup["ari"] <= 0.3, unsup["ari"]  # the half-space split
    assert "the start decides" in texts(at)  # the text follows the measured sweep, not the thesis's one-liner
    assert "k-means" in [row for row in at.dataframe[0].value["method"]]
    at.button(key="lesson_go_labels").click().run()
    at.button(key="lesson_random").click().run()
    counts = at.dataframe[-1].value
    assert int(counts["outer circle"][0]) == 16 and int(counts["inner circle"][0]) == 16
    at.button(key="lesson_go_semi").click().run()
    wait_for_job(at, "lesson_semi_job")
    semi = at.session_state["lesson_semi_result"].metrics
    assert semi["ari"] >= 0.9, semi["ari"]
    summary = at.dataframe[-1].value
    assert list(summary["run"]) == ["unsupervised", "semi-supervised"]
    total = unsup["seconds"] + semi["seconds"]
    print(f"lesson training seconds: {total:.1f}")
    at.button(key="lesson_reset").click().run()
    assert "lesson_unsup_result" not in at.session_state


def test_lesson_selection_labels_points():
    at = page("two_circles")
    at.session_state["lesson_step"] = 3
    at.run()
    at.selectbox(key="lesson_class").set_value("inner circle")
    at.session_state["lesson_chart_0"] = {"selection": {"points": [{"curve_number": 0, "point_index": i, "customdata": i} for i in (1, 2)],
                                                        "point_indices": [1, 2], "box": [], "lasso": []}}
    at.run()
    counts = at.dataframe[0].value
    assert int(counts["inner circle"][0]) == 2 and int(counts["outer circle"][0]) == 0
