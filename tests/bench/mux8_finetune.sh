#!/usr/bin/env bash
# The seed's case, measured: 8 classes, ~150 training images (mux8-tiny).
# Trains (a) from scratch and (b) from the default model with a new 8-class
# head and its first three conv blocks (layers 0-20) frozen, with the same
# schedule, and prints balanced accuracy, macro-F1 and the
# classes never predicted on mux8/val as a Markdown table.
#   usage: tests/bench/mux8_finetune.sh [EMOCAM] [SHARED_DATA] [OUT_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
emocam=${1:-$here/build/emocam}
data=${2:-$here/../shared/data}
out=${3:-$(mktemp -d /tmp/emocam-mux8.XXXXXX)}
schedule=(--epochs 30 --batch 32 --lr 0.001 --val-split 0 --seed 1)
mkdir -p "$out"

"$emocam" train --data "$data/mux8-tiny/train" --out "$out/scratch.emo" \
  --arch "$here/assets/arch/vgg.arch" "${schedule[@]}" > "$out/scratch.log" 2>&1
"$emocam" train --data "$data/mux8-tiny/train" --out "$out/finetuned.emo" \
  --init "$here/assets/fer2013.emo" --freeze 21 "${schedule[@]}" > "$out/finetuned.log" 2>&1

echo "| model (mux8-tiny/train, 149 images) | balanced accuracy | macro-F1 | accuracy | classes never predicted |"
echo "| --- | --- | --- | --- | --- |"
for run in scratch finetuned; do
  "$emocam" eval --model "$out/$run.emo" --data "$data/mux8/val" --json "$out/$run.json" \
    --report "$out/$run-report" > "$out/$run-eval.txt"
  python3 - "$out/$run.json" "$run" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
predicted = [sum(row[j] for row in m["confusion"]) for j in range(len(m["classes"]))]
never = [c for c, p in zip(m["classes"], predicted) if p == 0] or ["none"]
name = {"scratch": "(a) from scratch", "finetuned": "(b) --init fer2013.emo --freeze 21, new 8-class head"}[sys.argv[2]]
print(f"| {name} | {m['balanced_accuracy']:.1%} | {m['macro_f1']:.3f} | {m['accuracy']:.1%} | {', '.join(never)} |")
PY
done
echo
echo "models, logs and eval reports: $out"
