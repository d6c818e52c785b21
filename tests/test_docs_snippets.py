"""The Python code blocks of the README and of the documentation pages run.

The blocks of one file run in order in one fresh interpreter (a later block may
use the names of an earlier one, as a reader pasting them would), as
``__main__``, with the Agg backend. A block that imports an optional package
that is not installed (matplotlib, dask, pandas, sktime, skforecast) is skipped, and so is every
later block of the file, which may depend on it.
"""

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = ["README.md", "docs/getting_started.rst", "docs/user_guide.rst"]
OPTIONAL = {"matplotlib", "dask", "distributed", "pandas", "sktime", "skforecast"}


def code_blocks(path):
    """The Python code blocks of a Markdown or reST file, in order."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    blocks = re.findall(r"^\.\. code-block:: python\n\n((?:[ ]{3}.*\n|\n)+)", text,
                        flags=re.M)
    return [textwrap.dedent(block) for block in blocks]


def missing_imports(block):
    names = set(re.findall(r"^\s*(?:import|from)\s+(\w+)", block, flags=re.M))
    return sorted(n for n in names & OPTIONAL if importlib.util.find_spec(n) is None)


def test_blocks_are_found():
    counts = {name: len(code_blocks(ROOT / name)) for name in FILES}
    assert all(counts.values()), counts


@pytest.mark.parametrize("name", FILES)
def test_code_blocks_run(name, tmp_path):
    blocks = code_blocks(ROOT / name)
    runnable = []
    for block in blocks:
        if missing_imports(block):
            break
        runnable.append(block)
    if not runnable:
        pytest.skip(f"{name}: the first block needs {missing_imports(blocks[0])}")
    script = tmp_path / "snippets.py"
    script.write_text("\n\n".join(runnable), encoding="utf-8")
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore",
           "PYTHONPATH": os.pathsep.join(
               [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{name}:\n{proc.stderr[-3000:]}"
    if len(runnable) < len(blocks):
        pytest.skip(f"{name}: ran {len(runnable)} of {len(blocks)} blocks; block "
                    f"{len(runnable) + 1} needs {missing_imports(blocks[len(runnable)])}")
