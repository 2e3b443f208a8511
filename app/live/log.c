/* log: the per-frame record of a live run, window or headless: a CSV row per
 * crop, the tallies of the end-of-run summary, and the labels file that
 * scores them. */
#include "live/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "live/faces.h"
#include "common/smoothing.h"

#define LABELS_MAX_FRAMES 100000000 /* a sanity bound on frame numbers */

/* Splits line (modified) at commas into at most max fields; returns count. */
static int split_csv(char *line, char **fields, int max) {
  int n = 0;
  line[strcspn(line, "\r\n")] = '\0';
  for (char *p = line; n < max;) {
    fields[n++] = p;
    char *comma = strchr(p, ',');
    if (!comma) break;
    *comma = '\0';
    p = comma + 1;
  }
  return n;
}

/* A non-negative integer field, or -1. */
static long parse_count(const char *s) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  return errno || end == s || *end || v < 0 || v > 1000000 ? -1 : v;
}

int live_read_labels(const char *path, const char *const *class_names, int num_classes,
                         int **labels_out, capture_rect **boxes_out, int64_t *count_out,
                         char *err, size_t errlen) {
  *labels_out = NULL;
  if (boxes_out) *boxes_out = NULL;
  *count_out = 0;
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  char line[4096];
  char *fields[64];
  int frame_col = -1, label_col = -1, box_col[4] = {-1, -1, -1, -1}, rc = -1;
  static const char *const box_names[4] = {"x", "y", "w", "h"};
  int *labels = NULL;
  capture_rect *boxes = NULL;
  int64_t cap = 0, count = 0;
  long lineno = 1;
  if (!fgets(line, sizeof line, f)) {
    snprintf(err, errlen, "%s: empty, expected a header with frame and label columns", path);
    goto done;
  }
  int n = split_csv(line, fields, 64);
  for (int i = 0; i < n; i++) {
    if (strcmp(fields[i], "frame") == 0) frame_col = i;
    if (strcmp(fields[i], "label") == 0) label_col = i;
    for (int k = 0; k < 4; k++)
      if (strcmp(fields[i], box_names[k]) == 0) box_col[k] = i;
  }
  int want_boxes = boxes_out && box_col[0] >= 0 && box_col[1] >= 0 && box_col[2] >= 0 &&
                   box_col[3] >= 0;
  int need = frame_col > label_col ? frame_col : label_col;
  for (int k = 0; want_boxes && k < 4; k++) need = box_col[k] > need ? box_col[k] : need;
  if (frame_col < 0 || label_col < 0) {
    snprintf(err, errlen, "%s:1: header has no %s column, expected frame,label,...", path,
             frame_col < 0 ? "frame" : "label");
    goto done;
  }
  while (fgets(line, sizeof line, f)) {
    lineno++;
    if (line[0] == '\n' || line[0] == '\r') continue;
    n = split_csv(line, fields, 64);
    if (n <= need) {
      snprintf(err, errlen, "%s:%ld: %d fields, expected at least %d", path, lineno, n, need + 1);
      goto done;
    }
    char *end;
    errno = 0;
    long long frame = strtoll(fields[frame_col], &end, 10);
    if (errno || end == fields[frame_col] || *end || frame < 0 || frame >= LABELS_MAX_FRAMES) {
      snprintf(err, errlen, "%s:%ld: frame '%s', expected a number 0..%d", path, lineno,
               fields[frame_col], LABELS_MAX_FRAMES - 1);
      goto done;
    }
    int cls = -1;
    for (int c = 0; c < num_classes; c++)
      if (strcmp(fields[label_col], class_names[c]) == 0) cls = c;
    if (cls < 0) {
      snprintf(err, errlen, "%s:%ld: label '%s' is not one of the model's %d classes", path,
               lineno, fields[label_col], num_classes);
      goto done;
    }
    if (frame >= cap) {
      int64_t ncap = cap ? cap : 1024;
      while (ncap <= frame) ncap *= 2;
      int *grown = realloc(labels, sizeof(int) * (size_t)ncap);
      if (!grown) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto done;
      }
      for (int64_t i = cap; i < ncap; i++) grown[i] = -1;
      labels = grown;
      if (want_boxes) {
        capture_rect *gb = realloc(boxes, sizeof(capture_rect) * (size_t)ncap);
        if (!gb) {
          snprintf(err, errlen, "%s: out of memory", path);
          goto done;
        }
        memset(gb + cap, 0, sizeof(capture_rect) * (size_t)(ncap - cap));
        boxes = gb;
      }
      cap = ncap;
    }
    labels[frame] = cls;
    if (want_boxes) {
      long v[4];
      for (int k = 0; k < 4; k++)
        if ((v[k] = parse_count(fields[box_col[k]])) < 0) {
          snprintf(err, errlen, "%s:%ld: %s '%s', expected a number of pixels", path, lineno,
                   box_names[k], fields[box_col[k]]);
          goto done;
        }
      boxes[frame] = (capture_rect){(int)v[0], (int)v[1], (int)v[2], (int)v[3]};
    }
    if (frame + 1 > count) count = frame + 1;
  }
  if (ferror(f)) {
    snprintf(err, errlen, "%s: read error", path);
    goto done;
  }
  rc = 0;
done:
  fclose(f);
  if (rc == 0) {
    *labels_out = labels;
    if (boxes_out) *boxes_out = boxes;
    *count_out = count;
  } else {
    free(labels);
    free(boxes);
  }
  return rc;
}

