"""Stop sequences for the prompting rationales (issue 13 item 7): UNBOUND/TOP-VAR generation
stops at the task's ``rationale_stop`` and the parsed rationale is the same as without stops,
on constructed replies (a scripted backend that honours or ignores ``stop``) and on the
embedded model (demo and e-SNLI examples)."""

from __future__ import annotations

import re
from typing import Sequence

import pytest

from faithscope.errors import ConfigError
from faithscope.methods import MethodContext, MethodOptions, RationaleRequest, get_method
from faithscope.models.base import per_prompt_stops, truncate_at_stop
from faithscope.tasks import load_task, parse_task_file
from faithscope.tasks.fit import PromptBuilder
from faithscope.types import Example

NLI = Example("nli", {"premise": tuple("A man plays a guitar .".split()), "hypothesis": tuple("A man plays music .".split())},
              "entailment", frozenset({4, 9}))


class StopBackend:
    """Replies from a script; honours ``stop`` like the real backends (or ignores it), and
    records the stops it was given."""

    context_window = 100_000

    def __init__(self, reply: str, honour: bool = True):
        self.reply, self.honour = reply, honour
        self.stops: list[tuple[str, ...]] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, prompts: Sequence[str], max_new_tokens, stop=None) -> list[str]:
        stops = per_prompt_stops(stop, len(prompts))
        self.stops.extend(stops)
        return [truncate_at_stop(self.reply, s) if self.honour else self.reply for s in stops]


def explain(method: str, backend, task_name: str = "esnli", examples: Sequence[Example] = (NLI,)):
    task = load_task(task_name)
    ctx = MethodContext(task, backend, PromptBuilder(task, backend), MethodOptions())
    reqs = [RationaleRequest(e, e.label, max(len(e.rationale), 1), "alignment") for e in examples]
    return get_method(method).explain(reqs, ctx)


LOOP = "\n\nThe answer is: guitar | music |\n\nThe answer is: man | plays |\n\nThe answer is: man"


@pytest.mark.parametrize("method", ["prompt-unbound", "prompt-topk"])
def test_the_task_stops_reach_the_backend_and_the_reply_ends_there(method):
    backend = StopBackend(LOOP)
    rat = explain(method, backend)[0]
    assert backend.stops == [("|\n\nThe answer is:",)]  # before: () — generation ran to the budget
    assert rat.raw_reply == "\n\nThe answer is: guitar | music "
    assert rat.positions == (4, 9) and rat.parsed


@pytest.mark.parametrize("method", ["prompt-unbound", "prompt-topk"])
@pytest.mark.parametrize("reply", [
    LOOP,
    "\n\nThe answer is: ||\n\nThe answer is: guitar",  # the second answer would have selected "guitar"
    "|\n\nThe answer is: guitar | music",  # a stop at the very start of a reply
    "guitar | music | man",  # no stop in the reply
    "\n\nThe top 2 most relevant words are:\n\n- guitar | music |\n\nThe answer is: A | man | plays | a",
    "",
])
def test_rationale_is_identical_with_and_without_stops(method, reply):
    with_stops, without = explain(method, StopBackend(reply, honour=True))[0], explain(method, StopBackend(reply, honour=False))[0]
    assert with_stops == without


@pytest.mark.parametrize("name", ["esnli", "demo", "fever", "medical_bios"])
def test_builtin_rationale_stops_start_with_a_visible_character(name):
    # a server applies stops from the reply's first character (no leading-whitespace rule), and
    # SmolLM2's replies open with a blank line: a stop starting with whitespace could end them there
    assert all(not s[:1].isspace() for s in load_task(name).rationale_stop)


def test_tasks_without_the_key_send_no_stop(tmp_path):
    backend = StopBackend("guitar | music")
    fever = Example("f", {"claim": ("a", "guitar"), "evidence": ("guitar", "music")}, "supports", frozenset({2}))
    explain("prompt-unbound", backend, "fever", [fever])
    assert backend.stops == [()]
    assert load_task("fever").reply_mapping()["stop"] == []


