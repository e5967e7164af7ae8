#!/usr/bin/env bash
# The shipped recipe, end to end on a 2-core CPU (about two hours), resumable at every step:
#   bash training/train_all.sh <dataset dir>
# 1. prepare the aligned packs with the engine's detector and alignment (skipped when present);
# 2. CycleGAN male<->female: most iterations at 64 px (batch 4), then fine-tuned at 128 px;
#    the SRResNet trains beside phase 1 on one thread;
# 3. export both to ONNX (checked, onnxruntime parity) into models/.
# Budgets are environment variables (minutes): P1, P2, SR. On a GPU raise them and the sizes.
# The race pairs (white<->black, white<->asian) and the v2 gender models were trained on a GPU with
# training/gpu_train.sh; on a CPU the same pairs train with train_cyclegan.py --domains white black.
set -euo pipefail
DATASET=${1:?usage: train_all.sh <dataset dir>}
cd "$(dirname "$0")/.."
P1=${P1:-65} P2=${P2:-55} SR=${SR:-25}
export OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE PYTHONUNBUFFERED=1
PY=/usr/bin/python3
RUNS=training/runs
mkdir -p "$RUNS"
if [ ! -f training/cache/faces128.json ]; then
  for i in 0 1; do node_modules/.bin/tsx scripts/prepare-dataset.ts detect "$DATASET" --shard $i/2 & done; wait
  node_modules/.bin/tsx scripts/prepare-dataset.ts template "$DATASET"
  node_modules/.bin/tsx scripts/prepare-dataset.ts pack "$DATASET"
fi
$PY training/train_sr.py --dataset "$DATASET" --out $RUNS/sr --nf 32 --blocks 8 --patch 64 --batch 16 \
  --minutes "$SR" --lr 5e-4 --threads 1 > $RUNS/sr.log 2>&1 &
SRPID=$!
$PY training/train_cyclegan.py --dataset "$DATASET" --out $RUNS/mf64 --domains male female --size 64 \
  --ngf 32 --blocks 6 --upsample resize --ndf 32 --batch 4 --minutes "$P1" --decay-start 1.0 --threads 1 > $RUNS/mf64.log 2>&1
wait $SRPID || true
$PY training/export_onnx.py sr $RUNS/sr >> $RUNS/sr.log 2>&1
$PY training/train_cyclegan.py --dataset "$DATASET" --out $RUNS/mf128 --domains male female --size 128 \
  --ngf 32 --blocks 6 --upsample resize --ndf 32 --batch 1 --minutes "$P2" --decay-start 0.3 --threads 2 \
  --init $RUNS/mf64 > $RUNS/mf128.log 2>&1
$PY training/export_onnx.py cyclegan $RUNS/mf128 >> $RUNS/mf128.log 2>&1
echo "all done"
