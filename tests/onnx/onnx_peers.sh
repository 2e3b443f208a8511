#!/usr/bin/env bash
# ONNX against its real peers. Usage:
#   onnx_peers.sh torch|runtimes EMOCAM TEST_ONNX SRC_DIR BUILD_DIR PROJECT_DIR
# torch:    PyTorch exports new networks (torch_models.py, seed 7) and
#           test_onnx checks nn gives PyTorch's probabilities within 1e-4.
# runtimes: `emocam export` of the default model passes onnx.checker, and
#           onnxruntime (npm's onnxruntime-node) gives emocam predict's
#           probabilities within 1e-4 on real faces; importing the export
#           gives the model back (the same predictions).
# Exits 0 (pass), 1 (fail) or 77 (skipped: the peer is not installed).
set -u
mode=$1 emocam=$2 test_onnx=$3 src=$4 build=$5 project=$6
py=/usr/bin/python3 # Debian's, where python3-torch and python3-onnx live
work=$(mktemp -d /tmp/emocam-onnx.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

case_torch() {
  if ! "$py" -c 'import torch' 2>/dev/null; then
    echo "skipped: no PyTorch ($py -c 'import torch' failed; Debian package python3-torch)"
    exit 77
  fi
  "$py" "$src/torch_models.py" "$work/torch" 7 2>&1 | grep -v -i warn || fail "torch_models.py"
  "$test_onnx" "$work/torch" || fail "test_onnx on PyTorch's seed-7 exports"
}

# ../fixtures/faces/*/*.jpg as 48x48 grey PGM (what both sides read).
faces_as_pgm() {
  mkdir -p "$work/faces"
  local f i=0
  for f in "$project"/tests/fixtures/faces/*/*.jpg; do
    ffmpeg -v error -y -i "$f" -vf scale=48:48 -pix_fmt gray "$work/faces/$i.pgm" || return 1
    i=$((i + 1))
    [ $i -ge 12 ] && break
  done
}

case_runtimes() {
  local model=$project/assets/fer2013.emo onnx=$work/fer2013.onnx ran=0
  "$emocam" export --model "$model" --out "$onnx" || { fail "emocam export"; return; }
  faces_as_pgm || { fail "ffmpeg could not convert the fixture faces"; return; }
  "$emocam" predict --json "$work"/faces/*.pgm > "$work/emocam.json" || { fail "emocam predict"; return; }
  # a network with branches (format v2), its input and nn's probabilities
  "$test_onnx" --write-v2 "$work" >/dev/null || { fail "test_onnx --write-v2"; return; }

  if "$py" -c 'import onnx' 2>/dev/null; then
    "$py" - "$onnx" "$work/v2.onnx" <<'PY' && ran=$((ran + 1)) || fail "onnx.checker refused the export"
import sys, onnx
for path in sys.argv[1:]:
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    meta = {p.key: p.value for p in m.metadata_props}
    ops = sorted({n.op_type for n in m.graph.node})
    print(f"onnx.checker (onnx {onnx.__version__}, full check) on {path.split('/')[-1]}: passed; "
          f"opset {m.opset_import[0].version}, {len(m.graph.node)} nodes ({', '.join(ops)}), "
          f"classes {meta['classes']}, pixel_scale {meta['pixel_scale']}, pixel_mean {meta['pixel_mean']}")
PY
  else
    echo "skipped part: onnx.checker (no python3-onnx)"
  fi

  # onnxruntime-node: from the build tree, installed there once (its install
  # script only fetches GPU extras, hence --ignore-scripts)
  local ort=$build/ort
  if [ ! -d "$ort/node_modules/onnxruntime-node" ] && command -v npm >/dev/null; then
    timeout 300 npm install --silent --ignore-scripts --prefix "$ort" onnxruntime-node >/dev/null 2>&1 ||
      echo "note: npm install onnxruntime-node failed (no registry?)"
  fi
  if [ -d "$ort/node_modules/onnxruntime-node" ] && command -v node >/dev/null; then
    NODE_PATH=$ort/node_modules node - "$onnx" "$work/emocam.json" <<'JS' && ran=$((ran + 1)) || fail "onnxruntime differs from emocam"
const fs = require('fs');
const ort = require('onnxruntime-node');
const [onnx, want] = process.argv.slice(2);
const expected = JSON.parse(fs.readFileSync(want, 'utf8'));
function pgm(path) { // P5, 48x48, maxval 255
  const b = fs.readFileSync(path);
  let at = 0, fields = [];
  while (fields.length < 4) {
    while (/\s/.test(String.fromCharCode(b[at]))) at++;
    let s = at;
    while (!/\s/.test(String.fromCharCode(b[at]))) at++;
    fields.push(b.toString('latin1', s, at));
  }
  return {w: +fields[1], h: +fields[2], px: b.subarray(at + 1)};
}
(async () => {
  const s = await ort.InferenceSession.create(onnx);
  const classes = ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'];
  const n = expected.length, x = new Float32Array(n * 48 * 48);
  expected.forEach((e, i) => {
    const img = pgm(e.file);
    for (let k = 0; k < 48 * 48; k++) x[i * 2304 + k] = (img.px[k] - 0) * (1 / 255);
  });
  const out = (await s.run({input: new ort.Tensor('float32', x, [n, 1, 48, 48])})).probabilities.data;
  let worst = 0, agree = 0;
  expected.forEach((e, i) => {
    let best = 0;
    classes.forEach((c, k) => {
      worst = Math.max(worst, Math.abs(out[i * 7 + k] - e.probabilities[c]));
      if (out[i * 7 + k] > out[i * 7 + best]) best = k;
    });
    agree += classes[best] === e.label;
  });
  console.log(`onnxruntime-node ${require('onnxruntime-node/package.json').version}: ${n} faces, ` +
              `max |onnxruntime - emocam predict| ${worst.toExponential(2)}, top label agrees on ${agree} of ${n}`);
  // the network with branches, on the raw input nn saw
  const f32 = p => { const b = fs.readFileSync(p); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };
  const dir = require('path').dirname(want);
  const s2 = await ort.InferenceSession.create(dir + '/v2.onnx');
  const x2 = f32(dir + '/v2.input.f32'), p2 = f32(dir + '/v2.probs.f32');
  const o2 = (await s2.run({input: new ort.Tensor('float32', Float32Array.from(x2), [3, 3, 20, 18])})).probabilities.data;
  let worst2 = 0;
  for (let i = 0; i < p2.length; i++) worst2 = Math.max(worst2, Math.abs(o2[i] - p2[i]));
  console.log(`onnxruntime on a network with branches (add, mul, concat, every activation, flip ` +
              `averaging, temperature): max |onnxruntime - nn| ${worst2.toExponential(2)}`);
  process.exit(worst <= 1e-4 && agree === n && worst2 <= 1e-4 ? 0 : 1);
})().catch(e => { console.error(e); process.exit(1); });
JS
  else
    echo "skipped part: onnxruntime (no node, or npm could not install onnxruntime-node)"
  fi

  # the export imported again predicts what the model did
  "$emocam" import "$onnx" --out "$work/back.emo" >/dev/null || fail "emocam import of the export"
  "$emocam" predict --json --model "$work/back.emo" "$work"/faces/*.pgm > "$work/back.json"
  "$emocam" predict --json --model "$onnx" "$work"/faces/*.pgm > "$work/direct.json"
  cmp -s "$work/emocam.json" "$work/back.json" && cmp -s "$work/emocam.json" "$work/direct.json" &&
    echo "import of the export, and --model FILE.onnx: the same predictions as the .emo, to 10 digits" ||
    fail "the imported export predicts differently"
  if [ $ran -eq 0 ]; then
    echo "skipped: neither onnx.checker nor onnxruntime is installed"
    exit 77
  fi
}

case "$mode" in
torch) case_torch ;;
runtimes) case_runtimes ;;
*) echo "unknown mode $mode"; exit 2 ;;
esac
[ $failures -eq 0 ] && echo "passed" || { echo "$failures failure(s)"; exit 1; }
