/* cmd_live: `emocam [--camera DEV | --video FILE] [options]`, the default
 * command: live recognition in a window (the UI loop lives here), or the same
 * pipeline headless. Parses the options, picks the source (camera, video, or
 * the demo clip when there is no camera) and the model, then runs.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "assets.h"
#include "classifier.h"
#include "cli.h"
#include "commands.h"
#include "faces.h"
#include "headless.h"
#include "overlay.h"
#include "pipeline.h"
#include "smoothing.h"
#include "window.h"

#define DEFAULT_CAMERA "/dev/video0"

static const char live_usage[] =
    "usage: emocam [--camera DEV | --video FILE] [options]\n"
    "Shows the camera (or a video) with what the CNN recognises on each face in view.\n"
    "\n"
    "source:\n"
    "  --camera DEV        V4L2 camera (default " DEFAULT_CAMERA "; without one, the demo clip)\n"
    "  --video FILE        a video file instead of the camera\n"
    "  --size WxH          camera frame size (default 640x480)\n"
    "  --fps N             camera frame rate (default 30)\n"
    "  --record FILE.mkv   also record the camera's frames to FILE.mkv\n"
    "  --list-cameras      describe the cameras found and exit\n"
    "model and stages:\n"
    "  --model MODEL       .emo model (default: assets/fer2013.emo)\n"
    "  --crop MODE         what to classify: 'face' (default when the face cascade is\n"
    "                      installed): each face found, framed as in training, with the\n"
    "                      centre square while no face is in view; 'center': the centre square\n"
    "  --max-faces N       faces classified per frame with --crop face (default 4, at most 16)\n"
    "  --cascade FILE      Viola-Jones face cascade, OpenCV XML (default\n"
    "                      " CAPTURE_CASCADE_DEFAULT ",\n"
    "                      from Debian's opencv-data)\n"
    "  --crop-scale F      size of the centre square, 0.2..1 of the shorter side (default: the\n"
    "                      model's)\n"
    "  --smooth SECONDS    time constant of the shown probabilities (default 0.3; 0: raw)\n"
    "output:\n"
    "  --headless          no window: process every frame once, print a summary\n"
    "  --csv FILE          per-frame CSV: a row per face (face 0 = largest, -1 = centre\n"
    "                      square), its box x,y,w,h, raw probabilities, smoothed_label;\n"
    "                      '-' = stdout\n"
    "  --labels FILE       CSV with frame,label columns: report per-frame accuracy (and,\n"
    "                      with x,y,w,h columns, how often the face box overlaps them)\n"
    "  --frames N          stop after N frames\n"
    "  --screenshot FILE   save the rendered window as PNG when the run ends\n"
    "  --help              this text\n"
    "\n"
    "keys: q/Esc quit, space pause, s screenshot, m mirror, h hide/show the overlay\n";

enum { CROP_DEFAULT, CROP_CENTER, CROP_FACE };

typedef struct {
  const char *camera, *video, *model, *csv, *labels, *record, *screenshot, *cascade;
  int crop_mode, max_faces;
  int headless, list_cameras;
  int width, height, fps, size_given, fps_given;
  float smooth_s, crop_scale;
  int crop_scale_given;
  int frames; /* 0: no limit */
} live_opts;

/* "640x480" -> 640, 480. */
static int parse_size(const char *text, int *w, int *h) {
  const char *x = strchr(text, 'x');
  char wbuf[32];
  if (!x || (size_t)(x - text) >= sizeof wbuf) {
    cli_error("--size: expected WIDTHxHEIGHT like 640x480, got '%s'", text);
    return -1;
  }
  memcpy(wbuf, text, (size_t)(x - text));
  wbuf[x - text] = '\0';
  if (cli_parse_int("--size", wbuf, 16, 8192, w) != 0) return -1;
  return cli_parse_int("--size", x + 1, 16, 8192, h);
}

