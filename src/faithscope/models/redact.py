"""Strip credentials from what a run stores and shows (server URLs, extra request fields).

Why: ``--base-url https://user:pass@host/v1`` and ``--extra-body '{"api_key": "..."}'`` are
legitimate ways to reach a server, but the result store and the HTML report are shared with
colleagues and papers' supplements. Everything a run records about the server goes through
:func:`redact_url` / :func:`redact_value` first; the backend itself keeps the real values
(it needs them to send requests).

Rules: ``user:password@`` in a URL becomes ``***@``; a URL query parameter or a mapping key
whose last word (split at ``_``, ``-``, ``.`` and camel case) is a secret word (``key``,
``token``, ``password``, ``secret``, ``authorization``, ...) or that names one whole
(``apikey``, ``accesstoken``) has its value replaced by ``***``; so does any string that
starts with ``Bearer ``/``Basic ``. ``max_tokens`` or ``stop_token_ids`` are kept: their last
word is not a secret word, and they change results.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "***"
SECRET_WORDS = frozenset({"key", "apikey", "token", "password", "passwd", "pwd", "secret", "authorization", "auth",
                          "credential", "credentials", "cookie", "bearer", "signature", "sig"})
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_AUTH_VALUE = re.compile(r"^\s*(bearer|basic)\s+\S", re.IGNORECASE)


def is_secret_key(name: str) -> bool:
    """Whether a field called ``name`` holds a credential (see the module docstring)."""
    words = [w.lower() for w in _WORD.findall(str(name))]
    if not words:
        return False
    return words[-1] in SECRET_WORDS or "".join(words) in SECRET_WORDS or "".join(words[-2:]) in SECRET_WORDS


def redact_url(url: str) -> str:
    """``url`` without ``user:password@`` and without the values of secret query parameters."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if "@" in netloc:
        netloc = REDACTED + "@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, REDACTED if is_secret_key(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_value(value: Any) -> Any:
    """A copy of ``value`` (JSON-like) with secret-named fields, auth headers and URL
    credentials replaced by ``***``; everything else is returned unchanged."""
    if isinstance(value, dict):
        return {k: (REDACTED if is_secret_key(k) and value[k] not in (None, "") else redact_value(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v) for v in value)
    if isinstance(value, str):
        if _AUTH_VALUE.match(value):
            return REDACTED
        if "://" in value:
            return redact_url(value)
    return value
