"""Build the API reference (HTML) from the numpydoc docstrings with pdoc: every public module of vmonf_core.

Usage: python scripts/api_docs.py [OUT_DIR]   (default: docs/api; open OUT_DIR/index.html)

pdoc alone documents only what a package's ``__all__`` names, and ``vmonf_core.__all__`` lists the classes and
functions (not the modules, so that ``from vmonf_core import *`` stays light): the modules are listed here.
"""

from __future__ import annotations

import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def public_modules() -> list[str]:
    """``vmonf_core`` and its submodules, private (``_``-prefixed) and ``__main__`` ones left out."""
    sys.path.insert(0, str(ROOT))
    import vmonf_core

    names = ["vmonf_core"]
    for m in pkgutil.walk_packages(vmonf_core.__path__, "vmonf_core."):
        if not any(part.startswith("_") for part in m.name.split(".")):
            names.append(m.name)
    return names


def main() -> None:
    import pdoc
    import pdoc.render

    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "api")
    pdoc.render.configure(docformat="numpy", footer_text="VMoNF Explorer")
    pdoc.pdoc(*public_modules(), output_directory=out)
    print(f"wrote {out / 'index.html'}")


if __name__ == "__main__":
    main()
