/* window_loop: the live window's loop: frames from the source onto the
 * screen and through the per-frame recipe (frame.h), the CNN on the
 * pipeline's worker so the loop never waits for it, keys and window events,
 * the status line, and screenshots. Only this thread touches SDL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

#include "common/cli.h"
#include "common/clock.h"
#include "live/collect.h"
#include "live/frame.h"
#include "live/live.h"
#include "live/overlay.h"
#include "live/pipeline.h"
#include "live/teach.h"
#include "live/window.h"

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
  live_log *log;
  face_stage fs; /* crops and shown labels: each face's, or the centre square's */
  const volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM */
  float *probs; /* [FACES_MAX, num_classes] latest raw results */
  crop_tag tags[FACES_MAX]; /* their crops */
  int have_result;
  double prev_pts;
  int frame_w, frame_h;
  int paused, mirror, hide_overlay, disconnected;
  int ended; /* a video without --loop played to its end */
  int64_t frames_shown, last_seq;
  int64_t frames_at_restart; /* frames_shown when the video was last reopened */
  int64_t seqs_before;       /* frames the sources closed at a restart delivered */
  double last_arrived; /* publish time of the frame on screen; 0 once presented */
  double latency_sum, latency_max;
  int64_t latency_n, latency_late; /* late: more than one frame interval */
  double frame_interval;           /* 1 / the source's nominal rate */
  period_stats period;
  char status[256];
  /* teaching it your face (--collect) */
  classifier *original;  /* borrowed: the model the run began with */
  classifier personal;   /* DIR/personal.emo once there, else zeroed */
  int have_personal;
  int collecting;
  collector col;
  char personal_path[1100];
  teach *job;            /* the adaptation running in the background, or NULL */
  int held_class;        /* the number key held down (0-based class), -1: none */
  double last_save;      /* when the last crop was saved */
  double flash_until;    /* the selected box flashes until then */
  int selected_id;       /* tracker id chosen with Tab; -1: the largest face */
  char note[200];        /* a message for the status line, until note_until */
  double note_until;
} live_ui;

/* Crops a held key saves per second at most. */
#define COLLECT_INTERVAL_S 0.25
#define NOTE_S 3.0
#define FLASH_S 0.15

static void say(live_ui *u, const char *msg) {
  size_t n = strlen(msg);
  if (n >= sizeof u->note) n = sizeof u->note - 1; /* the status line's width at most */
  memcpy(u->note, msg, n);
  u->note[n] = '\0';
  u->note_until = clock_now_s() + NOTE_S;
}

/* The tracker index of the face the panel and the number keys are about:
 * the one chosen with Tab while it is in view, else the largest; -1 none. */
static int selected_face(const live_ui *u) {
  const face_tracker *ft = &u->fs.tracker;
  if (ft->count == 0) return -1;
  int k = u->selected_id >= 0 ? faces_find(ft, u->selected_id) : -1;
  return k >= 0 ? k : 0;
}

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

/* The status: the note or the adaptation's progress, then the usual lines. */
static void teach_line(const live_ui *u, double now, char *out, size_t len, const char *rest) {
  char first[260] = "";
  if (u->job) {
    teach_status st;
    teach_poll(u->job, &st);
    snprintf(first, sizeof first, "adapting on %d crops: %.0f%% (epoch %d/%d)",
             collect_total(&u->col), 100 * st.fraction, st.epoch, st.epochs);
  } else if (now < u->note_until) {
    snprintf(first, sizeof first, "%s", u->note);
  } else if (u->collecting) {
    snprintf(first, sizeof first, "collecting: %d crops   keys 1-%d label the %s face, T adapts%s",
             collect_total(&u->col), u->cl->num_classes < 9 ? u->cl->num_classes : 9,
             u->fs.tracker.count > 1 ? "outlined face (Tab)" : "face", u->have_personal ? ", M model" : "");
  }
  if (first[0]) snprintf(out, len, "%s\n%s", first, rest);
  else snprintf(out, len, "%s", rest);
}

