"""ITDSReservoirRegressor inside forecasting tools, against Ridge in the same tool.

Usage::

    python benchmarks/bench_forecasting.py [--seeds 3]
    python benchmarks/bench_forecasting.py --grid     # the regressor's defaults
    python benchmarks/bench_forecasting.py --differentiation 1

Clients: skforecast's ``ForecasterRecursive`` and sktime's ``make_reduction``
(recursive strategy), each with ``ITDSReservoirRegressor()`` at its defaults
(rows are lag windows: ``mode="samples"``) and with scikit-learn's ``Ridge()``
in the same place. Series: airline and lynx (sktime's loaders) and a
Mackey-Glass series (``sklearn_itds.datasets``, every 3rd step). The last
``horizon`` points are held out and forecast in one recursive run; the score
is the MAE of that forecast. A seasonal-naive forecast is printed for scale.
Everything runs side by side in one process; ours is averaged over seeds
(Ridge is deterministic). ``--differentiation 1``: both tools model the
first differences of the series and integrate the forecast back
(skforecast's ``differentiation=1``; sktime's ``Differencer()`` in front of
the reduction); results in ``bench_forecasting_diff1.json``.
"""

import argparse
import itertools
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

from sklearn_itds import ITDSReservoirRegressor
from sklearn_itds.datasets import load_task

RESULTS = Path(__file__).resolve().parent / "results"


def airline():
    from sktime.datasets import load_airline
    return load_airline(), 12, 24, 12     # series, lags, horizon, season


def lynx():
    from sktime.datasets import load_lynx
    return load_lynx(), 10, 14, 10


def mackey_glass():
    values = load_task("mackey_glass", random_state=0).y[::3][:500]
    return pd.Series(values, index=pd.RangeIndex(len(values))), 12, 50, 17


SERIES = {"airline": airline, "lynx": lynx, "mackey_glass": mackey_glass}


DIFFERENTIATION = None  # set by --differentiation


def forecast_skforecast(estimator, y, lags, horizon):
    from skforecast.recursive import ForecasterRecursive

    train = y.iloc[:-horizon].reset_index(drop=True)
    forecaster = ForecasterRecursive(estimator=estimator, lags=lags,
                                     differentiation=DIFFERENTIATION)
    forecaster.fit(y=train.astype(float))
    return np.asarray(forecaster.predict(steps=horizon))


def forecast_sktime(estimator, y, lags, horizon):
    from sktime.forecasting.compose import make_reduction

    train = y.iloc[:-horizon].astype(float)
    forecaster = make_reduction(estimator, window_length=lags, strategy="recursive")
    if DIFFERENTIATION:
        from sktime.transformations.series.difference import Differencer

        forecaster = Differencer(lags=[1] * DIFFERENTIATION) * forecaster
    forecaster.fit(train)
    return np.asarray(forecaster.predict(fh=np.arange(1, horizon + 1)))


CLIENTS = {"skforecast": forecast_skforecast, "sktime": forecast_sktime}


def mae(pred, y, horizon):
    return float(np.mean(np.abs(np.ravel(pred) - y.to_numpy()[-horizon:])))


def seasonal_naive(y, horizon, season):
    train = y.to_numpy()[:-horizon]
    return np.resize(train[-season:], horizon)


def run(seeds, params=None, quiet=False):
    params = params or {}
    rows = []
    for series, make in SERIES.items():
        y, lags, horizon, season = make()
        naive = mae(seasonal_naive(y, horizon, season), y, horizon)
        for client, forecast in CLIENTS.items():
            ridge = mae(forecast(Ridge(), y, lags, horizon), y, horizon)
            errs = [mae(forecast(ITDSReservoirRegressor(random_state=s, **params), y,
                                 lags, horizon), y, horizon) for s in range(seeds)]
            row = {"series": series, "client": client, "ridge_mae": ridge,
                   "ours_mae": [float(np.mean(errs)), float(np.std(errs))],
                   "ratio": float(np.mean(errs) / ridge), "seasonal_naive_mae": naive}
            rows.append(row)
            if not quiet:
                print(f"{series:12s} {client:10s} Ridge {ridge:9.4f}  ours "
                      f"{row['ours_mae'][0]:9.4f} +- {row['ours_mae'][1]:.4f}  ratio "
                      f"{row['ratio']:.3f}  (seasonal naive {naive:.4f})", flush=True)
    return rows


def grid(seeds):
    out = []
    axes = dict(rls_alpha=[0.01, 0.1, 1.0, 10.0], input_scaling=[0.1, 0.3],
                n_steps=[1, 8])
    for values in itertools.product(*axes.values()):
        params = dict(zip(axes, values))
        rows = run(seeds, params, quiet=True)
        ratios = [r["ratio"] for r in rows]
        print(params, "ratios", np.round(ratios, 3), "max", round(max(ratios), 3),
              flush=True)
        out.append({"params": params, "rows": rows})
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--grid", action="store_true")
    parser.add_argument("--differentiation", type=int, default=None,
                        help="model the series' differences of this order")
    args = parser.parse_args()
    global DIFFERENTIATION
    DIFFERENTIATION = args.differentiation
    warnings.simplefilter("ignore")
    import sktime.forecasting.base._base  # noqa: F401 (its warnings filter first)
    warnings.simplefilter("ignore")
    rows = grid(args.seeds) if args.grid else run(args.seeds)
    RESULTS.mkdir(exist_ok=True)
    name = "select_forecasting" if args.grid else "bench_forecasting"
    if DIFFERENTIATION:
        name += f"_diff{DIFFERENTIATION}"
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps({"seeds": args.seeds, "rows": rows}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
