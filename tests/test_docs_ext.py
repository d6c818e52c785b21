"""The documentation's local Sphinx extension (docs/_ext/itds_docs.py)."""

import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs" / "_ext"))
import itds_docs  # noqa: E402


@pytest.mark.parametrize("name, url", [
    ("sklearn.pipeline.Pipeline",
     "https://scikit-learn.org/stable/modules/generated/sklearn.pipeline.Pipeline.html"),
    # a private module path is linked under the public name of the same object
    ("sklearn.utils._bunch.Bunch",
     "https://scikit-learn.org/stable/modules/generated/sklearn.utils.Bunch.html"),
    ("sklearn.model_selection",
     "https://scikit-learn.org/stable/api/sklearn.model_selection.html"),
    ("numpy.ndarray", "https://numpy.org/doc/stable/reference/generated/numpy.ndarray.html"),
    ("numpy.random.RandomState",
     "https://numpy.org/doc/stable/reference/random/legacy.html#numpy.random.RandomState"),
    ("scipy.ndimage.rotate",
     "https://docs.scipy.org/doc/scipy/reference/generated/scipy.ndimage.rotate.html"),
    ("pickle", "https://docs.python.org/3/library/pickle.html"),
])
def test_external_names_link_to_their_documentation(name, url):
    assert itds_docs.external_url(name) == url


@pytest.mark.parametrize("name", [
    "sklearn.neural_network.MLPClassifer",  # misspelt: must stay a dead reference
    "numpy.no_such_function",
    "sklearn_itds._itds.ITDSReadout",       # our own names resolve through Sphinx
    "KINDS",
])
def test_names_that_do_not_exist_or_are_ours_are_not_resolved(name):
    assert itds_docs.external_url(name) is None


def test_cli_reference_covers_every_option():
    from sklearn_itds import cli

    parser = cli._parser()
    sub = parser._subparsers._group_actions[0].choices["compare"]
    terms = [term for term, _ in itds_docs._action_rows(sub)]
    for action in sub._actions:
        for flag in action.option_strings:
            if flag not in ("-h", "--help"):
                assert any(flag in term for term in terms), flag