static void render(live_ui *u) {
  double t0 = clock_now_s();
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
      /* the bars: the selected face's, else the centre square's */
      int sel = selected_face(u), face = sel >= 0 && ft->t[sel].shown >= 0;
      v.probs = face ? smooth_probs(&ft->t[sel].sm) : smooth_probs(&u->fs.centre);
      v.label = face ? ft->t[sel].shown : u->fs.centre_label;
      if (!face && u->fs.centre_label < 0) v.num_classes = 0;
    }
    /* the crops of the frame on screen, as they were classified */
    for (int i = 0; i < u->fs.num_crops && u->frame_w > 0; i++) {
      const crop_tag *c = &u->fs.crops[i];
      SDL_Rect r = window_map_rect(c->box, u->frame_w, u->frame_h, video, u->mirror);
      if (c->id < 0) {
        v.show_crop = 1;
        v.crop = r;
        continue;
      }
      int k = v.num_faces++, t = faces_find(ft, c->id);
      if (t >= 0 && t == selected_face(u)) v.selected = k;
      v.faces[k] = r;
      v.face_text[k] = NULL;
      if (live && t >= 0 && ft->t[t].shown >= 0) {
        snprintf(captions[k], sizeof captions[k], "%s %.0f%%", names[ft->t[t].shown],
                 100.0 * smooth_probs(&ft->t[t].sm)[ft->t[t].shown]);
        v.face_text[k] = captions[k];
        v.face_probs[k] = smooth_probs(&ft->t[t].sm);
      }
    }
    /* what is classified, as of this frame; the rates above change slowly */
    char status[sizeof u->status + 64];
    if (!u->fs.detector)
      snprintf(status, sizeof status, "centre crop   %s", u->status);
    else if (ft->count == 0)
      snprintf(status, sizeof status, "no face in view: centre crop   %s", u->status);
    else
      snprintf(status, sizeof status, "faces %d   %s", ft->count, u->status);
    double now = clock_now_s();
    if (u->collecting) {
      v.counts = u->col.counts;
      v.flash = now < u->flash_until;
    }
    char line[sizeof status + 300];
    teach_line(u, now, line, sizeof line, status);
    v.status = line;
    v.banner = u->disconnected ? "camera disconnected"
               : u->paused  ? "paused"
               : u->ended   ? "end of the video (q quits)"
                            : NULL;
    v.dim = u->disconnected;
    overlay_draw(u->ov, &v, ow, oh);
  }
  u->period.draw_ms += (clock_now_s() - t0) * 1e3;
  u->period.draw_n++;
}