struct live_log {
  const classifier *cl; /* borrowed */
  FILE *csv;            /* NULL, stdout or owned */
  const char *csv_path, *labels_path;
  int *labels;          /* [nlabels] class by frame, -1: unlabelled */
  capture_rect *boxes;  /* [nlabels] true face box by frame, or NULL */
  int64_t nlabels;
  int64_t frames;
  int64_t per_label[SMOOTH_MAX_CLASSES]; /* raw label counts */
  int prev_shown;
  int64_t shown_changes;
  int64_t scored, raw_correct, shown_correct;
  int64_t boxed, box_hits; /* frames with a true box; IoU >= 0.5 with ours */
};

#define BOX_HIT_IOU 0.5

int live_log_open(live_log **out, const classifier *cl, const char *csv_path,
                      const char *labels_path, char *err, size_t errlen) {
  *out = NULL;
  if (cl->num_classes > SMOOTH_MAX_CLASSES) {
    snprintf(err, errlen, "%s: %d classes, at most %d supported", cl->path, cl->num_classes,
             SMOOTH_MAX_CLASSES);
    return -1;
  }
  live_log *lg = calloc(1, sizeof *lg);
  if (!lg) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  lg->cl = cl;
  lg->csv_path = csv_path;
  lg->labels_path = labels_path;
  lg->prev_shown = -1;
  if (labels_path &&
      live_read_labels(labels_path, (const char *const *)cl->model.class_names,
                           cl->num_classes, &lg->labels, &lg->boxes, &lg->nlabels, err,
                           errlen) != 0) {
    free(lg);
    return -1;
  }
  if (csv_path) {
    lg->csv = strcmp(csv_path, "-") == 0 ? stdout : fopen(csv_path, "w");
    if (!lg->csv) {
      snprintf(err, errlen, "%s: %s", csv_path, strerror(errno));
      free(lg->labels);
      free(lg->boxes);
      free(lg);
      return -1;
    }
    fputs("frame,time_s,face,x,y,w,h,label,confidence", lg->csv);
    for (int c = 0; c < cl->num_classes; c++)
      fprintf(lg->csv, ",p_%s", cl->model.class_names[c]);
    fputs(",smoothed_label,track\n", lg->csv);
  }
  *out = lg;
  return 0;
}

void live_log_frame(live_log *lg, int64_t frame, double time_s, int face, int track,
                    capture_rect box, const float *probs, int raw, int shown) {
  if (!lg) return;
  char *const *names = lg->cl->model.class_names;
  if (lg->csv) {
    fprintf(lg->csv, "%lld,%.4f,%d,%d,%d,%d,%d,%s,%.5f", (long long)frame, time_s, face, box.x,
            box.y, box.w, box.h, names[raw], probs[raw]);
    for (int c = 0; c < lg->cl->num_classes; c++) fprintf(lg->csv, ",%.5f", probs[c]);
    fprintf(lg->csv, ",%s,%d\n", names[shown], track);
  }
  if (face > 0) return; /* the frame is counted and scored by its first row */
  if (lg->boxes && frame >= 0 && frame < lg->nlabels && lg->boxes[frame].w > 0) {
    lg->boxed++;
    lg->box_hits += faces_iou(box, lg->boxes[frame]) >= BOX_HIT_IOU;
  }
  lg->per_label[raw]++;
  if (lg->prev_shown >= 0 && shown != lg->prev_shown) lg->shown_changes++;
  lg->prev_shown = shown;
  if (frame >= 0 && frame < lg->nlabels && lg->labels[frame] >= 0) {
    lg->scored++;
    lg->raw_correct += raw == lg->labels[frame];
    lg->shown_correct += shown == lg->labels[frame];
  }
  lg->frames++;
}

int64_t live_log_frames(const live_log *lg) { return lg->frames; }

void live_log_summary(const live_log *lg, double seconds, int interrupted) {
  const classifier *cl = lg->cl;
  fprintf(stderr, "frames: %lld processed in %.2f s (%.1f frames/s)%s\n",
          (long long)lg->frames, seconds, seconds > 0 ? lg->frames / seconds : 0.0,
          interrupted ? ", interrupted" : "");
  fprintf(stderr, "labels:");
  for (int c = 0; c < cl->num_classes; c++)
    fprintf(stderr, " %s %.1f%%", cl->model.class_names[c],
            lg->frames ? 100.0 * lg->per_label[c] / lg->frames : 0.0);
  fprintf(stderr, "\nshown label changes: %lld\n", (long long)lg->shown_changes);
  if (lg->labels_path)
    fprintf(stderr, "accuracy vs %s: raw %.1f%%, shown %.1f%% (%lld frames labelled)\n",
            lg->labels_path, lg->scored ? 100.0 * lg->raw_correct / lg->scored : 0.0,
            lg->scored ? 100.0 * lg->shown_correct / lg->scored : 0.0, (long long)lg->scored);
  if (lg->boxed)
    fprintf(stderr, "face box vs %s: IoU >= %.1f in %lld of %lld frames (%.1f%%)\n",
            lg->labels_path, BOX_HIT_IOU, (long long)lg->box_hits, (long long)lg->boxed,
            100.0 * lg->box_hits / lg->boxed);
}

int live_log_close(live_log *lg) {
  if (!lg) return 0;
  int rc = 0;
  if (lg->csv) {
    int bad = fflush(lg->csv) != 0 || ferror(lg->csv);
    if (lg->csv != stdout) bad |= fclose(lg->csv) != 0;
    if (bad) {
      cli_error("%s: write error: %s", lg->csv_path, strerror(errno));
      rc = -1;
    }
  }
  free(lg->labels);
  free(lg->boxes);
  free(lg);
  return rc;
}

