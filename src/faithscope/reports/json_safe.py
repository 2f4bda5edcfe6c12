"""Values made fit for strict JSON (NaN/inf -> null), for the summary files reports write."""

from __future__ import annotations

import math


def json_safe(value: object) -> object:
    """NaN/inf -> None (strict JSON), recursively; tuples become lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value
