"""Issue 11 items 11 and 18 on the OpenAI-compatible backend, against the fault server:
the context window comes from the server or the user, never a guess; credentials in the base
URL or the extra request fields never reach the identity, errors or the stored config."""

from __future__ import annotations

import pytest

from faithscope.errors import ConfigError, ServerError
from faithscope.models.openai import OpenAIBackend
from faithscope.models.redact import is_secret_key, redact_url, redact_value

FAST = dict(backoff=0.01, max_backoff=0.05, timeout=2.0)


# -- item 11: context window ------------------------------------------------------------------
def test_unknown_context_window_is_a_clear_error_not_8192(fault_server):
    server = fault_server(models={"id": "fault", "object": "model", "owned_by": "me"})  # llama-cpp-python's answer
    b = OpenAIBackend(server.base_url, "fault", **FAST)
    with pytest.raises(ConfigError) as e:
        b.context_window
    assert "--max-length" in str(e.value) and "\n" not in str(e.value)
    assert OpenAIBackend(server.base_url, "fault", context_window=1024, **FAST).context_window == 1024


def test_context_window_from_llama_cpp_props(fault_server):
    # llama.cpp's C++ server: /v1/models gives only the training context in meta, /props the real n_ctx
    server = fault_server(models={"id": "m", "meta": {"n_ctx_train": 8192}}, props={"default_generation_settings": {"n_ctx": 1536}})
    assert OpenAIBackend(server.base_url, "m", **FAST).context_window == 1536


def test_context_window_from_models_meta_of_the_named_model(fault_server):
    server = fault_server(models={"id": "m", "meta": {"n_ctx": 4096}})
    assert OpenAIBackend(server.base_url, "m", **FAST).context_window == 4096


