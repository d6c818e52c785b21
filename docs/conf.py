"""Sphinx configuration for sklearn-itds.

Builds offline and strict: ``nitpicky = True``, so every cross-reference must
resolve. Intersphinx is not used (it downloads inventories at build time);
``_ext/itds_docs.py`` resolves references to Python, numpy, scipy and
scikit-learn by importing the named object (a dead name fails the build) and
links the library's page for it. No MathJax either (it loads from a CDN): the
formulas are written as text and tables, and math markup fails the build. The
link check is not part of the build, and the example gallery runs the scripts
in ``examples/`` locally. Set ``SKLEARN_ITDS_QUICK=1`` to run the gallery with small sizes
(what CI does).
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

import sklearn_itds  # noqa: E402

project = "sklearn-itds"
author = "the sklearn-itds developers"
copyright = "2026, the sklearn-itds developers"
version = release = sklearn_itds.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "itds_docs",
]

# No intersphinx (the build must not touch the network): itds_docs resolves
# references to Python, numpy, scipy and scikit-learn instead, checked by import.
nitpicky = True
# The docstrings' Parameters sections state the types; the annotations of the
# signatures would add numpy's private typing aliases (not documented anywhere).
autodoc_typehints = "none"
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
html_static_path = ["_static"]
html_css_files = ["itds.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    # every top-level page in the navbar, none hidden under "More"
    "header_links_before_dropdown": 12,
    "navbar_align": "left",
    # the search as an icon, so that links, search and theme switch share one row
    "navbar_persistent": ["search-button"],
}
# Top-level pages have no sub-pages: no (empty) left sidebar that squeezes the text.
html_sidebars = {page: [] for page in (
    "index", "getting_started", "user_guide", "method", "readings", "results",
    "reliability", "performance", "cli", "changelog")}

# Math markup would need MathJax from a CDN; this renderer makes it a warning.
html_math_renderer = "no-network"

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
    # The computation-times page loads jQuery and DataTables from a CDN.
    "write_computation_times": False,
}

# The gallery runs the examples in this process; make their quick mode
# follow the caller's environment (CI sets SKLEARN_ITDS_QUICK=1).
os.environ.setdefault("MPLBACKEND", "Agg")

