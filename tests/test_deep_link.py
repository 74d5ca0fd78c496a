"""A deep link as the very first request to a fresh server behaves like the front door (issue: legacy page list).

Its own module, so the module-scoped ``server`` fixture is a fresh ``streamlit run app.py`` whose first request is
the deep link.
"""

from __future__ import annotations

import re

from browser_utils import requires_browser

pytestmark = requires_browser


def test_first_request_deep_link_runs_app_py_and_applies_the_query(browser, server):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server + "/playground?dataset=circles&K=3&init=random")
    page.get_by_role("heading", name="Playground").wait_for(timeout=120_000)
    nav = page.get_by_test_id("stSidebarNavItems")
    nav.wait_for(timeout=60_000)
    links = [t.strip() for t in nav.get_by_role("link").all_inner_texts()]
    assert [re.sub(r"^\w+\n", "", t).strip() for t in links] == ["Home", "Playground", "Two circles lesson", "MNIST digits"], links
    assert page.title() == "VMoNF Explorer"  # app.py's page config ran
    page.get_by_text(re.compile(r"^circles: 800 training points")).wait_for(timeout=60_000)
    assert page.get_by_label("Components K").input_value() == "3"
    page.get_by_text(re.compile(r"Train fits K = 3 realnvp flows .* from a random start")).wait_for(timeout=30_000)
    page.close()
