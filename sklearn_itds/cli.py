"""The ``sklearn-itds`` command line.

``sklearn-itds compare`` (the main job) trains the iTDS estimators, their
``td_gain=0`` ablations and standard scikit-learn classifiers on
``load_digits`` with a fraction of the training labels replaced by a wrong
class, and prints clean test accuracy as mean +- std over seeds.

Options extend it:

- ``--task NAME`` (or ``all``) compares, on a task of
  :mod:`sklearn_itds.datasets`, the iTDS estimator, its ``td_gain=0``
  ablation and standard peers, reporting final score and learning speed
  (see :mod:`sklearn_itds._compare_tasks`);
- ``--perturbation noise|rotation|counter|fgsm`` scores the models against a
  grid of perturbation levels with
  :func:`sklearn_itds.robustness.robustness_curve`;
- ``--plot FILE`` writes one figure to ``FILE`` (needs the ``plot`` extra,
  matplotlib); with ``--task all`` it has one panel per task;
- ``--scheduler ADDRESS`` runs the fits on a dask.distributed cluster.
"""

import argparse
import sys
import time
import warnings

import numpy as np
from joblib import delayed
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import ITDSMLPClassifier, ITDSReservoirClassifier, __version__
from .robustness import corrupt_labels

__all__ = ["main"]

DESCRIPTION = (
    "Compare scikit-learn estimators that learn with intrinsic Top-Down "
    "Stabilization (iTDS) against their td_gain=0 ablations and standard "
    "scikit-learn peers. Run 'sklearn-itds compare' for the main comparison "
    "(load_digits with noisy training labels), 'sklearn-itds compare -h' for "
    "its options.")


def progress_printer(total, stream=None):
    """A callback ``report(record)`` that prints one progress line per fit.

    Each line says which model, which seed, its score and fit time, with a
    running count ``[i/total]``; it goes to ``stream`` (default stderr) so that
    the table on stdout stays clean.
    """
    count = [0]

    def _score_text(score):  # three decimals, or three digits for small errors
        return f"{score:.3f}" if abs(score) >= 0.1 else f"{score:.3g}"

    def report(record):
        count[0] += 1
        task = f"{record['task']}: " if "task" in record else ""
        print(f"[{count[0]:>{len(str(total))}}/{total}] {task}{record['estimator']}, "
              f"seed {record['seed']}: score {_score_text(record['score'])} "
              f"({record['fit_time']:.1f} s)", file=stream or sys.stderr, flush=True)

    return report


def default_models(quick=False):
    """The estimators of the default comparison, by display name."""
    mlp_iter = 60 if quick else 200
    n_res = 200 if quick else 400
    return {
        "ITDSMLPClassifier": ITDSMLPClassifier(max_iter=mlp_iter),
        "ITDSMLPClassifier (td_gain=0)": ITDSMLPClassifier(max_iter=mlp_iter, td_gain=0.0),
        "ITDSReservoirClassifier": ITDSReservoirClassifier(n_reservoir=n_res),
        "ITDSReservoirClassifier (td_gain=0)": ITDSReservoirClassifier(
            n_reservoir=n_res, td_gain=0.0),
        "MLPClassifier": MLPClassifier(max_iter=mlp_iter),
        "LogisticRegression": make_pipeline(StandardScaler(),
                                            LogisticRegression(max_iter=1000)),
        "SGDClassifier": make_pipeline(StandardScaler(), SGDClassifier()),
    }


def _fit_score(name, model, seed, noise):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.3, random_state=seed, stratify=y)
    y_noisy = corrupt_labels(y_train, noise, random_state=seed)
    model = clone(model)
    model.set_params(**{k: seed for k in model.get_params() if k.endswith("random_state")})
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter convergence warnings
        model.fit(X_train, y_noisy)
    elapsed = time.perf_counter() - start
    return {"estimator": name, "seed": seed, "score": model.score(X_test, y_test),
            "fit_time": elapsed}


