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


def test_a_mistyped_nested_path_opens_the_page_it_starts_with(browser, server):
    """Issue 25 row 12: /playground/extra/x loaded the page shell with its scripts at the wrong relative URLs and stayed
    a blank white page; now the server redirects it to /playground (query kept), and an unknown name to Streamlit's
    page-not-found notice on Home."""
    import urllib.request

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server + "/playground/extra/x?K=3")
    page.get_by_role("heading", name="Playground").wait_for(timeout=60_000)
    from urllib.parse import parse_qs, urlparse

    page.get_by_label("Components K").wait_for(timeout=60_000)
    assert urlparse(page.url).path == "/playground" and parse_qs(urlparse(page.url).query).get("K") == ["3"], page.url
    assert page.get_by_label("Components K").input_value() == "3"
    page.goto(server + "/pages/two_circles.py")
    page.get_by_role("heading", name=re.compile("two circles", re.I)).first.wait_for(timeout=60_000)
    page.goto(server + "/no-such-page/at/all")
    page.get_by_role("heading", name="VMoNF Explorer").wait_for(timeout=60_000)  # Home, not a blank page
    page.close()
    with urllib.request.urlopen(server + "/_stcore/health", timeout=10) as r:  # Streamlit's own routes untouched
        assert r.status == 200
