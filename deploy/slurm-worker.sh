#!/usr/bin/env bash
# Runs a MixLab worker inside a Slurm allocation: one worker per node, using the GPUs Slurm gave
# the job. Submit with e.g. `sbatch --nodes 4 --gpus-per-node 8 --time 12:00:00 deploy/slurm-worker.sh`.
# The worker's certificate must be named after the node (`mixlab certs issue --role worker NODE`).
#SBATCH --job-name=mixlab-workers
#SBATCH --ntasks-per-node=1
set -euo pipefail
: "${MIXLAB_COORDINATOR:?set MIXLAB_COORDINATOR=head-node:7443}"
: "${MIXLAB_CERTS:=/etc/mixlab}"
srun --kill-on-bad-exit=0 bash -c '
  node=$(hostname -s)
  exec mixlab worker --coordinator "$MIXLAB_COORDINATOR" \
    --ca "$MIXLAB_CERTS/ca.pem" --cert "$MIXLAB_CERTS/$node.pem" --key "$MIXLAB_CERTS/$node.key" \
    --gpus "${CUDA_VISIBLE_DEVICES:-}" --cpu-slots "${SLURM_CPUS_ON_NODE:-1}" \
    --work-dir "${TMPDIR:-/tmp}/mixlab-$SLURM_JOB_ID" --drain hand-back --exit-when-idle "${MIXLAB_IDLE_EXIT:-15m}"'
# Slurm sends SIGTERM before the time limit ends the job: the workers hand their runs back and
# the coordinator re-queues them (as `preempted`: the runs keep their attempts and the nodes are
# not blamed), so nothing is lost when the allocation expires. A worker with no run for
# MIXLAB_IDLE_EXIT (default 15m) exits, so the allocation is given back once the sweeps are done.
