#!/usr/bin/env python3
"""The tracker's runs in pandas: one tidy DataFrame of runs, the per-iteration metrics of chosen runs,
Table II's medians, Table I's means and Fig. 2's mean curve (docs/python.md).

    python3 examples/python/tracker_pandas.py --db tracker.db [--tracker PATH] [--n 8] [--out reports/pandas]
                                              [--json]

Needs pandas and matplotlib (pip install pandas matplotlib) and the `tracker` binary (--tracker, default
`tracker` on the PATH). The runs come from the saved query runs_tidy through `tracker query ... --format
csv`, so no SQL is copied here; the per-iteration metrics are read with plain SQL from the
iteration_metrics view on a read-only connection. With --json it prints every figure it computed as
JSON (the tests compare them with `tracker compare --format json` and the convergence_curve query).
"""
import argparse
import io
import json
import math
import sqlite3
import subprocess
import sys

import numpy as np
import pandas as pd

# The settings of a configuration, by the keys of `tracker compare --format json`'s "settings" object and
# the column names of runs_tidy. Runs equal in all of them (and in algorithm, phi and N) differ only by
# their frame and their learner seed: one column of the compare tables, one line of Fig. 2.
SETTINGS = ["iterations", "rate", "cpu_hz", "zeta", "delta", "lr", "gamma", "eps_start", "eps_min", "beta",
            "reward", "twin_rate", "twin_cpu_hz", "twin_zeta", "twin_noise", "twin_noise_seed", "aggregation"]
CONFIGURATION = ["n", "algorithm", "phi"] + SETTINGS + ["configuration"]  # the last is the name (see below)


def name_configurations(runs):
    """Adds a `configuration` column: the algorithm and phi, then each setting that varies among the
    configurations where this one differs from the value most of them share (DTEQL phi=500 lr=0.9), the
    way compare names its columns."""
    configurations = runs[["algorithm", "phi"] + SETTINGS].drop_duplicates()
    # delta is NULL outside DTAQL (the others do not use it): only DTAQL configurations are told apart by it.
    varying = [key for key in SETTINGS if configurations[key].nunique(dropna=key == "delta") > 1]
    common = {key: configurations[key].mode(dropna=key == "delta").iloc[0] for key in varying}

    def text(value):
        return "none" if pd.isna(value) else f"{value:g}" if isinstance(value, (int, float, np.number)) else str(value)

    def name(row):
        words = [row["algorithm"].upper() + ("" if row["algorithm"] == "ql" else f" phi={row['phi']}")]
        words += [f"{key}={text(row[key])}" for key in varying
                  if text(row[key]) != text(common[key]) and not (key == "delta" and pd.isna(row[key]))]
        return " ".join(words)

    return runs.assign(configuration=runs.apply(name, axis=1) if len(runs) else [])


def tracker_csv(tracker, db, *arguments):
    """A tracker listing as a DataFrame: empty fields are NaN, any text (a label 'NA') stays text."""
    out = subprocess.run([tracker, *arguments, "--db", db, "--format", "csv"],
                         check=True, capture_output=True, text=True).stdout
    return pd.read_csv(io.StringIO(out), keep_default_na=False, na_values=[""])


def load_runs(db, tracker="tracker", n=None, label=None):
    """One row per finished run, one column per setting (runs_tidy, docs/queries.md)."""
    arguments = ["query", "runs_tidy"]
    if n is not None:
        arguments += ["--param", f"n={n}"]
    if label is not None:
        arguments += ["--param", f"label={label}"]
    return name_configurations(tracker_csv(tracker, db, *arguments))


