"""Models behind an OpenAI-compatible HTTP API (OpenAI, vLLM, llama.cpp server).

Everything that needs no gradients runs here: classification, prompting rationales, masking.
By default the SAME rendered prompt string the transformers backend scores is sent to the
``completions`` endpoint, so the two backends are comparable; ``endpoint="chat"`` sends it
as one user message instead. Requests are greedy (temperature 0), bounded-retried with
exponential backoff and jitter on 429/5xx/connection errors/timeouts (Retry-After honoured),
run ``concurrency`` at a time, and optionally cached in a :class:`RequestCache` so that a
rerun or a resumed run sends no request already answered. The API key is read from an
environment variable and never appears in :attr:`identity`, errors, logs or the cache.

Classification (:meth:`OpenAIBackend.score_labels_detailed`, the primary API for this
backend): ONE request per prompt asks for a short greedy reply plus the top-N log-probabilities
of the first generated token. A server gives only first-token log-probabilities, so each label
is scored by its verbalizer's FIRST token -- an approximation of the transformers backend, which
sums the log-probabilities of all the verbalizer's tokens (" entail" + "ment"). The first token
is the one the server's tokenizer gives (llama.cpp's ``/extras/tokenize``); where the server
has no tokenizer endpoint (OpenAI), the longest top token that is a prefix of the verbalizer
(e.g. ``" entail"`` for ``" entailment"``). Teacher-forced scoring through ``echo`` is not
used by default: llama-cpp-python 0.3.36 returns misaligned prompt log-probabilities with ``echo``.

When a label has no matching token in the top list (or two labels share one), it is NOT given
probability 0. With ``score_missing="wide"`` the same prompt is asked again with
``wide_top_logprobs`` alternatives (llama.cpp has no limit; the labels already found keep the
same log-probability); with ``score_missing="echo"`` (completions on servers whose ``echo``
returns aligned prompt log-probabilities, such as vLLM and OpenAI's legacy models) the
verbalizer is teacher-forced: ``prompt + verbalizer`` is sent with ``echo`` and the
log-probability of the verbalizer's first token is read at the prompt's end, and trusted only
when the same route reproduces the top-list log-probability of a label that WAS found (within
``ECHO_TOLERANCE``; llama-cpp-python's echo fails this check). Labels scored so are listed in
``rescored``. A label still without a score is listed in ``missing``, and the
example is classified by parsing the greedy reply instead (the label word, case-insensitive, at the start of the reply); a reply
naming no label is recorded as unparseable (``parsed=False``, no label). The plain
:meth:`score_labels` of the :class:`Backend` interface returns :class:`LabelScores` only when
every prompt was scored from log-probabilities and otherwise raises :class:`ServerError`: a
generation-based decision has no distribution, and inventing one (one-hot, or a floor for
missing labels) would feed made-up probabilities into comprehensiveness/sufficiency.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Sequence, TypeVar

import httpx

from ..errors import ConfigError, ServerError
from ..types import LabelScores
from .base import Backend, Budget, Stops, per_prompt_budgets, per_prompt_stops, truncate_at_stop
from .redact import redact_url
from .request_cache import RequestCache, request_key
from .server_labels import ServerLabelResult, match_first_tokens, parse_label_reply

log = logging.getLogger(__name__)
T = TypeVar("T")

NO_GRADIENT_REASON = (
    "attention and gradient attribution need the model's weights; an HTTP API gives only text "
    "and log-probabilities — use --backend transformers"
)
#: Where a server may state its context window: keys of ``/v1/models`` ``data[0]`` (or its
#: ``meta``) and of llama.cpp's ``/props`` (or its ``default_generation_settings``). llama.cpp's
#: ``n_ctx_train`` is NOT used: a server often runs with a smaller ``n_ctx`` than it was trained on.
CONTEXT_KEYS = ("max_model_len", "context_length", "context_window", "n_ctx")
#: Request fields faithscope sets itself; ``extra_body`` adds server-specific ones beside them,
#: e.g. ``{"repeat_penalty": 1.0}`` for llama-cpp-python, whose server applies a repeat penalty
#: of 1.1 by default even at temperature 0 (so its "greedy" replies are not greedy).
RESERVED_BODY_KEYS = frozenset({"model", "prompt", "messages", "max_tokens", "temperature", "n", "stream", "logprobs", "top_logprobs", "echo"})
#: How labels missing from the top log-probabilities are scored (see the module docstring).
SCORE_MISSING = ("none", "wide", "echo")
#: Largest difference between an echoed log-probability and the same token's top-list value for
#: which the server's echo is trusted (float32 servers agree to about 1e-5).
ECHO_TOLERANCE = 1e-3


class HTTPStatusServerError(ServerError):
    """A server answered with an HTTP error status (kept for callers that probe endpoints)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class OpenAIBackend(Backend):
    """A model behind an OpenAI-compatible API. See the module docstring for the design.

    ``top_logprobs`` is how many first-token alternatives are asked for: OpenAI allows at most
    20 (chat) or 5 (legacy completions); llama.cpp has no limit, and small models often rank
    a label's token below the top 20 (SmolLM2-135M: " contradiction" below 1000), so a run
    against llama.cpp may ask for thousands to score every label from log-probabilities.
    ``label_max_tokens`` bounds the reply generated in the same request for the fallback.
    """

    kind = "openai"
    supports_gradients = False
    no_gradient_reason = NO_GRADIENT_REASON

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        endpoint: Literal["completions", "chat"] = "completions",
        timeout: float = 60.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        concurrency: int = 4,
        cache: RequestCache | str | Path | None = None,
        context_window: int | None = None,
        top_logprobs: int = 20,
        label_max_tokens: int = 8,
        extra_body: Mapping[str, Any] | None = None,
        score_missing: str = "none",
        wide_top_logprobs: int = 5000,
    ):
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"--base-url must start with http:// or https:// (got {redact_url(base_url)!r})")
        if endpoint not in ("completions", "chat"):
            raise ConfigError(f"endpoint must be 'completions' or 'chat' (got {endpoint!r})")
        if not 0 <= max_retries <= 20 or concurrency < 1 or timeout <= 0 or top_logprobs < 1:
            raise ConfigError("need 0 <= max_retries <= 20, concurrency >= 1, timeout > 0, top_logprobs >= 1")
        self.base_url, self.model, self.endpoint = base_url.rstrip("/"), model, endpoint
        self.shown_url = redact_url(self.base_url)  # for identity, errors and logs: no user:password
        self.timeout, self.max_retries, self.backoff, self.max_backoff = timeout, max_retries, backoff, max_backoff
        self.concurrency, self.top_logprobs, self.label_max_tokens = concurrency, top_logprobs, label_max_tokens
        if score_missing not in SCORE_MISSING:
            raise ConfigError(f"unknown --score-missing {score_missing!r}; choose one of {', '.join(SCORE_MISSING)}")
        if score_missing == "echo" and endpoint != "completions":
            raise ConfigError("--score-missing echo teacher-forces the verbalizer through the completions endpoint; use --endpoint completions")
        self.score_missing, self.wide_top_logprobs = score_missing, wide_top_logprobs
        reserved = sorted(set(extra_body or {}) & RESERVED_BODY_KEYS)
        if reserved:
            raise ConfigError(f"extra body fields may not override {', '.join(reserved)}")
        self.extra_body = dict(extra_body or {})
        self.cache = RequestCache(cache) if isinstance(cache, (str, Path)) else cache
        self._context_window = context_window
        self._api_key = os.environ.get(api_key_env) or None
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        self._client = httpx.Client(
            headers=headers, timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._token_mode: str | None = None  # "llama", "vllm" or "estimate", found on first use
        self._no_tokenizer = False  # set once the server showed it has no /extras/tokenize
        self._first_token_memo: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
        self.requests_sent = 0  # HTTP requests sent, retries and probes included; cache hits are not

    def __repr__(self) -> str:
        return f"OpenAIBackend(base_url={self.shown_url!r}, model={self.model!r}, endpoint={self.endpoint!r})"

    # -- Backend interface -------------------------------------------------------------------
    @property
    def identity(self) -> Mapping[str, Any]:
        return {"backend": "openai", "base_url": self.shown_url, "model": self.model, "endpoint": self.endpoint}

    @property
    def context_window(self) -> int:
        """The constructor's value (``--max-length``), else what the server says (vLLM's
        ``max_model_len`` in ``/v1/models``, llama.cpp's ``n_ctx`` in ``/props``), else a
        :class:`ConfigError`: a guessed window either wastes context or makes a smaller
        server answer 400 in the middle of a run."""
        if self._context_window is None:
            found = self._server_context_window()
            if found is None:
                raise ConfigError(
                    f"{self.shown_url} does not say its context window (no {'/'.join(CONTEXT_KEYS)} in /v1/models or /props); "
                    "pass --max-length N with the server's context size (e.g. llama.cpp's --n_ctx)")
            self._context_window = found
        return self._context_window

    def _server_context_window(self) -> int | None:
        """The context window the server reports, or None when it reports none."""
        def pick(d: Any) -> int | None:
            if not isinstance(d, Mapping):
                return None
            for where in (d, d.get("meta"), d.get("default_generation_settings")):
                if isinstance(where, Mapping):
                    for key in CONTEXT_KEYS:
                        v = where.get(key)
                        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
                            return v
            return None

        for url_root, path in ((None, "/models"), (self._root(), "/props")):
            try:
                out = self._call("GET", path, None, root=url_root, retries=False)
            except ServerError:
                continue
            data = out.get("data")
            if isinstance(data, list):
                mine = [d for d in data if isinstance(d, Mapping) and d.get("id") == self.model] or data[:1]
                found = pick(mine[0]) if mine else None
            else:
                found = pick(out)
            if found is not None:
                return found
        return None

    def count_tokens(self, text: str) -> int:
        """Exact via the server's tokenizer (llama.cpp ``/extras/tokenize/count``, vLLM
        ``/tokenize``) when it has one; otherwise an ESTIMATE, ``len(text) // 3``, which
        over-counts English (about 4 characters a token) so truncation errs on the safe side."""
        root = self._root()
        probes = {"llama": ("/extras/tokenize/count", {"input": text}), "vllm": ("/tokenize", {"model": self.model, "prompt": text})}
        for mode in [self._token_mode] if self._token_mode else list(probes):
            if mode == "estimate":
                break
            path, body = probes[mode]
            try:
                out = self._request(path, body, root=root)
                count = out["count"] if "count" in out else len(out["tokens"])
                self._token_mode = mode
                return int(count)
            except HTTPStatusServerError as e:
                if self._token_mode or e.status not in (400, 404, 405, 422, 501):
                    raise
            except (KeyError, TypeError):
                pass
        self._token_mode = "estimate"
        return max(1, len(text) // 3)

    def generate(self, prompts: Sequence[str], max_new_tokens: Budget, stop: Stops = None) -> list[str]:
        """Replies of the server; stop strings go in the request's ``stop`` field (and are
        applied again locally, for servers that ignore the field)."""
        jobs = list(zip(prompts, per_prompt_budgets(max_new_tokens, len(prompts)), per_prompt_stops(stop, len(prompts))))

        def one(job: tuple[str, int, tuple[str, ...]]) -> str:
            prompt, budget, stops = job
            body = self._body(prompt, budget)
            if stops:
                body["stop"] = list(stops)
            return truncate_at_stop(self._reply(self._request(self._path(), body)), stops)

        return self._map(one, jobs)

    def score_labels(self, prompts: Sequence[str], verbalizers: Mapping[str, str]) -> list[LabelScores]:
        """Label log-probabilities from the server, or ServerError when any prompt could only
        be classified by generation (see the module docstring for why nothing is invented)."""
        results = self.score_labels_detailed(prompts, verbalizers)
        bad = [r for r in results if r.scores is None]
        if bad:
            missing = sorted({m for r in bad for m in r.missing})
            raise ServerError(
                f"{len(bad)} of {len(results)} prompts could not be scored from log-probabilities: "
                f"label(s) {', '.join(missing)} not among the server's top-{self.top_logprobs} first "
                "tokens; use generation-based classification (score_labels_detailed) instead"
            )
        return [r.scores for r in results if r.scores is not None]

    def score_labels_detailed(self, prompts: Sequence[str], verbalizers: Mapping[str, str]) -> list[ServerLabelResult]:
        """Classify each prompt with one request: first-token logprobs, else the parsed reply."""
        if not verbalizers:
            raise ConfigError("score_labels needs at least one label verbalizer")

        first_tokens = self.first_tokens(verbalizers)

        def one(prompt: str) -> ServerLabelResult:
            resp = self._request(self._path(), self._body(prompt, self.label_max_tokens, logprobs=True))
            return self._classify(resp, verbalizers, first_tokens, prompt)

        return self._map(one, prompts)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._client.close()
        if self.cache is not None:
            self.cache.close()

    # -- classification ------------------------------------------------------------------------
    def first_tokens(self, verbalizers: Mapping[str, str]) -> dict[str, str]:
        """Each verbalizer's exact first token text from the server's tokenizer (llama.cpp's
        ``/extras/tokenize`` + ``/extras/detokenize``); {} when the server has none, and
        then labels are matched by the longest-prefix rule."""
        memo_key = tuple(verbalizers.items())
        if self._no_tokenizer or memo_key in self._first_token_memo:
            return dict(self._first_token_memo.get(memo_key, {}))
        root, out = self._root(), {}
        try:
            special = self._request("/extras/tokenize", {"input": ""}, root=root)["tokens"]  # BOS, if any
            for label, verb in verbalizers.items():
                ids = self._request("/extras/tokenize", {"input": verb}, root=root)["tokens"]
                ids = ids[len(special):] if ids[: len(special)] == special else ids
                if ids:
                    out[label] = str(self._request("/extras/detokenize", {"tokens": ids[:1]}, root=root)["text"])
            self._first_token_memo[memo_key] = out
        except HTTPStatusServerError as e:
            if e.status not in (400, 404, 405, 422, 501):
                raise
            self._no_tokenizer = True
            return {}
        except (KeyError, TypeError):
            self._no_tokenizer = True
            return {}
        return out

    def _classify(self, resp: Mapping[str, Any], verbalizers: Mapping[str, str], first_tokens: Mapping[str, str],
                  prompt: str | None = None) -> ServerLabelResult:
        reply, top = self._reply(resp), self._first_top_logprobs(resp)
        matched, missing = match_first_tokens(top, verbalizers, first_tokens)
        lps = {lab: float(top[tok]) for lab, tok in matched.items()}
        rescored: tuple[str, ...] = ()
        if missing and prompt is not None and self.score_missing != "none":
            extra = self._rescore(prompt, {lab: verbalizers[lab] for lab in missing}, verbalizers, first_tokens, lps)
            lps.update(extra)
            rescored = tuple(lab for lab in missing if lab in extra)
            missing = tuple(lab for lab in missing if lab not in extra)
        common = dict(top_logprobs=top, missing=missing, label_logprobs=lps, matched_tokens=matched, reply=reply, rescored=rescored)
        if not missing:
            scores = LabelScores(labels=tuple(verbalizers), logprobs=tuple(lps[lab] for lab in verbalizers))
            return ServerLabelResult(label=scores.predicted, method="logprobs", parsed=True, scores=scores, **common)
        label = parse_label_reply(reply, verbalizers)
        return ServerLabelResult(label=label, method="generation", parsed=label is not None, scores=None, **common)

    def _rescore(self, prompt: str, wanted: Mapping[str, str], verbalizers: Mapping[str, str], first_tokens: Mapping[str, str],
                 known: Mapping[str, float] | None = None) -> dict[str, float]:
        """First-token log-probabilities of the ``wanted`` labels by the ``score_missing`` route;
        labels it cannot score are left out (never guessed)."""
        if self.score_missing == "wide":
            body = self._body(prompt, 1, logprobs=True)
            body["logprobs" if self.endpoint == "completions" else "top_logprobs"] = self.wide_top_logprobs
            try:
                top = self._first_top_logprobs(self._request(self._path(), body))
            except HTTPStatusServerError as e:  # e.g. OpenAI's limit of 20: nothing more to learn
                if e.status not in (400, 422):
                    raise
                return {}
            matched, _ = match_first_tokens(top, verbalizers, first_tokens)
            return {lab: float(top[matched[lab]]) for lab in wanted if lab in matched}
        # echo is trusted only where it reproduces a label log-probability the server already gave
        # in its top list: llama-cpp-python 0.3.36 returns well-aligned tokens with WRONG values
        # (measured: -10.32 for a first token whose top-list log-prob is -9.54)
        anchors = {lab: lp for lab, lp in (known or {}).items() if lab not in wanted}
        if not anchors:
            return {}
        anchor, anchor_lp = max(anchors.items(), key=lambda kv: kv[1])
        check = self._echo_first_token_logprob(prompt, verbalizers[anchor], first_tokens.get(anchor))
        if check is None or abs(check - anchor_lp) > ECHO_TOLERANCE:
            log.warning("%s: echo log-probabilities disagree with the top list (%s: %s vs %.4f); labels missing from the top "
                        "list stay unscored", self.shown_url, anchor, check, anchor_lp)
            return {}
        out = {}
        for label, verb in wanted.items():
            lp = self._echo_first_token_logprob(prompt, verb, first_tokens.get(label))
            if lp is not None:
                out[label] = lp
        return out

    def _echo_first_token_logprob(self, prompt: str, verbalizer: str, first_token: str | None) -> float | None:
        """log p(first verbalizer token | prompt), teacher-forced with ``echo`` (completions).

        Reads the echoed token that starts exactly at the end of the prompt; None when the
        server gives no aligned prompt log-probabilities, or when the prompt's last token and the
        verbalizer merged (then no token starts there)."""
        body = {**self._body(prompt + verbalizer, 1, logprobs=False), "echo": True, "logprobs": 1}
        try:
            lp = self._request(self._path(), body)["choices"][0].get("logprobs") or {}
            tokens, values, offsets = lp["tokens"], lp["token_logprobs"], lp["text_offset"]
        except HTTPStatusServerError as e:
            if e.status not in (400, 404, 422, 501):
                raise
            return None
        except (KeyError, IndexError, TypeError, AttributeError):
            return None
        if not (isinstance(tokens, list) and isinstance(values, list) and isinstance(offsets, list)) or not len(tokens) == len(values) == len(offsets):
            return None
        for tok, value, off in zip(tokens, values, offsets):
            if off == len(prompt) and isinstance(value, (int, float)) and isinstance(tok, str) and tok:
                core = tok.lstrip()
                if (first_token and core != first_token.lstrip()) or not verbalizer.lstrip().startswith(core):
                    return None  # not the verbalizer's first token: misaligned echo
                return float(value)
        return None

    def _root(self) -> str:
        """The server's root URL (llama.cpp and vLLM put their tokenizer endpoints there)."""
        return self.base_url[:-3] if self.base_url.endswith("/v1") else self.base_url

    def _path(self) -> str:
        return "/completions" if self.endpoint == "completions" else "/chat/completions"

    def _body(self, prompt: str, max_tokens: int, logprobs: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {**self.extra_body, "model": self.model, "max_tokens": max_tokens, "temperature": 0, "n": 1, "stream": False}
        if self.endpoint == "completions":
            body["prompt"] = prompt
            if logprobs:
                body["logprobs"] = self.top_logprobs
        else:
            body["messages"] = [{"role": "user", "content": prompt}]
            if logprobs:
                body.update(logprobs=True, top_logprobs=self.top_logprobs)
        return body

    def _reply(self, resp: Mapping[str, Any]) -> str:
        try:
            choice = resp["choices"][0]
            text = choice["text"] if self.endpoint == "completions" else choice["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise ServerError(f"{self.shown_url}{self._path()} answered JSON without the generated text (choices[0]); is it OpenAI-compatible?") from None
        return text if isinstance(text, str) else ""

    def _first_top_logprobs(self, resp: Mapping[str, Any]) -> dict[str, float]:
        """Top log-probabilities of the first generated token; {} when the server gave none."""
        try:
            lp = resp["choices"][0].get("logprobs") or {}
            if self.endpoint == "completions":
                return {str(k): float(v) for k, v in ((lp.get("top_logprobs") or [None])[0] or {}).items()}
            first = (lp.get("content") or [None])[0] or {}
            top = {str(e["token"]): float(e["logprob"]) for e in first.get("top_logprobs") or []}
            if "token" in first and "logprob" in first:
                top.setdefault(str(first["token"]), float(first["logprob"]))
            return top
        except (AttributeError, KeyError, IndexError, TypeError, ValueError):
            return {}

    # -- transport: cache, concurrency, retries --------------------------------------------------
    def _map(self, fn: Callable[[Any], T], items: Sequence[Any]) -> list[T]:
        """Apply ``fn`` ``concurrency`` at a time, in order; on the first failure, cancel what
        has not started (answers already received stay in the cache) and raise it."""
        if len(items) <= 1 or self.concurrency == 1:
            return [fn(x) for x in items]
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="faithscope-http")
        futures: list[Future[T]] = [self._pool.submit(fn, x) for x in items]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            raise

    def _request(self, path: str, body: Mapping[str, Any], root: str | None = None) -> dict[str, Any]:
        """POST with the cache: an answered request is never sent again."""
        key = request_key(path, self.model, body) if self.cache is not None else ""
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            return hit
        out = self._call("POST", path, body, root=root)
        if path.endswith("completions") and not (isinstance(out.get("choices"), list) and out["choices"]):
            shown = self._redact(json.dumps(out)[:160])
            raise ServerError(f"{self.shown_url}{path} answered JSON without choices (not cached): {shown}")
        if self.cache is not None:
            self.cache.put(key, out)
        return out

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None, *, root: str | None = None, retries: bool = True) -> dict[str, Any]:
        url = (root or self.base_url) + path
        shown = redact_url(url)
        attempts = self.max_retries + 1 if retries else 1
        problem = ""
        for attempt in range(attempts):
            retry_after: float | None = None
            try:
                with self._lock:
                    self.requests_sent += 1
                r = self._client.request(method, url, json=body)
            except httpx.TimeoutException:
                problem = f"no answer within the {self.timeout:g}s timeout"
            except httpx.TransportError as e:
                problem = f"connection failed ({type(e).__name__})"
            else:
                if r.status_code == 200:
                    try:
                        out = r.json()
                        if not isinstance(out, dict):
                            raise ValueError
                        return out
                    except ValueError:
                        problem = f"server returned malformed JSON ({len(r.content)} bytes, starting {self._redact(r.text[:60])!r})"
                else:
                    problem = f"HTTP {r.status_code} ({self._redact(r.text[:160].strip())!r})".replace("\n", " ")
                    if r.status_code != 429 and r.status_code < 500 and r.status_code not in (408, 409):
                        raise HTTPStatusServerError(f"{method} {shown} answered {problem}; not retried (client error)", r.status_code)
                    retry_after = _retry_after(r.headers.get("retry-after"))
            if attempt + 1 < attempts:
                delay = retry_after if retry_after is not None else min(self.max_backoff, self.backoff * 2**attempt) * (0.5 + random.random() / 2)
                log.warning("%s %s: %s; retry %d/%d in %.2fs", method, shown, problem, attempt + 1, self.max_retries, delay)
                time.sleep(delay)
        raise ServerError(
            f"{method} {shown} failed: {problem} on all {attempts} attempt(s) "
            f"(max_retries={self.max_retries}, timeout {self.timeout:g}s, exponential backoff); check that the server is up and healthy"
        )

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), at most 600."""
    if not value:
        return None
    try:
        secs = float(value)
    except ValueError:
        try:
            secs = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(secs, 0.0), 600.0)
