"""Writing tables: Markdown, LaTeX (escaped by hand) and CSV (the ``csv`` module).

A :class:`Table` holds *display strings* (already formatted numbers) in row-header cells and
value cells, optionally grouped into column groups (one per run when runs are composed).
CSV files are written from plain records (dicts of raw numbers) instead, so that a reader
loading them gets full precision rather than rounded display text.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..metrics import get_metric

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "<": r"\textless{}", ">": r"\textgreater{}",
                  "×": r"$\times$", "−": r"$-$", "Δ": r"$\Delta$", "±": r"$\pm$", "·": r"$\cdot$", "–": "--", "≥": r"$\geq$", "≤": r"$\leq$",
                  "↑": r"$\uparrow$", "↓": r"$\downarrow$"}


def metric_header(metric: str) -> str:
    """The column header of registry metric ``metric``: its label and the better direction's
    arrow (``micro F1 ↑``), the same text in Markdown, LaTeX (``$\\uparrow$``) and HTML."""
    return get_metric(metric).header


def metric_csv_columns(metric: str, ci: bool = False) -> list[str]:
    """The CSV columns of registry metric ``metric``: its name, and with ``ci`` its
    ``_ci_low``/``_ci_high`` bounds (raw fractions, never display text)."""
    name = get_metric(metric).name
    return [name] + ([f"{name}_ci_low", f"{name}_ci_high"] if ci else [])


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters (and map a few Unicode symbols) in plain text."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def markdown_escape(text: str) -> str:
    """Keep a cell inside its Markdown table column (pipes and newlines would break it)."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


@dataclass
class Table:
    """A table of display strings: ``rows`` are (row-header cells, value cells) pairs.

    ``groups`` (label, width) spans the value columns, e.g. one group per run; with no groups
    the ``columns`` are used as they are. ``columns`` holds every value column's header.
    """

    title: str
    row_header: list[str]
    columns: list[str]
    rows: list[tuple[list[str], list[str]]]
    groups: list[tuple[str, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def flat_columns(self) -> list[str]:
        """Value headers prefixed with their group tag (``[1] micro F1``) when grouped."""
        if len(self.groups) < 2:
            return list(self.columns)
        out, i = [], 0
        for g, (_, width) in enumerate(self.groups, start=1):
            out.extend(f"[{g}] {c}" for c in self.columns[i:i + width])
            i += width
        return out


def to_markdown(table: Table) -> str:
    """GitHub-flavoured Markdown: title, group legend, the table, then notes."""
    lines = [f"### {table.title}", ""]
    if len(table.groups) >= 2:
        lines += [f"- [{g}] {markdown_escape(label)}" for g, (label, _) in enumerate(table.groups, start=1)] + [""]
    elif table.groups:
        lines += [f"Run: {markdown_escape(table.groups[0][0])}", ""]
    header = table.row_header + table.flat_columns()
    lines.append("| " + " | ".join(markdown_escape(h) for h in header) + " |")
    lines.append("|" + "|".join([":---"] * len(table.row_header) + ["---:"] * (len(header) - len(table.row_header))) + "|")
    for heads, values in table.rows:
        lines.append("| " + " | ".join(markdown_escape(c) for c in list(heads) + list(values)) + " |")
    if table.notes:
        lines.append("")
        lines += [f"- {n}".replace("\n", " ") for n in table.notes]
    return "\n".join(lines) + "\n"


def to_latex(table: Table, label: str | None = None) -> str:
    """A ``table`` float with a ``tabular`` (booktabs rules); every text cell is escaped."""
    n_head, n_val = len(table.row_header), len(table.columns)
    spec = "l" * n_head + "r" * n_val
    out = [r"\begin{table}[t]", r"\centering", r"\small", f"\\caption{{{latex_escape(table.title)}}}"]
    if label:
        safe = "".join(ch if ch.isalnum() or ch in ":-" else "-" for ch in label)
        out.append(f"\\label{{{safe}}}")
    out += [f"\\begin{{tabular}}{{{spec}}}", r"\toprule"]
    if table.groups:
        cells, rules, col = [""] * n_head, [], n_head + 1
        for g_label, width in table.groups:
            cells.append(f"\\multicolumn{{{width}}}{{c}}{{{latex_escape(g_label)}}}")
            rules.append(f"\\cmidrule(lr){{{col}-{col + width - 1}}}")
            col += width
        out.append(" & ".join(cells) + r" \\")
        out.append(" ".join(rules))
    out.append(" & ".join(latex_escape(h) for h in table.row_header + table.columns) + r" \\")
    out.append(r"\midrule")
    for heads, values in table.rows:
        out.append(" & ".join(latex_escape(c) for c in list(heads) + list(values)) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}"]
    if table.notes:
        out.append(r"\par\smallskip\footnotesize " + " ".join(latex_escape(n) for n in table.notes))
    out.append(r"\end{table}")
    return "\n".join(out) + "\n"


def _csv_value(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (list, tuple)):
        return " ".join(str(_csv_value(x)) for x in v)
    return v


def write_csv(records: Sequence[dict[str, Any]], path: Path, columns: Iterable[str] | None = None) -> Path:
    """Write records with the union of their keys (first-seen order) as the header."""
    header: list[str] = list(columns) if columns is not None else []
    for rec in records:
        header.extend(k for k in rec if k not in header)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        for rec in records:
            w.writerow({k: _csv_value(rec.get(k)) for k in header})
    return path


def write_table(table: Table, records: Sequence[dict[str, Any]], stem: Path, latex: bool = True) -> list[Path]:
    """Write ``stem.md``, ``stem.csv`` and (if ``latex``) ``stem.tex``; returns the paths."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    md = stem.with_suffix(".md")
    md.write_text(to_markdown(table), encoding="utf-8")
    paths = [md, write_csv(records, stem.with_suffix(".csv"))]
    if latex:
        tex = stem.with_suffix(".tex")
        tex.write_text(to_latex(table, label=f"tab:{stem.name}"), encoding="utf-8")
        paths.append(tex)
    return paths
