"""Named benchmark tasks for the sklearn_itds estimators, generated offline.

Nothing is ever downloaded: every task is computed from a formula, a
simulation or data bundled with scikit-learn.

>>> from sklearn_itds.datasets import list_tasks, load_task
>>> task = load_task("sines4")
>>> task.kind, task.estimator, task.n_train
('generation', 'ITDSReservoirRegressor', 800)
>>> task.estimator_params
{'mode': 'sequential', 'output_feedback': True, 'leak_rate': 0.3}

Tasks (size options with their defaults; ``n_train=None`` means the
default fraction of the rows):

=======================  =======================  ==============================
name                     kind                     size options (defaults)
=======================  =======================  ==============================
sines4                   generation               n_steps=1200, n_train=800
sines4_noisy             generation               n_steps=1200, n_train=800,
                                                  noise=0.05
sines16                  generation               n_steps=2400, n_train=1600,
                                                  period=240
triangle                 generation               n_steps=1200, n_train=800,
                                                  period=120
square                   generation               n_steps=1200, n_train=800,
                                                  period=120
two_timescale            generation               n_steps=2400, n_train=1600,
                                                  slow_period=480,
                                                  fast_period=30
lorenz                   generation               n_steps=2000, n_train=1333,
                                                  dt=0.02
mackey_glass             one_step                 n_steps=2000, n_train=1500
mackey_glass_multistep   multi_step               n_steps=2000, n_train=1500,
                                                  horizon=10
narma10                  one_step                 n_steps=2000, n_train=1500
mso                      one_step                 n_steps=1000, n_train=750,
                                                  n_oscillators=2
flipflop3                tracking                 n_steps=2000, n_train=1500,
                                                  pulse_prob=0.02
delayed_pulse            tracking                 n_steps=2000, n_train=1500,
                                                  delay=10, width=3
xor, and, or             classification           n_copies=25 (x4), noise=0.1
parity3                  classification           n_copies=25 (x8), noise=0.1
delayed_xor              sequence_classification  n_samples=200, n_steps=20,
                                                  delay=5, noise=0.05
digits                   classification           n_class=10 (1797 samples)
mnist1d                  classification           n_samples=1000
=======================  =======================  ==============================

Data layouts: for the regressor tasks (generation, one_step, multi_step,
tracking) the rows of ``X`` are consecutive time steps of one series and
rows ``[0, n_train)`` are for training; generation tasks have ``X`` equal
to a column of ones.  ``delayed_xor`` has 3-D ``X`` of shape
``(n_samples, n_steps, n_features)``.  Classification tasks are i.i.d. with
``n_train=None``.
"""

from __future__ import annotations

import inspect
from collections import namedtuple

import numpy as np
from sklearn.utils import Bunch

from . import _digits, _logic, _prediction, _signals
from ._base import CLASSIFIER, KINDS, MLP, REGRESSOR

__all__ = ["KINDS", "list_tasks", "load_task"]

_Task = namedtuple("_Task", "func kind estimator estimator_params")

# Series tasks feed the steps of one series in order (mode="sequential");
# generation also needs the slow, leaky reservoir (leak_rate=0.3): with the
# default 1.0 the generated sines4 is uncorrelated with the target.
_SEQUENTIAL = {"mode": "sequential"}
_FEEDBACK = {"mode": "sequential", "output_feedback": True, "leak_rate": 0.3}

_TASKS = {
    # Smooth-signal generation (FORCE-style, output feedback).
    "sines4": _Task(_signals.sines4, "generation", REGRESSOR, _FEEDBACK),
    "sines4_noisy": _Task(_signals.sines4_noisy, "generation", REGRESSOR,
                          _FEEDBACK),
    "sines16": _Task(_signals.sines16, "generation", REGRESSOR, _FEEDBACK),
    "triangle": _Task(_signals.triangle, "generation", REGRESSOR, _FEEDBACK),
    "square": _Task(_signals.square, "generation", REGRESSOR, _FEEDBACK),
    "two_timescale": _Task(_signals.two_timescale, "generation", REGRESSOR,
                           _FEEDBACK),
    "lorenz": _Task(_signals.lorenz, "generation", REGRESSOR, _FEEDBACK),
    # Time-series prediction.
    "mackey_glass": _Task(_prediction.mackey_glass, "one_step", REGRESSOR, _SEQUENTIAL),
    "mackey_glass_multistep": _Task(_prediction.mackey_glass_multistep,
                                    "multi_step", REGRESSOR, _SEQUENTIAL),
    "narma10": _Task(_prediction.narma10, "one_step", REGRESSOR, _SEQUENTIAL),
    "mso": _Task(_prediction.mso, "one_step", REGRESSOR, _SEQUENTIAL),
    # Logic and memory.
    "xor": _Task(_logic.xor, "classification", MLP, {}),
    "and": _Task(_logic.and_, "classification", MLP, {}),
    "or": _Task(_logic.or_, "classification", MLP, {}),
    "parity3": _Task(_logic.parity3, "classification", MLP, {}),
    # The XOR must survive the silent steps after the second pulse. The
    # classifier's defaults (mean state, scaled inputs) solve it: measured
    # (n_samples=600, seed 0, 200 units, 30 % test) 1.00 with and without iTDS.
    "delayed_xor": _Task(_logic.delayed_xor, "sequence_classification",
                         CLASSIFIER, {}),
    "flipflop3": _Task(_logic.flipflop3, "tracking", REGRESSOR, _SEQUENTIAL),
    "delayed_pulse": _Task(_logic.delayed_pulse, "tracking", REGRESSOR, _SEQUENTIAL),
    # Digits.
    "digits": _Task(_digits.digits, "classification", MLP, {}),
    "mnist1d": _Task(_digits.mnist1d, "classification", MLP, {}),
}


