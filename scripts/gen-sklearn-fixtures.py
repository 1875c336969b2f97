#!/usr/bin/python3
"""Generate scikit-learn oracle fixtures for cellar's linear estimators.

Writes tests/fixtures/sklearn/*.json: each file holds one seeded dataset (X as rows, y, feature names,
full float precision) and scikit-learn's coef_/intercept_/n_iter_ for several estimator settings. The jest
tests read these files and need no Python.

Needs Debian's scikit-learn:  apt-get update && apt-get install -y python3-sklearn python3-numpy
Run from the repository root:  /usr/bin/python3 scripts/gen-sklearn-fixtures.py
"""
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "sklearn")
TIGHT = dict(tol=1e-10, max_iter=100000)


def enet(alpha, l1_ratio, **kw):
    return ("ElasticNet", dict(alpha=alpha, l1_ratio=l1_ratio, **kw))


def dataset_well_conditioned():
    rng = np.random.RandomState(0)
    n, p = 200, 5
    X = rng.normal(size=(n, p))
    w = np.array([1.5, -2.0, 0.0, 0.7, 0.05])
    y = X @ w + 3.0 + 0.5 * rng.normal(size=n)
    return X, y, ["x0", "x1", "x2", "x3", "x4"]


def dataset_correlated():
    rng = np.random.RandomState(1)
    n = 200
    z = rng.normal(size=(n, 3))
    X = np.column_stack([
        z[:, 0],
        z[:, 0] + 0.1 * rng.normal(size=n),  # strongly correlated with the first column
        z[:, 1],
        0.5 * z[:, 1] + 0.5 * z[:, 2],
        rng.normal(size=n),
    ])
    y = 2.0 * X[:, 0] + 1.0 * X[:, 1] - 1.5 * X[:, 3] + rng.normal(size=n) - 1.0
    return X, y, ["a", "b", "c", "d", "e"]


def dataset_offset_scaled():
    """Features with large means and mixed scales: checks centering and the intercept."""
    rng = np.random.RandomState(2)
    n = 200
    X = np.column_stack([
        100.0 + 10.0 * rng.normal(size=n),
        0.01 * rng.normal(size=n),
        -50.0 + rng.normal(size=n),
    ])
    y = 0.3 * X[:, 0] + 40.0 * X[:, 1] - 2.0 * X[:, 2] + rng.normal(size=n)
    return X, y, ["big", "small", "neg"]


def dataset_course():
    """Shaped like the reference course's driver features (conv_rate, acc_rate, avg_daily_trips)."""
    rng = np.random.RandomState(3)
    n = 150
    conv = rng.uniform(0, 1, size=n)
    acc = rng.uniform(0, 1, size=n)
    trips = rng.randint(1, 1000, size=n).astype(float)
    y = (0.2 + 0.5 * conv + 0.3 * acc + 0.0002 * trips + 0.1 * rng.normal(size=n) > 0.75).astype(float)
    return np.column_stack([conv, acc, trips]), y, ["conv_rate", "acc_rate", "avg_daily_trips"]


DATASETS = {
    "well_conditioned": (dataset_well_conditioned, [
        enet(0.5, 0.1, **TIGHT),
        enet(0.1, 0.5, **TIGHT),
        enet(0.01, 0.9, **TIGHT),
        enet(1.0, 0.5, **TIGHT),
        # l1_ratio=0: scikit-learn's duality gap cannot reach tol (the L1 term is what scales the dual
        # point), so it always runs max_iter passes and warns; the coefficients still converge.
        enet(0.2, 0.0, tol=1e-10, max_iter=1000),
        enet(0.5, 0.1),  # default tol/max_iter: n_iter_ must match too
        enet(0.05, 0.7),
        ("Lasso", dict(alpha=0.1, **TIGHT)),
        enet(0.5, 0.1, fit_intercept=False, **TIGHT),
        ("Ridge", dict(alpha=1.0)),
        ("LinearRegression", dict()),
    ]),
    "correlated": (dataset_correlated, [
        enet(0.5, 0.1, **TIGHT),
        enet(0.05, 0.5, **TIGHT),
        enet(0.01, 0.99, **TIGHT),
        enet(0.05, 0.5),
        ("Lasso", dict(alpha=0.02, **TIGHT)),
        ("Ridge", dict(alpha=10.0)),
        ("LinearRegression", dict()),
    ]),
    "offset_scaled": (dataset_offset_scaled, [
        enet(0.5, 0.1, **TIGHT),
        enet(0.001, 0.5, **TIGHT),
        enet(0.5, 0.1, fit_intercept=False, **TIGHT),
        ("Ridge", dict(alpha=0.5, fit_intercept=False)),
        ("LinearRegression", dict(fit_intercept=False)),
        ("LinearRegression", dict()),
    ]),
    "course": (dataset_course, [
        enet(0.5, 0.1, **TIGHT),
        enet(0.5, 0.1),
        enet(0.001, 0.5, **TIGHT),
        ("Lasso", dict(alpha=0.001, **TIGHT)),
        ("LinearRegression", dict()),
    ]),
}

CLASSES = {"ElasticNet": ElasticNet, "Lasso": Lasso, "Ridge": Ridge, "LinearRegression": LinearRegression}


def fit(name, params, X, y):
    model = CLASSES[name](**params)
    model.fit(X, y)
    out = {
        "estimator": name,
        "params": params,
        "coef": [float(v) for v in model.coef_],
        "intercept": float(model.intercept_),
    }
    if hasattr(model, "n_iter_") and model.n_iter_ is not None and name in ("ElasticNet", "Lasso"):
        out["n_iter"] = int(model.n_iter_)
        out["dual_gap"] = float(model.dual_gap_)
    return out


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, (make, fits) in DATASETS.items():
        X, y, names = make()
        doc = {
            "name": name,
            "generator": "scripts/gen-sklearn-fixtures.py",
            "sklearn_version": sklearn.__version__,
            "feature_names": names,
            "X": [[float(v) for v in row] for row in X],
            "y": [float(v) for v in y],
            "fits": [fit(est, params, X, y) for est, params in fits],
        }
        path = os.path.join(OUT_DIR, name + ".json")
        with open(path, "w") as f:
            # json writes floats with repr(), the shortest text that round-trips exactly.
            json.dump(doc, f, separators=(",", ":"))
            f.write("\n")
        print("wrote", os.path.relpath(path), os.path.getsize(path), "bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
