"""``integrated_gradients`` and ``occlusion`` are registered, listed with descriptions, selectable
by ``--methods``, and (being expensive) not part of the default set."""

from __future__ import annotations

from faithscope.cli import _methods, main
from faithscope.methods import DEFAULT_METHODS, EXPENSIVE_METHODS, get_method


def test_listed_with_descriptions(capsys):
    try:
        main(["list", "methods"])
    except SystemExit as exc:
        assert exc.code in (0, None)
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    for name, words in (("integrated_gradients", "Integrated Gradients"), ("occlusion", "Leave-one-word-out")):
        assert name in lines and words in lines[name] and "attribution" in lines[name].split()[1]


def test_selected_by_methods_option_not_by_default():
    assert _methods("integrated_gradients,occlusion") == ("integrated_gradients", "occlusion")
    assert set(EXPENSIVE_METHODS) == {"integrated_gradients", "occlusion"}
    assert not set(EXPENSIVE_METHODS) & set(DEFAULT_METHODS)
    assert get_method("integrated_gradients").needs_gradients and not get_method("occlusion").needs_gradients