static void present(live_ui *u) {
  window_present(u->win);
  if (u->last_arrived > 0) {
    /* From the capture thread publishing the frame to it being on screen. */
    double lat = clock_now_s() - u->last_arrived;
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

/* The selected face of the frame just cropped, saved under the held key's
 * class. Returns 0, or -1 after printing a write error. */
static int save_crop(live_ui *u, const capture_image *img, int64_t seq) {
  int k = selected_face(u);
  if (k < 0) {
    say(u, "no face in view: nothing saved");
    return 0;
  }
  const int id = u->fs.tracker.t[k].id;
  for (int i = 0; i < u->fs.num_crops; i++) {
    if (u->fs.crops[i].id != id) continue;
    char err[1400], path[1400];
    int rc = collect_save(&u->col, img, u->fs.crops[i].box, u->held_class,
                          u->seqs_before + seq, path, sizeof path, err, sizeof err);
    if (rc < 0) {
      cli_error("%s", err);
      return -1;
    }
    if (rc == 1) {
      u->last_save = clock_now_s();
      u->flash_until = u->last_save + FLASH_S;
      char msg[200];
      snprintf(msg, sizeof msg, "saved as %s (%d)", u->cl->model.class_names[u->held_class],
               u->col.counts[u->held_class]);
      say(u, msg);
    }
    return 0;
  }
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
  crop_tag tags[FACES_MAX];
  double crop_ms;
  int n = frame_crop(&u->fs, u->cl, &img, f->pts_s, pipeline_input(u->pl), tags, &crop_ms);
  if (n < 0) {
    cli_error("out of memory in the face detector");
    return -1;
  }
  if (u->held_class >= 0 && clock_now_s() - u->last_save >= COLLECT_INTERVAL_S &&
      save_crop(u, &img, f->seq) != 0)
    return -1;
  u->period.crop_ms += crop_ms;
  u->period.detect_ms += u->fs.detect_ms;
  u->period.crop_n++;
  pipeline_submit(u->pl, f->seq, f->pts_s, n, tags);
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
  double dt = frame_dt(!u->have_result, r.pts_s, u->prev_pts, u->frame_interval);
  u->prev_pts = r.pts_s;
  frame_results(&u->fs, u->cl, u->log, r.seq, r.pts_s, dt, r.n, u->tags, u->probs);
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

/* Tab: the next face in view (by size) becomes the selected one. */
static void select_next(live_ui *u) {
  const face_tracker *ft = &u->fs.tracker;
  if (ft->count == 0) return;
  int k = selected_face(u);
  u->selected_id = ft->t[(k + 1) % ft->count].id;
}

/* Switches the worker and the window to cl (the original or the personal). */
static void use_model(live_ui *u, classifier *cl) {
  pipeline_set_classifier(u->pl, cl);
  u->cl = cl;
}

/* T: adapts the original model on every crop so far, in the background. */
static void start_teaching(live_ui *u) {
  if (!u->collecting) {
    say(u, "T adapts the model on collected faces: start with --collect DIR");
    return;
  }
  if (u->job) return;
  if (collect_total(&u->col) < 2) {
    say(u, "collect a few faces first: number keys 1-N label the face in view");
    return;
  }
  char err[512];
  if (teach_start(&u->job, u->original->path, u->col.dir, u->personal_path, err, sizeof err) != 0) {
    say(u, err);
    return;
  }
  fprintf(stderr, "emocam: adapting %s on the %d crops in %s\n", u->original->name,
          collect_total(&u->col), u->col.dir);
}

/* The job's end: the personal model loaded and shown (the previous one
 * closed after the worker lets go of it). */
static void finish_teaching(live_ui *u) {
  teach_status st;
  teach_poll(u->job, &st);
  if (st.state == TEACH_RUNNING) return;
  teach_destroy(u->job);
  u->job = NULL;
  char msg[1400];
  if (st.state != TEACH_DONE) {
    snprintf(msg, sizeof msg, "adaptation %s%s%s", st.state == TEACH_STOPPED ? "stopped" : "failed",
             st.message[0] ? ": " : "", st.message);
    say(u, msg);
    fprintf(stderr, "emocam: %s\n", msg);
    return;
  }
  char err[512];
  use_model(u, u->original); /* lets go of the old personal model */
  classifier_close(&u->personal);
  u->have_personal = 0;
  /* opened in place: a classifier's name points into its own path */
  if (classifier_open(&u->personal, u->personal_path, 1, err, sizeof err) != 0) {
    say(u, err);
    fprintf(stderr, "emocam: %s\n", err);
    return;
  }
  u->have_personal = 1;
  use_model(u, &u->personal);
  snprintf(msg, sizeof msg, "personal model: %d crops in %.1f s, saved as %s (M: original)",
           st.result.trained, st.result.seconds, u->personal_path);
  say(u, msg);
  fprintf(stderr, "emocam: %s\n", msg);
}

/* M: the original or the personal model. */
static void toggle_model(live_ui *u) {
  if (!u->have_personal) {
    say(u, u->collecting ? "no personal model yet: collect faces, then T"
                         : "M switches to a personal model: start with --collect DIR");
    return;
  }
  use_model(u, u->cl == u->original ? &u->personal : u->original);
  char msg[300];
  snprintf(msg, sizeof msg, "model: %s (%s)", u->cl == u->original ? "original" : "personal",
           u->cl->name);
  say(u, msg);
  fprintf(stderr, "emocam: %s\n", msg); /* a record of what was compared when */
}

/* Keys and window events. Returns 1 to quit. */
static int handle_events(live_ui *u, int *dirty, int *screenshot_now, int wait_ms) {
  SDL_Event e;
  int have = wait_ms > 0 ? SDL_WaitEventTimeout(&e, wait_ms) : SDL_PollEvent(&e);
  for (; have; have = SDL_PollEvent(&e)) {
    if (e.type == SDL_QUIT) return 1;
    if (e.type == SDL_WINDOWEVENT) *dirty = 1;
    SDL_Keycode key = e.key.keysym.sym;
    if (e.type == SDL_KEYUP && u->held_class >= 0 && key == SDLK_1 + u->held_class)
      u->held_class = -1;
    if (e.type != SDL_KEYDOWN) continue;
    if (u->collecting && key >= SDLK_1 && key <= SDLK_9) {
      if (key - SDLK_1 < u->cl->num_classes && !e.key.repeat) {
        u->held_class = key - SDLK_1;
        u->last_save = 0; /* the next frame is saved */
      }
      *dirty = 1;
      continue;
    }
    switch (key) {
      case SDLK_q:
      case SDLK_ESCAPE: return 1;
      case SDLK_SPACE: u->paused = !u->paused; break;
      case SDLK_s: *screenshot_now = 1; break;
      case SDLK_f: u->mirror = !u->mirror; break;
      case SDLK_h: u->hide_overlay = !u->hide_overlay; break;
      case SDLK_TAB: select_next(u); break;
      case SDLK_t: start_teaching(u); break;
      case SDLK_m: toggle_model(u); break;
      default: break;
    }
    *dirty = 1;
  }
  return 0;
}

/* One frame from the source, if one is due: onto the screen and into the
 * worker. Returns 0, or -1 after printing an error. */
static int poll_source(live_ui *u, int wait_ms, int *dirty) {
  capture_frame f;
  int rc = capture_next(u->src, &f, wait_ms);
  if (rc == CAPTURE_OK) {
    int bad = take_frame(u, &f);
    capture_release(u->src, &f);
    *dirty = 1;
    return bad ? -1 : 0;
  }
  if (rc == CAPTURE_EOF) {
    if (u->o->loop) return restart_video(u);
    if (!u->ended) {
      u->ended = 1;
      *dirty = 1;
    }
    return 0;
  }
  if (rc == CAPTURE_DISCONNECTED) {
    *dirty |= !u->disconnected;
    u->disconnected = 1;
  } else if (rc == CAPTURE_ERROR) {
    cli_error("%s", capture_error(u->src));
    return -1;
  }
  return 0;
}

/* The `s` key: emocam-YYYYmmdd-HHMMSS-FRAME.png in the working folder. */
static void timestamped_screenshot(live_ui *u) {
  char stamp[32], name[80];
  time_t tt = time(NULL);
  struct tm tm;
  localtime_r(&tt, &tm);
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  snprintf(name, sizeof name, "emocam-%s-%lld.png", stamp, (long long)u->frames_shown);
  save_screenshot(u, name);
}

static void print_display_summary(const live_ui *u, double secs) {
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
}

static int ui_loop(live_ui *u) {
  const live_opts *o = u->o;
  int code = EXIT_OK, quit = 0;
  double start = clock_now_s(), last_status = 0;
  u->period.since = start;
  snprintf(u->status, sizeof u->status, "starting | %s", u->cl->name);
  while (!quit && !*u->stop) {
    int dirty = 0, shot = 0;
    /* Blocking is on the camera only while nothing else is due, never longer
     * than one event poll interval. */
    int idle = u->paused || u->disconnected || u->ended;
    if (handle_events(u, &dirty, &shot, idle ? 10 : 0)) break;
    if (!u->paused && !u->ended && poll_source(u, dirty || shot ? 0 : 5, &dirty) != 0) {
      code = EXIT_RUNTIME;
      break;
    }
    if (u->job) {
      finish_teaching(u);
      dirty = 1;
    }
    /* --frames past a video's end (without --loop) cannot be reached */
    int last = o->frames > 0 && (u->frames_shown >= o->frames || u->ended);
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
    double now = clock_now_s();
    if (now - last_status >= STATUS_PERIOD_S) {
      update_status(u, now);
      last_status = now;
      dirty = 1;
    }
    if (!dirty && !shot && !last) continue;
    render(u);
    if (shot) timestamped_screenshot(u);
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
  double secs = clock_now_s() - start;
  print_display_summary(u, secs);
  live_log_summary(u->log, secs, 0);
  return code;
}

int live_open_source(const live_opts *o, capture_source **src, char *err, size_t errlen) {
  if (o->video) {
    capture_video_opts vo = {o->video, o->headless ? CAPTURE_ALL : CAPTURE_LATEST,
                             o->headless ? 0 : 1};
    return capture_open_video(src, &vo, err, errlen);
  }
  capture_camera_opts co = {o->camera, o->width, o->height, o->fps, o->record, !o->headless};
  return capture_open_camera(src, &co, err, errlen);
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
      live_open_source(u->o, &u->src, err, sizeof err) != CAPTURE_OK) {
    cli_error("%s", err);
    return EXIT_RUNTIME;
  }
  capture_stats st;
  capture_get_stats(u->src, &st);
  window_size_for_frame(u->win, st.width, st.height);
  u->frame_interval = 1.0 / (st.fps > 0 ? st.fps : 30.0);
  return ui_loop(u);
}


/* --collect DIR: its crops counted, and a personal model already there
 * loaded for M. Returns 0, or -1 with err. */
static int open_collection(live_ui *u, char *err, size_t errlen) {
  const classifier *cl = u->original;
  if (collect_open(&u->col, u->o->collect, (const char *const *)cl->model.class_names,
                   cl->num_classes, err, errlen) != 0)
    return -1;
  u->collecting = 1;
  snprintf(u->personal_path, sizeof u->personal_path, "%s/personal.emo", u->col.dir);
  if (access(u->personal_path, F_OK) == 0) {
    char why[512];
    if (classifier_open(&u->personal, u->personal_path, 1, why, sizeof why) == 0 &&
        u->personal.num_classes == cl->num_classes && u->personal.c == cl->c &&
        u->personal.h == cl->h && u->personal.w == cl->w) {
      u->have_personal = 1;
      say(u, "personal model found: M switches to it");
    } else {
      classifier_close(&u->personal);
      fprintf(stderr, "emocam: warning: %s: not used: %s\n", u->personal_path,
              why[0] ? why : "another model's shape or classes");
    }
  }
  return 0;
}

int live_window_run(const live_opts *o, classifier *cl, capture_face_detector *detector,
                    float crop_scale, const volatile sig_atomic_t *stop) {
  char err[1024];
  int code = EXIT_RUNTIME;
  live_ui u;
  memset(&u, 0, sizeof u);
  u.o = o;
  u.source_name = o->camera ? o->camera : o->video;
  u.last_seq = -1; /* no frame shown yet */
  u.cl = u.original = cl;
  u.stop = stop;
  u.held_class = -1;
  u.selected_id = -1;
  u.probs = calloc((size_t)cl->num_classes * FACES_MAX, sizeof(float));
  if (!u.probs) {
    cli_error("out of memory");
  } else if (live_log_open(&u.log, cl, o->csv, o->labels, err, sizeof err) != 0) {
    cli_error("%s", err);
  } else if (faces_stage_init(&u.fs, detector, detector ? o->max_faces : 1, cl->num_classes,
                              o->smooth_s, crop_scale) != 0) {
    cli_error("bad --max-faces or --smooth");
  } else if (o->collect && open_collection(&u, err, sizeof err) != 0) {
    cli_error("%s", err);
  } else {
    code = run_window(&u);
  }
  /* The adaptation and the worker use models: they go first. */
  teach_destroy(u.job);
  pipeline_destroy(u.pl);
  classifier_close(&u.personal);
  capture_close(u.src);
  overlay_destroy(u.ov);
  window_close(u.win);
  if (live_log_close(u.log) != 0) code = EXIT_RUNTIME;
  free(u.probs);
  return code;
}