BASE = '''name = "mini"
fields = ["claim", "evidence"]
labels = ["yes", "no"]
{extra}
[verbalizers]
yes = " yes"
no = " no"
[prompts]
classification = "{{claim}} {{evidence}} Label:"
attribution = "{{claim}} {{evidence}} Label: {{label}}"
unbound = "{{claim}} {{evidence}} {{label}} words?"
topk = "{{claim}} {{evidence}} {{label}} top {{k}} words?"
'''


def test_rationale_stop_is_read_from_the_task_file_and_recorded(tmp_path):
    path = tmp_path / "mini.toml"
    path.write_text(BASE.format(extra='rationale_stop = ["\\n\\n", "Label:"]'), encoding="utf-8")
    task = parse_task_file(path)
    assert task.rationale_stop == ("\n\n", "Label:")
    assert task.reply_mapping()["stop"] == ["\n\n", "Label:"]


@pytest.mark.parametrize("extra", ['rationale_stop = "\\n\\n"', 'rationale_stop = [""]', "rationale_stop = [3]"])
def test_a_bad_rationale_stop_is_one_clear_error(tmp_path, extra):
    path = tmp_path / "mini.toml"
    path.write_text(BASE.format(extra=extra), encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape("'rationale_stop' must be a list of non-empty stop strings")):
        parse_task_file(path)


class Unstopped:
    """The embedded backend with stops ignored (the reference "without stops"); keeps the
    full replies so the test can see that the stop did cut some."""

    def __init__(self, backend):
        self.backend, self.context_window = backend, backend.context_window
        self.replies: list[str] = []

    def count_tokens(self, text: str) -> int:
        return self.backend.count_tokens(text)

    def generate(self, prompts, max_new_tokens, stop=None):
        out = self.backend.generate(prompts, max_new_tokens)
        self.replies.extend(out)
        return out


def assert_identical_on_the_embedded_model(backend, examples, task_name):
    stops = load_task(task_name).rationale_stop
    unstopped = Unstopped(backend)
    for method in ("prompt-unbound", "prompt-topk"):
        assert explain(method, backend, task_name, examples) == explain(method, unstopped, task_name, examples), method
    assert any(truncate_at_stop(r, stops) != r for r in unstopped.replies)  # the stop fired on some real reply


def test_embedded_model_demo_rationales_identical_with_and_without_stops(backend):
    from faithscope.data import load_dataset

    assert_identical_on_the_embedded_model(backend, load_dataset("demo", n=4, seed=0).examples, "demo")


def test_embedded_model_esnli_rationales_identical_with_and_without_stops(backend, shared_data):
    from faithscope.data import load_dataset

    assert_identical_on_the_embedded_model(backend, load_dataset("esnli", data_dir=shared_data, n=4, seed=0).examples, "esnli")


def test_default_stop_on_the_stored_real_replies():
    """What the e-SNLI/demo stop does to the 101 stored real SmolLM2 replies (the figures the
    task files and docs/counterfactual.md give): it cuts 29 and changes 1 parse; a blank-line
    stop would change 36."""
    import json
    from pathlib import Path

    from faithscope.methods.reply_parser import parse_reply

    rows = []
    for name in ("smollm2_replies.jsonl", "smollm2_replies_fields.jsonl"):
        for line in (Path(__file__).parents[1] / "fixtures" / "replies" / name).read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            words = tuple(r["words"]) if "words" in r else tuple(w for f in r["fields"].values() for w in f)
            rows.append((r["reply"], words, r["k"] if r["method"] == "prompt-topk" else None))

    def effect(stops):
        cut = [truncate_at_stop(rep, stops) for rep, _, _ in rows]
        changed = sum(parse_reply(rep, w, k) != parse_reply(c, w, k) for (rep, w, k), c in zip(rows, cut))
        return sum(c != rep for c, (rep, _, _) in zip(cut, rows)), changed

    assert len(rows) == 101
    assert effect(load_task("esnli").rationale_stop) == (29, 1)
    assert effect(["\n\n"])[1] == 36
