#!/usr/bin/env bash
# Models v3 on one CUDA GPU: our attribute classifier, then seven conditional-generator runs side by side
# (the multi-domain model, its ablations, and the three per-pair models with the same architecture):
#   bash training/gpu_train_v3.sh <transport pack dir> <out dir> [GAN minutes]
# <out> receives one tar per run (lean weights, meta, losses, samples) every minute, so a run cut
# short still returns its latest weights; the main run also keeps snapshots for the learning curve.
set -uo pipefail
PACK=${1:?usage: gpu_train_v3.sh <pack dir> <out dir> [minutes]}
OUT=${2:?usage: gpu_train_v3.sh <pack dir> <out dir> [minutes]}
MIN=${3:-6.5}
cd "$(dirname "$0")/.."
RUNS=training/runs
mkdir -p "$RUNS" "$OUT"
export PYTHONUNBUFFERED=1
PY=${PY:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
$PY -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
D=(--dataset "$PACK" --cache "$PACK")
$PY training/train_classifier.py "${D[@]}" --out $RUNS/cls --iters ${CLS_ITERS:-2000} --batch 128 --threads 2 2>&1 | tail -n 4
CLS=$RUNS/cls/classifier.pt
[ -f $CLS ] || { echo "no classifier"; exit 1; }
C=("${D[@]}" --classifier $CLS --ngf 32 --blocks 6 --ndf 32 --batch 16 --amp --minutes "$MIN" --ckpt-minutes 1 --threads 2 --log-every 100)
run() { local name=$1; shift; $PY training/train_transform.py "${C[@]}" --out $RUNS/$name "$@" > $RUNS/$name.log 2>&1 & }
run md --snapshot-minutes $(awk "BEGIN{print $MIN * 0.26}")
run md_noatt --attention 0
run md_nocls --lambda-cls 0
run md_cyc5_id0 --lambda-cyc 5 --lambda-id 0
run mf --directions male2female female2male
run wb --directions white2black black2white
run wa --directions white2asian asian2white
NAMES="md md_noatt md_nocls md_cyc5_id0 mf wb wa"
copy() {
  for r in $NAMES; do
    [ -f $RUNS/$r/lean.pt ] || continue
    extra=; [ $r = md ] && extra=cls/classifier.pt
    tar cf "$OUT/$r.tar.tmp" -C $RUNS $extra $r.log $r/lean.pt $r/meta.json $r/losses.csv $r/samples.png 2>/dev/null && mv "$OUT/$r.tar.tmp" "$OUT/$r.tar"
  done
  ls $RUNS/md/snap-*.pt >/dev/null 2>&1 && tar cf "$OUT/snaps.tar.tmp" -C $RUNS/md $(cd $RUNS/md && ls snap-*.pt) && mv "$OUT/snaps.tar.tmp" "$OUT/snaps.tar"
}
n=0
while [ -n "$(jobs -rp)" ]; do
  sleep 10; n=$((n + 1))
  [ $n -eq 6 ] && nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv
  [ $((n % 6)) -eq 0 ] && { copy; tail -qn1 $RUNS/*.log; }
done
wait
copy
for r in $NAMES; do echo "== $r"; tail -n2 $RUNS/$r.log; done
ls -la "$OUT"