/* Returns 0 to run, 1 after --help, -1 after a usage error (printed). */
static int parse_options(int argc, char **argv, live_opts *o) {
  memset(o, 0, sizeof *o);
  o->width = 640, o->height = 480, o->fps = 30;
  o->smooth_s = SMOOTH_DEFAULT_S;
  o->max_faces = FACES_DEFAULT_MAX;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = NULL;
    if (cli_is_help(a)) {
      fputs(live_usage, stdout);
      return 1;
    } else if (strcmp(a, "--headless") == 0) {
      o->headless = 1;
    } else if (strcmp(a, "--list-cameras") == 0) {
      o->list_cameras = 1;
    } else if (cli_option(argc, argv, &i, "--camera", &v)) {
      if (!v) return -1;
      o->camera = v;
    } else if (cli_option(argc, argv, &i, "--video", &v)) {
      if (!v) return -1;
      o->video = v;
    } else if (cli_option(argc, argv, &i, "--model", &v)) {
      if (!v) return -1;
      o->model = v;
    } else if (cli_option(argc, argv, &i, "--csv", &v)) {
      if (!v) return -1;
      o->csv = v;
    } else if (cli_option(argc, argv, &i, "--labels", &v)) {
      if (!v) return -1;
      o->labels = v;
    } else if (cli_option(argc, argv, &i, "--record", &v)) {
      if (!v) return -1;
      o->record = v;
    } else if (cli_option(argc, argv, &i, "--screenshot", &v)) {
      if (!v) return -1;
      o->screenshot = v;
    } else if (cli_option(argc, argv, &i, "--size", &v)) {
      if (!v || parse_size(v, &o->width, &o->height) != 0) return -1;
      o->size_given = 1;
    } else if (cli_option(argc, argv, &i, "--fps", &v)) {
      if (!v || cli_parse_int("--fps", v, 1, 240, &o->fps) != 0) return -1;
      o->fps_given = 1;
    } else if (cli_option(argc, argv, &i, "--frames", &v)) {
      if (!v || cli_parse_int("--frames", v, 1, 1000000000L, &o->frames) != 0) return -1;
    } else if (cli_option(argc, argv, &i, "--smooth", &v)) {
      if (!v || cli_parse_float("--smooth", v, 0.0, 60.0, &o->smooth_s) != 0) return -1;
    } else if (cli_option(argc, argv, &i, "--crop-scale", &v)) {
      if (!v || cli_parse_float("--crop-scale", v, 0.2, 1.0, &o->crop_scale) != 0) return -1;
      o->crop_scale_given = 1;
    } else if (cli_option(argc, argv, &i, "--crop", &v)) {
      if (!v) return -1;
      if (strcmp(v, "center") == 0) {
        o->crop_mode = CROP_CENTER;
      } else if (strcmp(v, "face") == 0) {
        o->crop_mode = CROP_FACE;
      } else {
        cli_error("--crop: expected 'face' or 'center', got '%s'", v);
        return -1;
      }
    } else if (cli_option(argc, argv, &i, "--max-faces", &v)) {
      if (!v || cli_parse_int("--max-faces", v, 1, FACES_MAX, &o->max_faces) != 0) return -1;
    } else if (cli_option(argc, argv, &i, "--cascade", &v)) {
      if (!v) return -1;
      o->cascade = v;
    } else {
      cli_error("unknown option '%s' (see emocam --help)", a);
      return -1;
    }
  }
  if (o->camera && o->video) {
    cli_error("--camera and --video exclude each other");
    return -1;
  }
  if (o->video && (o->record || o->size_given || o->fps_given)) {
    cli_error("%s applies to a camera, not to --video",
              o->record ? "--record" : o->size_given ? "--size" : "--fps");
    return -1;
  }
  if (o->crop_mode == CROP_CENTER && o->cascade) {
    cli_error("--cascade is for --crop face, not --crop center");
    return -1;
  }
  if (o->headless && o->screenshot) {
    cli_error("--screenshot needs the window: drop --headless");
    return -1;
  }
  return 0;
}

/* ---- the window loop ------------------------------------------------------ */

/* Rolling figures for the status line, reset every STATUS_PERIOD_S. */
#define STATUS_PERIOD_S 0.5
typedef struct {
  double since;
  int shown, inferred;       /* frames displayed / results received */
  double crop_ms, cnn_ms, draw_ms, detect_ms;
  int crop_n, draw_n;
} period_stats;

