"""The stepping page (issue 14, the row-by-row build in HTML), driven in a real headless
Chromium with selenium: stepping forward and back shows the right row and node, the reverse
sweep the right edge, and a fan-out accumulation says so. The page fetches nothing.

Debian's chromium and chromium-driver and the ``browser`` extra (selenium) are installed by
.ci/run; where they are missing the browser tests skip and say why.
"""

import re
import shutil

import pytest

import adcompare
from adcompare.errors import AdcompareError
from adcompare.render.stepping import stepping_page

BAYDIN = "ln(x1)+x1*x2-sin(x2)"
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


def _missing():
    if shutil.which("dot") is None:
        return "Graphviz's dot is not installed (Debian: graphviz)"
    if CHROMIUM is None or DRIVER is None:
        return "Chromium or its driver is not installed (Debian: chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[browser]'"
    return None


needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
needs_browser = pytest.mark.skipif(_missing() is not None, reason=str(_missing()))


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    path = tmp_path_factory.mktemp("stepping") / "baydin.html"
    path.write_text(stepping_page(adcompare.trace(BAYDIN, at=(2, 5), methods=("reverse",))), encoding="utf-8")
    return path


@needs_dot
def test_the_page_fetches_nothing(page_file):
    text = page_file.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text, re.I)
    assert "<link" not in text and "@import" not in text and "url(" not in text
    # The only URLs are the SVG's XML namespaces, which a browser never fetches.
    assert set(re.findall(r"https?://[^\"' ]+", text)) <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_large_graphs_and_missing_reverse_are_refused():
    with pytest.raises(AdcompareError, match="at most 200 operations"):
        stepping_page(adcompare.trace("+".join(["x"] * 300), at=(1,), methods=("reverse",)))
    with pytest.raises(AdcompareError, match="needs the reverse sweep"):
        stepping_page(adcompare.trace("x*y", at=(1, 2), methods=("forward",)))


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # The flags that work on this kind of machine (no sandbox as root; no network but loopback).
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1600,900", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _current(driver):
    """The current row's cells' text, the ids of the graph's highlighted groups, the note."""
    cells = [td.text for td in driver.find_elements("css selector", "td.current")]
    groups = sorted(g.get_attribute("id") for g in driver.find_elements("css selector", "svg g.current"))
    return cells, groups, driver.find_element("id", "note").text


def _press(driver, key, times=1):
    from selenium.webdriver.common.action_chains import ActionChains
    for _ in range(times):
        ActionChains(driver).send_keys(key).perform()


