#!/usr/bin/env python3
"""Optuna's TPE sampler and a successive-halving (or Hyperband) pruner searching a `tracker tune` study's
space, with every trial's runs recorded by `tracker` and every promotion a `tracker resume --to` (docs/optuna.md).

    python3 examples/optuna/tracker_optuna.py --study studies/tune-vs-grid-n7.json --db optuna.db
                                              [--tracker PATH] [--seed S] [--trials T]
                                              [--pruner sha|hyperband] [--jobs J] [--label L] [--json] [--quiet]

Needs optuna (pip install optuna) and the `tracker` binary (--tracker, default `tracker` on the PATH).

It reads the same study spec as `tracker tune` (keys of issue 23: n, frames or frame_seeds, first_frame_seed,
seeds, algorithm, fixed, search, objective, budget, trials, seed) and spends the same budget:

- One trial is one configuration (Optuna's ask) run on every N, frame and learner seed of the study: one
  `tracker run --iterations MIN` per (N, frame, seed), all labelled with --label (default
  `<name>-optuna-s<seed>`).
- The rungs are MIN, MIN*r, MIN*r^2, ... below MAX, then MAX (r = budget.reduction), the steps at which
  Optuna's SuccessiveHalvingPruner(min_resource=MIN, reduction_factor=r) or HyperbandPruner(MIN, MAX, r)
  decide. After each rung the trial's objective is read from the database (Python's sqlite3, read-only)
  and reported; a pruned trial stops there, its runs finished at that budget. A promoted trial's runs are
  continued with `tracker resume RUN --to NEXT`: from their last checkpoint, no iteration computed twice,
  each ending bit-identical to a run started with that budget (docs/learning.md, "The budget").
- The objective is `median_convergence`, as `tracker compare` computes it (Table II): the median over the
  trial's runs of iterations_to_optimal, a run that has not converged ranked as +infinity (beyond its
  budget), the mean of the two middle values for an even count (infinite if either is). Lower is better.

It prints the iterations spent (the sum of the study's runs' done_iterations in the database) and the best
objective found (Optuna's best completed trial, at MAX); `--json` prints them with every trial, its runs
and its objective at each rung, as `tracker tune --status --format json` shapes them (an objective beyond
the budget is null there, with "exceeds_budget": true). Progress goes to stderr. Bad input (a spec key, an
unknown setting, a range): one line on stderr and exit 64, before anything is recorded.
"""
import argparse
import concurrent.futures
import json
import math
import pathlib
import re
import sqlite3
import subprocess
import sys

import optuna

USAGE = 64
NOT_SEARCHABLE = {"algorithm", "n", "iterations"}  # the problem and the budget, not settings of a trial


def fail(message, status=1):
    print(f"tracker_optuna: {message}", file=sys.stderr)
    sys.exit(status)


class TrackerFailed(Exception):
    """A tracker command that failed, with the last line it wrote on stderr."""


