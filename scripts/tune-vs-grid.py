#!/usr/bin/env python3
"""`tracker tune` and Optuna against the exhaustive grid over the same space (issue 23; docs/optuna.md,
"Against the grid and Optuna"), side by side: iterations spent and best objective found.

    python3 scripts/tune-vs-grid.py [--tracker .build/release/tracker] [--out .build/tune-vs-grid]
                                    [--seeds 1,2,3] [--jobs 2] [--skip-tune] [--skip-optuna] [--reuse]
                                    [--samplers sobol,tpe] [--optuna-seeds 1,2,3] [--markdown]
                                    [--study STUDY.json --grid SWEEP.json [--grid SWEEP.json ...]]

Without --study and --grid it runs the problem below; with them, the study named and the grids named
(the first is the one the percentages and the target are against; each grid's name in the table is its
file's label). The second problem, studies/tune-vs-grid-n7-lr05.json against sweeps/tune-vs-grid-n7-lr05.json
(lr log-uniform on [0.01, 0.5], the grid's ends included), is documented in docs/optuna.md:

    python3 scripts/tune-vs-grid.py --study studies/tune-vs-grid-n7-lr05.json \
        --grid sweeps/tune-vs-grid-n7-lr05.json --out .build/tune-vs-grid-lr05 --markdown

The problem (studies/tune-vs-grid-n7.json): DTEQL at N = 7 on 8 frames (seeds 1-8), learner seed 1,
epsilon_min 0.1; lr log-uniform on [0.01, 1], epsilon_decay uniform on [500, 20000], phi in {20, 50, 100,
500}; objective median convergence (Table II's median iterations to optimal, a run that never converged
counting as beyond its budget; lower is better); budget 1600 to 25,600 iterations per run, reduction 3, 81
trials. Three searches, each in a database of its own under --out (replaced at every start):

(a) the grids: `tracker sweep sweeps/tune-vs-grid-n7.json`, the space discretised to lr in {0.01, 0.0316,
    0.1, 0.316, 1}, epsilon_decay in {500, 5375, 10250, 15125, 20000} and the four phi, every run at the
    full 25,600 (100 configurations, 800 runs); and sweeps/tune-vs-grid-n7-centres.json, the same with lr
    and epsilon_decay at the centres of five equal cells (lr in {0.0158, 0.0398, 0.1, 0.251, 0.631}), which
    leaves out lr = 1 (docs/optuna.md says why that point matters). A grid's best objective is the lowest
    median of the saved query convergence_medians; the percentages are against the first grid.
(b) `tracker tune` on the study, with its seed set to each of --seeds (and its sampler set to each of
    --samplers, rows tune-SAMPLER); the figures of `tracker tune SPEC --status --format json`.
(c) examples/optuna/tracker_optuna.py on the same study (TPE seeded with each of --seeds,
    SuccessiveHalvingPruner with the study's min budget and reduction); not with --skip-optuna.

For every search the iterations spent are also summed from its database (runs.done_iterations: a promoted
run is resumed, so that is what it computed), and the best objective is recomputed from the best trial's
runs there (the median as compare computes it): a figure that disagrees with the command's own is printed
beside it. The issue's target: tune within 10% of the grid's best objective, spending at most a quarter of
the grid's iterations. Long steps run under `nice -n 10`. Without a working `tracker tune` (or with
--skip-tune) its rows say so and the rest still runs. Each search's figures are saved beside its database
(NAME.result.json); with --reuse a search that has them is not run again (to add tune's rows later).
"""
import argparse
import json
import math
import pathlib
import sqlite3
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
GRIDS = {"grid": ROOT / "sweeps" / "tune-vs-grid-n7.json",                 # the ends of the ranges included
         "grid-centres": ROOT / "sweeps" / "tune-vs-grid-n7-centres.json"}  # the centres of 5 cells instead
STUDY = ROOT / "studies" / "tune-vs-grid-n7.json"
OPTUNA = ROOT / "examples" / "optuna" / "tracker_optuna.py"


def fail(message):
    print(f"tune-vs-grid: {message}", file=sys.stderr)
    sys.exit(1)


def run(command, nice=True):
    """Runs a command (under nice -n 10 when asked); its stdout and the seconds it took, or exit 1."""
    started = time.monotonic()
    done = subprocess.run((["nice", "-n", "10"] if nice else []) + [str(c) for c in command],
                          capture_output=True, text=True)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit {done.returncode}"]
        fail(f"{pathlib.Path(str(command[0])).name} {command[1]} failed: {lines[-1]}")
    return done.stdout, time.monotonic() - started


