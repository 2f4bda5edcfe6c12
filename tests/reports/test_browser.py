"""The HTML report's example explorer in a real browser: Debian's headless Chromium driven by
Selenium (chromedriver), started here. Skipped with the reason when Selenium, ``chromium`` or
``chromedriver`` is missing on this machine (CI installs them: ``.ci/run``).

Runs: a real demo run with the embedded model (4 examples, prompting, Input×Gradient, random,
human, ALL; shared by the module), a real run on an injection data set whose texts, one id and
the model's replies carry ``<script>``, ``"><img onerror>`` and ``</script>`` payloads, and the
hand-written tiny store (tests/reports/conftest.py) for the mask-ALL warning link. Every
expectation is computed here from the result store, independently of the page's script.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from faithscope.data import demo
from faithscope.reports import build_report
from faithscope.runs.config import RunConfig
from faithscope.runs.runner import run
from faithscope.runs.store import ResultStore

from .conftest import build_store

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

INJECTION = Path(__file__).resolve().parents[1] / "fixtures" / "data" / "injection" / "injection.jsonl"
DEMO_METHODS = ("prompt-topk", "input_x_gradient", "random", "human", "all-words")
REPLY_PAYLOADS = ("<script>window.__pwned=4;document.title='pwned'</script> dog",
                  "\"><img src=x onerror=\"window.__pwned=5;document.title='pwned'\"> man",
                  "</script><script>window.__pwned=6;document.title='pwned'</script> kids")


def _browser_paths() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("headless Chromium is not installed here (apt-get install -y chromium chromium-driver; CI does it in .ci/run)")
    return chromium, driver


@pytest.fixture(scope="module")
def browser():
    chromium, driver_path = _browser_paths()
    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1300,1600"):
        opts.add_argument(arg)
    opts.binary_location = chromium
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _open(driver, html: Path) -> None:
    driver.get(html.as_uri())
    WebDriverWait(driver, 20).until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("data-explorer-ready"))
    driver.get_log("browser")  # start each check with an empty log


def _errors(driver) -> list[dict[str, Any]]:
    """Console entries at SEVERE level (JavaScript errors, CSP violations, failed loads)."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def _shown(driver) -> list[str]:
    """Ids of the shown cards, read in one script call: the explorer re-renders its list on each
    keystroke, so element handles fetched one by one can go stale between two reads."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#fs-explorer .ex')).map(e => e.getAttribute('data-ex-id'))")


def _until_shown(driver, expected: list[str]) -> None:
    """Wait until the shown cards are ``expected``; on timeout fail with what was shown."""
    try:
        WebDriverWait(driver, 5).until(lambda d: _shown(d) == expected)
    except TimeoutException:
        pass
    assert _shown(driver) == expected


def _select(driver, name: str, value: str) -> None:
    Select(driver.find_element(By.CSS_SELECTOR, f'#fs-explorer select[data-ctl="{name}"]')).select_by_value(value)


def _store_rows(run_dir: Path) -> tuple[list[dict], dict, list[dict]]:
    store = ResultStore.open_existing(run_dir)
    try:
        return store.examples(), store.predictions(), store.masked()
    finally:
        store.close()


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, loaded_model) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("browser") / "demo"
    run(RunConfig(dataset="demo", n=4, methods=DEMO_METHODS, output_dir=str(out), progress=False, max_new_tokens=16, random_draws=5),
        loaded_model=loaded_model)
    return out, build_report([out], bootstrap_resamples=50).html


def test_explorer_shows_every_example_and_logs_no_error(browser, demo_run, tmp_path_factory):
    run_dir, html = demo_run
    examples, _, _ = _store_rows(run_dir)
    browser.get(html.as_uri())
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("data-explorer-ready"))
    assert _shown(browser) == [e["id"] for e in examples]
    assert browser.find_element(By.CSS_SELECTOR, "#fs-explorer .count").get_attribute("data-matches") == str(len(examples))
    # each card has a row per method with words (but ALL, whose selection is every word) and IxG words are coloured
    card = browser.find_elements(By.CSS_SELECTOR, "#fs-explorer .ex")[0]
    assert {r.get_attribute("data-method") for r in card.find_elements(By.CSS_SELECTOR, "tr[data-method]")} == set(DEMO_METHODS) - {"human"}
    ixg = card.find_element(By.CSS_SELECTOR, 'tr[data-method="input_x_gradient"]')
    assert any(w.value_of_css_property("background-color") not in ("rgba(0, 0, 0, 0)", "rgb(247, 247, 247)")
               for w in ixg.find_elements(By.CSS_SELECTOR, ".w"))
    human_words = card.find_elements(By.CSS_SELECTOR, ".w.hu")
    assert len(human_words) >= len(examples[0]["human"])
    assert "Target: probability" in browser.find_element(By.CSS_SELECTOR, "#fs-explorer .legend").text
    assert _errors(browser) == []
    # a fixed path can be asked for (pytest keeps only its last 3 temp folders)
    shot = Path(os.environ.get("FAITHSCOPE_SCREENSHOT") or tmp_path_factory.getbasetemp() / "explorer.png")
    browser.execute_script("document.getElementById('explorer').scrollIntoView()")
    browser.save_screenshot(str(shot))
    print(f"\nexplorer screenshot: {shot}")
    assert shot.stat().st_size > 10_000


def test_filters_show_the_matching_examples(browser, demo_run):
    run_dir, html = demo_run
    examples, preds, _ = _store_rows(run_dir)
    _open(browser, html)
    gold = examples[0]["label"]
    _select(browser, "gold", gold)
    _until_shown(browser, [e["id"] for e in examples if e["label"] == gold])
    _select(browser, "correct", "no")
    _until_shown(browser, [e["id"] for e in examples if e["label"] == gold and preds[e["id"]].predicted != gold])
    _select(browser, "gold", "")
    _select(browser, "correct", "yes")
    _until_shown(browser, [e["id"] for e in examples if preds[e["id"]].predicted == e["label"]])
    _select(browser, "correct", "")
    # search over the text: a word of the third example only
    words = [w for ws in examples[2]["fields"].values() for w in ws]
    others = [" ".join(w for ws in e["fields"].values() for w in ws).lower() for e in examples]
    word = next(w for w in sorted(words, key=len, reverse=True) if sum(w.lower() in o for o in others) == 1)
    box = browser.find_element(By.CSS_SELECTOR, '#fs-explorer input[data-ctl="q"]')
    box.send_keys(word)
    _until_shown(browser, [examples[2]["id"]])
    assert _errors(browser) == []


def _f1(pred: set[int], gold: set[int]) -> float:
    """Token F1 by hand (0 when nothing matches, also for two empty sets, as metrics.prf)."""
    tp = len(pred & gold)
    return 0.0 if tp == 0 else 2 * tp / (len(pred) + len(gold))


def test_table_cells_filter_the_explorer(browser, demo_run):
    run_dir, html = demo_run
    examples, _, masked = _store_rows(run_dir)
    _open(browser, html)
    cells = browser.find_elements(By.CSS_SELECTOR, "td[data-fs-filter]")
    by_filter = [(json.loads(c.get_attribute("data-fs-filter")), c) for c in cells]
    # Table 4, Input×Gradient, flip rate: the examples whose prediction flipped on masking its words
    cell = next(c for f, c in by_filter if f.get("method") == "input_x_gradient" and f.get("flip") == "yes" and f["purpose"] == "f")
    cell.click()
    flipped = {r["example_id"] for r in masked if r["method"] == "input_x_gradient" and r["strategy"] == "delete" and r["flipped"]}
    delta = {r["example_id"]: r["masked_prob"] - r["orig_prob"] for r in masked if r["method"] == "input_x_gradient" and r["strategy"] == "delete"}
    shown = _shown(browser)
    assert set(shown) == flipped
    assert shown == sorted(flipped, key=lambda e: (delta[e], [x["id"] for x in examples].index(e)))  # sorted by probability change
    assert {r.get_attribute("data-method") for r in browser.find_elements(By.CSS_SELECTOR, "#fs-explorer tr[data-method]")} <= {"input_x_gradient"}
    assert Select(browser.find_element(By.CSS_SELECTOR, 'select[data-ctl="method"]')).first_selected_option.get_attribute("value") == "input_x_gradient"
    # Table 2, Prompting TOP-VAR, micro F1: every example, lowest per-example F1 first
    cell = next(c for f, c in by_filter if f.get("method") == "prompt-topk" and f["purpose"] == "a" and "parse" not in f)
    cell.click()
    store = ResultStore.open_existing(run_dir)
    try:
        rats = {eid: set(r.positions) for eid, _, r in store.rationales("prompt-topk", "alignment")}
    finally:
        store.close()
    order = [e["id"] for e in examples]
    f1 = {e["id"]: _f1(rats[e["id"]], set(e["human"])) for e in examples}
    expected = sorted(order, key=lambda e: (round(f1[e], 4), order.index(e)))
    assert _shown(browser) == expected
    assert _errors(browser) == []


def test_mask_all_warning_links_to_the_examples_concerned(browser, tmp_path):
    html = build_report([build_store(tmp_path / "deaf", all_flips=(0, 0, 0))], bootstrap_resamples=10).html
    _open(browser, html)
    _select(browser, "gold", "contradiction")
    assert _shown(browser) == ["e3"]
    link = next(a for a in browser.find_elements(By.CSS_SELECTOR, ".warn a[data-fs-filter]") if "barely reads" in a.find_element(By.XPATH, "..").text)
    link.click()
    assert _shown(browser) == ["e1", "e2", "e3"]  # masking ALL words flipped none of them
    assert Select(browser.find_element(By.CSS_SELECTOR, 'select[data-ctl="method"]')).first_selected_option.get_attribute("value") == "all-words"
    assert Select(browser.find_element(By.CSS_SELECTOR, 'select[data-ctl="flip"]')).first_selected_option.get_attribute("value") == "no"
    assert {r.get_attribute("data-method") for r in browser.find_elements(By.CSS_SELECTOR, "#fs-explorer tr[data-method]")} == {"all-words"}
    assert _errors(browser) == []


class PayloadReplies:
    """The embedded model's backend, but its generated replies carry HTML/JS payloads."""

    def __init__(self, inner):
        self._inner = inner
        self._n = 0

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def generate(self, prompts, max_new_tokens, stop=None):
        out = [REPLY_PAYLOADS[(self._n + i) % len(REPLY_PAYLOADS)] for i in range(len(prompts))]
        self._n += len(prompts)
        return out


