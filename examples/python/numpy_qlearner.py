#!/usr/bin/env python3
"""A small tabular Q-learner in NumPy over the tracker's model, writing its run as a tracker-import/1 file
(docs/import.md), so `tracker import` puts it beside QL, DTEQL and DTAQL in `tracker compare` and `plot`.

    python3 examples/python/numpy_qlearner.py --n 5 --frame-seed 1 --seed 1 --iterations 2000 \
        [--tracker PATH] [--lr 0.1] [--eps-start 1] [--eps-min 0.1] [--beta 5000] [--name numpy-ql] \
        [--out run.jsonl]
    tracker import run.jsonl

Needs NumPy (pip install numpy) and the `tracker` binary (--tracker, default `tracker` on the PATH). The frame's
numbers come from tracker itself (`tracker frame --n N --seed S --format json`: each task's transmit and
processing time and deadline), so nothing of the model but its rule is written here (docs/model.md):
completion T_j = max(ready_j, T_{j-1}) + p_j, J = sum T_j + zeta * misses, reward J_EDF / J. Actions are
the N! orders in lexicographic order, which is itertools.permutations' order and the tracker's action rank.

One state, one-step episodes (as the built-in QL): Q[a] += lr * (r - Q[a]); epsilon-greedy with
eps_i = eps_min + (eps_start - eps_min) * exp(-i / beta); the greedy action is the first maximum of Q.
Its random numbers are NumPy's (numpy.random.default_rng(seed)), not the tracker's: its runs are its own.
"""
import argparse
import itertools
import json
import math
import subprocess
import sys

import numpy as np


def frame_tasks(tracker, n, frame_seed, zeta):
    """The frame's tasks as tracker computes them: transmit_s (d/R), process_s (d c / f), deadline_s."""
    out = subprocess.run([tracker, "frame", "--n", str(n), "--seed", str(frame_seed), "--zeta", repr(zeta),
                          "--format", "json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def objectives(tasks, zeta):
    """J of every order, in lexicographic (rank) order."""
    n = len(tasks)
    transmit = np.array([t["transmit_s"] for t in tasks])
    process = np.array([t["process_s"] for t in tasks])
    deadline = np.array([t["deadline_s"] for t in tasks])
    orders = np.array(list(itertools.permutations(range(n))), dtype=np.int64)
    ready = np.cumsum(transmit[orders], axis=1)
    completion = np.empty_like(ready)
    previous = np.zeros(len(orders))
    for j in range(n):
        previous = np.maximum(ready[:, j], previous) + process[orders[:, j]]
        completion[:, j] = previous
    misses = (completion > deadline[orders]).sum(axis=1)
    return orders, completion.sum(axis=1) + zeta * misses


def edf_rank(tasks):
    """The rank of the earliest-deadline-first order (ties by the lower index), the reward's numerator."""
    order = tuple(sorted(range(len(tasks)), key=lambda i: (tasks[i]["deadline_s"], i)))
    return list(itertools.permutations(range(len(tasks)))).index(order)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracker", default="tracker")
    parser.add_argument("--n", type=int, required=True, help="tasks in the generated frame (2 to 8 here)")
    parser.add_argument("--frame-seed", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True, help="this learner's seed")
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--eps-start", type=float, default=1.0)
    parser.add_argument("--eps-min", type=float, default=0.1)
    parser.add_argument("--beta", type=float, default=5000.0)
    parser.add_argument("--zeta", type=float, default=0.1)
    parser.add_argument("--name", default="numpy-ql")
    parser.add_argument("--out", default="-", help="the file to write (default: standard output)")
    args = parser.parse_args()
    if not 2 <= args.n <= 8:
        parser.error("--n must be from 2 to 8 (N! actions in one NumPy table)")

    tasks = frame_tasks(args.tracker, args.n, args.frame_seed, args.zeta)
    orders, j = objectives(tasks, args.zeta)
    reward = j[edf_rank(tasks)] / j
    actions = len(orders)
    rng = np.random.default_rng(args.seed)
    q = np.zeros(actions)
    tried = np.zeros(actions, dtype=bool)

    lines = [{
        "format": "tracker-import/1",
        "algorithm": args.name,
        "frame": {"n": args.n, "seed": args.frame_seed},
        "model": {"zeta": args.zeta},
        "iterations": args.iterations,
        "seed": args.seed,
        "settings": {"lr": args.lr, "eps_start": args.eps_start, "eps_min": args.eps_min, "beta": args.beta,
                     "reward": "ratio", "rng": "numpy-pcg64"},
        "provenance": {"command": " ".join(sys.argv), "numpy": np.__version__, "python": sys.version.split()[0]},
    }]
    for i in range(args.iterations):
        epsilon = args.eps_min + (args.eps_start - args.eps_min) * math.exp(-i / args.beta)
        if rng.random() < epsilon:
            action = int(rng.integers(actions))
        else:
            action = int(np.argmax(q))
        r = float(reward[action])
        q[action] += args.lr * (r - q[action])
        tried[action] = True
        lines.append({"iteration": i, "action": action, "reward": r, "greedy_action": int(np.argmax(q)),
                      "distinct_actions": int(tried.sum())})
    lines.append({"final_order": [int(t) for t in orders[int(np.argmax(q))]]})

    text = "".join(json.dumps(line, allow_nan=False) + "\n" for line in lines)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
