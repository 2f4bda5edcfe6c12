"""A whole ``faithscope run`` on the server backend against the fault server (no model load):
replies that name no label and labels missing from the top log-probabilities must let the run
finish, be counted in N, and never feed invented probabilities into Δ log p/comprehensiveness
(issue 11 items 4, 9 and 10)."""

from __future__ import annotations

import math
import sqlite3

import pytest

from faithscope.reports.rundata import load_run
from faithscope.reports.summary import mask_all_diagnostic
from faithscope.reports.tables import faithfulness_rows
from faithscope.runs.config import RunConfig
from faithscope.runs.runner import Runner

FULL = {" entail": -0.2, " neutral": -2.1, " contrad": -3.3, " The": -4.0}  # every label: entailment, p = softmax
FLIPPED = {" contrad": -0.3, " entail": -1.5, " neutral": -2.5}  # every label: contradiction
NO_LABEL = (" I cannot tell from this", {" I": -0.1, " The": -1.0})  # names no label, no label token


def softmax_p(top: dict[str, float], tok: str) -> float:
    lps = [top[t] for t in (" entail", " contrad", " neutral")]
    return math.exp(top[tok]) / sum(math.exp(x) for x in lps)


def make_runner(tmp_path, server, **kw) -> Runner:
    cfg = RunConfig(dataset="demo", n=4, first=True, methods=("all-words", "human"), backend="openai", base_url=server.base_url,
                    max_length=2048, output_dir=str(tmp_path / "run"), progress=False, max_retries=0, batch_size=1, **kw)
    return Runner(cfg)


def test_label_less_replies_and_missing_labels_let_the_run_finish_and_are_counted(fault_server, tmp_path):
    plan: dict[str, tuple[str, dict[str, float]]] = {}
    server = fault_server(reply=lambda p: plan.get(p, (" contradiction", FLIPPED)))
    runner = make_runner(tmp_path, server)
    ex = runner.examples
    orig = [runner.prompts.classification(e).text for e in ex]
    every = [runner.prompts.classification(e, frozenset(range(e.n_words))).text for e in ex]
    plan[orig[0]] = NO_LABEL  # original reply names no label: not flippable
    plan[orig[1]] = (" neutral", {" entail": -0.9, " contrad": -1.2, " The": -2.0})  # neutral missing: generation, no p
    plan[orig[2]] = plan[orig[3]] = (" entailment", FULL)
    for t in every:
        plan[t] = NO_LABEL  # ALL masked: empty input, a label-less reply (item 9's crash)
    runner.run()  # before the fix: sqlite3.IntegrityError (NaN into a NOT NULL column), on every resume
    runner.store.close()

    db = sqlite3.connect(tmp_path / "run" / "results.sqlite")
    rows = {(m, e): r for m, e, *r in db.execute(
        "SELECT method, example_id, orig_predicted, predicted, flipped, orig_prob, masked_prob, orig_logprob, masked_logprob FROM masked")}
    assert len(rows) == 2 * len(ex)  # every example has a row, the unparseable original too
    ids = [e.id for e in ex]
    for eid in ids:
        assert rows[("all-words", eid)][1] == ""  # the explicit unparseable outcome
    assert rows[("all-words", ids[0])][:3] == ["", "", 0] and rows[("human", ids[0])][2] == 0  # not flippable
    assert rows[("all-words", ids[2])][:3] == ["entailment", "", 1]  # label lost on masking = flipped
    assert rows[("all-words", ids[2])][3:] == [pytest.approx(softmax_p(FULL, " entail")), None, pytest.approx(-0.2), None]
    n = rows[("human", ids[1])]  # original only in text: no invented p = 1.0, the masked side is real
    assert n[:3] == ["neutral", "contradiction", 1] and n[3:] == [None, pytest.approx(softmax_p(FLIPPED, " neutral")), None, pytest.approx(-2.5)]
    h = rows[("human", ids[2])]
    assert h[:3] == ["entailment", "contradiction", 1]
    assert h[3:] == [pytest.approx(softmax_p(FULL, " entail")), pytest.approx(softmax_p(FLIPPED, " entail")), pytest.approx(-0.2), pytest.approx(-1.5)]

    # resuming sends nothing and changes nothing (the run had finished)
    sent = server.total
    make_runner(tmp_path, server).run().store.close()
    assert server.total == sent

    # Table 4: N is every example; counts shown; Δ log p / compr. only from examples with probabilities
    data = load_run(tmp_path / "run")
    t4 = {r.method: r for r in faithfulness_rows(data, n_resamples=50)}
    assert t4["all-words"].n == t4["human"].n == 4
    assert t4["all-words"].flip_rate == pytest.approx(3 / 4)  # hand count: ids 1-3 lose their label, id 0 is not flippable
    assert t4["human"].flip_rate == pytest.approx(3 / 4)  # ids 1-3 flip to contradiction
    assert (t4["all-words"].orig_unparseable, t4["all-words"].masked_unparseable, t4["all-words"].no_probs) == (1, 3, 4)
    assert (t4["human"].orig_unparseable, t4["human"].masked_unparseable, t4["human"].no_probs) == (1, 0, 2)
    comp = softmax_p(FULL, " entail") - softmax_p(FLIPPED, " entail")  # ids 2 and 3, identical
    assert t4["human"].comprehensiveness == pytest.approx(comp) and t4["human"].logprob_change == pytest.approx(-1.3)
    assert math.isnan(t4["all-words"].comprehensiveness)
    assert mask_all_diagnostic(data, bootstrap_resamples=50).flip_rate == pytest.approx(3 / 4)
    from faithscope.reports import build_report

    md = (build_report([tmp_path / "run"], tmp_path / "report", bootstrap_resamples=20).out_dir / "table4_faithfulness.md").read_text()
    assert "no label orig/masked" in md and "| 1/3 |" in md and "not flippable" in md