def tracker(binary, *arguments):
    """Runs `tracker arguments...`; its stdout, or TrackerFailed (raised in a worker thread, reported once
    by the main one)."""
    done = subprocess.run([binary, *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit {done.returncode}"]
        raise TrackerFailed(f"tracker {arguments[0]} failed: {lines[-1]}")
    return done.stdout


def vocabulary(binary):
    """Every setting name (canonical and aliases) -> its canonical name, from `tracker settings-reference`
    (the table of docs/settings.md, generated from the tracker's one vocabulary), so no list is copied here."""
    names = {}
    try:
        reference = tracker(binary, "settings-reference")
    except (TrackerFailed, OSError) as error:
        fail(f"cannot run {binary}: {error}")
    for line in reference.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not re.fullmatch(r"`[a-z_]+`", cells[0]):
            continue
        canonical = cells[0].strip("`")
        for name in [canonical] + re.findall(r"`([^`]+)`", cells[1]):
            names[name] = canonical
    return names


def flag(canonical):
    """The `tracker run` option of a setting: --lr, --beta, --eps-min, --twin-noise, ..."""
    return "--" + canonical.replace("_", "-")


class Study:
    """The parts of a tune study spec this example uses, checked; every mistake is one line and exit 64."""

    def __init__(self, path, names):
        try:
            spec = json.loads(pathlib.Path(path).read_text())
        except (OSError, ValueError) as error:
            fail(f"{path}: cannot read the study spec: {error}", USAGE)
        if not isinstance(spec, dict):
            fail(f"{path}: a study spec is a JSON object", USAGE)

        def need(key, kind, default=None):
            value = spec.get(key, default)
            if value is None or not isinstance(value, kind) or isinstance(value, bool):
                fail(f"{path}: key '{key}' is missing or of the wrong type", USAGE)
            return value

        def canonical(name, key):
            if name not in names or names[name] in NOT_SEARCHABLE:
                valid = ", ".join(sorted(n for n in set(names.values()) if n not in NOT_SEARCHABLE))
                fail(f"{path}: {key}: unknown setting '{name}'; valid names: {valid}", USAGE)
            return names[name]

        self.name = need("name", str)
        self.algorithm = need("algorithm", str)
        self.n = need("n", (list, int))
        self.n = [self.n] if isinstance(self.n, int) else self.n
        if "frame_seeds" in spec:
            self.frame_seeds = need("frame_seeds", list)
        else:
            first, count = need("first_frame_seed", int, 1), need("frames", int, 1)
            self.frame_seeds = list(range(first, first + count))
        self.seeds = need("seeds", list, [1])
        for key, values in (("n", self.n), ("frame_seeds", self.frame_seeds), ("seeds", self.seeds)):
            if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                fail(f"{path}: key '{key}' must be a non-empty list of integers", USAGE)
        if spec.get("objective", "median_convergence") != "median_convergence":
            fail(f"{path}: objective '{spec['objective']}': this example computes median_convergence only", USAGE)
        self.fixed = {canonical(k, "fixed"): v for k, v in need("fixed", dict, {}).items()}

        self.space = {}
        for name, domain in need("search", dict).items():
            setting = canonical(name, "search")
            if setting in self.space or setting in self.fixed:
                fail(f"{path}: search: '{name}' is named twice (as {setting})", USAGE)
            if not isinstance(domain, dict) or len(domain) != 1:
                fail(f"{path}: search.{name}: one of {{\"log_uniform\": [a, b]}}, {{\"uniform\": [a, b]}}, "
                     f"{{\"choice\": [...]}}", USAGE)
            (kind, values), = domain.items()
            if kind == "choice" and isinstance(values, list) and values:
                self.space[setting] = optuna.distributions.CategoricalDistribution(values)
            elif (kind in ("uniform", "log_uniform") and isinstance(values, list) and len(values) == 2
                  and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)
                  and values[0] < values[1] and (kind == "uniform" or values[0] > 0)):
                self.space[setting] = optuna.distributions.FloatDistribution(
                    float(values[0]), float(values[1]), log=kind == "log_uniform")
            else:
                fail(f"{path}: search.{name}: a bad {kind} range {json.dumps(values)} (need low < high, "
                     f"and low > 0 for log_uniform; choice: a non-empty list)", USAGE)

        budget = need("budget", dict)
        self.minimum, self.maximum = budget.get("min_iterations"), budget.get("max_iterations")
        reduction = budget.get("reduction", 3)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (self.minimum, self.maximum)) \
                or not 1 <= self.minimum <= self.maximum <= 1_000_000_000:
            fail(f"{path}: budget: need 1 <= min_iterations <= max_iterations <= 1000000000", USAGE)
        if not isinstance(reduction, (int, float)) or isinstance(reduction, bool) or reduction != int(reduction) \
                or reduction < 2:
            fail(f"{path}: budget.reduction: an integer of at least 2 (Optuna's reduction_factor)", USAGE)
        self.reduction = int(reduction)
        self.rungs = [self.minimum]
        while self.rungs[-1] * self.reduction < self.maximum:
            self.rungs.append(self.rungs[-1] * self.reduction)
        if self.rungs[-1] < self.maximum:
            self.rungs.append(self.maximum)
        self.trials = need("trials", int)
        self.seed = need("seed", int, 1)
        if not 1 <= self.trials <= 10_000:
            fail(f"{path}: trials: between 1 and 10000", USAGE)


