#!/bin/sh
# An hour of 30 fps video as a live run's CSV (108,000 rows, one face whose
# expression changes every few seconds, leaving the view now and then), for
# timing `emocam report` on a long session:
#   tests/bench/session_hour.sh OUT.csv
#   farm-bench -- build/emocam report OUT.csv --out /tmp/hour-report
set -eu
out=${1:?usage: session_hour.sh OUT.csv}
awk 'BEGIN {
  srand(7)
  n = split("angry disgust fear happy neutral sad surprise", c, " ")
  printf "frame,time_s,face,x,y,w,h,label,confidence"
  for (k = 1; k <= n; k++) printf ",p_%s", c[k]
  print ",smoothed_label,track"
  track = 0; lead = 4; shown = 4; away = 0
  for (f = 0; f < 108000; f++) {
    t = f / 30
    if (f % 90 == 0 && rand() < 0.5) lead = 1 + int(rand() * n)
    if (f % 3000 == 0 && f > 0) { away = 45; track++ }   # out of view for 1.5 s
    if (away > 0) {
      away--
      printf "%d,%.4f,-1,80,0,480,480,neutral,0.40000", f, t
      for (k = 1; k <= n; k++) printf ",%.5f", (k == 5 ? 0.4 : 0.1)
      print ",neutral,-1"
      continue
    }
    s = 0
    for (k = 1; k <= n; k++) { p[k] = (k == lead ? 3 : 0.3) + rand(); s += p[k] }
    best = 1
    for (k = 1; k <= n; k++) { p[k] /= s; if (p[k] > p[best]) best = k }
    if (f % 10 == 0) shown = best
    printf "%d,%.4f,0,200,120,160,160,%s,%.5f", f, t, c[best], p[best]
    for (k = 1; k <= n; k++) printf ",%.5f", p[k]
    printf ",%s,%d\n", c[shown], track
  }
}' > "$out"
