#!/usr/bin/env bash
# Integration tests of the emocam command line. Usage:
#   cli_test.sh CASE EMOCAM FIXTURES SHARED_DATA SOURCE_DIR
# Each case exits 0 (pass), 1 (fail, with the reason) or 77 (skipped).
set -u
case_name=$1 emocam=$2 fixtures=$3 shared=$4 src=$5
work=$(mktemp -d /tmp/emocam-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# expect STATUS PATTERN -- command...: exit status and a stderr/stdout regex.
expect() {
  local want=$1 pattern=$2; shift 3
  local out status
  out=$("$@" 2>&1); status=$?
  if [ "$status" -ne "$want" ]; then
    fail "$* exited $status, expected $want; output: $(echo "$out" | tail -5)"
  elif ! grep -Eq -- "$pattern" <<<"$out"; then
    fail "$*: output lacks /$pattern/: $(echo "$out" | tail -5)"
  else
    pass "$* -> $status /$pattern/"
  fi
}

small_arch=$src/assets/arch/small.arch

# emocam adapt: a personal model on two of the seven classes keeps all seven,
# says where it came from; bad folders are clear errors that write nothing.
case_adapt() {
  local fer=$src/assets/fer2013.emo
  mkdir -p "$work/me/happy" "$work/me/sad"
  cp "$fixtures"/faces/happy/*.jpg "$work/me/happy/"
  cp "$fixtures"/faces/sad/*.jpg "$work/me/sad/"
  expect 0 'before: .* held-out crops' -- "$emocam" adapt --model "$fer" --data "$work/me" --out "$work/me.emo" --threads 2
  local out; out=$("$emocam" adapt --model "$fer" --data "$work/me" --out "$work/me.emo" --threads 2 2>&1)
  grep -Eq '^after: [0-9.]+% of [0-9]+ held-out crops' <<<"$out" || fail "no after accuracy: $out"
  grep -Eq '^adapted on [0-9]+ crops \([0-9]+ held out\) in [0-9.]+ s' <<<"$out" || fail "no time: $out"
  [ -f "$work/me.log.csv" ] || fail "no training log beside the model"
  local n; n=$("$emocam" predict --model "$work/me.emo" --json "$fixtures"/faces/angry/*.jpg | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[0]["probabilities"]))')
  [ "$n" -eq 7 ] && pass "the personal model has the 7 classes" || fail "the personal model has $n classes, expected 7"
  grep -aq "adapted_from=$fer" "$work/me.emo" && grep -aq "adapted_crops=happy:[0-9]*,sad:[0-9]*" "$work/me.emo" \
    && pass "metadata: adapted_from and crops per class" || fail "metadata missing in $work/me.emo"
  expect 0 'accuracy' -- "$emocam" eval --model "$work/me.emo" --data "$fixtures/faces"

  mkdir -p "$work/empty"
  expect 1 "$work/empty: no image files in its class folders" -- "$emocam" adapt --model "$fer" --data "$work/empty" --out "$work/e.emo"
  mkdir -p "$work/odd/happy" "$work/odd/bored"
  cp "$fixtures"/faces/happy/*.jpg "$work/odd/happy/"; cp "$fixtures"/faces/sad/*.jpg "$work/odd/bored/"
  expect 1 "bored" -- "$emocam" adapt --model "$fer" --data "$work/odd" --out "$work/o.emo"
  mkdir -p "$work/broken/happy" "$work/broken/sad"
  cp "$fixtures"/faces/happy/*.jpg "$work/broken/happy/"; echo "not a face" > "$work/broken/sad/x.png"
  cp "$fixtures"/faces/sad/*.jpg "$work/broken/sad/"
  expect 1 "$work/broken: 1 file is not a decodable image" -- "$emocam" adapt --model "$fer" --data "$work/broken" --out "$work/b.emo"
  expect 1 "nothere" -- "$emocam" adapt --model "$fer" --data "$work/nothere" --out "$work/n.emo"
  expect 2 "adapt: --data DIR and --out" -- "$emocam" adapt --model "$fer"
  for f in e o b n; do [ -e "$work/$f.emo" ] && fail "a failed adapt wrote $work/$f.emo"; done
  [ -z "$(ls "$work" | grep -E '\.(ckpt|swa)$|\.emo\.')" ] || fail "litter: $(ls "$work")"
}

# emocam import / export: a PyTorch export imports with --classes and runs
# through predict and eval like an .emo; --model takes the .onnx directly;
# bad files and options are clear errors that write nothing.
case_onnx() {
  local torch=$fixtures/onnx/plain_folded.onnx names=angry,disgust,fear,happy,neutral,sad,surprise
  expect 0 "$work/t.emo: 7 classes, input 1x24x24" -- "$emocam" import "$torch" --out "$work/t.emo" --classes "$names"
  expect 0 'accuracy' -- "$emocam" eval --model "$work/t.emo" --data "$fixtures/faces"
  expect 1 "plain_folded.onnx: the file names no classes .*--classes" -- "$emocam" predict --model "$torch" "$fixtures"/faces/happy/*.jpg
  expect 1 "classes 'a,b': expected 7 comma-separated names" -- "$emocam" import "$torch" --out "$work/x1.emo" --classes a,b
  expect 1 "$work/nothere.onnx: cannot open" -- "$emocam" import "$work/nothere.onnx" --out "$work/x2.emo"
  echo "hello" > "$work/text.onnx"
  expect 1 "$work/text.onnx: not an ONNX model" -- "$emocam" import "$work/text.onnx" --out "$work/x3.emo"
  expect 1 "$work/text.onnx: not an ONNX model" -- "$emocam" predict --model "$work/text.onnx" "$fixtures"/faces/happy/*.jpg
  head -c 3000 "$fixtures/onnx/xception_dw.onnx" > "$work/cut.onnx"
  expect 1 "$work/cut.onnx: " -- "$emocam" import "$work/cut.onnx" --out "$work/x4.emo" --classes a,b,c,d,e
  expect 2 "import: --out MODEL.emo is required" -- "$emocam" import "$torch"
  expect 2 "import: give one ONNX file" -- "$emocam" import --out "$work/x5.emo"
  expect 2 "pixel-scale" -- "$emocam" import "$torch" --out "$work/x6.emo" --classes "$names" --pixel-scale -1
  for f in x1 x2 x3 x4 x5 x6; do [ -e "$work/$f.emo" ] && fail "a failed import wrote $work/$f.emo"; done

  # a model imported with another pixel convention runs, and says it cannot train
  expect 0 'pixels as \(p - 127.5\) \* 0.0078125' -- "$emocam" import "$torch" --out "$work/pm.emo" --classes "$names" --pixel-scale 0.0078125 --pixel-mean 127.5
  expect 0 '%' -- "$emocam" predict --model "$work/pm.emo" "$fixtures"/faces/happy/*.jpg
  expect 1 "$work/pm.emo: takes pixels as \(pixel - 127.5\) \* 0.0078125" -- "$emocam" train --data "$fixtures/faces" --init "$work/pm.emo" --out "$work/pt.emo" --epochs 1

  expect 0 "$work/e.onnx: 3 classes, input 1x8x8" -- "$emocam" export --model "$fixtures/model/tiny.emo" --out "$work/e.onnx"
  expect 1 "$work/nothere.emo" -- "$emocam" export --model "$work/nothere.emo" --out "$work/e2.onnx"
  expect 2 "export: --out MODEL.onnx is required" -- "$emocam" export --model "$fixtures/model/tiny.emo"
  [ -e "$work/e2.onnx" ] && fail "a failed export wrote $work/e2.onnx"
  [ -z "$(ls "$work" | grep -E '\.tmp\.')" ] || fail "litter: $(ls "$work")"
}

# Headless --collect with --labels: a crop per labelled frame with a face,
# under its label; predict on a crop gives that frame's CSV row.
case_collect_headless() {
  local clip=$fixtures/app/faces.mp4 labels=$fixtures/app/faces.mp4.labels.csv
  expect 0 'collected in' -- "$emocam" --video "$clip" --headless --crop face --collect "$work/col" --labels "$labels" --csv "$work/rows.csv"
  local k want got
  for k in $(tail -n +2 "$labels" | cut -d, -f2 | sort -u); do
    want=$(tail -n +2 "$labels" | cut -d, -f2 | grep -cx "$k")
    got=$(ls "$work/col/$k" 2>/dev/null | wc -l)
    [ "$got" -eq "$want" ] && pass "$k: $got crops" || fail "$k: $got crops, the labels file has $want frames"
  done
  local classes; classes=$(ls "$work/col" | tr '\n' ' ')
  [ "$classes" = "$(tail -n +2 "$labels" | cut -d, -f2 | sort -u | tr '\n' ' ')" ] || fail "class folders: $classes"
  local crop frame checked=0
  for crop in $(ls "$work"/col/*/*.png | awk 'NR % 9 == 1'); do
    frame=$(basename "$crop" .png | sed 's/.*-0*//'); frame=${frame:-0}
    "$emocam" predict --json "$crop" > "$work/p.json" || fail "predict $crop"
    python3 - "$work/rows.csv" "$frame" "$work/p.json" <<'PY' && checked=$((checked + 1)) || fail "frame $frame: predict on its crop differs from its CSV row"
import csv, json, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["frame"] == sys.argv[2] and r["face"] == "0"]
probs = json.load(open(sys.argv[3]))[0]["probabilities"]
diff = max(abs(float(rows[0]["p_" + k]) - v) for k, v in probs.items())
print("frame", sys.argv[2], "max difference", diff)
sys.exit(0 if diff < 1e-4 else 1)
PY
  done
  [ "$checked" -ge 5 ] && pass "$checked crops predict as their rows (1e-4)" || fail "only $checked crops checked"
  printf 'frame,label\n0,happy\n1,bored\n' > "$work/bad.csv"
  expect 1 "bad.csv:3: label 'bored' is not one of the model's 7 classes" -- "$emocam" --video "$clip" --headless --collect "$work/col2" --labels "$work/bad.csv"
  expect 2 "collect with --headless saves the frames of a --labels file" -- "$emocam" --video "$clip" --headless --collect "$work/col3"
  expect 2 "loop with --headless would never end" -- "$emocam" --video "$clip" --headless --loop
  expect 0 "frames: 200 processed" -- "$emocam" --video "$clip" --headless --loop --frames 200
}