def test_injected_markup_is_shown_literally_and_never_runs(browser, tmp_path, backend):
    examples = demo.load(path=INJECTION)
    out = tmp_path / "inj"
    run(RunConfig(dataset="demo", methods=("prompt-topk", "prompt-unbound", "input_x_gradient", "all-words"), output_dir=str(out),
                  progress=False, max_new_tokens=8), backend=PayloadReplies(backend), examples=examples)
    html = build_report([out], bootstrap_resamples=10).html
    page = html.read_text()
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<script>window" not in page and "<img src=x" not in page
    browser.get(html.as_uri())
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("data-explorer-ready"))
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.title == title.replace("&amp;", "&") and "pwned" not in browser.title
    assert browser.find_elements(By.CSS_SELECTOR, "#fs-explorer img, #fs-explorer script") == []
    assert _shown(browser) == [e.id for e in examples]
    words = [w.get_attribute("textContent") for w in browser.find_elements(By.CSS_SELECTOR, "#fs-explorer .ex .w")]
    for payload in ("<script>window.__pwned=1;document.title='pwned'</script>", "\"><img", "onerror=window.__pwned=2;document.title='pwned'>",
                    "</script><script>window.__pwned=3;document.title='pwned'</script>"):
        assert payload in words
    replies = [p.get_attribute("textContent") for p in browser.find_elements(By.CSS_SELECTOR, "#fs-explorer details.reply pre")]
    _select(browser, "purpose", "f")  # the replies for the PREDICTED label
    replies += [p.get_attribute("textContent") for p in browser.find_elements(By.CSS_SELECTOR, "#fs-explorer details.reply pre")]
    assert set(replies) == set(REPLY_PAYLOADS) and len(replies) == 3 * 2 * 2  # 3 examples x 2 prompting methods x 2 purposes
    ids = [e.get_attribute("textContent") for e in browser.find_elements(By.CSS_SELECTOR, "#fs-explorer .exid")]
    assert ids == [e.id for e in examples]
    # open every reply and filter by search: still nothing runs
    for d in browser.find_elements(By.CSS_SELECTOR, "#fs-explorer details.reply"):
        browser.execute_script("arguments[0].open = true", d)
    browser.find_element(By.CSS_SELECTOR, '#fs-explorer input[data-ctl="q"]').send_keys("pwned")
    WebDriverWait(browser, 5).until(lambda d: browser.find_element(By.CSS_SELECTOR, "#fs-explorer .count").text.startswith("3 of 3"))
    assert browser.execute_script("return window.__pwned === undefined") and "pwned" not in browser.title
    assert _errors(browser) == []