def load_metrics(db, run_ids, columns="iteration, normalized_reward, objective, misses, epsilon"):
    """Every iteration's metrics of these runs (the iteration_metrics view), long format: run_id, iteration, ..."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        placeholders = ",".join("?" * len(run_ids))
        return pd.read_sql_query(
            f"SELECT run_id, {columns} FROM iteration_metrics WHERE run_id IN ({placeholders}) ORDER BY run_id, iteration",
            connection, params=list(run_ids))
    finally:
        connection.close()


def convergence(group):
    """Table II's cell, as `tracker compare` computes it: the median of iterations_to_optimal with a run that
    did not converge ranked above every converged one (+inf: it needs more than its budget). Never a mean,
    and never over the converged runs only. B is the smallest budget among the runs that did not converge
    (every one of them needs more than B), else the largest budget. An infinite median reads '>B'."""
    iterations = group["iterations_to_optimal"].astype(float).fillna(math.inf)
    unconverged = group.loc[group["iterations_to_optimal"].isna(), "budget"]
    budget = int(unconverged.min() if len(unconverged) else group["budget"].max())
    median = float(np.median(iterations.to_numpy()))  # the mean of the two middle values; inf if either is
    return pd.Series({"runs": len(group), "converged": int(group["iterations_to_optimal"].notna().sum()),
                      "budget": budget, "median": median,
                      "cell": f">{budget}" if math.isinf(median) else f"{median:g}"})


def table_i(runs):
    """Table I's means per configuration (pandas' mean skips NaN: J*/J over the runs with a known optimum)."""
    measures = {"normalized_reward": "normalized_reward", "deadline_miss_ratio": "deadline_miss_ratio",
                "average_delay_s": "mean_completion_s", "optimality_ratio": "optimality_ratio",
                "delay_score": "delay_score"}
    grouped = runs.groupby(CONFIGURATION, dropna=False, sort=False)
    return grouped.agg(**{name: (column, "mean") for name, column in measures.items()}).reset_index()


def table_ii(runs):
    """Convergence time per N and configuration (one row each; pivot on n for the paper's layout)."""
    # The budget is a grouping column (iterations); a copy of it stays in each group for convergence().
    grouped = runs.assign(budget=runs["iterations"]).groupby(CONFIGURATION, dropna=False, sort=False)
    return grouped.apply(convergence, include_groups=False).reset_index()


def mean_curve(runs, metrics, column="normalized_reward"):
    """Fig. 2: the mean of `column` over each configuration's runs at every iteration."""
    merged = metrics.merge(runs[["run_id"] + CONFIGURATION], on="run_id")
    return merged.groupby(CONFIGURATION + ["iteration"], dropna=False, sort=False)[column].mean().reset_index()


def plain(value):
    """A cell as JSON: NaN is null, numpy numbers are numbers."""
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(value) else float(value)  # an infinite median: beyond the budget
    if isinstance(value, (np.integer,)):
        return int(value)
    return value


def records(frame):
    return [{key: plain(value) for key, value in row.items()} for row in frame.to_dict("records")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="tracker.db")
    parser.add_argument("--tracker", default="tracker", help="the tracker binary")
    parser.add_argument("--n", type=int, help="Fig. 2 and Table I for this N (default: the largest)")
    parser.add_argument("--label", help="only runs with this label")
    parser.add_argument("--out", help="write fig2.png and the tables as CSV into this directory")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    args = parser.parse_args()

    runs = load_runs(args.db, args.tracker, label=args.label)
    if runs.empty:
        sys.exit("no finished runs")
    n = args.n if args.n is not None else int(runs["n"].max())
    chosen = runs[runs["n"] == n]
    metrics = load_metrics(args.db, chosen["run_id"].tolist())
    t1, t2, curve = table_i(chosen), table_ii(runs), mean_curve(chosen, metrics)

    if args.out:
        import os
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        os.makedirs(args.out, exist_ok=True)
        t1.to_csv(os.path.join(args.out, f"table1-n{n}.csv"), index=False)
        t2.to_csv(os.path.join(args.out, "table2.csv"), index=False)
        figure, axes = plt.subplots(figsize=(6, 4))
        for name, line in curve.groupby("configuration", sort=False):
            axes.plot(line["iteration"] + 1, line["normalized_reward"], label=name)
        axes.set_xscale("log")
        axes.set_xlabel("iteration")
        axes.set_ylabel("normalized reward (mean over runs)")
        axes.set_title(f"Fig. 2, N = {n}")
        axes.legend()
        figure.tight_layout()
        figure.savefig(os.path.join(args.out, f"fig2-n{n}.png"), dpi=120)

    if args.json:
        json.dump({"n": n, "runs": len(runs), "table1": records(t1), "table2": records(t2), "curve": records(curve)},
                  sys.stdout, allow_nan=False)
        print()
    else:
        print(f"Table II (convergence time, iterations; >B: the median run did not converge within B):")
        print(t2.pivot(index="n", columns="configuration", values="cell").fillna("").to_string())
        print(f"\nTable I, N = {n} (means over the finished runs):")
        print(t1.drop(columns=["n", "algorithm", "phi"] + SETTINGS).set_index("configuration").T.to_string())


if __name__ == "__main__":
    main()