typedef struct {
  const live_opts *o;
  capture_source *src; /* owned */
  const char *source_name;
  classifier *cl; /* borrowed; the pipeline's worker runs it */
  window *win;
  overlay *ov;
  pipeline *pl;
  headless_log *log;
  face_stage fs; /* crops and shown labels: each face's, or the centre square's */
  const volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM */
  float *probs; /* [FACES_MAX, num_classes] latest raw results */
  int tags[FACES_MAX]; /* their track ids, -1: the centre square */
  int have_result;
  double prev_pts;
  int frame_w, frame_h;
  int paused, mirror, hide_overlay, disconnected;
  int64_t frames_shown, last_seq;
  int64_t frames_at_restart; /* frames_shown when the video was last reopened */
  int64_t seqs_before;       /* frames the sources closed at a restart delivered */
  double last_arrived; /* publish time of the frame on screen; 0 once presented */
  double latency_sum, latency_max;
  int64_t latency_n, latency_late; /* late: more than one frame interval */
  double frame_interval;           /* 1 / the source's nominal rate */
  period_stats period;
  char status[256];
} live_ui;

static void update_status(live_ui *u, double now) {
  period_stats *p = &u->period;
  double span = now - p->since;
  if (span < STATUS_PERIOD_S) return;
  capture_stats st;
  capture_get_stats(u->src, &st);
  long long dropped = (long long)(st.dropped + pipeline_skipped(u->pl));
  snprintf(u->status, sizeof u->status,
           "display %.1f fps   inference %.1f fps   dropped %lld   model %s\n"
           "ms per frame: capture %.1f   detect %.1f   crop+resize %.2f   CNN %.1f   drawing %.1f",
           p->shown / span, p->inferred / span, dropped, u->cl->name, st.capture_ms,
           p->crop_n ? p->detect_ms / p->crop_n : 0.0, p->crop_n ? p->crop_ms / p->crop_n : 0.0,
           p->inferred ? p->cnn_ms / p->inferred : 0.0, p->draw_n ? p->draw_ms / p->draw_n : 0.0);
  memset(p, 0, sizeof *p);
  p->since = now;
}

static void render(live_ui *u) {
  double t0 = pipeline_now();
  SDL_Rect video;
  int ow, oh;
  window_draw_video(u->win, u->mirror, &video, &ow, &oh);
  if (!u->hide_overlay) {
    overlay_view v = {0};
    char captions[FACES_MAX][80];
    const char *const *names = (const char *const *)u->cl->model.class_names;
    const face_tracker *ft = &u->fs.tracker;
    /* A stale prediction is not shown while the camera is away. */
    int live = u->have_result && !u->disconnected;
    if (live) {
      v.num_classes = u->cl->num_classes;
      v.class_names = names;
      /* the bars: the largest face's, else the centre square's */
      int face = ft->count > 0 && ft->t[0].shown >= 0;
      v.probs = face ? smooth_probs(&ft->t[0].sm) : smooth_probs(&u->fs.centre);
      v.label = face ? ft->t[0].shown : u->fs.centre_label;
      if (!face && u->fs.centre_label < 0) v.num_classes = 0;
    }
    if (u->frame_w > 0 && ft->count == 0) {
      capture_rect crop = capture_center_crop(u->frame_w, u->frame_h, u->fs.crop_scale);
      v.show_crop = 1;
      v.crop = window_map_rect(crop, u->frame_w, u->frame_h, video, u->mirror);
    }
    for (int i = 0; i < ft->count && u->frame_w > 0; i++) {
      const face_track *t = &ft->t[i];
      v.faces[i] = window_map_rect(faces_crop(t, u->frame_w, u->frame_h), u->frame_w,
                                   u->frame_h, video, u->mirror);
      v.face_text[i] = NULL;
      if (live && t->shown >= 0) {
        snprintf(captions[i], sizeof captions[i], "%s %.0f%%", names[t->shown],
                 100.0 * smooth_probs(&t->sm)[t->shown]);
        v.face_text[i] = captions[i];
      }
      v.num_faces = i + 1;
    }
    /* what is classified, as of this frame; the rates above change slowly */
    char status[sizeof u->status + 64];
    if (!u->fs.detector)
      snprintf(status, sizeof status, "centre crop   %s", u->status);
    else if (ft->count == 0)
      snprintf(status, sizeof status, "no face in view: centre crop   %s", u->status);
    else
      snprintf(status, sizeof status, "faces %d   %s", ft->count, u->status);
    v.status = status;
    v.banner = u->disconnected ? "camera disconnected" : u->paused ? "paused" : NULL;
    v.dim = u->disconnected;
    overlay_draw(u->ov, &v, ow, oh);
  }
  u->period.draw_ms += (pipeline_now() - t0) * 1e3;
  u->period.draw_n++;
}

