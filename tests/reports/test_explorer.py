"""The explorer's data blob, its links and the page's CSP, on the hand-written tiny store
(see conftest.py for the hand-computed numbers). The browser tests are in test_browser.py."""

from __future__ import annotations

from faithscope.metrics import get_metric

import base64
import hashlib
import html
import json
import re

import pytest

from faithscope.reports import build_report, compute, load_run
from faithscope.reports.compose import table2, table4
from faithscope.reports.explorer import blob_json, explorer_blob, table_links, warning_links
from faithscope.reports.json_safe import json_safe
from faithscope.runs.store import ResultStore

from .conftest import build_store


def _blob(run_dir):
    return explorer_blob([compute(load_run(run_dir), 10)])["runs"][0]


def test_blob_holds_every_example_and_method_with_hand_computed_values(tiny_run):
    run = _blob(tiny_run)
    assert [e["id"] for e in run["examples"]] == ["e1", "e2", "e3"]
    assert [m["name"] for m in run["methods"]] == ["prompt-topk", "attention", "random", "human", "all-words"]
    e1, e2, e3 = run["examples"]
    assert e1["w"] == ["A", "dog", "runs", "<b>fast</b>", "Dogs"] and e1["fl"] == [["premise", 0], ["hypothesis", 4]]
    assert e1["h"] == [1, 2] and e1["gold"] == "entailment" and e2["pred"] == "neutral"
    # attention e1 {1,3} vs human {1,2}: P = R = 1/2 -> F1 0.5; e3 {0,1,5} vs {3,4,5}: F1 1/3
    assert e1["m"]["attention"]["a"]["f1"] == pytest.approx(0.5)
    assert e3["m"]["attention"]["a"]["f1"] == pytest.approx(1 / 3, abs=1e-4)
    # masking attention on e1: p 0.6 -> 0.2 (flipped), log p -1 -> -3
    x = e1["m"]["attention"]["x"]
    assert x["flipped"] is True and x["dp"] == pytest.approx(-0.4) and x["dlp"] == pytest.approx(-2.0)
    assert e3["m"]["attention"]["x"]["flipped"] is False and e3["m"]["attention"]["x"]["dp"] == pytest.approx(0.0)
    # the unparsed prompting reply is kept verbatim, flagged
    assert e2["m"]["prompt-topk"]["a"]["r"] == "<script>alert(1)</script>" and e2["m"]["prompt-topk"]["a"]["ok"] is False
    # label distribution in task order: e1 predicted entailment with logprobs (-0.1, -3, -3)
    z = 1 + 2 * 2.718281828459045 ** (-2.9)
    assert run["labels"] == ["entailment", "neutral", "contradiction"]
    assert e1["dist"][0] == pytest.approx(1 / z, rel=1e-3)


def test_blob_picks_up_store_columns_it_does_not_know(tiny_run):
    data = load_run(tiny_run)
    for row in data.masked:
        row["sufficiency_new"] = 0.25  # a column another area might add to the masked rows
    run = explorer_blob([compute(data, 10)])["runs"][0]
    assert run["examples"][0]["m"]["attention"]["x"]["sufficiency_new"] == 0.25


def test_blob_json_cannot_close_its_script_element():
    blob = {"runs": [{"t": "</script><script>alert(1)</script> & \"><img src=x onerror=alert(2)>", "nan": float("nan")}]}
    text = blob_json(blob)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == json_safe(blob)


def test_legend_reads_the_stored_attribution_settings(tmp_path):
    run_dir = build_store(tmp_path / "run")
    store = ResultStore.in_dir(run_dir)
    store.db.execute("UPDATE rationales SET settings=? WHERE method='attention'",
                     (json.dumps({"options": {"attribution": {"target": "logit", "reduction": "sum", "attention": "mean"}}}),))
    store.db.commit()
    store.close()
    legend = _blob(run_dir)["legend"]
    assert legend["target"] == "logit" and legend["reduction"] == "sum" and "largest |score|" in legend["normalisation"]