def compare(seeds=3, noise=0.3, n_jobs=1, quick=False, progress=None):
    """Run the default comparison and return tidy records (list of dicts).

    ``progress``, if given, is called with each record as it arrives (see
    :func:`progress_printer`).
    """
    models = default_models(quick)
    tasks = [(name, model, seed, noise) for seed in range(seeds)
             for name, model in models.items()]
    from ._compare_tasks import run_parallel

    return run_parallel((delayed(_fit_score)(*task) for task in tasks), n_jobs, progress)


def format_table(records, title):
    """A plain-text table of mean +- std score and fit time per estimator."""
    names = list(dict.fromkeys(r["estimator"] for r in records))
    width = max(len(n) for n in names)
    lines = [title, f"{'estimator':<{width}}  {'accuracy (mean +- std)':>24}  "
                    f"{'fit time [s]':>12}"]
    lines.append("-" * len(lines[1]))
    for name in names:
        scores = [r["score"] for r in records if r["estimator"] == name]
        times = [r["fit_time"] for r in records if r["estimator"] == name]
        lines.append(f"{name:<{width}}  {np.mean(scores):>14.3f} +- {np.std(scores):.3f}  "
                     f"{np.mean(times):>12.2f}")
    return "\n".join(lines)


PERTURBATION_LEVELS = {
    "noise": [0.0, 0.1, 0.2, 0.3, 0.5],  # sigma, inputs in [0, 1]
    "rotation": [0.0, 10.0, 20.0, 30.0, 45.0],  # degrees
    "counter": [0.0, 0.1, 0.2, 0.3, 0.4],  # fraction of training labels replaced
    "fgsm": [0.0, 0.02, 0.05, 0.1, 0.2],  # eps, inputs in [0, 1]
}
IMAGE_SHAPES = {"digits": (8, 8)}


def perturbation_levels(perturbation, quick=False):
    """The level grid of ``--perturbation`` (every other level with ``--quick``)."""
    levels = PERTURBATION_LEVELS[perturbation]
    return levels[::2] if quick else levels


def format_task_table(records, threshold, rows, title):
    """A plain-text table of final score, learning speed and fit time per estimator."""
    metric, unit = records[0]["metric"], records[0]["unit"]
    width = max(len(r[0]) for r in rows)
    head = (f"{'estimator':<{width}}  {metric + ' (mean +- std)':>24}  "
            f"{unit + 's to threshold':>24}  {'time [s]':>8}")
    lines = [title, f"learning speed: first {unit} with {metric} "
                    f"{'>=' if metric == 'accuracy' else '<='} {threshold:.4g}", head,
             "-" * len(head)]
    for name, mean, std, speed, fit_time in rows:
        lines.append(f"{name:<{width}}  {mean:>14.4f} +- {std:.4f}  {speed:>24}  "
                     f"{fit_time:>8.2f}")
    return "\n".join(lines)


def format_curve_table(records, title):
    """Score (mean +- std over seeds) per estimator (rows) and level (columns)."""
    names = list(dict.fromkeys(r["estimator"] for r in records))
    levels = sorted({r["level"] for r in records})
    width = max(len(n) for n in names)
    head = f"{'estimator':<{width}}" + "".join(f"  {f'{lv:g}':>15}" for lv in levels)
    lines = [title, head, "-" * len(head)]
    for name in names:
        cells = []
        for lv in levels:
            s = [r["score"] for r in records if r["estimator"] == name and r["level"] == lv]
            cells.append(f"  {np.mean(s):>6.3f} +- {np.std(s):.3f}")
        lines.append(f"{name:<{width}}" + "".join(cells))
    return "\n".join(lines)


def perturbation_models(task_name, quick=False):
    """Estimators of a robustness comparison on a classification task."""
    from ._compare_tasks import task_models
    from .datasets import load_task

    if task_name == "digits":
        return default_models(quick)
    epochs, models = task_models(load_task(task_name, random_state=0), quick)
    for model in models.values():
        final = model[-1] if hasattr(model, "steps") else model
        if "max_iter" in final.get_params() and not isinstance(final, LogisticRegression):
            final.set_params(max_iter=epochs)
    return models


