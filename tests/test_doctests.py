"""Every example in a docstring runs and prints what it says (the library's and the app's plain modules)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import vmonf_core

MODULES = sorted({"vmonf_core"} | {m.name for m in pkgutil.walk_packages(vmonf_core.__path__, "vmonf_core.")
                                    if not m.name.startswith("__")} | {"ui.frame", "ui.figures", "ui.lesson"})


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples in {name} fail"
