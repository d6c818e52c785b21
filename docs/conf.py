"""Sphinx configuration for sklearn-itds.

Builds offline: intersphinx is not used (no network), the link check is not
part of the build, and the example gallery runs the scripts in ``examples/``
locally. Set ``SKLEARN_ITDS_QUICK=1`` to run the gallery with small sizes
(what CI does).
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sklearn_itds  # noqa: E402

project = "sklearn-itds"
author = "the sklearn-itds developers"
copyright = "2026, the sklearn-itds developers"
version = release = sklearn_itds.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# No intersphinx: the build must not touch the network.
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "make_method_figures.py"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"

autosummary_generate = True
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-itds {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}

# MathJax is loaded by the browser when a page is viewed, not at build time.

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "plot_gallery": "True",
    # Backreferences for the "Examples using ..." sections of the API pages.
    "doc_module": ("sklearn_itds",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_itds": None},
    "min_reported_time": 1,
}

# The gallery runs the examples in this process; make their quick mode
# follow the caller's environment (CI sets SKLEARN_ITDS_QUICK=1).
os.environ.setdefault("MPLBACKEND", "Agg")

