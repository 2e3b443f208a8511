/* headless: batch replay of the live pipeline (capture -> centre crop ->
 * resize -> CNN -> smoothing) writing per-frame CSV rows and a summary. The
 * same stages as the window, run one after another on the calling thread so
 * that every frame is processed exactly once, in order.
 */
#include "headless.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "faces.h"
#include "pipeline.h"
#include "smoothing.h"

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

int headless_read_labels(const char *path, const char *const *class_names, int num_classes,
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

struct headless_log {
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

int headless_log_open(headless_log **out, const classifier *cl, const char *csv_path,
                      const char *labels_path, char *err, size_t errlen) {
  *out = NULL;
  if (cl->num_classes > SMOOTH_MAX_CLASSES) {
    snprintf(err, errlen, "%s: %d classes, at most %d supported", cl->path, cl->num_classes,
             SMOOTH_MAX_CLASSES);
    return -1;
  }
  headless_log *lg = calloc(1, sizeof *lg);
  if (!lg) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  lg->cl = cl;
  lg->csv_path = csv_path;
  lg->labels_path = labels_path;
  lg->prev_shown = -1;
  if (labels_path &&
      headless_read_labels(labels_path, (const char *const *)cl->model.class_names,
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
    fputs(",smoothed_label\n", lg->csv);
  }
  *out = lg;
  return 0;
}

void headless_log_frame(headless_log *lg, int64_t frame, double time_s, int face,
                        capture_rect box, const float *probs, int raw, int shown) {
  char *const *names = lg->cl->model.class_names;
  if (lg->csv) {
    fprintf(lg->csv, "%lld,%.4f,%d,%d,%d,%d,%d,%s,%.5f", (long long)frame, time_s, face, box.x,
            box.y, box.w, box.h, names[raw], probs[raw]);
    for (int c = 0; c < lg->cl->num_classes; c++) fprintf(lg->csv, ",%.5f", probs[c]);
    fprintf(lg->csv, ",%s\n", names[shown]);
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

int64_t headless_log_frames(const headless_log *lg) { return lg->frames; }

void headless_log_summary(const headless_log *lg, double seconds, int interrupted) {
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

int headless_log_close(headless_log *lg) {
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

int headless_run(capture_source *src, classifier *cl, const headless_opts *o) {
  char err[CAPTURE_ERR_LEN];
  int code = EXIT_OK, interrupted = 0;
  face_stage fs;
  headless_log *lg = NULL;
  float *input = NULL, *probs = NULL;
  if (headless_log_open(&lg, cl, o->csv_path, o->labels_path, err, sizeof err) != 0) {
    cli_error("%s", err);
    return EXIT_RUNTIME;
  }
  int max_faces = o->detector ? o->max_faces : 1;
  if (faces_stage_init(&fs, o->detector, max_faces, cl->num_classes, o->smooth_s,
                       o->crop_scale) != 0) {
    cli_error("bad --max-faces or --smooth");
    code = EXIT_USAGE;
    goto done;
  }
  size_t sample = (size_t)cl->c * cl->h * cl->w;
  input = malloc(sizeof(float) * sample * FACES_MAX);
  probs = malloc(sizeof(float) * (size_t)cl->num_classes * FACES_MAX);
  if (!input || !probs) {
    cli_error("out of memory");
    code = EXIT_RUNTIME;
    goto done;
  }
  capture_stats st;
  capture_get_stats(src, &st);
  /* Frame interval for the EMA when time stamps do not advance. */
  const double nominal_dt = st.fps > 0 ? 1.0 / st.fps : 1.0 / 30;

  double start = pipeline_now(), prev_pts = 0;
  int64_t n = 0;
  while (o->max_frames <= 0 || n < o->max_frames) {
    if (o->stop && *o->stop) {
      interrupted = 1;
      break;
    }
    capture_frame f;
    int rc = capture_next(src, &f, 100);
    if (rc == CAPTURE_TIMEOUT) continue;
    if (rc == CAPTURE_EOF) break;
    if (rc == CAPTURE_DISCONNECTED) {
      cli_error("camera disconnected after %lld frames", (long long)n);
      code = EXIT_RUNTIME;
      break;
    }
    if (rc != CAPTURE_OK) {
      cli_error("%s (after %lld frames)", capture_error(src), (long long)n);
      code = EXIT_RUNTIME;
      break;
    }
    capture_image img = {f.rgb, f.width, f.height, f.width * 3, 3};
    double pts = f.pts_s;
    int64_t seq = f.seq;
    capture_rect crops[FACES_MAX];
    int ids[FACES_MAX];
    int nc = faces_stage_frame(&fs, &img, pts, crops, ids);
    for (int i = 0; i < nc; i++)
      capture_crop_resize(&img, crops[i], cl->c, cl->h, cl->w, input + i * sample);
    capture_release(src, &f);
    if (nc < 0) {
      cli_error("out of memory in the face detector (frame %lld)", (long long)seq);
      code = EXIT_RUNTIME;
      break;
    }
    if (classifier_run(cl, input, nc, probs) != 0) {
      cli_error("%s: inference failed on frame %lld", cl->name, (long long)seq);
      code = EXIT_RUNTIME;
      break;
    }
    double dt = n == 0 ? 0.0 : pts - prev_pts > 0 ? pts - prev_pts : nominal_dt;
    prev_pts = pts;
    for (int i = 0; i < nc; i++) {
      const float *p = probs + (size_t)i * cl->num_classes;
      capture_rect box;
      int face, shown = faces_stage_result(&fs, ids[i], i, p, dt, img.width, img.height, &box, &face);
      headless_log_frame(lg, seq, pts, face, box, p, classifier_argmax(p, cl->num_classes), shown);
    }
    n++;
  }
  const char *warning = capture_error(src);
  if (code == EXIT_OK && warning && *warning) cli_warn("%s", warning);
  headless_log_summary(lg, pipeline_now() - start, interrupted);
  if (o->camera) {
    capture_get_stats(src, &st);
    fprintf(stderr, "camera: %dx%d %s at %.1f fps, %lld frames dropped\n", st.width, st.height,
            st.pixel_format, st.fps, (long long)st.dropped);
  }
done:
  if (headless_log_close(lg) != 0) code = EXIT_RUNTIME;
  free(input);
  free(probs);
  return code;
}