# -- item 18: credentials -----------------------------------------------------------------------
def test_redact_url_and_body():
    assert redact_url("https://alice:s3cr3t@example.org:8443/v1") == "https://***@example.org:8443/v1"
    assert redact_url("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1"
    assert "abc" not in redact_url("https://h/v1?api_key=abc&x=1") and "x=1" in redact_url("https://h/v1?api_key=abc&x=1")
    body = {"repeat_penalty": 1.0, "api_key": "sk-1", "headers": {"Authorization": "Bearer sk-2", "X-Api-Key": "k3"},
            "stop_token_ids": [2], "max_tokens_hint": 3, "hf_token": "hf_4", "password": "p5", "clientSecret": "c6",
            "callback": "https://u:p7@h/", "note": "Bearer sk-8"}
    out = redact_value(body)
    text = repr(out)
    for secret in ("sk-1", "sk-2", "k3", "hf_4", "p5", "c6", "p7", "sk-8"):
        assert secret not in text, secret
    assert out["repeat_penalty"] == 1.0 and out["stop_token_ids"] == [2] and out["max_tokens_hint"] == 3
    assert body["api_key"] == "sk-1"  # the caller's object is not changed
    assert [k for k in ("key", "token", "apiKey", "access_token", "auth", "max_tokens", "n_keep", "top_logprobs") if is_secret_key(k)] == \
        ["key", "token", "apiKey", "access_token", "auth"]


def test_url_credentials_stay_out_of_identity_repr_and_errors(fault_server):
    server = fault_server(default="500")
    url = server.base_url.replace("http://", "http://alice:s3cr3t@")
    b = OpenAIBackend(url, "m", max_retries=0, **FAST)
    assert "s3cr3t" not in repr(b.identity) and "s3cr3t" not in repr(b) and b.identity["base_url"].startswith("http://***@127.0.0.1")
    with pytest.raises(ServerError) as e:
        b.generate(["p"], 2)
    assert "s3cr3t" not in str(e.value) and "***@" in str(e.value)
    with pytest.raises(ConfigError) as e2:
        OpenAIBackend("ftp://bob:hunter2@h/v1", "m")
    assert "hunter2" not in str(e2.value)


# -- item 10: labels missing from the top log-probabilities are scored, or marked unscored -------
NLI = {"entailment": " entailment", "contradiction": " contradiction", "neutral": " neutral"}
MANY = {" entail": -0.2, " contrad": -3.3, **{f" w{i}": -4.0 - i / 100 for i in range(22)}, " neutral": -6.5}  # neutral is 25th


def test_wide_rescoring_finds_a_label_beyond_the_top_20(fault_server):
    server = fault_server(reply=lambda p: (" entailment", MANY))
    (plain,) = OpenAIBackend(server.base_url, "m", **FAST).score_labels_detailed(["p"], NLI)
    assert plain.missing == ("neutral",) and plain.scores is None  # top 20 lacks it: no invented probability
    (r,) = OpenAIBackend(server.base_url, "m", score_missing="wide", **FAST).score_labels_detailed(["p"], NLI)
    assert r.method == "logprobs" and r.missing == () and r.rescored == ("neutral",)
    assert r.scores is not None and r.scores.logprobs == (-0.2, -3.3, -6.5)
    assert [b["logprobs"] for b in server.bodies[-2:]] == [20, 5000]


def test_wide_rescoring_on_a_server_with_a_small_limit_leaves_the_label_unscored(fault_server):
    server = fault_server(["ok", "400"], reply=lambda p: (" neutral", MANY))
    (r,) = OpenAIBackend(server.base_url, "m", score_missing="wide", max_retries=0, **FAST).score_labels_detailed(["p"], NLI)
    assert r.missing == ("neutral",) and r.scores is None and r.method == "generation" and r.label == "neutral"


def _echo(prompt_end: str, values: dict[str, float]):
    """vLLM-style echo logprobs of prompt + verbalizer: the prompt as one token, then the
    verbalizer's first token (the key of ``values`` it starts with; none: the first key, a
    misaligned echo) with its log-probability."""
    def echo(text: str) -> dict:
        cut = text.index(prompt_end) + len(prompt_end)
        first = max((t for t in values if text[cut:].startswith(t)), key=len, default=next(iter(values)))  # else: misaligned
        return {"tokens": [text[:cut], first, text[cut + len(first):] or "x"], "token_logprobs": [None, values[first], -0.01],
                "text_offset": [0, cut, cut + len(first)], "top_logprobs": [None, {first: values[first]}, {}]}
    return echo


def test_echo_teacher_forces_the_missing_verbalizer(fault_server):
    server = fault_server(reply=lambda p: (" entailment", {" entail": -0.2, " contrad": -3.3}),
                          echo=_echo("Answer:", {" entail": -0.2, " contrad": -3.3, " neutral": -4.25}))
    b = OpenAIBackend(server.base_url, "m", score_missing="echo", **FAST)
    (r,) = b.score_labels_detailed(["Q? Answer:"], NLI)
    assert r.method == "logprobs" and r.rescored == ("neutral",) and r.scores.logprobs == (-0.2, -3.3, -4.25)
    anchor, echoed = server.bodies[-2:]  # first the check on a label the top list gave, then the missing one
    assert anchor["prompt"] == "Q? Answer: entailment" and echoed["prompt"] == "Q? Answer: neutral"
    assert echoed["echo"] is True and echoed["temperature"] == 0


def test_echo_that_disagrees_with_the_top_list_is_not_trusted(fault_server):
    # well-aligned tokens, wrong values (llama-cpp-python 0.3.36): -0.9 where the top list says -0.2
    server = fault_server(reply=lambda p: (" neutral", {" entail": -0.2, " contrad": -3.3}),
                          echo=_echo("Answer:", {" entail": -0.9, " contrad": -3.3, " neutral": -4.25}))
    (r,) = OpenAIBackend(server.base_url, "m", score_missing="echo", **FAST).score_labels_detailed(["Q? Answer:"], NLI)
    assert r.missing == ("neutral",) and r.scores is None and r.rescored == () and r.label == "neutral"


def test_misaligned_or_unsupported_echo_leaves_the_label_unscored(fault_server):
    # the token at the prompt's end is not the verbalizer's (llama-cpp-python's misaligned echo)
    server = fault_server(reply=lambda p: (" neutral", {" entail": -0.2, " contrad": -3.3}), echo=_echo("Answer:", {" The": -1.0}))
    (r,) = OpenAIBackend(server.base_url, "m", score_missing="echo", **FAST).score_labels_detailed(["Q? Answer:"], NLI)
    assert r.missing == ("neutral",) and r.scores is None and r.label == "neutral"
    plain = fault_server(reply=lambda p: (" neutral", {" entail": -0.2, " contrad": -3.3}))  # answers echo with 400
    (r,) = OpenAIBackend(plain.base_url, "m", score_missing="echo", max_retries=0, **FAST).score_labels_detailed(["Q? Answer:"], NLI)
    assert r.missing == ("neutral",) and r.scores is None
    with pytest.raises(ConfigError, match="completions"):
        OpenAIBackend(plain.base_url, "m", score_missing="echo", endpoint="chat")
    with pytest.raises(ConfigError, match="score-missing"):
        OpenAIBackend(plain.base_url, "m", score_missing="guess")
