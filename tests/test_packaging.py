"""`pip install .` gives an importable library with its `vmonf` command; the API reference builds (issue 23)."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args, cwd=None, timeout=300):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # nothing but the installed package
    out = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return out.stdout


def test_the_wheel_installs_the_library_and_its_command(tmp_path):
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(ROOT))
    wheel = next((tmp_path / "dist").glob("vmonf_explorer-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "vmonf_core/estimator.py" in names and any(n.startswith("vmonf_core/transforms/") for n in names)
    assert not any(n.startswith(("ui/", "pages/", "tests/", "bench/")) for n in names)  # the app runs from the checkout
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--system-site-packages", str(venv))  # torch and friends from this interpreter
    py = venv / "bin" / "python"
    run(str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel))
    where = run(str(py), "-c", "import vmonf_core; print(vmonf_core.__file__); from vmonf_core import VariationalFlowMixture",
                cwd=tmp_path)
    assert str(venv) in where  # imported from the installed package, not the checkout
    assert "pinwheel:" in run(str(venv / "bin" / "vmonf"), "presets", cwd=tmp_path)


def test_the_api_reference_builds(tmp_path):
    run(sys.executable, "scripts/api_docs.py", str(tmp_path), cwd=ROOT)  # the README's command
    page = (tmp_path / "vmonf_core" / "estimator.html").read_text()
    assert "VariationalFlowMixture" in page and "predict_proba" in page and "score_samples" in page
    assert (tmp_path / "vmonf_core" / "tables.html").is_file() and (tmp_path / "vmonf_core" / "objectives.html").is_file()
