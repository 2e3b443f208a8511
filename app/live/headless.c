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

/* What a run holds while frames go through it. */
typedef struct {
  classifier *cl;
  const headless_opts *o;
  face_stage fs;
  live_log *lg;
  float *input, *probs; /* FACES_MAX crops and their probabilities */
  labelled_crops lc;
  double nominal_dt;    /* frame interval for the EMA when time stamps do not advance */
  double prev_pts;
  int64_t n;            /* frames done */
} headless_work;

/* One frame through the recipe: its crops (and the one collected), the
 * network, the smoothing and the CSV row. Releases the frame. */
static int run_frame(headless_work *w, capture_source *src, capture_frame *f) {
  classifier *cl = w->cl;
  capture_image img = {f->rgb, f->width, f->height, f->width * 3, 3};
  double pts = f->pts_s, crop_ms;
  int64_t seq = f->seq;
  crop_tag tags[FACES_MAX];
  int nc = frame_crop(&w->fs, cl, &img, pts, w->input, tags, &crop_ms);
  int saved = nc > 0 && w->lc.labels
                  ? collect_labelled(&w->lc, &img, &tags[0], w->o->detector != NULL, seq)
                  : 0;
  capture_release(src, f);
  if (nc < 0) cli_error("out of memory in the face detector (frame %lld)", (long long)seq);
  if (nc < 0 || saved < 0) return EXIT_RUNTIME;
  if (classifier_run(cl, w->input, nc, w->probs) != 0) {
    cli_error("%s: inference failed on frame %lld", cl->name, (long long)seq);
    return EXIT_RUNTIME;
  }
  double dt = frame_dt(w->n == 0, pts, w->prev_pts, w->nominal_dt);
  frame_results(&w->fs, cl, w->lg, seq, pts, dt, nc, tags, w->probs);
  w->prev_pts = pts;
  w->n++;
  return EXIT_OK;
}

/* Sets up the run: the CSV log, the face stage, the buffers, the crops'
 * folder. Returns EXIT_OK or the exit code, with the message printed. */
static int begin_run(headless_work *w, capture_source *src) {
  char err[CAPTURE_ERR_LEN];
  classifier *cl = w->cl;
  const headless_opts *o = w->o;
  if (live_log_open(&w->lg, cl, o->csv_path, o->labels_path, err, sizeof err) != 0) {
    cli_error("%s", err);
    return EXIT_RUNTIME;
  }
  int max_faces = o->detector ? o->max_faces : 1;
  if (faces_stage_init(&w->fs, o->detector, max_faces, cl->num_classes, o->smooth_s,
                       o->crop_scale) != 0) {
    cli_error("bad --max-faces or --smooth");
    return EXIT_USAGE;
  }
  size_t sample = (size_t)cl->c * cl->h * cl->w;
  w->input = malloc(sizeof(float) * sample * FACES_MAX);
  w->probs = malloc(sizeof(float) * (size_t)cl->num_classes * FACES_MAX);
  if (!w->input || !w->probs) {
    cli_error("out of memory");
    return EXIT_RUNTIME;
  }
  if (o->collect_dir && open_collect(&w->lc, cl, o) != 0) return EXIT_RUNTIME;
  capture_stats st;
  capture_get_stats(src, &st);
  w->nominal_dt = st.fps > 0 ? 1.0 / st.fps : 1.0 / 30;
  return EXIT_OK;
}

int headless_run(capture_source **srcp, classifier *cl, const headless_opts *o) {
  capture_source *src = *srcp;
  headless_work w = {.cl = cl, .o = o};
  int interrupted = 0;
  int code = begin_run(&w, src);
  if (code != EXIT_OK) goto done;
  double start = clock_now_s();
  while (o->max_frames <= 0 || w.n < o->max_frames) {
    if (o->stop && *o->stop) {
      interrupted = 1;
      break;
    }
    capture_frame f;
    int rc = next_frame(src, &f, w.n);
    if (rc == CAPTURE_TIMEOUT) continue;
    if (rc == CAPTURE_EOF && o->loop && w.n > 0) {
      if (reopen(srcp, o->video_path) != 0) {
        code = EXIT_RUNTIME;
        break;
      }
      src = *srcp;
      continue;
    }
    if (rc == CAPTURE_EOF) break;
    if (rc != CAPTURE_OK || (code = run_frame(&w, src, &f)) != EXIT_OK) {
      code = EXIT_RUNTIME;
      break;
    }
  }
  print_summary(src, w.lg, &w.lc, o->camera, code == EXIT_OK, clock_now_s() - start, interrupted);
done:
  free(w.lc.labels);
  if (w.lg && live_log_close(w.lg) != 0) code = EXIT_RUNTIME;
  free(w.input);
  free(w.probs);
  return code;
}
