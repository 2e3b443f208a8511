#!/bin/sh
# Makes assets/demo.mp4, the clip `emocam` plays when there is no camera and
# the one the README screenshot shows: 13 fer2013/val faces of all 7 emotions,
# each upscaled to fill the centre 480x480 square of a 640x480 frame for one
# second (30 frames) on a plain background, as a small H.264 file. Also writes
# demo.mp4.labels.csv (frame,label,source), the layout of the shared clips'
# labels files, so `emocam --video assets/demo.mp4 --headless --labels ...`
# works on it.
# usage: assets/make_demo.sh [DATA_DIR]   (default: ../shared/data next to the repo)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-$here/../../shared/data}
val=$data/fer2013/val
[ -d "$val" ] || { echo "make_demo.sh: $val not found (give the shared data folder as argument)" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "make_demo.sh: ffmpeg not found: install the Debian package ffmpeg" >&2; exit 1; }

# Chosen by eye for clear expressions; the order alternates emotions so that a
# change of label is visible every second.
faces="happy/PublicTest_10130075.jpg
surprise/PublicTest_10709121.jpg
neutral/PublicTest_10262886.jpg
sad/PublicTest_11651237.jpg
angry/PublicTest_12693575.jpg
fear/PublicTest_10889919.jpg
disgust/PublicTest_15466645.jpg
happy/PublicTest_10248771.jpg
surprise/PublicTest_11056779.jpg
neutral/PublicTest_10594126.jpg
angry/PublicTest_10813312.jpg
sad/PublicTest_10897412.jpg
fear/PublicTest_10640936.jpg"

fps=30
inputs=""
filters=""
n=0
labels=$here/demo.mp4.labels.csv
echo "frame,label,source" > "$labels"
for f in $faces; do
  inputs="$inputs -loop 1 -framerate $fps -t 1 -i $val/$f"
  # Bicubic upscaling keeps the face smooth rather than blocky; format=gray
  # then yuv420p keeps it grey as in the data set.
  filters="$filters[$n:v]scale=480:480:flags=bicubic,format=gray,format=yuv420p,pad=640:480:80:0:color=0x2b3a4a,setsar=1[v$n];"
  k=0
  while [ $k -lt $fps ]; do
    echo "$((n * fps + k)),${f%%/*},$f" >> "$labels"
    k=$((k + 1))
  done
  n=$((n + 1))
done
concat=""
i=0
while [ $i -lt $n ]; do concat="$concat[v$i]"; i=$((i + 1)); done
# shellcheck disable=SC2086 # $inputs is a list of arguments on purpose
ffmpeg -v error -y $inputs -filter_complex "${filters}${concat}concat=n=$n:v=1:a=0[out]" \
  -map "[out]" -r $fps -c:v libx264 -preset veryslow -crf 26 -tune stillimage \
  -pix_fmt yuv420p -movflags +faststart "$here/demo.mp4"
echo "wrote $here/demo.mp4 ($n faces, $((n * fps)) frames) and $labels"