def median_convergence(values):
    """Table II's median, as tracker compare computes it (Statistics.median): None counts as +infinity."""
    ranked = sorted(math.inf if v is None else float(v) for v in values)
    lower, upper = ranked[(len(ranked) - 1) // 2], ranked[len(ranked) // 2]
    if lower == upper or math.isinf(upper):
        return upper
    return lower + 0.5 * (upper - lower)


class Database:
    """Reads the tracker database with plain SQL on a read-only connection (docs/schema.md)."""

    def __init__(self, path):
        self.path, self.uri = path, pathlib.Path(path).resolve().as_uri() + "?mode=ro"

    def rows(self, sql, parameters=()):
        try:
            connection = sqlite3.connect(self.uri, uri=True, timeout=30)
            try:
                return connection.execute(sql, parameters).fetchall()
            finally:
                connection.close()
        except sqlite3.Error as error:
            fail(f"{self.path}: cannot read the tracker database: {error}")

    def runs(self, run_ids):
        """run_id -> (status, planned_iterations, done_iterations, iterations_to_optimal) of finished runs."""
        marks = ",".join("?" * len(run_ids))
        rows = self.rows(f"""
            SELECT r.run_id, r.status, r.planned_iterations, r.done_iterations, s.iterations_to_optimal
            FROM runs AS r LEFT JOIN run_summaries AS s ON s.run = r.id
            WHERE r.run_id IN ({marks})""", list(run_ids))
        return {row[0]: row[1:] for row in rows}

    def iterations_spent(self, label):
        """The iterations the label's runs computed: a resume continues where the run stopped, so a run's
        done_iterations is what it cost, whatever its number of sessions."""
        return self.rows("""
            SELECT coalesce(sum(r.done_iterations), 0), count(*) FROM runs AS r
            WHERE r.label = ? OR EXISTS (SELECT 1 FROM run_labels AS l WHERE l.run = r.id AND l.label = ?)""",
                         (label, label))[0]


class Arguments(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 64, as tracker's usage errors
        fail(f"{message} (see --help)", USAGE)


def main():
    parser = Arguments(description=__doc__.split("\n\n")[0])
    parser.add_argument("--study", required=True, help="a tracker tune study spec (JSON)")
    parser.add_argument("--db", required=True, help="the tracker database (a new one, or one without --label's runs)")
    parser.add_argument("--tracker", default="tracker", help="the tracker binary (default: tracker on the PATH)")
    parser.add_argument("--seed", type=int, help="TPE's seed (default: the spec's seed)")
    parser.add_argument("--trials", type=int, help="trials to run (default: the spec's trials)")
    parser.add_argument("--pruner", choices=["sha", "hyperband"], default="sha",
                        help="successive halving (asynchronous, as ASHA) or Hyperband (default: sha)")
    parser.add_argument("--jobs", type=int, default=2, help="a trial's runs trained at once (default: 2)")
    parser.add_argument("--label", help="the label of every run (default: NAME-optuna-sSEED)")
    parser.add_argument("--json", action="store_true", help="print the study as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args()
    study_spec = Study(args.study, vocabulary(args.tracker))
    seed = study_spec.seed if args.seed is None else args.seed
    trials = study_spec.trials if args.trials is None else args.trials
    if not 1 <= trials <= 10_000 or not 1 <= args.jobs <= 64:
        fail("--trials must be in 1...10000 and --jobs in 1...64", USAGE)
    label = args.label or f"{study_spec.name}-optuna-s{seed}"
    database = Database(args.db)
    if pathlib.Path(args.db).exists() and database.iterations_spent(label)[1] > 0:
        fail(f"{args.db} already holds runs labelled {label}: give another --db or --label")

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if args.pruner == "sha":
        pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=study_spec.minimum,
                                                        reduction_factor=study_spec.reduction)
    else:
        pruner = optuna.pruners.HyperbandPruner(min_resource=study_spec.minimum, max_resource=study_spec.maximum,
                                                reduction_factor=study_spec.reduction)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner)
    problem = [(n, frame, learner) for n in study_spec.n for frame in study_spec.frame_seeds
               for learner in study_spec.seeds]
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs)

    def start(settings, n, frame, learner):
        options = [f"--algo={study_spec.algorithm}", f"--n={n}", f"--frame-seed={frame}", f"--seed={learner}"]
        options += [f"{flag(k)}={v}" for k, v in {**study_spec.fixed, **settings}.items()]
        out = tracker(args.tracker, "run", "--db", args.db, "--iterations", str(study_spec.minimum),
                      "--label", label, "--quiet", "--format", "json", *options)
        return json.loads(out)["run_id"]

    def extend(run_id, budget):
        tracker(args.tracker, "resume", run_id, "--db", args.db, "--to", str(budget), "--quiet", "--format", "json")

    try:
        report = search(study, study_spec, trials, problem, pool, start, extend, database, args.quiet)
    except TrackerFailed as error:
        pool.shutdown(cancel_futures=True)
        fail(f"{error} (run each study in a database of its own: docs/optuna.md)")
    pool.shutdown()
    summarize(args, label, seed, study_spec, database, report)