static void present(live_ui *u) {
  window_present(u->win);
  if (u->last_arrived > 0) {
    /* From the capture thread publishing the frame to it being on screen. */
    double lat = pipeline_now() - u->last_arrived;
    u->latency_sum += lat;
    if (lat > u->latency_max) u->latency_max = lat;
    u->latency_n++;
    u->latency_late += lat > u->frame_interval;
    u->last_arrived = 0;
  }
}

static int save_screenshot(live_ui *u, const char *path) {
  char err[512];
  if (window_save_png(u->win, path, err, sizeof err) != 0) {
    cli_error("%s", err);
    return -1;
  }
  fprintf(stderr, "screenshot: %s\n", path);
  return 0;
}

/* A frame from the source: onto the texture, cropped into the worker's input. */
static int take_frame(live_ui *u, capture_frame *f) {
  char err[512];
  if (window_set_frame(u->win, f->rgb, f->width, f->height, err, sizeof err) != 0) {
    cli_error("%s", err);
    return -1;
  }
  u->frame_w = f->width;
  u->frame_h = f->height;
  capture_image img = {f->rgb, f->width, f->height, f->width * 3, 3};
  capture_rect crops[FACES_MAX];
  int ids[FACES_MAX];
  int n = faces_stage_frame(&u->fs, &img, f->pts_s, crops, ids);
  if (n < 0) {
    cli_error("out of memory in the face detector");
    return -1;
  }
  double t0 = pipeline_now();
  size_t sample = (size_t)u->cl->c * u->cl->h * u->cl->w;
  for (int i = 0; i < n; i++)
    capture_crop_resize(&img, crops[i], u->cl->c, u->cl->h, u->cl->w,
                        pipeline_input(u->pl) + i * sample);
  u->period.crop_ms += (pipeline_now() - t0) * 1e3;
  u->period.detect_ms += u->fs.detect_ms;
  u->period.crop_n++;
  pipeline_submit(u->pl, f->seq, f->pts_s, n, ids);
  u->last_seq = f->seq;
  u->last_arrived = f->arrived_s;
  u->frames_shown++;
  u->period.shown++;
  if (u->disconnected) {
    /* Back after an unplug: the history is of another moment. */
    smooth_reset(&u->fs.centre);
    u->fs.centre_label = -1;
    u->fs.tracker.count = 0;
    u->have_result = 0;
    u->disconnected = 0;
  }
  return 0;
}

/* Takes the worker's newest result, if any. Returns -1 if the CNN failed. */
static int take_result(live_ui *u) {
  pipeline_result r;
  int rc = pipeline_poll(u->pl, u->probs, u->tags, &r);
  if (rc <= 0) {
    if (rc < 0) cli_error("%s: inference failed", u->cl->name);
    return rc;
  }
  double dt = !u->have_result                ? 0.0
              : r.pts_s - u->prev_pts > 0 ? r.pts_s - u->prev_pts
                                          : u->frame_interval;
  u->prev_pts = r.pts_s;
  int K = u->cl->num_classes;
  for (int i = 0; i < r.n; i++) {
    const float *p = u->probs + (size_t)i * K;
    capture_rect box;
    int face, shown = faces_stage_result(&u->fs, u->tags[i], i, p, dt, u->frame_w, u->frame_h,
                                         &box, &face);
    if (shown < 0) continue; /* the face left since its frame was submitted */
    headless_log_frame(u->log, r.seq, r.pts_s, face, box, p, classifier_argmax(p, K), shown);
  }
  u->have_result = 1;
  u->period.inferred++;
  u->period.cnn_ms += r.cnn_ms;
  return 1;
}