def fresh(path):
    for suffix in ("", "-wal", "-shm"):
        pathlib.Path(str(path) + suffix).unlink(missing_ok=True)


def query(db, sql, parameters=()):
    connection = sqlite3.connect(pathlib.Path(db).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        return connection.execute(sql, parameters).fetchall()
    finally:
        connection.close()


def spent(db):
    return query(db, "SELECT coalesce(sum(done_iterations), 0) FROM runs")[0][0]


def median_of(db, run_ids):
    """The median convergence of these runs, as compare computes it (non-converged = +inf); None if any
    run is missing or unfinished."""
    marks = ",".join("?" * len(run_ids))
    rows = query(db, f"""SELECT r.status, s.iterations_to_optimal FROM runs AS r
                         LEFT JOIN run_summaries AS s ON s.run = r.id WHERE r.run_id IN ({marks})""", list(run_ids))
    if len(rows) != len(run_ids) or any(status != "finished" for status, _ in rows):
        return None
    ranked = sorted(math.inf if v is None else float(v) for _, v in rows)
    lower, upper = ranked[(len(ranked) - 1) // 2], ranked[len(ranked) // 2]
    return upper if lower == upper or math.isinf(upper) else lower + 0.5 * (upper - lower)


def tune_available(binary):
    return subprocess.run([binary, "tune", "--help"], capture_output=True).returncode == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracker", default=str(ROOT / ".build" / "release" / "tracker"))
    parser.add_argument("--out", default=str(ROOT / ".build" / "tune-vs-grid"))
    parser.add_argument("--seeds", default="1,2,3", help="seeds of tune's sampler and Optuna's TPE")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--skip-tune", action="store_true")
    parser.add_argument("--skip-optuna", action="store_true", help="leave the Optuna example out")
    parser.add_argument("--optuna-seeds", help="the Optuna example's seeds (default: --seeds)")
    parser.add_argument("--samplers", help="tune's samplers to run, comma-separated (default: the study's own); "
                        "each gets rows of its own, named tune-SAMPLER")
    parser.add_argument("--reuse", action="store_true", help="reuse the figures of searches already run under --out")
    parser.add_argument("--markdown", action="store_true", help="print the table in Markdown (docs/tune.md)")
    parser.add_argument("--study", help=f"the study spec tune and Optuna run (default {STUDY.relative_to(ROOT)})")
    parser.add_argument("--grid", action="append", help="a sweep spec of the grid over the study's space, full "
                        "budget; repeat for more (the first is the reference); default the two n7 grids")
    args = parser.parse_args()
    if (args.study is None) != (args.grid is None):
        parser.error("--study and --grid go together: the grid must cover the study's space")
    study_path = pathlib.Path(args.study).resolve() if args.study else STUDY
    grids = GRIDS
    if args.grid:
        grids = {}
        for path in (pathlib.Path(g).resolve() for g in args.grid):
            if not path.is_file():
                parser.error(f"no grid file {path}")
            name = json.loads(path.read_text()).get("label") or path.stem
            if name in grids:
                parser.error(f"two grids named {name}")
            grids[name] = path
    if not study_path.is_file():
        parser.error(f"no study file {study_path}")
    seeds = [int(s) for s in args.seeds.split(",")]
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    study = json.loads(study_path.read_text())
    rows = []  # (search, seed, iterations, best objective, checked objective, best settings, seconds)

    def say(message):
        print(message, file=sys.stderr, flush=True)

    def saved(name, search):
        """The row of a search: from NAME.result.json with --reuse, else search() run and saved there."""
        path = out / f"{name}.result.json"
        if args.reuse and path.exists():
            return tuple(json.loads(path.read_text()))
        row = search()
        if row[2] is not None:
            path.write_text(json.dumps(row))
        return row

    # (a) The grids, every configuration at the full budget.
    def grid(name):
        grid_db = out / f"{name}.db"
        fresh(grid_db)
        say(f"{name}: tracker sweep {grids[name]} ...")
        _, seconds = run([args.tracker, "sweep", grids[name], "--db", grid_db, "--jobs", args.jobs, "--quiet"])
        medians, _ = run([args.tracker, "query", "convergence_medians", "--db", grid_db, "--format", "json"], nice=False)
        finite = [m for m in json.loads(medians) if m["median_iterations"] is not None]
        best = min(finite, key=lambda m: m["median_iterations"])
        settings = json.loads(best["configuration"])
        return (name, "-", spent(grid_db), best["median_iterations"], best["median_iterations"],
                {"lr": settings["lr"], "beta": settings["beta"], "phi": best["phi"]}, seconds)
    for name in grids:
        rows.append(saved(name, lambda: grid(name)))
    grid_spent, grid_best = rows[0][2], rows[0][3]

    # (b) tracker tune, one study per seed (and per sampler with --samplers).
    samplers = args.samplers.split(",") if args.samplers else [None]

    def tune(seed, sampler=None):
        suffix = f"-{sampler}" if sampler else ""
        spec, db = out / f"study{suffix}-s{seed}.json", out / f"tune{suffix}-s{seed}.db"
        edited = {**study, "name": f"{study['name']}{suffix}-s{seed}", "seed": seed}
        if sampler:
            edited["sampler"] = sampler
            if sampler != "tpe":
                edited.pop("tpe", None)  # tpe's own keys are refused with another sampler
        spec.write_text(json.dumps(edited))
        fresh(db)
        say(f"tune: tracker tune {spec.name} ...")
        _, seconds = run([args.tracker, "tune", spec, "--db", db, "--jobs", args.jobs, "--quiet"])
        status, _ = run([args.tracker, "tune", spec, "--db", db, "--status", "--format", "json"], nice=False)
        status = json.loads(status)
        best = status.get("best") or {}
        checked = median_of(db, best["runs"]) if best.get("runs") else None
        if status.get("iterations_spent") != spent(db):
            say(f"tune seed {seed}: --status says {status.get('iterations_spent')} iterations, the database "
                f"{spent(db)}")
        return ("tune" + suffix, seed, status.get("iterations_spent"), best.get("objective"), checked,
                best.get("settings"), seconds)
    for sampler in samplers:
        suffix = f"-{sampler}" if sampler else ""
        for seed in seeds:
            if args.skip_tune or not tune_available(args.tracker):
                rows.append(("tune" + suffix, seed, None, None, None, "not run: no working `tracker tune` in this binary", 0))
            else:
                rows.append(saved(f"tune{suffix}-s{seed}", lambda: tune(seed, sampler)))

    # (c) The Optuna example, TPE seeded with each seed.
    def optuna(seed):
        db = out / f"optuna-s{seed}.db"
        fresh(db)
        say(f"optuna: {OPTUNA.relative_to(ROOT)} --seed {seed} ...")
        report, seconds = run([sys.executable, OPTUNA, "--study", study_path, "--db", db, "--tracker", args.tracker,
                               "--seed", seed, "--jobs", args.jobs, "--json", "--quiet"])
        report = json.loads(report)
        best = report.get("best") or {}
        checked = median_of(db, best["runs"]) if best.get("runs") else None
        return ("optuna", seed, report["iterations_spent"], best.get("objective"), checked, best.get("settings"),
                seconds)
    optuna_seeds = [int(s) for s in args.optuna_seeds.split(",")] if args.optuna_seeds else seeds
    for seed in optuna_seeds if not args.skip_optuna else []:
        rows.append(saved(f"optuna-s{seed}", lambda: optuna(seed)))

    def number(value):
        return "-" if value is None else f"{int(value)}" if float(value).is_integer() else f"{value:.1f}"

    def words(settings):
        if not isinstance(settings, dict):
            return settings or "-"
        return " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in sorted(settings.items()))

    header = ["search", "seed", "iterations spent", "of grid's", "best objective", "vs grid's best",
              "recomputed", "best configuration", "seconds"]
    table = []
    for search, seed, iterations, objective, checked, settings, seconds in rows:
        table.append([search, str(seed), f"{iterations:,}" if iterations is not None else "-",
                      f"{iterations / grid_spent:.1%}" if iterations is not None else "-", number(objective),
                      f"{objective / grid_best - 1:+.1%}" if objective is not None else "-",
                      "same" if checked is not None and checked == objective else number(checked),
                      words(settings), f"{seconds:.0f}"])
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for line in table:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(r[i]) for r in [header] + table) for i in range(len(header))]
        for line in [header] + table:
            print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
    searched = [r for r in rows if r[0].startswith(("tune", "optuna")) and r[2] is not None and r[3] is not None]
    for grid_row in rows[:len(grids)]:
        for search, seed, iterations, objective, *_ in searched:
            met = objective <= 1.1 * grid_row[3] and iterations <= grid_row[2] / 4
            print(f"{search} seed {seed} against {grid_row[0]}: {'meets' if met else 'misses'} the target "
                  f"(within 10% of its best {number(grid_row[3])}: {objective / grid_row[3] - 1:+.1%}; at most a "
                  f"quarter of its {grid_row[2]:,} iterations: {iterations / grid_row[2]:.1%})")


if __name__ == "__main__":
    main()