def test_table_cells_link_to_their_method_and_examples(tiny_run):
    runs = [compute(load_run(tiny_run), 10)]
    t2, t4 = table2(runs), table4(runs)
    links2, links4 = table_links(t2, runs), table_links(t4, runs)
    row2 = [h for h, _ in t2.rows].index(["Prompting", "TOP-VAR"])
    parse_col = t2.columns.index("parse fail %")
    assert links2[(row2, parse_col)] == {"run": 0, "method": "prompt-topk", "purpose": "a", "sort": "f1-asc", "parse": "fail"}
    row4 = [h for h, _ in t4.rows].index(["Attention", "TOP-VAR"])
    assert links4[(row4, t4.columns.index(get_metric("flip_rate").header))] == {"run": 0, "method": "attention", "purpose": "f", "sort": "dp-asc", "flip": "yes"}
    assert "flip" not in links4[(row4, t4.columns.index(get_metric("logprob_change").header))]
    assert len(links2) == len(t2.rows) * len(t2.columns)  # every method cell links somewhere


def test_warnings_link_to_the_examples_concerned(make_run):
    runs = [compute(load_run(make_run("deaf", all_flips=(0, 0, 0))), 10)]
    links = warning_links(runs)
    mask_all = next(w for w in links if "barely reads its input" in w.text)
    assert mask_all.filter == {"run": 0, "method": "all-words", "flip": "no", "purpose": "f"}
    parse = [w for w in links if "could not be parsed" in w.text]
    assert [w.filter["purpose"] for w in parse] == ["a", "f"]  # 1 of 3 alignment replies, 1 of 3 faithfulness replies
    assert all(w.filter["method"] == "prompt-topk" and w.filter["parse"] == "fail" for w in parse)
    assert any("1 of 3 replies" in w.text for w in parse)


def test_page_has_a_csp_that_allows_only_its_own_script(tiny_run):
    page = build_report([tiny_run], bootstrap_resamples=20).html.read_text()
    policy = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1))
    assert "default-src 'none'" in policy and "img-src data:" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    script = page.rsplit("<script>", 1)[1].split("</script>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy
    assert " on" + "click=" not in page and "onerror=" not in page.split('id="fs-data"')[0]
    assert page.count("data-fs-filter=") >= 10


def test_finetune_blob_follows_each_example_across_epochs(tmp_path):
    ft = tmp_path / "ft"
    build_store(ft / "epoch_0")
    build_store(ft / "epoch_1", adapter=str(ft / "adapters" / "epoch_1"))
    build_store(ft / "epoch_2", adapter=str(ft / "adapters" / "epoch_2"), attention_e3=(3, 4, 5))
    store = ResultStore.in_dir(ft)
    store.set_meta(config={"dataset": "tiny_set & co", "model": {"adapter": None}}, model_identity={"model": "tiny-model"})
    for e in (0, 1, 2):
        store.put_epoch(e, {"accuracy": 0.5})
    store.close()
    result = build_report([ft], bootstrap_resamples=10)
    blob = explorer_blob(result.runs)
    assert blob["runs"][0]["epochs"] == []  # epoch 0's run carries no epoch summaries
    epochs = blob["runs"][1]["epochs"]
    assert [e["epoch"] for e in epochs] == [0, 1, 2]
    assert [e["x"]["e3"]["m"]["attention"]["a"]["f1"] for e in epochs] == [pytest.approx(1 / 3, abs=1e-4)] * 2 + [1.0]


def test_cli_report_open_hands_the_page_to_the_browser(tiny_run, monkeypatch, capsys):
    import webbrowser

    from faithscope.cli import main

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: opened.append(url) or True)  # never a real browser in tests
    main(["report", str(tiny_run)])
    assert opened == []
    main(["report", str(tiny_run), "--open"])
    assert opened == [(tiny_run / "report" / "report.html").resolve().as_uri()]
    assert "accuracy" in capsys.readouterr().out


def test_composed_report_links_each_column_group_to_its_run(make_run):
    runs = [compute(load_run(make_run("a")), 10), compute(load_run(make_run("b", adapter="/x/epoch_1")), 10)]
    t4 = table4(runs)
    links = table_links(t4, runs)
    width = len(t4.columns) // 2
    row = [h for h, _ in t4.rows].index(["Attention", "TOP-VAR"])
    assert links[(row, 0)]["run"] == 0 and links[(row, width)]["run"] == 1 and links[(row, width)]["flip"] == "yes"
    blob = explorer_blob(runs)
    assert [r["index"] for r in blob["runs"]] == [0, 1] and "fine-tuned" in blob["runs"][1]["label"]