/* Reopens the video at its end so a replay (and the demo clip) keeps going. */
static int restart_video(live_ui *u) {
  char err[CAPTURE_ERR_LEN];
  if (u->frames_shown == u->frames_at_restart) {
    cli_error("%s: no frames to show", u->o->video);
    return -1;
  }
  u->frames_at_restart = u->frames_shown;
  u->seqs_before += u->last_seq + 1;
  u->last_seq = -1;
  capture_close(u->src);
  u->src = NULL;
  capture_video_opts vo = {u->o->video, CAPTURE_LATEST, 1};
  if (capture_open_video(&u->src, &vo, err, sizeof err) != CAPTURE_OK) {
    cli_error("%s", err);
    return -1;
  }
  return 0;
}

/* Keys and window events. Returns 1 to quit. */
static int handle_events(live_ui *u, int *dirty, int *screenshot_now, int wait_ms) {
  SDL_Event e;
  int have = wait_ms > 0 ? SDL_WaitEventTimeout(&e, wait_ms) : SDL_PollEvent(&e);
  for (; have; have = SDL_PollEvent(&e)) {
    if (e.type == SDL_QUIT) return 1;
    if (e.type == SDL_WINDOWEVENT) *dirty = 1;
    if (e.type != SDL_KEYDOWN) continue;
    switch (e.key.keysym.sym) {
      case SDLK_q:
      case SDLK_ESCAPE: return 1;
      case SDLK_SPACE: u->paused = !u->paused; break;
      case SDLK_s: *screenshot_now = 1; break;
      case SDLK_m: u->mirror = !u->mirror; break;
      case SDLK_h: u->hide_overlay = !u->hide_overlay; break;
      default: break;
    }
    *dirty = 1;
  }
  return 0;
}

static int ui_loop(live_ui *u) {
  const live_opts *o = u->o;
  int code = EXIT_OK, quit = 0;
  double start = pipeline_now(), last_status = 0;
  u->period.since = start;
  snprintf(u->status, sizeof u->status, "starting | %s", u->cl->name);
  while (!quit) {
    int dirty = 0, shot = 0;
    if (*u->stop) break;
    /* Blocking is on the camera only while nothing else is due, never longer
     * than one event poll interval. */
    int idle = u->paused || u->disconnected;
    if (handle_events(u, &dirty, &shot, idle ? 10 : 0)) break;
    if (!u->paused) {
      capture_frame f;
      int rc = capture_next(u->src, &f, dirty || shot ? 0 : 5);
      if (rc == CAPTURE_OK) {
        int bad = take_frame(u, &f);
        capture_release(u->src, &f);
        if (bad) {
          code = EXIT_RUNTIME;
          break;
        }
        dirty = 1;
      } else if (rc == CAPTURE_EOF) {
        if (restart_video(u) != 0) {
          code = EXIT_RUNTIME;
          break;
        }
      } else if (rc == CAPTURE_DISCONNECTED) {
        dirty |= !u->disconnected;
        u->disconnected = 1;
      } else if (rc == CAPTURE_ERROR) {
        cli_error("%s", capture_error(u->src));
        code = EXIT_RUNTIME;
        break;
      }
    }
    int last = o->frames > 0 && u->frames_shown >= o->frames;
    /* The final frame waits for its own result, so that a --screenshot shows
     * the prediction of the frame it shows. */
    if (last && pipeline_wait(u->pl, u->last_seq, 5000) < 0) {
      cli_error("%s: inference failed", u->cl->name);
      code = EXIT_RUNTIME;
      break;
    }
    int rc = take_result(u);
    if (rc < 0) {
      code = EXIT_RUNTIME;
      break;
    }
    dirty |= rc;
    double now = pipeline_now();
    if (now - last_status >= STATUS_PERIOD_S) {
      update_status(u, now);
      last_status = now;
      dirty = 1;
    }
    if (!dirty && !shot && !last) continue;
    render(u);
    if (shot) {
      char stamp[32], name[80];
      time_t tt = time(NULL);
      struct tm tm;
      localtime_r(&tt, &tm);
      strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
      snprintf(name, sizeof name, "emocam-%s-%lld.png", stamp, (long long)u->frames_shown);
      save_screenshot(u, name);
    }
    if (last) {
      if (o->screenshot && save_screenshot(u, o->screenshot) != 0) code = EXIT_RUNTIME;
      quit = 1;
    }
    present(u);
  }
  if (!quit && o->screenshot && code == EXIT_OK) {
    render(u);
    if (save_screenshot(u, o->screenshot) != 0) code = EXIT_RUNTIME;
  }
  double secs = pipeline_now() - start;
  /* The source runs at its own rate, as a camera does, so a display slower
   * than that shows the newest frame and skips the ones in between. */
  fprintf(stderr,
          "display: %lld frames in %.2f s (%.1f fps, %s renderer), %lld source frames skipped; "
          "latency from capture to screen: mean %.1f ms, max %.1f ms, %lld frames over one "
          "frame interval (%.1f ms)\n",
          (long long)u->frames_shown, secs, secs > 0 ? u->frames_shown / secs : 0.0,
          window_renderer_name(u->win),
          (long long)(u->seqs_before + u->last_seq + 1 - u->frames_shown),
          u->latency_n ? 1e3 * u->latency_sum / u->latency_n : 0.0,
          1e3 * u->latency_max, (long long)u->latency_late, 1e3 * u->frame_interval);
  headless_log_summary(u->log, secs, 0);
  return code;
}