def search(study, study_spec, trials, problem, pool, start, extend, database, quiet):
    """The ask-and-tell loop: every trial's runs started at the lowest rung, reported after each rung,
    pruned or resumed to the next. Returns the trials, each with its runs and its objective per rung."""
    report = []
    for _ in range(trials):
        trial = study.ask(study_spec.space)
        settings = dict(trial.params)
        runs = list(pool.map(lambda point: start(settings, *point), problem))
        rungs, state = [], "complete"
        for index, budget in enumerate(study_spec.rungs):
            if index > 0:
                list(pool.map(lambda run_id: extend(run_id, budget), runs))
            recorded = database.runs(runs)
            if any(recorded.get(r, (None, None, None))[:2] != ("finished", budget) for r in runs):
                raise TrackerFailed(f"trial {trial.number}: the database does not hold its runs finished at {budget}")
            value = median_convergence(recorded[r][3] for r in runs)
            rungs.append({"budget": budget, "objective": value})
            trial.report(value, budget)
            if budget < study_spec.maximum and trial.should_prune():
                state = "pruned"
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                break
        else:
            study.tell(trial, value)
        report.append({"number": trial.number, "settings": settings, "state": state, "runs": runs, "rungs": rungs})
        if not quiet:
            path = ", ".join(f"{r['budget']}: {text(r['objective'], r['budget'])}" for r in rungs)
            print(f"trial {trial.number} {state}: {words(settings)}: {path}", file=sys.stderr)
    return report


def summarize(args, label, seed, study_spec, database, report):
    """Prints the iterations spent and the best trial (with --json, the whole study)."""
    spent, _ = database.iterations_spent(label)
    complete = [t for t in report if t["state"] == "complete"]
    best = min(complete, key=lambda t: t["rungs"][-1]["objective"], default=None)
    if args.json:
        def objective(value):
            return {"objective": None if math.isinf(value) else value, "exceeds_budget": math.isinf(value)}
        print(json.dumps({
            "label": label, "seed": seed, "pruner": args.pruner, "rungs": study_spec.rungs,
            "iterations_spent": spent,
            "best": best and {"trial": best["number"], "settings": best["settings"], "budget": study_spec.maximum,
                              "runs": best["runs"], **objective(best["rungs"][-1]["objective"])},
            "trials": [{"trial": t["number"], "settings": t["settings"], "state": t["state"], "runs": t["runs"],
                        "budget": t["rungs"][-1]["budget"], **objective(t["rungs"][-1]["objective"]),
                        "rungs": [{"budget": r["budget"], **objective(r["objective"])} for r in t["rungs"]]}
                       for t in report],
        }, indent=2))
    else:
        print(f"iterations spent: {spent}")
        if best is None:
            print("best objective: none (every trial was pruned)")
        else:
            value = best["rungs"][-1]["objective"]
            print(f"best objective: {text(value, study_spec.maximum)} (median iterations to optimal, trial "
                  f"{best['number']}: {words(best['settings'])})")


def text(value, budget):
    """A median as compare prints it: '>B' beyond the budget, else the number (no '.0')."""
    return f">{budget}" if math.isinf(value) else f"{int(value)}" if value.is_integer() else f"{value}"


def words(settings):
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in settings.items())


if __name__ == "__main__":
    main()