# --report on a real clip with the shipped model, checked against the CSV it
# wrote: rows, shares, shown-label counts and label changes; the same model
# as --compare-model agrees with itself everywhere; a page that fetches
# nothing, with thumbnails; emocam report names a truncated CSV's line.
case_report() {
  local clip=$fixtures/app/faces.mp4 rep=$work/rep
  expect 0 "report: .*report.html" -- "$emocam" --video "$clip" --headless --crop face --report "$rep" --compare-model "$src/assets/fer2013.emo"
  local f
  for f in timeline.png summary.json summary.txt report.html session.csv compare.csv; do
    [ -s "$rep/$f" ] && pass "$f written" || fail "$f missing"
  done
  python3 - "$rep" <<'PY' && pass "summary.json agrees with session.csv" || fail "summary.json and session.csv disagree"
import csv, json, sys
rep = sys.argv[1]
s = json.load(open(rep + "/summary.json"))
rows = list(csv.DictReader(open(rep + "/session.csv")))
ok = s["rows"] == len(rows)
faces = [r for r in rows if int(r["face"]) >= 0]
for k in s["classes"]:
    n = sum(1 for r in faces if r["smoothed_label"] == k)
    ok &= s["total"]["shown_rows"][k] == n
    ok &= abs(s["total"]["share"][k] - n / len(faces)) < 1e-6
ok &= abs(sum(s["total"]["share"].values()) - 1) < 1e-6
changes = {}
last = {}
for r in faces:
    t, lab, tm = r["track"], r["smoothed_label"], float(r["time_s"])
    if t in last and lab != last[t][0] and tm - last[t][1] <= 0.5:
        changes[t] = changes.get(t, 0) + 1
    last[t] = (lab, tm)
for f in s["faces"]:
    if f["id"] >= 0:
        ok &= f["label_changes"] == changes.get(str(f["id"]), 0)
ok &= s["frames_without_face"] == sum(1 for r in rows if r["face"] == "-1")
c = s["comparison"]
ok &= c["matched_rows"] == len(rows) and c["agreement_raw"] == 1 and c["cohen_kappa_raw"] == 1
print("rows", len(rows), "faces", len(s["faces"]), "changes", changes, "kappa", c["cohen_kappa_raw"])
sys.exit(0 if ok else 1)
PY
  if grep -Eq 'https?:|="//' "$rep/report.html"; then fail "report.html refers to a URL"; else pass "report.html fetches nothing"; fi
  [ "$(grep -o 'src="data:image/png;base64,' "$rep/report.html" | wc -l)" -ge 2 ] && pass "timeline and thumbnails inlined" || fail "images missing in report.html"
  head -c -9 "$rep/session.csv" > "$work/cut.csv"
  local lines; lines=$(wc -l < "$work/cut.csv")
  expect 1 "cut.csv:$((lines + 1)): the last line is cut short" -- "$emocam" report "$work/cut.csv" --out "$work/rep2"
  expect 2 "report: --out DIR is required" -- "$emocam" report "$rep/session.csv"
  expect 2 "compare-model compares two models in a session report" -- "$emocam" --video "$clip" --headless --compare-model "$src/assets/fer2013.emo"
  expect 0 "report: .*summary.txt" -- "$emocam" report "$rep/session.csv" "$rep/compare.csv" --out "$work/rep3" --video "$clip" --model "$src/assets/fer2013.emo"
  # the window (SDL's dummy driver) writes the same report when it closes
  expect 0 "report: .*report.html" -- "$emocam" --video "$clip" --frames 30 --report "$work/rep4"
  local rows; rows=$(($(wc -l < "$work/rep4/session.csv") - 1))
  grep -q "\"rows\": $rows," "$work/rep4/summary.json" && [ "$rows" -ge 30 ] && pass "window run: $rows rows reported" || fail "window run: summary.json does not count the $rows CSV rows"
  expect 2 "a looping video has no single timeline" -- "$emocam" --video "$clip" --loop --frames 5 --report "$work/rep5"
}

case_usage() {
  expect 0 'train' -- "$emocam" --help
  local h; h=$("$emocam" --help)
  for sub in train eval predict bench --camera --video; do
    grep -q -- "$sub" <<<"$h" || fail "--help does not mention $sub"
  done
  expect 0 '^emocam [0-9]' -- "$emocam" --version
  expect 2 "^emocam: unknown command 'frobnicate'" -- "$emocam" frobnicate
  for sub in train eval predict bench; do
    expect 0 "usage: emocam $sub" -- "$emocam" "$sub" --help
  done
  expect 0 'usage: emocam' -- "$emocam" --help
  expect 2 '^emocam: train: unknown option' -- "$emocam" train --frob
  expect 2 '^emocam: --epochs: expected an integer' -- "$emocam" train --data x --out y --epochs 3x
  expect 2 '^emocam: --lr needs a value' -- "$emocam" train --data x --out y --lr
  expect 2 '^emocam: train: --data DIR and --out MODEL are required' -- "$emocam" train
}

case_train_errors() {
  expect 1 "^emocam: $work/nothere: No such file" -- "$emocam" train --data "$work/nothere" --out "$work/m.emo" --arch "$small_arch"
  mkdir -p "$work/one/happy" && cp "$fixtures"/faces/happy/*.jpg "$work/one/happy/"
  expect 1 "$work/one: found 1 class folder, need at least 2" -- "$emocam" train --data "$work/one" --out "$work/m.emo" --arch "$small_arch"
  mkdir -p "$work/one/sad"
  expect 1 "$work/one/sad: empty class folder" -- "$emocam" train --data "$work/one" --out "$work/m.emo" --arch "$small_arch"
  echo "not an image" > "$work/one/sad/notes.txt"
  cp "$fixtures"/faces/sad/*.jpg "$work/one/sad/"
  expect 0 "skipping $work/one/sad/notes.txt: not a decodable image" -- "$emocam" train --data "$work/one" --out "$work/m.emo" --arch "$small_arch" --epochs 1 --val-split 0
  expect 0 "skipped 1 file that is not" -- "$emocam" train --data "$work/one" --out "$work/m.emo" --arch "$small_arch" --epochs 1 --val-split 0
  printf 'input 48 48 1\nconv 8 3 1\nfrobnicate 3\n' > "$work/bad.arch"
  expect 1 "bad.arch:3: .*frobnicate" -- "$emocam" train --data "$work/one" --out "$work/m2.emo" --arch "$work/bad.arch"
  [ -e "$work/m2.emo" ] && fail "a failed run left $work/m2.emo behind"
  expect 1 "^emocam: $work/missing.arch" -- "$emocam" train --data "$work/one" --out "$work/m2.emo" --arch "$work/missing.arch"
  expect 1 "$work/nothere.emo" -- "$emocam" train --data "$work/one" --out "$work/m2.emo" --init "$work/nothere.emo"
}

case_predict_errors() {
  mkdir -p "$work/d/a" "$work/d/b"
  cp "$fixtures"/faces/happy/*.jpg "$work/d/a/"; cp "$fixtures"/faces/sad/*.jpg "$work/d/b/"
  "$emocam" train --data "$work/d" --out "$work/m.emo" --arch "$small_arch" --epochs 1 --val-split 0 >/dev/null 2>&1 || fail "training a 2-class model failed"
  echo "hello" > "$work/text.jpg"
  local img; img=$(ls "$fixtures"/faces/happy/*.jpg | head -1)
  expect 1 "^emocam: $work/text.jpg: not a decodable image" -- "$emocam" predict --model "$work/m.emo" "$work/text.jpg" "$img"
  local out; out=$("$emocam" predict --model "$work/m.emo" "$work/text.jpg" "$img" 2>/dev/null)
  grep -q "^$img: [ab] " <<<"$out" || fail "the good image was not predicted after the bad one: $out"
  expect 1 "$work/none.emo" -- "$emocam" predict --model "$work/none.emo" "$img"
  head -c 100 "$work/m.emo" > "$work/trunc.emo"
  expect 1 "trunc.emo: .*(truncated|CRC)" -- "$emocam" predict --model "$work/trunc.emo" "$img"
  expect 2 "^emocam: predict: no image files" -- "$emocam" predict --model "$work/m.emo"
  mkdir -p "$work/e/a" "$work/e/zebra"; cp "$img" "$work/e/a/"; cp "$img" "$work/e/zebra/"
  expect 1 "class folder 'zebra' is not a class of the model \(model: a, b; folders: a, zebra\)" -- "$emocam" eval --model "$work/m.emo" --data "$work/e"
}

# Mean training loss of the first and last epoch from the CSV log.
first_last_loss() { awk -F, 'NR==2{f=$3} END{print f, $3}' "$1"; }

case_train_tiny() {
  "$emocam" train --data "$fixtures/faces" --out "$work/tiny.emo" --arch "$small_arch" \
    --epochs 25 --batch 8 --val-split 0 --no-augment --lr 0.003 --label-smoothing 0 --seed 3 > "$work/log.txt" 2>&1
  [ $? -eq 0 ] || { fail "tiny training failed: $(tail -5 "$work/log.txt")"; return; }
  [ -s "$work/tiny.emo" ] || fail "no model written"
  [ -s "$work/tiny.log.csv" ] || fail "no CSV log beside the model"
  [ -s "$work/tiny.curves.png" ] || fail "no learning-curve PNG beside the model"
  [ -e "$work/tiny.emo.ckpt" ] && fail "checkpoint left behind after a finished run"
  read -r first last < <(first_last_loss "$work/tiny.log.csv")
  awk -v f="$first" -v l="$last" 'BEGIN{exit !(l < 0.5 * f)}' && pass "loss fell from $first to $last" \
    || fail "training loss did not fall by half: $first -> $last"
  # The model has learnt its training set: predict agrees with most labels.
  local right=0 total=0
  for f in "$fixtures"/faces/*/*.jpg; do
    want=$(basename "$(dirname "$f")")
    got=$("$emocam" predict --model "$work/tiny.emo" "$f" | head -1 | awk '{print $2}')
    total=$((total + 1)); [ "$got" = "$want" ] && right=$((right + 1))
  done
  [ $((right * 10)) -ge $((total * 8)) ] && pass "predict right on $right/$total training images" \
    || fail "predict right on only $right/$total training images"
  "$emocam" predict --json --model "$work/tiny.emo" "$fixtures"/faces/happy/*.jpg > "$work/p.json" || fail "predict --json failed"
  python3 -c "
import json,sys
a=json.load(open('$work/p.json'))
assert len(a)==6, len(a)
for o in a:
    assert set(o)=={'file','label','confidence','probabilities'}, o.keys()
    assert abs(sum(o['probabilities'].values())-1)<1e-3
    assert o['probabilities'][o['label']]==o['confidence']
" && pass "predict --json well formed" || fail "predict --json malformed"
}

case_train_resume() {
  # An interrupted run leaves a checkpoint that --resume continues to the end.
  "$emocam" train --data "$fixtures/faces" --out "$work/r.emo" --arch "$src/assets/arch/vgg.arch" \
    --epochs 400 --val-split 0.2 --threads 1 > "$work/log.txt" 2>&1 &
  local pid=$!
  for _ in $(seq 1 200); do [ -s "$work/r.emo.ckpt" ] && break; sleep 0.1; done
  sleep 0.5
  kill -INT $pid; wait $pid; local status=$?
  [ $status -eq 130 ] && pass "SIGINT exits 130" || fail "SIGINT exit status $status: $(tail -3 "$work/log.txt")"
  grep -q "checkpoint saved to $work/r.emo.ckpt" "$work/log.txt" || fail "no checkpoint message: $(tail -3 "$work/log.txt")"
  [ -s "$work/r.emo" ] || fail "no best model after the interrupted run"
  "$emocam" predict --model "$work/r.emo" "$fixtures"/faces/sad/*.jpg >/dev/null || fail "model after SIGINT is unusable"
  local done_epochs; done_epochs=$(($(wc -l < "$work/r.log.csv") - 1))
  "$emocam" train --resume "$work/r.emo.ckpt" --epochs $((done_epochs + 2)) > "$work/log2.txt" 2>&1 \
    || fail "resume failed: $(tail -3 "$work/log2.txt")"
  grep -q "^epoch $((done_epochs + 1))/$((done_epochs + 2)):" "$work/log2.txt" && pass "resumed at epoch $((done_epochs + 1))" \
    || fail "resume did not continue at epoch $((done_epochs + 1)): $(grep ^epoch "$work/log2.txt" | head -2)"
  [ $(($(wc -l < "$work/r.log.csv") - 1)) -eq $((done_epochs + 2)) ] || fail "log does not hold all $((done_epochs + 2)) epochs"
  [ -e "$work/r.emo.ckpt" ] && fail "checkpoint left after the resumed run finished"
  expect 1 "r.emo: a model, not a checkpoint" -- "$emocam" train --resume "$work/r.emo"
}

case_train_swa() {
  # --swa N: the last N epochs run at one held learning rate and their mean
  # weights, batch norm re-estimated, replace the best epoch when better on val.
  "$emocam" train --data "$fixtures/faces" --out "$work/s.emo" --arch "$small_arch" --epochs 6 \
    --swa 3 --batch 8 --val-split 0.25 --threads 1 > "$work/log.txt" 2>&1 \
    || { fail "--swa training failed: $(tail -3 "$work/log.txt")"; return; }
  grep -Eq "^swa: mean of the weights of epochs 4-6 \(3\), batch norm re-estimated: val loss [0-9.]+ acc [0-9.]+%.*: (kept|the best epoch kept)$" "$work/log.txt" \
    && pass "swa line: $(grep ^swa: "$work/log.txt")" || fail "no swa line: $(tail -4 "$work/log.txt")"
  local lrs; lrs=$(awk -F, 'NR>=4 && NR<=7 {print $2}' "$work/s.log.csv" | tr '\n' ' ')
  read -r l3 l4 l5 l6 <<<"$lrs"
  [ "$l4" = "$l5" ] && [ "$l5" = "$l6" ] && [ "$l3" != "$l4" ] && pass "learning rate held over epochs 4-6: $lrs" \
    || fail "learning rate not held over the averaged epochs (epochs 3-6: $lrs)"
  [ -e "$work/s.emo.ckpt" ] || [ -e "$work/s.emo.ckpt.swa" ] && fail "checkpoint or its .swa left behind"
  "$emocam" predict --model "$work/s.emo" "$fixtures"/faces/sad/*.jpg >/dev/null || fail "the --swa model is unusable"
  # Without val there is nothing to compare with: the mean is the model.
  "$emocam" train --data "$fixtures/faces" --out "$work/n.emo" --arch "$small_arch" --epochs 3 \
    --swa 2 --batch 8 --val-split 0 --threads 1 > "$work/log.txt" 2>&1
  grep -q "^model: $work/n.emo (mean of the last 2 epochs)" "$work/log.txt" && pass "without val the mean is the model" \
    || fail "without val: $(tail -2 "$work/log.txt")"
  expect 2 "--swa 3 must be less than --epochs 3" -- "$emocam" train --data "$fixtures/faces" --out "$work/x.emo" --epochs 3 --swa 3

  # Interrupted inside the averaged epochs, --resume carries the mean on.
  "$emocam" train --data "$fixtures/faces" --out "$work/r.emo" --arch "$src/assets/arch/vgg.arch" \
    --epochs 400 --swa 399 --val-split 0.2 --threads 1 > "$work/log.txt" 2>&1 &
  local pid=$!
  for _ in $(seq 1 300); do [ -s "$work/r.emo.ckpt.swa" ] && break; sleep 0.1; done
  sleep 0.5
  kill -INT $pid; wait $pid; local status=$?
  [ $status -eq 130 ] || { fail "SIGINT exit status $status: $(tail -3 "$work/log.txt")"; return; }
  [ -s "$work/r.emo.ckpt.swa" ] || { fail "no .swa beside the checkpoint"; return; }
  local done_epochs; done_epochs=$(($(wc -l < "$work/r.log.csv") - 1))
  cp "$work/r.emo.ckpt" "$work/copy.ckpt"
  cp "$work/r.emo.ckpt.swa" "$work/copy.ckpt.swa"
  local end=$((done_epochs + 1))
  "$emocam" train --resume "$work/r.emo.ckpt" --epochs $end > "$work/log2.txt" 2>&1 \
    || { fail "resume failed: $(tail -3 "$work/log2.txt")"; return; }
  grep -q "^swa: mean of the weights of epochs 2-$end ($done_epochs)" "$work/log2.txt" \
    && pass "resumed after epoch $done_epochs: $(grep ^swa: "$work/log2.txt" | cut -c1-60)" \
    || fail "the mean did not survive the resume: $(grep ^swa: "$work/log2.txt")"
  [ -e "$work/r.emo.ckpt.swa" ] && fail ".swa left after the resumed run finished"
  # A damaged mean is not used: a warning, and the average restarts.
  head -c 100 "$work/copy.ckpt.swa" > "$work/copy.ckpt.swa.cut" && mv "$work/copy.ckpt.swa.cut" "$work/copy.ckpt.swa"
  "$emocam" train --resume "$work/copy.ckpt" --epochs $end > "$work/log3.txt" 2>&1 \
    || { fail "resume with a damaged .swa failed: $(tail -3 "$work/log3.txt")"; return; }
  grep -q "copy.ckpt.swa.*the weight average restarts" "$work/log3.txt" && grep -q "^swa: mean of the weights of epochs $end-$end (1)" "$work/log3.txt" \
    && pass "a damaged .swa: warned, the average restarted" \
    || fail "damaged .swa: $(grep -E "swa" "$work/log3.txt" | head -3)"
}

case_train_reproducible() {
  for run in 1 2; do
    "$emocam" train --data "$fixtures/faces" --out "$work/rep$run.emo" --arch "$small_arch" \
      --epochs 2 --threads 1 --seed 7 --val-split 0.2 >/dev/null 2>&1 || fail "run $run failed"
  done
  cmp -s "$work/rep1.emo" "$work/rep2.emo" && pass "two --threads 1 --seed 7 runs give identical models" \
    || fail "two --threads 1 --seed 7 runs differ"
  "$emocam" train --data "$fixtures/faces" --out "$work/rep3.emo" --arch "$small_arch" \
    --epochs 2 --threads 1 --seed 8 --val-split 0.2 >/dev/null 2>&1 || { fail "seed 8 run failed"; return; }
  if cmp -s "$work/rep1.emo" "$work/rep3.emo"; then
    fail "a different seed gave the same model"
  else
    pass "--seed 8 gives another model than --seed 7"
  fi
}

case_eval_report() {
  "$emocam" train --data "$fixtures/faces" --out "$work/e.emo" --arch "$small_arch" --epochs 3 --val-split 0 >/dev/null 2>&1 || fail "training failed"
  "$emocam" eval --model "$work/e.emo" --data "$fixtures/faces" --report "$work/rep" --json "$work/m.json" > "$work/out.txt" 2>&1 \
    || { fail "eval failed: $(tail -3 "$work/out.txt")"; return; }
  for word in precision recall f1-score support accuracy "macro avg" "weighted avg"; do
    grep -q "$word" "$work/out.txt" || fail "report lacks '$word'"
  done
  for png in confusion confusion_normalized correct incorrect reliability; do
    [ -s "$work/rep/$png.png" ] || fail "no $png.png"
  done
  python3 -c "
import json
m=json.load(open('$work/m.json'))
for k in ['accuracy','balanced_accuracy','macro_f1','weighted_f1','ece','classes','per_class','confusion','images']:
    assert k in m, k
assert m['images']==42 and len(m['classes'])==7
assert sum(map(sum,m['confusion']))==42
" && pass "eval --json complete" || fail "eval --json incomplete"
}

case_fer_subset() {
  [ -d "$shared/fer2013/train" ] || { echo "skipped: $shared/fer2013 not present"; exit 77; }
  # A few hundred real images of 4 classes must beat chance (25%) clearly.
  for split in train val; do
    for c in angry happy sad surprise; do
      mkdir -p "$work/$split/$c"
      n=$([ $split = train ] && echo 150 || echo 50)
      ls "$shared/fer2013/$split/$c" | sort | head -$n | while read -r f; do ln -s "$shared/fer2013/$split/$c/$f" "$work/$split/$c/$f"; done
    done
  done
  "$emocam" train --data "$work/train" --val "$work/val" --out "$work/f.emo" --arch "$src/assets/arch/vgg.arch" --epochs 20 --batch 32 --patience 0 --seed 1 > "$work/log.txt" 2>&1 \
    || { fail "training failed: $(tail -3 "$work/log.txt")"; return; }
  acc=$("$emocam" eval --model "$work/f.emo" --data "$work/val" --json - 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['accuracy'])")
  awk -v a="$acc" 'BEGIN{exit !(a >= 0.40)}' && pass "val accuracy $acc on 4 classes (chance 0.25)" \
    || fail "val accuracy $acc does not beat chance (0.25) clearly"
}

# Balanced accuracy of a model on a labelled folder.
balanced_accuracy() {
  "$emocam" eval --model "$1" --data "$2" --json - 2>/dev/null \
    | python3 -c "import json,sys; print(json.load(sys.stdin)['balanced_accuracy'])"
}

case_finetune() {
  # The seed's case: 8 classes, ~150 images. Fine-tuning the default model
  # must beat training from scratch with the same short schedule.
  local tiny=$shared/mux8-tiny/train val=$shared/mux8/val model=$src/assets/fer2013.emo
  [ -d "$tiny" ] && [ -d "$val" ] || { echo "skipped: $shared/mux8-tiny or mux8/val not present"; exit 77; }
  [ -f "$model" ] || { echo "skipped: default model $model not present"; exit 77; }
  local schedule=(--epochs 8 --batch 32 --val-split 0 --seed 1 --lr 0.001)
  "$emocam" train --data "$tiny" --out "$work/scratch.emo" --arch "$src/assets/arch/vgg.arch" "${schedule[@]}" > "$work/scratch.txt" 2>&1 \
    || { fail "training from scratch failed: $(tail -3 "$work/scratch.txt")"; return; }
  "$emocam" train --data "$tiny" --out "$work/tuned.emo" --init "$model" "${schedule[@]}" > "$work/tuned.txt" 2>&1 \
    || { fail "fine-tuning failed: $(tail -3 "$work/tuned.txt")"; return; }
  grep -q "new classifier head" "$work/tuned.txt" || fail "fine-tuning did not report a new head for the 8 classes"
  local scratch tuned
  scratch=$(balanced_accuracy "$work/scratch.emo" "$val")
  tuned=$(balanced_accuracy "$work/tuned.emo" "$val")
  awk -v s="$scratch" -v t="$tuned" 'BEGIN{exit !(t > s + 0.05)}' \
    && pass "mux8/val balanced accuracy: fine-tuned $tuned > scratch $scratch" \
    || fail "fine-tuned ($tuned) does not beat scratch ($scratch) by 5 points on mux8/val"
}

"case_$case_name"
if [ $failures -gt 0 ]; then echo "$failures failure(s)"; exit 1; fi
exit 0
