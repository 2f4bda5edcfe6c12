"""Rationale methods, registered by name (``faithscope list methods``).

Add a method by subclassing :class:`~faithscope.methods.base.RationaleMethod` in a module of
its own and decorating it with :func:`register`; third-party packages can expose modules
through the ``faithscope.methods`` entry-point group.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from ..errors import ConfigError
from .base import MethodContext, MethodOptions, RationaleMethod, RationaleRequest

REGISTRY: dict[str, type[RationaleMethod]] = {}

BUILTIN_MODULES = ("prompt_unbound", "prompt_topk", "attention", "saliency", "input_x_gradient", "integrated_gradients", "occlusion", "random_words", "human", "all_words")
DEFAULT_METHODS = ("prompt-unbound", "prompt-topk", "attention", "saliency", "input_x_gradient", "random", "human", "all")
#: Registered but not run by default: each costs many passes per example (``--ig-steps`` forward
#: and backward rows; one forward per input word). Pass them with ``--methods``.
EXPENSIVE_METHODS = ("integrated_gradients", "occlusion")


def register(cls: type[RationaleMethod]) -> type[RationaleMethod]:
    """Class decorator: make a method available by its ``name``."""
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise ConfigError(f"two rationale methods are named {cls.name!r}")
    REGISTRY[cls.name] = cls
    return cls


def _load() -> None:
    for mod in BUILTIN_MODULES:
        importlib.import_module(f"{__name__}.{mod}")
    for ep in entry_points(group="faithscope.methods"):
        ep.load()


def get_method(name: str) -> RationaleMethod:
    _load()
    if name not in REGISTRY:
        raise ConfigError(f"unknown method {name!r}; known methods: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]()


def list_methods() -> list[type[RationaleMethod]]:
    _load()
    return [REGISTRY[n] for n in sorted(REGISTRY, key=lambda n: (DEFAULT_METHODS.index(n) if n in DEFAULT_METHODS else 50 + EXPENSIVE_METHODS.index(n) if n in EXPENSIVE_METHODS else 99, n))]


__all__ = ["REGISTRY", "DEFAULT_METHODS", "EXPENSIVE_METHODS", "register", "get_method", "list_methods", "MethodContext", "MethodOptions", "RationaleMethod", "RationaleRequest"]
