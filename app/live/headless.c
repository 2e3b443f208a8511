/* headless: batch replay of the live pipeline (capture -> crops -> CNN ->
 * smoothing) writing per-frame CSV rows and a summary. The same per-frame
 * recipe as the window (frame.h), run one stage after another on the calling
 * thread so that every frame is processed exactly once, in order.
 */
#include "live/headless.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/cli.h"
#include "common/clock.h"
#include "live/collect.h"
#include "live/frame.h"

/* The next frame: CAPTURE_OK, TIMEOUT or EOF, or another code after
 * printing why the run cannot go on (after n frames). */
static int next_frame(capture_source *src, capture_frame *f, int64_t n) {
  int rc = capture_next(src, f, 100);
  if (rc == CAPTURE_DISCONNECTED)
    cli_error("camera disconnected after %lld frames", (long long)n);
  else if (rc != CAPTURE_OK && rc != CAPTURE_TIMEOUT && rc != CAPTURE_EOF)
    cli_error("%s (after %lld frames)", capture_error(src), (long long)n);
  return rc;
}

/* --collect: the crops' folder and the labels of the frames to save. */
typedef struct {
  collector col;
  int *labels;     /* [nlabels] class of each frame, -1 unlabelled; NULL: not collecting */
  int64_t nlabels;
} labelled_crops;

static int open_collect(labelled_crops *lc, const classifier *cl, const headless_opts *o) {
  char err[1400];
  const char *const *names = (const char *const *)cl->model.class_names;
  if (live_read_labels(o->labels_path, names, cl->num_classes, &lc->labels, NULL, &lc->nlabels,
                       err, sizeof err) != 0 ||
      collect_open(&lc->col, o->collect_dir, names, cl->num_classes, err, sizeof err) != 0) {
    cli_error("%s", err);
    return -1;
  }
  return 0;
}

/* The frame's first crop saved under the frame's label (if it has one),
 * unless the detector is on and no face is in view (the centre square is no
 * face). Returns 1 saved, 0 not, -1 after a printed error. */
static int collect_labelled(labelled_crops *lc, const capture_image *img, const crop_tag *tag,
                            int detecting, int64_t seq) {
  collector *col = &lc->col;
  int label = seq < lc->nlabels ? lc->labels[seq] : -1;
  if (label < 0 || (detecting && tag->id < 0)) return 0;
  char err[1400];
  int rc = collect_save(col, img, tag->box, label, seq, NULL, 0, err, sizeof err);
  if (rc < 0) cli_error("%s", err);
  return rc;
}

static void collect_summary(const collector *col) {
  fprintf(stderr, "collected in %s: %d crops", col->dir, collect_total(col));
  for (int k = 0; k < col->num_classes; k++)
    if (col->counts[k]) fprintf(stderr, ", %s %d", col->class_names[k], col->counts[k]);
  fputc('\n', stderr);
}

/* --loop: the video from its start again. */
static int reopen(capture_source **src, const char *path) {
  char err[CAPTURE_ERR_LEN];
  capture_close(*src);
  *src = NULL;
  capture_video_opts vo = {path, CAPTURE_ALL, 0};
  if (capture_open_video(src, &vo, err, sizeof err) == CAPTURE_OK) return 0;
  cli_error("%s", err);
  return -1;
}

/* The end of a run on stderr: the source's last warning, the log's summary,
 * the crops collected and the camera's figures. */
static void print_summary(capture_source *src, const live_log *lg, const labelled_crops *lc,
                          int camera, int ok, double seconds, int interrupted) {
  const char *warning = capture_error(src);
  if (ok && warning && *warning) cli_warn("%s", warning);
  live_log_summary(lg, seconds, interrupted);
  if (lc->labels) collect_summary(&lc->col);
  if (camera) {
    capture_stats st;
    capture_get_stats(src, &st);
    fprintf(stderr, "camera: %dx%d %s at %.1f fps, %lld frames dropped\n", st.width, st.height,
            st.pixel_format, st.fps, (long long)st.dropped);
  }
}

int headless_run(capture_source **srcp, classifier *cl, const headless_opts *o) {
  capture_source *src = *srcp;
  char err[CAPTURE_ERR_LEN];
  int code = EXIT_OK, interrupted = 0;
  face_stage fs;
  live_log *lg = NULL;
  float *input = NULL, *probs = NULL;
  labelled_crops lc = {0};
  if (live_log_open(&lg, cl, o->csv_path, o->labels_path, err, sizeof err) != 0) {
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
  if (o->collect_dir && open_collect(&lc, cl, o) != 0) {
    code = EXIT_RUNTIME;
    goto done;
  }
  capture_stats st;
  capture_get_stats(src, &st);
  /* Frame interval for the EMA when time stamps do not advance. */
  const double nominal_dt = st.fps > 0 ? 1.0 / st.fps : 1.0 / 30;

  double start = clock_now_s(), prev_pts = 0;
  int64_t n = 0;
  while (o->max_frames <= 0 || n < o->max_frames) {
    if (o->stop && *o->stop) {
      interrupted = 1;
      break;
    }
    capture_frame f;
    int rc = next_frame(src, &f, n);
    if (rc == CAPTURE_TIMEOUT) continue;
    if (rc == CAPTURE_EOF && o->loop && n > 0) {
      if (reopen(srcp, o->video_path) != 0) {
        code = EXIT_RUNTIME;
        break;
      }
      src = *srcp;
      continue;
    }
    if (rc == CAPTURE_EOF) break;
    if (rc != CAPTURE_OK) {
      code = EXIT_RUNTIME;
      break;
    }
    capture_image img = {f.rgb, f.width, f.height, f.width * 3, 3};
    double pts = f.pts_s, crop_ms;
    int64_t seq = f.seq;
    crop_tag tags[FACES_MAX];
    int nc = frame_crop(&fs, cl, &img, pts, input, tags, &crop_ms);
    int saved = nc > 0 && lc.labels ? collect_labelled(&lc, &img, &tags[0], o->detector != NULL, seq) : 0;
    capture_release(src, &f);
    if (nc < 0) cli_error("out of memory in the face detector (frame %lld)", (long long)seq);
    if (nc < 0 || saved < 0) {
      code = EXIT_RUNTIME;
      break;
    }
    if (classifier_run(cl, input, nc, probs) != 0) {
      cli_error("%s: inference failed on frame %lld", cl->name, (long long)seq);
      code = EXIT_RUNTIME;
      break;
    }
    frame_results(&fs, cl, lg, seq, pts, frame_dt(n == 0, pts, prev_pts, nominal_dt), nc, tags,
                  probs);
    prev_pts = pts;
    n++;
  }
  print_summary(src, lg, &lc, o->camera, code == EXIT_OK, clock_now_s() - start, interrupted);
done:
  free(lc.labels);
  if (live_log_close(lg) != 0) code = EXIT_RUNTIME;
  free(input);
  free(probs);
  return code;
}
