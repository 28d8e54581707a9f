#!/bin/bash
#SBATCH --job-name=tracker-sweep
#SBATCH --array=1-8
#SBATCH --cpus-per-task=2
#SBATCH --time=02:00:00
#SBATCH --output=tracker-sweep-%A_%a.log
# One sweep as a Slurm job array: task I of K runs shard I/K of the grid into its own shard-I.db, in the
# directory sbatch was called from. Keep --array=1-K and the second argument K equal.
#
#   sbatch examples/slurm/sweep-array.sh my-grid.json 8
#   tracker merge grid.db shard-*.db && tracker compare --db grid.db
#
# Resubmitting the array, or one task of it (sbatch --array=3 examples/slurm/sweep-array.sh my-grid.json 8),
# finishes what a time-out, a preemption or a cancel left: finished runs are skipped, stopped ones resumed.
set -euo pipefail
spec=${1:?usage: sbatch sweep-array.sh SPEC.json [SHARDS]}
shards=${2:-8}
# Slurm runs at most one task per array index at a time, and each task has its own database: a run that
# an earlier, killed task of this index left 'running' is dead, so take it over at once (--takeover)
# instead of waiting for its heartbeat to go stale (docs/sweeps.md, liveness).
exec tracker sweep "$spec" --shard "${SLURM_ARRAY_TASK_ID}/${shards}" --jobs "${SLURM_CPUS_PER_TASK:-1}" \
    --db "shard-${SLURM_ARRAY_TASK_ID}.db" --takeover --quiet
