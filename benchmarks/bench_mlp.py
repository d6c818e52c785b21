"""Target 1: ITDSMLPClassifier.fit vs sklearn's MLPClassifier.fit.

load_digits standardised, hidden_layer_sizes=(100,), adam, batch_size=64,
exactly 50 epochs on both (tol=0 and n_iter_no_change larger than max_iter, so
the stopping rule never fires), early stopping off. Times are alternated in
one process. Target: ratio <= 1.0 (aim 0.7).

Usage::

    python benchmarks/bench_mlp.py [--repeats 7] [--td-gain 2.0]
"""

import argparse
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from _timing import alternate, report
from sklearn_itds import ITDSMLPClassifier

COMMON = dict(hidden_layer_sizes=(100,), solver="adam", batch_size=64, max_iter=50,
              tol=0.0, n_iter_no_change=1000, early_stopping=False, random_state=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--td-gain", type=float, default=None,
                        help="td_gain of ours (default: the estimator's default)")
    args = parser.parse_args(argv)
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    extra = {} if args.td_gain is None else {"td_gain": args.td_gain}
    ours = ITDSMLPClassifier(**COMMON, **extra)
    peer = MLPClassifier(**COMMON)
    warnings.simplefilter("ignore", ConvergenceWarning)
    t_ours, t_peer = alternate(lambda: ours.fit(X, y), lambda: peer.fit(X, y),
                               args.repeats)
    assert ours.n_iter_ == peer.n_iter_ == 50, (ours.n_iter_, peer.n_iter_)
    report(f"ITDSMLPClassifier.fit / MLPClassifier.fit, load_digits {X.shape}, "
           f"50 epochs, td_gain={ours.td_gain}", t_ours, t_peer, 1.0)


if __name__ == "__main__":
    main()
