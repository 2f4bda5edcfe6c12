"""The OpenAI-compatible backend against a fault-injecting server of our own (127.0.0.1).

Each test proves one promise of the backend: bounded retries on 429/5xx/timeouts, a clear
one-line ServerError when they run out, no API key anywhere it could leak, a request cache
that makes reruns and resumed runs send only unanswered requests, and classification that
never treats a label missing from the top log-probabilities as probability 0.
"""

from __future__ import annotations

import sqlite3

import pytest

from faithscope.errors import ConfigError, ServerError
from faithscope.models.openai import (
    NO_GRADIENT_REASON,
    HTTPStatusServerError,
    OpenAIBackend,
    _retry_after,
)
from faithscope.models.request_cache import RequestCache

NLI = {"entailment": " entailment", "contradiction": " contradiction", "neutral": " neutral"}
FAST = dict(backoff=0.01, max_backoff=0.05, timeout=2.0)


def backend(server, **kw) -> OpenAIBackend:
    return OpenAIBackend(server.base_url, "test-model", **{**FAST, **kw})


def test_retries_succeed_after_429_and_500(fault_server):
    server = fault_server(["429", "500", "500"])
    b = backend(server, max_retries=3)
    assert b.generate(["p"], 4) == [" entailment"]
    assert server.counts["p"] == 4


def test_slow_response_hits_timeout_and_is_retried(fault_server):
    server = fault_server(["slow"], slow_s=1.0)
    b = backend(server, timeout=0.3, max_retries=1)
    assert b.generate(["p"], 4) == [" entailment"]
    assert server.counts["p"] == 2


def test_persistent_500_gives_one_line_error_after_max_retries_plus_one(fault_server):
    server = fault_server(default="500")
    b = backend(server, max_retries=2)
    with pytest.raises(ServerError) as e:
        b.generate(["p"], 4)
    msg = str(e.value)
    assert "\n" not in msg and "/v1/completions" in msg and "HTTP 500" in msg and "3 attempt" in msg
    assert server.counts["p"] == 3


def test_malformed_json_gives_clear_error(fault_server):
    server = fault_server(default="malformed")
    with pytest.raises(ServerError, match="malformed JSON") as e:
        backend(server, max_retries=1).generate(["p"], 4)
    assert "\n" not in str(e.value) and "Expecting" not in str(e.value)
    assert e.value.__cause__ is None and server.counts["p"] == 2


def test_malformed_json_then_good_answer_is_retried(fault_server):
    server = fault_server(["429", "500", "slow", "malformed"], slow_s=0.6)
    b = backend(server, max_retries=4, timeout=0.3)
    assert b.generate(["p"], 4) == [" entailment"]
    assert server.counts["p"] == 5


def test_client_error_is_not_retried(fault_server):
    server = fault_server(["400"])
    with pytest.raises(HTTPStatusServerError, match="HTTP 400"):
        backend(server, max_retries=3).generate(["p"], 4)
    assert server.counts["p"] == 1


def test_api_key_never_leaks(fault_server, monkeypatch, tmp_path):
    secret = "sk-test-SECRET-4242"
    monkeypatch.setenv("FAITHSCOPE_TEST_KEY", secret)
    server = fault_server(["ok"], default="500echo")
    b = backend(server, api_key_env="FAITHSCOPE_TEST_KEY", max_retries=1, cache=tmp_path / "c.sqlite")
    b.generate(["p"], 4)
    assert server.auth_headers[0] == f"Bearer {secret}"  # it is sent ...
    with pytest.raises(ServerError) as e:  # ... but the error echoing it is redacted
        b.generate(["q"], 4)
    assert secret not in str(e.value) and "***" in str(e.value)
    assert secret not in repr(b.identity) and secret not in repr(b)
    b.close()
    rows = sqlite3.connect(tmp_path / "c.sqlite").execute("SELECT key, response FROM requests").fetchall()
    assert rows and all(secret not in k + r for k, r in rows)
    assert dict(b.identity) == {"backend": "openai", "base_url": server.base_url, "model": "test-model", "endpoint": "completions"}


def test_rerun_with_cache_sends_no_request(fault_server, tmp_path):
    server = fault_server()
    prompts = ["a", "b", "c"]
    first = backend(server, cache=tmp_path / "c.sqlite").score_labels_detailed(prompts, NLI)
    assert server.total == 3
    again = backend(server, cache=tmp_path / "c.sqlite").score_labels_detailed(prompts, NLI)
    assert server.total == 3 and again == first


@pytest.mark.parametrize("concurrency", [1, 3])
def test_interrupted_batch_resumes_with_only_unanswered_requests(fault_server, tmp_path, concurrency):
    server = fault_server(fail_after=2)
    prompts = [f"p{i}" for i in range(6)]
    first = backend(server, cache=tmp_path / "c.sqlite", max_retries=0, concurrency=concurrency)
    with pytest.raises(ServerError):
        first.score_labels_detailed(prompts, NLI)
    first.close()  # waits for requests still in flight, as a stopped run would
    answered_before = sum(server.answered.values())
    assert answered_before == 2
    server.fail_after = None  # the server comes back
    sent_before = server.total
    results = backend(server, cache=tmp_path / "c.sqlite", concurrency=concurrency).score_labels_detailed(prompts, NLI)
    assert all(r.label == "entailment" for r in results)
    assert all(server.answered[p] == 1 for p in prompts)  # nothing answered twice
    assert server.total - sent_before == len(prompts) - answered_before