/* ---- setup ---------------------------------------------------------------- */

/* SIGINT/SIGTERM end a run cleanly (threads joined, CSV flushed, exit 0).
 * A handler that sets a flag the loops poll is the one way that works here:
 * libraries start threads of their own before main (OpenBLAS's pool), so the
 * signals cannot be blocked in every thread and waited for. The flag is the
 * only state a handler can reach, hence a file-scope variable, written by
 * the handler alone. */
static volatile sig_atomic_t live_stop_flag;

static void live_on_signal(int sig) {
  (void)sig;
  live_stop_flag = 1;
}

static const volatile sig_atomic_t *live_catch_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = live_on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  return &live_stop_flag;
}

static int open_source(const live_opts *o, capture_source **src, char *err, size_t errlen) {
  if (o->video) {
    capture_video_opts vo = {o->video, o->headless ? CAPTURE_ALL : CAPTURE_LATEST,
                             o->headless ? 0 : 1};
    return capture_open_video(src, &vo, err, errlen);
  }
  capture_camera_opts co = {o->camera, o->width, o->height, o->fps, o->record, !o->headless};
  return capture_open_camera(src, &co, err, errlen);
}

/* --crop face, or the default with the cascade installed: the cascade and a
 * detector. A cascade asked for by name (--crop face, --cascade) must load;
 * without either, a missing default cascade means the centre crop. Returns 0,
 * or -1 after printing the error. */
static int open_detector(const live_opts *o, capture_cascade **cascade,
                         capture_face_detector **detector) {
  char err[CAPTURE_ERR_LEN];
  if (o->crop_mode == CROP_CENTER) return 0;
  const char *path = o->cascade ? o->cascade : CAPTURE_CASCADE_DEFAULT;
  if (o->crop_mode == CROP_DEFAULT && !o->cascade && access(path, F_OK) != 0) {
    fprintf(stderr, "emocam: no face cascade at %s (Debian package opencv-data): "
                    "classifying the centre square\n", path);
    return 0;
  }
  if (capture_cascade_load(cascade, path, err, sizeof err) != 0 ||
      capture_face_detector_create(detector, *cascade, err, sizeof err) != 0) {
    cli_error("%s", err);
    capture_cascade_destroy(*cascade);
    *cascade = NULL;
    return -1;
  }
  return 0;
}

/* Window, overlay and worker first, then the source: a camera or a paced
 * video starts publishing as soon as it is open, and frames published while
 * the window is still being made would only be dropped. */
static int run_window(live_ui *u) {
  char err[CAPTURE_ERR_LEN];
  char title[300];
  snprintf(title, sizeof title, "emocam - %s", u->source_name);
  if (window_open(&u->win, title, 0, 0, err, sizeof err) != 0 ||
      overlay_create(&u->ov, window_renderer(u->win), err, sizeof err) != 0 ||
      pipeline_create(&u->pl, u->cl, FACES_MAX, err, sizeof err) != 0 ||
      open_source(u->o, &u->src, err, sizeof err) != CAPTURE_OK) {
    cli_error("%s", err);
    return EXIT_RUNTIME;
  }
  capture_stats st;
  capture_get_stats(u->src, &st);
  window_size_for_frame(u->win, st.width, st.height);
  u->frame_interval = 1.0 / (st.fps > 0 ? st.fps : 30.0);
  return ui_loop(u);
}

