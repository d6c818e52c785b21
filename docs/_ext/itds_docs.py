"""Local Sphinx extension of the sklearn-itds documentation (no network).

Three small pieces that keep the build offline and strict:

``missing-reference`` resolver
    With ``nitpicky = True`` every cross-reference must resolve. Intersphinx
    would fetch the inventories of Python, numpy, scipy and scikit-learn over
    the network at build time, so instead a reference to one of those
    libraries is checked by *importing the named object from the installed
    library* (a name that does not exist fails the build like any dead
    reference) and linked to the library's documentation page for it.

``no-network`` math renderer
    MathJax is loaded from a CDN when a page is viewed; offline the math
    would show as raw LaTeX. The documentation writes its formulas as text and
    tables instead, and this renderer turns any math markup that creeps in
    (a ``:math:`` role or a ``.. math::`` block, also in docstrings) into a
    build warning, so that ``-W`` fails on it.

``.. sklearn-itds-cli::`` directive
    The command-line reference, generated from the argparse parser of
    :mod:`sklearn_itds.cli` at build time (sphinx-argparse is not needed).
"""

import argparse
import importlib
import inspect
import re

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Documentation roots of the libraries whose names the pages reference.
SKLEARN = "https://scikit-learn.org/stable/"
NUMPY = "https://numpy.org/doc/stable/reference/"
SCIPY = "https://docs.scipy.org/doc/scipy/reference/"
PYTHON = "https://docs.python.org/3/library/"
JOBLIB = "https://joblib.readthedocs.io/en/stable/"
PANDAS = "https://pandas.pydata.org/docs/reference/api/"

#: Objects whose page is not the generic pattern of their library.
SPECIAL = {
    "numpy.random.RandomState": NUMPY + "random/legacy.html#numpy.random.RandomState",
    "numpy.random.Generator": NUMPY + "random/generator.html#numpy.random.Generator",
    "numpy.random.default_rng": NUMPY + "random/generator.html#numpy.random.default_rng",
    "joblib.Parallel": JOBLIB + "generated/joblib.Parallel.html",
    "joblib.parallel_backend": JOBLIB + "generated/joblib.parallel_backend.html",
    "joblib": JOBLIB,
    "collections.abc.Callable": PYTHON + "collections.abc.html#collections.abc.Callable",
    "numpy": NUMPY + "index.html",
    "scipy": SCIPY + "index.html",
    "sklearn": SKLEARN + "api/index.html",
}


def _import(name):
    """The object a dotted name points to, or None if it does not exist."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _public_name(name, obj):
    """``sklearn.utils._bunch.Bunch`` -> ``sklearn.utils.Bunch`` (same object)."""
    parts = name.split(".")
    public = [p for p in parts[:-1] if not p.startswith("_")] + parts[-1:]
    candidate = ".".join(public)
    return candidate if _import(candidate) is obj else name


def external_url(name):
    """Documentation URL of an object of Python, numpy, scipy, scikit-learn,
    joblib or pandas, or None when ``name`` is not an installed object of
    those libraries."""
    top = name.split(".")[0]
    libraries = {"sklearn", "numpy", "scipy", "joblib", "pandas", "pickle",
                 "collections", "typing", "warnings", "argparse", "pathlib"}
    if top not in libraries:
        return None
    obj = _import(name)
    if obj is None:
        return None
    name = _public_name(name, obj)
    if name in SPECIAL:
        return SPECIAL[name]
    if inspect.ismodule(obj):
        if top == "sklearn":
            return f"{SKLEARN}api/{name}.html"
        if top == "scipy":
            return f"{SCIPY}{name.split('.', 1)[1]}.html"
        if top in ("numpy", "pandas", "joblib"):
            return None
        return f"{PYTHON}{name}.html"
    if top == "sklearn":
        return f"{SKLEARN}modules/generated/{name}.html"
    if top == "numpy":
        return f"{NUMPY}generated/{name}.html"
    if top == "scipy":
        return f"{SCIPY}generated/{name}.html"
    if top == "pandas":
        return f"{PANDAS}{name}.html"
    if top == "joblib":
        return f"{JOBLIB}generated/{name}.html"
    module = name.rsplit(".", 1)[0]
    return f"{PYTHON}{module}.html#{name}"


def resolve_external(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    url = external_url(target)
    if url is None:
        return None
    ref = nodes.reference("", "", internal=False, refuri=url, reftitle=target)
    ref.append(contnode)
    return ref


def _no_math(self, node):
    logger.warning(
        "math markup needs MathJax, which loads from the network; write the "
        "formula as text or a table instead", location=node)
    raise nodes.SkipNode


def _action_rows(parser):
    rows = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        if action.option_strings:
            metavar = action.metavar or (action.dest.upper() if action.nargs != 0 else "")
            if action.choices and not action.metavar:
                metavar = "{" + ",".join(map(str, action.choices)) + "}"
            flags = ", ".join(action.option_strings)
            term = f"{flags} {metavar}".strip()
        else:
            term = action.metavar or action.dest
        rows.append((term, action.help or ""))
    return rows


_CODE = re.compile(r"(--[a-z][\w-]*|pip install \"[^\"]+\"|'[^']+'|\b\w+=\S+?(?=[,;)]|$))")


def _help_paragraph(text):
    """A paragraph of help text, option names and commands as inline code
    (also keeps smart quotes from turning ``--task`` into an en dash)."""
    para = nodes.paragraph()
    for i, piece in enumerate(_CODE.split(text)):
        if i % 2:
            para += nodes.literal(text=piece.strip("'"))
        elif piece:
            para += nodes.Text(piece)
    return para


def _parser_section(parser, document, title):
    section = nodes.section(ids=[nodes.make_id(f"cli-{title}")])
    section += nodes.title(text=title)
    section += nodes.literal_block(text=parser.format_usage().strip())
    if parser.description:
        section += _help_paragraph(parser.description)
    rows = _action_rows(parser)
    if rows:
        dl = nodes.definition_list()
        for term, help_text in rows:
            item = nodes.definition_list_item()
            item += nodes.term("", "", nodes.literal(text=term))
            definition = nodes.definition()
            definition += _help_paragraph(help_text)
            item += definition
            dl += item
        section += dl
    return section


class CliDirective(Directive):
    """The sections of the ``sklearn-itds`` command line, from its parser."""

    has_content = False

    def run(self):
        from sklearn_itds import cli

        parser = cli._parser()
        out = [_parser_section(parser, self.state.document, parser.prog)]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    out.append(_parser_section(sub, self.state.document,
                                               f"{parser.prog} {name}"))
        return out


def setup(app):
    app.connect("missing-reference", resolve_external)
    app.add_html_math_renderer("no-network", inline_renderers=(_no_math, None),
                               block_renderers=(_no_math, None))
    app.add_directive("sklearn-itds-cli", CliDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
