"""Files written by build_report: Markdown, CSV, LaTeX (escaped), HTML (escaped), summary."""

from __future__ import annotations

import csv

import pytest

from faithscope.errors import ConfigError
from faithscope.reports import build_report, print_summary
from faithscope.reports.render import Table, latex_escape, markdown_escape, to_latex


def test_tables_are_written_in_three_formats(tiny_run):
    result = build_report([tiny_run], bootstrap_resamples=20)
    out = tiny_run / "report"
    assert result.out_dir == out
    for stem in ("table2_alignment", "table4_faithfulness"):
        for ext in (".md", ".csv", ".tex"):
            assert (out / f"{stem}{ext}").stat().st_size > 0
    assert (out / "first_outputs.md").is_file() and (out / "first_outputs.csv").is_file()
    md = (out / "table2_alignment.md").read_text()
    assert "| Attention | TOP-VAR | 50.00 |" in md
    with open(out / "table2_alignment.csv", newline="") as f:
        rows = {r["method"]: r for r in csv.DictReader(f)}
    assert float(rows["attention"]["micro_f1"]) == pytest.approx(0.5)
    assert float(rows["prompt-topk"]["parse_fail_rate"]) == pytest.approx(1 / 3)
    with open(out / "table4_faithfulness.csv", newline="") as f:
        t4 = {r["method"]: r for r in csv.DictReader(f)}
    assert float(t4["attention"]["flip_rate"]) == pytest.approx(2 / 3) and t4["attention"]["strategy"] == "delete"
    with open(out / "first_outputs.csv", newline="") as f:
        first = next(csv.DictReader(f))
    assert float(first["accuracy"]) == pytest.approx(2 / 3) and float(first["zero_rate"]) == pytest.approx(2 / 3)
    assert first["pred_neutral_count"] == "1"


def test_latex_escapes_underscore_and_ampersand(tiny_run):
    build_report([tiny_run], bootstrap_resamples=20)
    tex = (tiny_run / "report" / "table2_alignment.tex").read_text()
    assert r"tiny\_set \& co" in tex and "tiny_set & co" not in tex
    assert r"95\% CI" in tex and r"Input$\times$Gradient" not in tex  # no IxG row in this run
    assert latex_escape("a_b & 5% #1 $x$ {y} ~^\\") == r"a\_b \& 5\% \#1 \$x\$ \{y\} \textasciitilde{}\textasciicircum{}\textbackslash{}"


def test_markdown_cells_cannot_break_the_table():
    assert markdown_escape("a|b\nc") == "a\\|b c"
    t = Table("T_1 & 2", ["Method"], ["v"], [(["x_y"], ["1"])])
    assert r"\caption{T\_1 \& 2}" in to_latex(t)


def test_html_escapes_untrusted_text(tiny_run):
    result = build_report([tiny_run], bootstrap_resamples=20)
    page = result.html.read_text()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>fast</b>" not in page and "&lt;b&gt;fast&lt;/b&gt;" in page
    # the only script elements are the explorer's data blob and its code; no external resources
    assert page.count("<script") == 2 and '<script type="application/json" id="fs-data">' in page
    assert "<script src" not in page and "http://" not in page and "https://" not in page
    blob = page.split('id="fs-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in blob and ">" not in blob and "&" not in blob and "\\u003cscript\\u003e" in blob
    assert "data:image/svg+xml;base64," in page


def test_html_shows_the_mask_all_warning(make_run):
    result = build_report([make_run("deaf", all_flips=(0, 0, 0))], bootstrap_resamples=20)
    page = result.html.read_text()
    assert '<div class="warn">' in page and "barely reads its input" in page
    assert "barely reads its input" in (result.out_dir / "table4_faithfulness.md").read_text()
    assert "WARNING" in print_summary(result)


def test_print_summary_and_result_paths(tiny_run):
    result = build_report([tiny_run], bootstrap_resamples=20)
    text = print_summary(result)
    assert "accuracy 66.7%" in text and "zero-rate baseline 66.7% (entailment)" in text
    assert "mask-ALL flip rate 33.3%" in text and str(result.out_dir) in text
    assert all(p.is_file() for p in result.all_files())
    assert {p.suffix for p in result.files["plots"]} == {".png", ".svg"}


def test_several_runs_need_an_output_directory(make_run):
    a, b = make_run("a"), make_run("b")
    with pytest.raises(ConfigError, match="output directory"):
        build_report([a, b], bootstrap_resamples=20)
    with pytest.raises(ConfigError):
        build_report([a], bootstrap_resamples=0)
