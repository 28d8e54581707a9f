#!/bin/bash
#SBATCH --job-name=tracker-sweep
#SBATCH --array=1-8
#SBATCH --cpus-per-task=2
#SBATCH --time=02:00:00
#SBATCH --output=tracker-sweep-%A_%a.log
# One sweep as a Slurm job array: task I of K runs shard I/K of the grid into a database on its node's own
# disk and publishes it as shard-I.db in the directory sbatch was called from: a copy written beside it and
# renamed over it, every 30 s and when the task ends or is stopped. That directory is usually on a shared
# filesystem, where tracker never writes a live database (docs/sweeps.md#shared-filesystems); readers on the
# login node only ever see whole copies. Keep --array=1-K and the second argument K equal.
#
#   sbatch examples/slurm/sweep-array.sh my-grid.json 8
#   tracker merge grid.db shard-*.db && tracker compare --db grid.db
#
# Resubmitting the array, or one task of it (sbatch --array=3 examples/slurm/sweep-array.sh my-grid.json 8),
# finishes what a time-out, a preemption or a cancel left: the task starts from its last published copy,
# skips finished runs and resumes stopped ones.
set -euo pipefail
spec=${1:?usage: sbatch sweep-array.sh SPEC.json [SHARDS]}
shards=${2:-8}
# A name of its own per start (a requeue counts up SLURM_RESTART_COUNT), so every start begins from the
# published copy, never from an older local file another start left on this node.
local_db="${SLURM_TMPDIR:-${TMPDIR:-/tmp}}/tracker-${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}-${SLURM_RESTART_COUNT:-0}.db"
# Slurm signals every process of the task on scancel, a time limit or a preemption: the shell ignores the
# signal and waits, so tracker can checkpoint its runs and publish a last copy before the task ends.
trap '' TERM INT
status=0
tracker sweep "$spec" --shard "${SLURM_ARRAY_TASK_ID}/${shards}" --jobs "${SLURM_CPUS_PER_TASK:-1}" \
    --db "$local_db" --publish "shard-${SLURM_ARRAY_TASK_ID}.db" --quiet || status=$?
rm -f "$local_db" "$local_db-wal" "$local_db-shm"
exit "$status"
