#!/usr/bin/env bash
# MPIRUN="mpirun ..." kill_rank.sh TRAINER DIR: starts a two-rank run on DIR/data/good, waits for
# its first checkpoint, kills rank 1 with SIGKILL and checks that the job ends within 30 s.
# Prints the job's exit status and how long it took to end; mpirun's messages are in
# DIR/run.err. Exits 1 if the job hangs.
set -u
trainer=$1 dir=$2
${MPIRUN:-mpirun --oversubscribe --bind-to none} -np 2 "$trainer" --data "$dir/data/good" --epochs 100000 --batch 64 \
  --threads 1 --checkpoint "$dir/k.ckpt" --quiet > "$dir/run.out" 2> "$dir/run.err" &
job=$!
for _ in $(seq 600); do [ -f "$dir/k.ckpt" ] && break; sleep 0.1; done
if [ ! -f "$dir/k.ckpt" ]; then
  echo "no checkpoint 60 s after the start"; kill -9 $job; exit 1
fi
# Rank 1: the process of this job (its command line names this checkpoint: other tests may
# run the same trainer meanwhile) whose environment says so.
rank1=""
for pid in $(pgrep -f -- "--checkpoint $dir/k.ckpt"); do
  if tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1'; then rank1=$pid; fi
done
if [ -z "$rank1" ]; then
  echo "rank 1 not found"; kill -9 $job; exit 1
fi
kill -9 "$rank1"
SECONDS=0
for _ in $(seq 300); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
if kill -0 $job 2>/dev/null; then
  echo "the job still runs 30 s after rank 1 was killed"; pkill -9 -f -- "--checkpoint $dir/k.ckpt"; exit 1
fi
wait $job
echo "the job ended with status $? within $((SECONDS + 1)) s of rank 1's death"
