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
DEFAULT_METHODS = ("prompt-unbound", "prompt-topk", "attention", "saliency", "input_x_gradient", "random", "human", "all-words")
#: Registered but not run by default: each costs many passes per example (``--ig-steps`` forward
#: and backward rows; one forward per input word). Pass them with ``--methods`` (or ``--methods all``).
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


#: Method names that were renamed: old name -> the hint given when it is asked for.
RENAMED = {"all": "the ALL-words baseline is now called 'all-words' ('--methods all' alone means every method)"}


def get_method(name: str) -> RationaleMethod:
    _load()
    if name in RENAMED and name not in REGISTRY:
        raise ConfigError(f"method {name!r} is no longer a method name: {RENAMED[name]}")
    if name not in REGISTRY:
        raise ConfigError(f"unknown method {name!r}; known methods: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]()


def all_method_names() -> tuple[str, ...]:
    """Every registered method (what ``--methods all`` means), in listing order."""
    return tuple(m.name for m in list_methods())


def list_methods() -> list[type[RationaleMethod]]:
    _load()
    return [REGISTRY[n] for n in sorted(REGISTRY, key=lambda n: (DEFAULT_METHODS.index(n) if n in DEFAULT_METHODS else 50 + EXPENSIVE_METHODS.index(n) if n in EXPENSIVE_METHODS else 99, n))]


__all__ = ["REGISTRY", "DEFAULT_METHODS", "EXPENSIVE_METHODS", "RENAMED", "register", "get_method", "list_methods", "all_method_names", "MethodContext", "MethodOptions", "RationaleMethod", "RationaleRequest"]
