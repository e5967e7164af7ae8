#!/usr/bin/env bash
# The three CycleGAN pairs at once on one CUDA GPU (used for the v2 models on an H100):
#   bash training/gpu_train.sh <transport pack dir> <out dir> [minutes]
# The pack is training/transport_pack.py's WebP copy of the aligned crops (the raw pack is too
# large to carry); FacePack decodes it into memory and keeps it on the GPU. Each pair is its own
# process (the GPU runs them side by side); male<->female continues from the shipped weights
# (the v2 models continued v1 this way), the race pairs start from scratch (INIT_WB / INIT_WA
# continue them, e.g. INIT_WB=training/checkpoints/cyclegan-white-black.pt). Lean weights are copied to <out> every 30 s, so a run cut
# short still leaves its latest checkpoint there.
set -uo pipefail
PACK=${1:?usage: gpu_train.sh <pack dir> <out dir> [minutes]}
OUT=${2:?usage: gpu_train.sh <pack dir> <out dir> [minutes]}
MIN=${3:-7.5}
cd "$(dirname "$0")/.."
RUNS=training/runs
mkdir -p "$RUNS" "$OUT"
export PYTHONUNBUFFERED=1
PY=${PY:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
$PY -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
COMMON=(--dataset "$PACK" --cache "$PACK" --size 128 --ngf 32 --blocks 6 --upsample resize --ndf 32
        --batch 8 --amp --minutes "$MIN" --decay-start 0.5 --ckpt-minutes 1 --threads 2 --log-every 100)
$PY training/train_cyclegan.py "${COMMON[@]}" --domains male female --out $RUNS/mf \
  --init training/checkpoints/cyclegan-male-female.pt > $RUNS/mf.log 2>&1 &
$PY training/train_cyclegan.py "${COMMON[@]}" --domains white black --out $RUNS/wb ${INIT_WB:+--init "$INIT_WB"} > $RUNS/wb.log 2>&1 &
$PY training/train_cyclegan.py "${COMMON[@]}" --domains white asian --out $RUNS/wa ${INIT_WA:+--init "$INIT_WA"} > $RUNS/wa.log 2>&1 &
copy() {
  for r in mf wb wa; do [ -f $RUNS/$r/lean.pt ] && cp $RUNS/$r/lean.pt "$OUT/$r.lean.pt"; done
  tar czf "$OUT/runs.tgz.tmp" --exclude=ckpt.pt --exclude='lean.pt*' -C training runs 2>/dev/null && mv "$OUT/runs.tgz.tmp" "$OUT/runs.tgz"
}
n=0
while [ -n "$(jobs -rp)" ]; do
  sleep 10; n=$((n + 1))
  [ $n -eq 6 ] && nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv > $RUNS/gpu.txt 2>&1
  [ $((n % 3)) -eq 0 ] && { copy; tail -qn1 $RUNS/*.log; }
done
wait
copy
tail -n3 $RUNS/*.log
