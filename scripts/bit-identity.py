#!/usr/bin/env python3
"""Do two builds of tracker compute the same results?

    python3 scripts/bit-identity.py OLD_TRACKER NEW_TRACKER [--keep DIR]

Each build runs `reproduce --quick` (48 runs) and a few runs off the defaults into databases of its own.
Then, for every finished run, the script compares the final Q-table SHA-256, the summary, every metric
row and every checkpoint's SHA-256 that both builds kept. It prints the first differences and exits 1
when there are any.

Run it before and after any change to the learners or the recording path. The databases are read with
Python's own sqlite3, so a build with an older schema can be the old side.
"""
import argparse
import hashlib
import os
import sqlite3
import subprocess
import sys
import tempfile

# Off the defaults, with options every build since the checkpoint retention change (11d7548) knows.
EXTRA_RUNS = [
    "--algo dtaql --n 6 --phi 50 --iterations 3000 --seed 3",
    "--algo dteql --reward negative --n 7 --phi 100 --iterations 4000 --seed 4",
    "--algo dteql --n 6 --phi 80 --iterations 3000 --twin-noise 0.1 --twin-noise-seed 5 --twin-cpu-hz 8e9 --seed 5",
    "--algo ql --n 8 --iterations 50000 --checkpoint-every 999 --seed 6",
    "--algo dtaql --n 7 --phi 40 --delta 100 --iterations 2500 --lr 0.3 --eps-min 0.05 --beta 700 --seed 7",
]


def record(tracker, directory):
    """Runs the quick reproduction and the extra runs with one build; returns the two databases."""
    os.makedirs(directory, exist_ok=True)
    quick = os.path.join(directory, "quick.db")
    extra = os.path.join(directory, "extra.db")
    subprocess.run([tracker, "reproduce", "--quick", "--db", quick, "--quiet",
                    "--report", os.path.join(directory, "report")],
                   cwd=directory, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for arguments in EXTRA_RUNS:
        subprocess.run([tracker, "run", *arguments.split(), "--db", extra, "--quiet"],
                       cwd=directory, check=True, stdout=subprocess.DEVNULL)
    return quick, extra


def digest(path):
    """config_hash -> (summary, SHA-256 of the metric rows, {iteration: checkpoint SHA-256})."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    runs = {}
    for key, config, *summary in connection.execute(
            "SELECT r.id, r.config_hash, r.algorithm, r.n, r.phi, r.seed, f.seed, s.iterations, s.qtable_sha256,"
            " s.greedy_action, s.objective, s.iterations_to_optimal, s.stable_iteration, s.distinct_actions"
            " FROM runs r JOIN frames f USING (frame_id) JOIN run_summaries s ON s.run = r.id"
            " WHERE r.status = 'finished'"):
        summary = repr(tuple(summary))
        rows = hashlib.sha256()
        for row in connection.execute(
                "SELECT iteration, action, reward, greedy_action, distinct_actions FROM metrics"
                " WHERE run = ? ORDER BY iteration", (key,)):
            # repr of a float is its shortest exact form: equal text, equal bits.
            rows.update(repr(row).encode())
        checkpoints = dict(connection.execute(
            "SELECT iteration, sha256 FROM checkpoints WHERE run = ?", (key,)).fetchall())
        runs[config] = (summary, rows.hexdigest(), checkpoints)
    connection.close()
    return runs


def compare(name, old, new):
    """Differences between two digests, one line each."""
    problems = []
    for config in sorted(set(old) | set(new)):
        if config not in old or config not in new:
            problems.append(f"{name}: run {config[:12]} only in the {'old' if config in old else 'new'} build's database")
            continue
        (old_summary, old_rows, old_checkpoints), (new_summary, new_rows, new_checkpoints) = old[config], new[config]
        if old_summary != new_summary:
            problems.append(f"{name}: run {config[:12]} summary {old_summary} != {new_summary}")
        if old_rows != new_rows:
            problems.append(f"{name}: run {config[:12]} metric rows differ")
        for iteration in sorted(set(old_checkpoints) & set(new_checkpoints)):
            if old_checkpoints[iteration] != new_checkpoints[iteration]:
                problems.append(f"{name}: run {config[:12]} checkpoint at {iteration} differs")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", help="the tracker binary before the change")
    parser.add_argument("new", help="the tracker binary after it")
    parser.add_argument("--keep", metavar="DIR", help="record into DIR and keep it (default: a temporary folder)")
    options = parser.parse_args()
    for binary in (options.old, options.new):
        if not os.access(binary, os.X_OK):
            sys.exit(f"Error: {binary} is not an executable")
    with tempfile.TemporaryDirectory() as scratch:
        root = options.keep or scratch
        old = record(os.path.abspath(options.old), os.path.join(root, "old"))
        new = record(os.path.abspath(options.new), os.path.join(root, "new"))
        problems, counted = [], []
        for name, old_path, new_path in (("quick", old[0], new[0]), ("extra", old[1], new[1])):
            old_runs, new_runs = digest(old_path), digest(new_path)
            counted.append(f"{len(new_runs)} {name}")
            problems += compare(name, old_runs, new_runs)
    if problems:
        print("\n".join(problems[:20]))
        sys.exit(1)
    print(f"identical: {', '.join(counted)} runs (final Q-tables, summaries, metric rows, shared checkpoints)")


if __name__ == "__main__":
    main()