def test_credentials_never_reach_the_store_or_the_report(fault_server, tmp_path):
    from faithscope.reports import build_report

    server = fault_server(reply=lambda p: (" entailment", FULL))
    url = server.base_url.replace("http://", "http://alice:pw-s3cr3t@")
    body = {"repeat_penalty": 1.0, "api_key": "sk-body-SECRET", "headers": {"Authorization": "Bearer sk-hdr-SECRET"}}
    cfg = RunConfig(dataset="demo", n=2, first=True, methods=("all-words",), backend="openai", base_url=url, extra_body=body,
                    max_length=2048, output_dir=str(tmp_path / "run"), progress=False, max_retries=0)
    Runner(cfg).run().store.close()
    assert server.bodies[0]["api_key"] == "sk-body-SECRET"  # the server still gets what the user asked to send
    assert server.auth_headers[0].startswith("Basic ")  # and the URL's user:password as HTTP auth
    report = build_report([tmp_path / "run"], tmp_path / "report", bootstrap_resamples=20)
    stored = [p for p in (tmp_path / "run").iterdir() if p.name.startswith("results.sqlite")]
    for path in stored + [p for p in (tmp_path / "report").rglob("*") if p.is_file()]:
        data = path.read_bytes()
        for secret in (b"pw-s3cr3t", b"sk-body-SECRET", b"sk-hdr-SECRET"):
            assert secret not in data, (path.name, secret)
    meta = load_run(tmp_path / "run").meta
    assert meta["config"]["extra_body"] == {"repeat_penalty": 1.0, "api_key": "***", "headers": {"Authorization": "***"}}
    assert meta["model_identity"]["base_url"].startswith("http://***@127.0.0.1") and report.files["html"]
    # a resumed run with the same (secret) options is the same run
    Runner(cfg).run().store.close()


def test_store_of_an_older_schema_is_refused(tmp_path):
    from faithscope.errors import ConfigError
    from faithscope.runs.store import SCHEMA_VERSION, ResultStore

    cfg = RunConfig(dataset="demo", output_dir=str(tmp_path))
    store = ResultStore.in_dir(tmp_path)
    store.bind_config(cfg, {"model": "m"}, {})
    store.set_meta(schema=SCHEMA_VERSION - 1)  # a run written before masked rows could hold NULL probabilities
    with pytest.raises(ConfigError, match="schema"):
        store.bind_config(cfg, {"model": "m"}, {})