int cmd_live(int argc, char **argv) {
  live_opts o;
  int rc = parse_options(argc, argv, &o);
  if (rc != 0) return rc > 0 ? EXIT_OK : EXIT_USAGE;
  if (o.list_cameras) {
    static char buf[16384];
    int n = capture_list_cameras(buf, sizeof buf);
    if (n <= 0)
      printf("no cameras found (/dev/video*)\n");
    else
      fputs(buf, stdout);
    return EXIT_OK;
  }

  const volatile sig_atomic_t *stop = live_catch_signals();

  char demo[1024];
  if (!o.camera && !o.video) {
    if (access(DEFAULT_CAMERA, F_OK) == 0) {
      o.camera = DEFAULT_CAMERA;
    } else if (assets_find(ASSETS_DEMO_CLIP, demo, sizeof demo) == 0) {
      if (o.record) {
        cli_error("--record needs a camera, and there is none at " DEFAULT_CAMERA);
        return EXIT_USAGE;
      }
      fprintf(stderr, "emocam: no camera at " DEFAULT_CAMERA ": playing the demo clip %s\n",
              demo);
      o.video = demo;
    } else {
      cli_error("no camera at " DEFAULT_CAMERA " and no demo clip (looked for %s); "
                "give --camera DEV or --video FILE", demo);
      return EXIT_RUNTIME;
    }
  }

  if (o.video && access(o.video, R_OK) != 0) {
    cli_error("%s: %s", o.video, strerror(errno));
    return EXIT_RUNTIME;
  }
  char err[1024];
  classifier cl;
  if (classifier_open(&cl, o.model, 1, err, sizeof err) != 0) {
    cli_error("%s", err);
    return EXIT_RUNTIME;
  }
  int code = EXIT_RUNTIME;
  float crop_scale = o.crop_scale_given ? o.crop_scale : cl.crop_scale;
  capture_cascade *cascade = NULL;
  capture_face_detector *detector = NULL;
  if (open_detector(&o, &cascade, &detector) != 0) {
    classifier_close(&cl);
    return EXIT_RUNTIME;
  }
  if (o.headless) {
    capture_source *src = NULL;
    if (open_source(&o, &src, err, sizeof err) != CAPTURE_OK) {
      cli_error("%s", err);
    } else {
      headless_opts ho = {o.csv,    o.labels,    o.frames, o.smooth_s, crop_scale,
                          detector, o.max_faces, o.camera != NULL, stop};
      code = headless_run(src, &cl, &ho);
    }
    capture_close(src);
    capture_face_detector_destroy(detector);
    capture_cascade_destroy(cascade);
    classifier_close(&cl);
    return code;
  }

  live_ui u;
  memset(&u, 0, sizeof u);
  u.o = &o;
  u.source_name = o.camera ? o.camera : o.video;
  u.last_seq = -1; /* no frame shown yet */
  u.cl = &cl;
  u.stop = stop;
  u.probs = calloc((size_t)cl.num_classes * FACES_MAX, sizeof(float));
  if (!u.probs) {
    cli_error("out of memory");
  } else if (headless_log_open(&u.log, &cl, o.csv, o.labels, err, sizeof err) != 0) {
    cli_error("%s", err);
  } else if (faces_stage_init(&u.fs, detector, detector ? o.max_faces : 1, cl.num_classes,
                              o.smooth_s, crop_scale) != 0) {
    cli_error("bad --max-faces or --smooth");
  } else {
    code = run_window(&u);
  }
  /* The worker uses cl: it goes first. */
  pipeline_destroy(u.pl);
  capture_close(u.src);
  overlay_destroy(u.ov);
  window_close(u.win);
  if (headless_log_close(u.log) != 0) code = EXIT_RUNTIME;
  free(u.probs);
  capture_face_detector_destroy(detector);
  capture_cascade_destroy(cascade);
  classifier_close(&cl);
  return code;
}