def test_all_labels_present_are_scored_from_first_token_logprobs(fault_server):
    server = fault_server()
    (r,) = backend(server).score_labels_detailed(["p"], NLI)
    assert r.method == "logprobs" and r.parsed and r.missing == ()
    assert r.matched_tokens == {"entailment": " entail", "contradiction": " contrad", "neutral": " neutral"}
    assert r.scores is not None and r.scores.logprobs == (-0.2, -3.3, -2.1) and r.label == "entailment"
    assert server.bodies[0]["logprobs"] == 20 and server.bodies[0]["temperature"] == 0
    (s,) = backend(server).score_labels(["p"], NLI)
    assert s == r.scores


def test_missing_label_is_reported_and_falls_back_to_generation(fault_server):
    server = fault_server(reply=lambda p: (" Neutral.", {" entail": -0.5, " contrad": -1.2, " The": -2.0}))
    b = backend(server)
    (r,) = b.score_labels_detailed(["p"], NLI)
    assert r.missing == ("neutral",) and r.method == "generation"
    assert r.label == "neutral" and r.parsed and r.scores is None
    assert r.label_logprobs == {"entailment": -0.5, "contradiction": -1.2}
    with pytest.raises(ServerError, match="neutral"):  # never a silent probability 0
        b.score_labels(["p"], NLI)


def test_unparseable_reply_is_recorded_as_such(fault_server):
    server = fault_server(reply=lambda p: (" I think the answer", {" I": -0.1}))
    (r,) = backend(server).score_labels_detailed(["p"], NLI)
    assert r.label is None and not r.parsed and r.method == "generation"
    assert r.reply == " I think the answer" and set(r.missing) == set(NLI)


def test_server_without_logprobs_classifies_by_generation(fault_server):
    server = fault_server(reply=lambda p: ("contradiction", {}))
    (r,) = backend(server).score_labels_detailed(["p"], NLI)
    assert r.top_logprobs == {} and r.label == "contradiction" and r.method == "generation"


def test_answer_without_choices_is_an_error_and_not_cached(fault_server, tmp_path):
    server = fault_server(reply=lambda p: ("x", {}))
    server._answer = lambda path, body: {"error": {"message": "model overloaded"}}
    b = backend(server, cache=tmp_path / "c.sqlite")
    with pytest.raises(ServerError, match="without choices"):
        b.generate(["p"], 2)
    assert len(b.cache) == 0


def test_chat_endpoint_sends_one_user_message(fault_server):
    server = fault_server()
    (r,) = backend(server, endpoint="chat").score_labels_detailed(["the prompt"], NLI)
    body = server.bodies[0]
    assert body["messages"] == [{"role": "user", "content": "the prompt"}]
    assert body["logprobs"] is True and body["top_logprobs"] == 20
    assert r.method == "logprobs" and r.label == "entailment"
    assert backend(server, endpoint="chat").generate(["x"], 3) == [" entailment"]


def test_extra_body_fields_are_sent_and_cannot_override_ours(fault_server):
    server = fault_server()
    backend(server, extra_body={"repeat_penalty": 1.0}).generate(["x"], 3)
    body = server.bodies[0]
    assert body["repeat_penalty"] == 1.0 and body["temperature"] == 0 and body["prompt"] == "x"
    with pytest.raises(ConfigError, match="may not override temperature"):
        OpenAIBackend("http://127.0.0.1:1/v1", "m", extra_body={"temperature": 0.7})


def test_concurrency_limit_is_respected(fault_server):
    server = fault_server(default="slow", slow_s=0.15)
    out = backend(server, concurrency=2).generate([f"p{i}" for i in range(6)], 2)
    assert len(out) == 6 and server.max_in_flight == 2


def test_token_count_estimate_and_context_window_from_server(fault_server):
    server = fault_server()
    b = backend(server)
    assert b.count_tokens("x" * 30) == 10  # no tokenizer endpoint: documented estimate
    assert b.context_window == 2048  # the server's /v1/models max_model_len
    assert backend(server, context_window=512).context_window == 512


def test_backend_refuses_gradients_and_bad_options():
    assert OpenAIBackend.supports_gradients is False and "--backend transformers" in NO_GRADIENT_REASON
    with pytest.raises(ConfigError):
        OpenAIBackend("localhost:8000", "m")
    with pytest.raises(ConfigError):
        OpenAIBackend("http://127.0.0.1:1/v1", "m", endpoint="embeddings")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        OpenAIBackend("http://127.0.0.1:1/v1", "m", max_retries=-1)


def test_connection_refused_is_a_server_error():
    b = OpenAIBackend("http://127.0.0.1:9/v1", "m", max_retries=1, **FAST)
    with pytest.raises(ServerError, match="connection failed.*2 attempt"):
        b.generate(["p"], 2)


def test_retry_after_header():
    assert _retry_after("0") == 0.0 and _retry_after("2.5") == 2.5 and _retry_after(None) is None
    assert _retry_after("soon") is None and _retry_after("100000") == 600.0


def test_request_cache_roundtrip(tmp_path):
    with RequestCache(tmp_path / "x" / "c.sqlite") as c:
        assert c.get("k") is None
        c.put("k", {"a": 1})
        assert c.get("k") == {"a": 1} and len(c) == 1


def test_llama_server_refuses_a_missing_model_file(tmp_path):
    from faithscope.errors import ModelError
    from faithscope.models.llama_server import LlamaServer

    with pytest.raises(ModelError, match="not found|not installed"):
        LlamaServer(tmp_path / "nope.gguf").start()


def test_generate_sends_each_prompt_its_own_budget(fault_server):
    server = fault_server([])
    backend(server).generate(["a", "b"], [5, 9])
    assert sorted((b["prompt"], b["max_tokens"]) for b in server.bodies) == [("a", 5), ("b", 9)]
    with pytest.raises(ValueError, match="2 generation budgets for 1 prompts"):
        backend(server).generate(["a"], [5, 9])