@needs_browser
def test_stepping_forward_and_back_in_chromium(browser, page_file, tmp_path):
    from selenium.webdriver.common.keys import Keys
    browser.get(page_file.as_uri())
    assert browser.find_element("id", "counter").text == "Step 0 of 19"
    assert browser.find_elements("css selector", "td.current") == []
    # Forward sweep, Table 2's rows in order: step 3 is v₁ = ln v₋₁ (slot 2), reading v₋₁.
    _press(browser, Keys.ARROW_RIGHT, 3)
    cells, groups, note = _current(browser)
    assert cells[:2] == ["v₁", "= ln v₋₁"] and cells[-1] == "= 0.693"
    assert groups == ["e0_2_0", "e0_2_0_in", "e0_2_0_out", "v2"]
    assert note == "Forward sweep: v₁ = 0.693 (reads v₋₁)."
    # Rows not yet reached are hidden; those passed stay visible.
    hidden = [td.text for td in browser.find_elements("css selector", "td.hidden")]
    assert hidden and all(td.is_displayed() for td in browser.find_elements("css selector", "td[data-step='1']"))
    _press(browser, Keys.ARROW_LEFT)
    cells, groups, _ = _current(browser)
    assert cells[:2] == ["v₀", "= x₂"] and groups == ["v1"]
    # The button jumps to the reverse sweep: its first step is the seed, at the bottom.
    browser.find_element("id", "reverse").click()
    cells, groups, note = _current(browser)
    assert cells[:2] == ["v̄₅", "= ȳ"] and "y" in groups and note == "Reverse sweep: the seed v̄₅ = ȳ = 1."
    # Then v̄₄ = v̄₅ ∂v₅/∂v₄ along the edge v₄ → v₅ (slots 5 → 6), and so on up Table 3.
    browser.find_element("id", "next").click()
    cells, groups, _ = _current(browser)
    assert cells[0] == "v̄₄" and "e5_6_0" in groups and "v5" in groups
    # Fan-out: six steps on (v̄₃, v̄₁, v̄₂, v̄₀, v̄₋₁ come first, as Table 3 runs bottom up) is
    # v̄₀'s second contribution, from v₂ = v₋₁ × v₀: −0.284 + 2 = 1.716.
    _press(browser, Keys.ARROW_RIGHT, 6)
    cells, groups, note = _current(browser)
    assert cells[:2] == ["v̄₀", "= v̄₀ + v̄₂ ∂v₂/∂v₀"] and cells[-1] == "= 1.716"
    assert "e1_3_1" in groups and "v1" in groups
    assert note == "Fan-out: v₀ feeds 2 operations so far, so its adjoint accumulates: v̄₀ = −0.284 + 2 = 1.716."
    browser.save_screenshot(str(tmp_path / "stepping.png"))
    import os
    if os.environ.get("ADCOMPARE_SCREENSHOTS"):   # where to keep the picture, to look at it
        browser.save_screenshot(os.path.join(os.environ["ADCOMPARE_SCREENSHOTS"], "stepping.png"))
    _press(browser, Keys.END)
    assert browser.find_element("id", "counter").text == "Step 19 of 19: reverse sweep"
    cells, _, _ = _current(browser)
    assert cells[:2] == ["x̄₂", "= v̄₀"]
    _press(browser, Keys.HOME)
    assert browser.find_element("id", "counter").text == "Step 0 of 19"
    assert browser.get_log("browser") == [] if "browser" in browser.log_types else True


@needs_browser
@pytest.mark.parametrize("width, height", [(1024, 768), (1280, 800)])
def test_the_current_row_and_the_graph_are_readable_on_a_projector(browser, page_file, width, height):
    # At 1024 x 768 and 1280 x 800 (projectors) the graph used to be squeezed beside the
    # table to about 300 px (labels 4 px high) and the table cut off its value column
    # behind a scroll bar, so the value of the row being explained was hidden. Now the
    # graph goes below the table when both do not fit side by side at a readable size.
    from selenium.webdriver.common.keys import Keys
    try:
        browser.set_window_size(width, height)
        browser.get(page_file.as_uri())
        _press(browser, Keys.ARROW_RIGHT, 16)          # the fan-out row, v̄₀ = v̄₀ + v̄₂ ∂v₂/∂v₀ = 1.716
        box = browser.execute_script("""
            const r = (e) => e.getBoundingClientRect();
            const cells = [...document.querySelectorAll('td.current')];
            return {trace: r(document.querySelector('.trace')).right, last: r(cells[cells.length - 1]).right,
                    graph: r(document.querySelector('.graph svg')).width, page: document.documentElement.clientWidth};
        """)
        assert box["last"] <= box["trace"] + 0.5, box      # the current row's value is not clipped
        assert box["graph"] >= min(600, box["page"] * 0.9), box
    finally:
        browser.set_window_size(1600, 900)


@needs_dot
def test_stepping_command(tmp_path):
    from adcompare.cli import main
    out = tmp_path / "page.html"
    assert main(["stepping", "(x+y)*z", "--at", "-2,5,-4", "--out", str(out)]) == 0
    assert "f̄ = 1" in out.read_text(encoding="utf-8")
    # Two outputs: the page steps through one reverse sweep, which must be named.
    assert main(["stepping", "x1*x2, sin(x1)", "--at", "1,2", "--out", str(out)]) == 2
    assert main(["stepping", "x1*x2, sin(x1)", "--at", "1,2", "--output", "y2", "--out", str(out)]) == 0
    assert "ȳ₂ = 1" in out.read_text(encoding="utf-8")