def run_perturbation(task_name, perturbation, seeds, n_jobs, quick):
    """Records of :func:`~sklearn_itds.robustness.robustness_curve` on a task."""
    from .datasets import load_task
    from .robustness import robustness_curve

    task = load_task(task_name, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # fgsm skips models, said below
        return robustness_curve(
            perturbation_models(task_name, quick), task.X, task.y,
            perturbation=perturbation, levels=perturbation_levels(perturbation, quick),
            n_seeds=seeds, n_jobs=n_jobs, random_state=0,
            image_shape=IMAGE_SHAPES.get(task_name, (8, 8)))


def _parser():
    from .datasets import list_tasks

    parser = argparse.ArgumentParser(prog="sklearn-itds", description=DESCRIPTION)
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{compare}")
    cmp = sub.add_parser(
        "compare", help="iTDS vs ablations vs scikit-learn (default: digits, noisy labels)",
        description="Without --task or --perturbation: load_digits with --noise of the "
                    "training labels replaced by a wrong class (default 0.3).")
    cmp.add_argument("--task", metavar="NAME|all", choices=list_tasks() + ["all"],
                     help="a task of sklearn_itds.datasets (one of: "
                          f"{', '.join(list_tasks())}), or all")
    cmp.add_argument("--perturbation", choices=list(PERTURBATION_LEVELS),
                     help="score against a grid of perturbation levels (classification "
                          "tasks; default task digits)")
    cmp.add_argument("--seeds", type=int, default=3, help="number of seeds (default 3)")
    cmp.add_argument("--noise", type=float, default=None,
                     help="fraction of training labels replaced (default 0.3 for the "
                          "default run, 0 with --task)")
    cmp.add_argument("--jobs", type=int, default=None,
                     help="parallel jobs (joblib; default 1, or all workers with "
                          "--scheduler)")
    cmp.add_argument("--quick", action="store_true", help="smaller models, fewer epochs")
    cmp.add_argument("--plot", metavar="FILE",
                     help="write the figure of the run to FILE (PNG, PDF, SVG): bars for "
                          "the default comparison, learning curves for --task (one panel "
                          "per task with --task all), score against level for "
                          "--perturbation; needs matplotlib: "
                          'pip install "sklearn-itds[plot]"')
    cmp.add_argument("--no-progress", dest="progress", action="store_false",
                     help="do not print a progress line per fit (on stderr)")
    cmp.add_argument("--scheduler", metavar="ADDRESS",
                     help="dask.distributed scheduler to run the fits on (workers need "
                          "sklearn-itds installed)")
    parser.compare_parser = cmp  # its own usage line for argument errors
    return parser


def _check_args(parser, args):
    from .datasets import load_task
    from ._compare_tasks import CLASSIFICATION_KINDS

    if args.seeds < 1:
        parser.error("--seeds must be >= 1")
    if args.noise is not None and not 0 <= args.noise < 1:
        parser.error("--noise must be in [0, 1)")
    if args.jobs is not None and args.jobs == 0:
        parser.error("--jobs must be a positive number or negative (joblib), not 0")
    if args.perturbation:
        if args.noise is not None:
            parser.error("--noise cannot be combined with --perturbation (use "
                         "--perturbation counter for label noise)")
        if args.task == "all":
            parser.error("--perturbation needs one classification task, not all")
        task = args.task or "digits"
        if load_task(task, random_state=0).kind != "classification":
            parser.error(f"--perturbation needs a classification task with 2-D inputs; "
                         f"{task!r} is not one")
        if args.perturbation == "rotation" and task not in IMAGE_SHAPES:
            parser.error(f"--perturbation rotation needs image inputs: use --task "
                         f"{' or '.join(IMAGE_SHAPES)}")
    if args.noise and args.task and args.task != "all" and load_task(
            args.task, random_state=0).kind not in CLASSIFICATION_KINDS:
        parser.error(f"--noise applies to classification tasks; {args.task!r} is not one")
    if args.scheduler is not None and not args.scheduler.strip():
        parser.error("--scheduler needs an address, e.g. tcp://127.0.0.1:8786")
    if args.plot is not None:
        _check_plot_path(parser, args.plot)


def _check_plot_path(parser, path):
    """Before the comparison runs: the figure's folder exists, its format is known."""
    from pathlib import Path

    p = Path(path)
    if not str(path).strip() or p.is_dir():
        parser.error(f"--plot needs a file name, got {path!r}")
    if not p.parent.is_dir():
        parser.error(f"--plot {path}: the folder {str(p.parent)!r} does not exist; "
                     f"create it first")
    suffix = p.suffix.lower().lstrip(".")
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        return  # main() reports the missing matplotlib
    formats = FigureCanvasBase.get_supported_filetypes()  # what savefig writes
    if suffix and suffix not in formats:
        parser.error(f"--plot {path}: unknown figure format {suffix!r}; use one of "
                     f"{', '.join(sorted(formats))} (no suffix: PNG)")


def _run(args, n_jobs):
    from . import _cli_plots
    from ._compare_tasks import run_task, summarize, task_models
    from .datasets import list_tasks, load_task

    if args.perturbation:
        task = args.task or "digits"
        if args.progress:
            print(f"scoring the models of {task} under {args.perturbation} at "
                  f"{len(perturbation_levels(args.perturbation, args.quick))} levels, "
                  f"{args.seeds} seed(s)...", file=sys.stderr, flush=True)
        records = run_perturbation(task, args.perturbation, args.seeds, n_jobs,
                                   args.quick)
        print(format_curve_table(
            records, f"{task}: test {'accuracy'} under perturbation "
                     f"{args.perturbation!r} (columns: level), mean +- std over "
                     f"{args.seeds} seed(s)"))
        if args.perturbation == "fgsm":
            print("(fgsm: only models that give input gradients are listed)")
        if args.plot:
            _cli_plots.plot_levels(records, args.plot, f"{task}: {args.perturbation}")
        return
    if args.task:
        tasks = list_tasks() if args.task == "all" else [args.task]
        panels = []
        for name in tasks:
            start = time.perf_counter()
            progress = None
            if args.progress:
                n_models = len(task_models(load_task(name, random_state=0), args.quick)[1])
                progress = progress_printer(n_models * args.seeds)
            records = run_task(name, args.seeds, args.quick, n_jobs, args.noise or 0.0,
                               progress=progress)
            rows, threshold = summarize(records)
            noise = f", {args.noise:.0%} of training labels replaced" if args.noise else ""
            print(format_task_table(
                records, threshold, rows,
                f"task {name}: held-out {records[0]['metric']}{noise}, over "
                f"{args.seeds} seed(s) ({time.perf_counter() - start:.0f} s)"))
            print(flush=True)
            panels.append((name, records, threshold))
        if args.plot:
            _cli_plots.plot_curves_grid(panels, args.plot)
        return
    noise = 0.3 if args.noise is None else args.noise
    progress = (progress_printer(len(default_models(args.quick)) * args.seeds)
                if args.progress else None)
    records = compare(args.seeds, noise, n_jobs, args.quick, progress=progress)
    title = (f"load_digits, {noise:.0%} of training labels replaced by a wrong "
             f"class; clean test accuracy over {args.seeds} seed(s)")
    print(format_table(records, title))
    if args.plot:
        _cli_plots.plot_bars(records, args.plot, title)


def main(argv=None):
    """Entry point of the ``sklearn-itds`` console script."""
    import contextlib

    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:  # no sub-command: say what there is
        parser.print_help()
        return 0
    _check_args(parser.compare_parser, args)
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print('--plot needs matplotlib: pip install "sklearn-itds[plot]"',
                  file=sys.stderr)
            return 1
    n_jobs = args.jobs if args.jobs is not None else 1
    backend = contextlib.nullcontext()
    client = None
    if args.scheduler:
        try:
            from distributed import Client
        except ImportError:
            print('--scheduler needs dask.distributed: pip install '
                  '"sklearn-itds[distributed]"', file=sys.stderr)
            return 1
        try:
            client = Client(args.scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            print(f"Cannot connect to the dask scheduler at {args.scheduler}: {exc}",
                  file=sys.stderr)
            return 1
        import joblib
        backend = joblib.parallel_backend("dask")
        n_jobs = args.jobs if args.jobs is not None else -1
    try:
        with backend:
            _run(args, n_jobs)
    finally:
        if client is not None:
            client.close()
    if args.plot:
        print(f"figure written to {args.plot}")
    return 0
