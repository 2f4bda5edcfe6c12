"""How a server's reply becomes a label: first-token matching in ``top_logprobs`` and parsing
of a generated label. Pure functions and one record, no HTTP (see :mod:`.openai`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping

from ..types import LabelScores


@dataclass(frozen=True)
class ServerLabelResult:
    """How one prompt was classified by a server, with everything needed to audit it.

    ``method`` is ``"logprobs"`` when every label matched a first token in ``top_logprobs``
    (then ``scores`` holds their first-token log-probabilities), else ``"generation"`` (the
    label parsed from ``reply``; ``scores`` is None). ``missing`` lists the labels without a
    (distinct) matching token; ``label_logprobs``/``matched_tokens`` those that had one.
    ``parsed`` is False only when the reply named no label: then ``label`` is None.
    ``rescored`` lists the labels scored by a second request (``score_missing``) because the
    first reply's top list lacked them; they are in ``label_logprobs`` and not in ``missing``.
    """

    label: str | None
    method: Literal["logprobs", "generation"]
    parsed: bool
    scores: LabelScores | None
    top_logprobs: Mapping[str, float]
    missing: tuple[str, ...] = ()
    label_logprobs: Mapping[str, float] = field(default_factory=dict)
    matched_tokens: Mapping[str, str] = field(default_factory=dict)
    reply: str | None = None
    rescored: tuple[str, ...] = ()


def match_first_tokens(
    top: Mapping[str, float], verbalizers: Mapping[str, str], first_tokens: Mapping[str, str] | None = None
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Map each label to the top token that stands for its verbalizer's first token.

    Returns ``(label -> token, missing labels)``. When the server's tokenizer told us the
    verbalizer's exact first token (``first_tokens``), only that token matches (leading-space
    forms ``" x"``, ``"Ġx"``, ``"▁x"`` and ``"x"`` compared alike); otherwise the longest
    top token that is a prefix of the verbalizer. Ties prefer the verbalizer's own leading
    space, then the higher log-probability. Labels whose best token is shared with another
    label cannot be told apart and count as missing.
    """
    chosen: dict[str, str] = {}
    for label, verb in verbalizers.items():
        exact = (first_tokens or {}).get(label)
        best: tuple[tuple[bool, int, float], str] | None = None
        for tok, lp in top.items():
            t = (" " + tok[1:]) if tok[:1] in ("Ġ", "▁") else tok
            core = t.lstrip()
            ok = core == exact.lstrip() if exact else verb.lstrip().startswith(core)
            if not core or not ok:
                continue
            key = (verb.startswith(t), len(core), float(lp))
            if best is None or key > best[0]:
                best = (key, tok)
        if best is not None:
            chosen[label] = best[1]
    shared = {lab for lab, tok in chosen.items() if list(chosen.values()).count(tok) > 1}
    matched = {lab: tok for lab, tok in chosen.items() if lab not in shared}
    return matched, tuple(lab for lab in verbalizers if lab not in matched)


def parse_label_reply(reply: str, verbalizers: Mapping[str, str]) -> str | None:
    """The label named at the start of ``reply`` (case-insensitive, quotes/markup skipped)."""
    text = reply.strip().lstrip("\"'`*_:([{ \t\n").lower()
    found: list[tuple[int, str]] = []
    for label, verb in verbalizers.items():
        for name in {label.lower(), verb.strip().lower()}:
            if name and text.startswith(name) and (len(text) == len(name) or not text[len(name)].isalnum()):
                found.append((len(name), label))
    return max(found)[1] if found else None