def list_tasks() -> list[str]:
    """Return the sorted names of all tasks.

    Returns
    -------
    names : list of str
        Valid values for the ``name`` argument of :func:`load_task`.

    Examples
    --------
    >>> from sklearn_itds.datasets import list_tasks
    >>> names = list_tasks()
    >>> len(names) >= 16, names[:3]
    (True, ['and', 'delayed_pulse', 'delayed_xor'])
    """
    return sorted(_TASKS)


def _size_options(func):
    """Keyword-only parameters of a generator and their defaults."""
    params = inspect.signature(func).parameters.values()
    return {p.name: p.default for p in params if p.kind is p.KEYWORD_ONLY}


def load_task(name: str, random_state: int | np.random.RandomState | None = None, *,
              return_X_y: bool = False,
              **size_options) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Generate a named task.

    Parameters
    ----------
    name : str
        One of :func:`list_tasks`.
    random_state : int, RandomState instance or None, default=None
        Seed of the seeded tasks (the same value gives identical arrays);
        ignored by deterministic tasks (``sines4``, ``triangle``,
        ``square``, ``two_timescale``, ``mso``, ``digits``).
    return_X_y : bool, default=False
        If True, return ``(X, y)`` instead of a Bunch.
    **size_options
        Task-specific options such as ``n_steps``, ``n_train``,
        ``n_samples``; see the module docstring for the table of options and
        defaults, and the generator's docstring for their meaning.

    Returns
    -------
    task : :class:`sklearn.utils.Bunch`
        With fields

        - ``X``, ``y``: the data (see the layouts in the module docstring);
        - ``name``: the task name;
        - ``kind``: one of :data:`KINDS`;
        - ``estimator``: name of the sklearn_itds estimator that fits;
        - ``estimator_params``: suggested constructor parameters (a new dict);
        - ``n_train``: for time-ordered tasks rows ``[0, n_train)`` are for
          training and the rest for testing; ``None`` for i.i.d. tasks;
        - ``description``: one paragraph defining the task;
        - ``options``: the size options used, defaults filled in;
        - task-specific extras: ``y_clean`` (``sines4_noisy``) and
          ``trajectory`` (``lorenz``).
    (X, y) : tuple of ndarray
        If ``return_X_y`` is True.

    Raises
    ------
    ValueError
        For an unknown task name or an unknown or invalid size option.

    Examples
    --------
    >>> from sklearn_itds.datasets import load_task
    >>> task = load_task("narma10", random_state=0, n_steps=500)
    >>> task.X.shape, task.y.shape, task.n_train, task.kind
    ((500, 1), (500,), 375, 'one_step')
    >>> X, y = load_task("xor", random_state=0, return_X_y=True)
    >>> X.shape
    (100, 2)
    """
    if not isinstance(name, str) or name not in _TASKS:
        raise ValueError(
            f"Unknown task {name!r}. Valid names: {', '.join(list_tasks())}."
        )
    task = _TASKS[name]
    defaults = _size_options(task.func)
    unknown = sorted(set(size_options) - set(defaults))
    if unknown:
        raise ValueError(
            f"Unknown size option(s) {', '.join(unknown)} for task {name!r}. "
            f"Valid options: {', '.join(defaults) or 'none'}."
        )
    data = task.func(random_state, **size_options)
    if return_X_y:
        return data["X"], data["y"]
    options = {**defaults, **size_options}
    if "n_train" in options:
        options["n_train"] = data["n_train"]
    return Bunch(
        name=name,
        kind=task.kind,
        estimator=task.estimator,
        estimator_params=dict(task.estimator_params),
        options=options,
        **data,
    )
