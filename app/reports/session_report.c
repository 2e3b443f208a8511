/* session_report: writes the report folder (see session_report.h):
 * summary.json and summary.txt here, the timeline and the page in their
 * own files. */
#include "reports/session_report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/atomic_file.h"
#include "common/json_out.h"
#include "reports/session_report_internal.h"
#include "reports/session_timeline.h"

const char *session_identity_note(const session_summary *s) {
  if (!s->detector)
    return "Centre square only: no face was found in any frame, or the run used --crop center.";
  if (!s->log->has_track)
    return "This CSV has no track column (written by an older emocam): faces are told apart by "
           "their size rank in each frame only, so ids can swap when faces change size.";
  return "Faces keep the face tracker's id while they stay in view; a face that leaves the view "
         "for more than 0.25 s and comes back gets a new id, so one person may appear under "
         "several ids.";
}

static void json_classes(json_out *j, const session_log *log, const double *v) {
  json_begin_object(j, 1);
  for (int k = 0; k < log->num_classes; k++) {
    json_key(j, log->class_names[k]);
    json_number(j, v[k]);
  }
  json_end_object(j);
}

static void json_face(json_out *j, const session_summary *s, const session_face *fc) {
  const session_log *log = s->log;
  const int K = log->num_classes;
  double v[SESSION_MAX_CLASSES];
  json_begin_object(j, 0);
  if (fc->id >= -1) {
    json_key(j, "id");
    json_int(j, fc->id);
  }
  json_key(j, "rows"), json_int(j, fc->rows);
  json_key(j, "first_s"), json_number(j, fc->first_s);
  json_key(j, "last_s"), json_number(j, fc->last_s);
  json_key(j, "in_view_s"), json_number(j, fc->in_view_s);
  json_key(j, "visits"), json_int(j, fc->visits);
  json_key(j, "share"), json_classes(j, log, fc->share);
  for (int k = 0; k < K; k++) v[k] = (double)fc->shown_rows[k];
  json_key(j, "shown_rows"), json_classes(j, log, v);
  json_key(j, "mean_probability"), json_classes(j, log, fc->mean_p);
  json_key(j, "label_changes"), json_int(j, fc->changes);
  json_key(j, "label_changes_per_minute"), json_number(j, fc->changes_per_min);
  json_key(j, "longest_run_s"), json_classes(j, log, fc->longest_s);
  json_key(j, "longest_run_start_s"), json_classes(j, log, fc->longest_at_s);
  json_key(j, "peak");
  json_begin_object(j, 0);
  for (int k = 0; k < K; k++) {
    if (fc->peak_row[k] < 0) continue;
    const session_row *r = &log->rows[fc->peak_row[k]];
    json_key(j, log->class_names[k]);
    json_begin_object(j, 1);
    json_key(j, "smoothed_probability"), json_number(j, fc->peak_p[k]);
    json_key(j, "time_s"), json_number(j, r->t);
    json_key(j, "frame"), json_int(j, (long long)r->frame);
    json_key(j, "track"), json_int(j, r->track);
    json_end_object(j);
  }
  json_end_object(j);
  json_end_object(j);
}

static void json_compare(json_out *j, const session_page *pg) {
  const session_agreement *c = pg->cmp;
  json_begin_object(j, 0);
  json_key(j, "csv"), json_string(j, pg->in->compare_csv);
  json_key(j, "model"), json_string(j, pg->in->compare_model);
  json_key(j, "matched_rows"), json_int(j, c->matched);
  json_key(j, "rows_only_here"), json_int(j, c->only_a);
  json_key(j, "rows_only_there"), json_int(j, c->only_b);
  json_key(j, "agreement_raw"), json_number(j, c->agree_raw);
  json_key(j, "agreement_shown"), json_number(j, c->agree_shown);
  json_key(j, "cohen_kappa_raw"), json_number(j, c->kappa);
  json_key(j, "disagree_s"), json_number(j, c->disagree_s);
  json_key(j, "stretches");
  json_begin_array(j, 0);
  for (int i = 0; i < c->nstretches; i++) {
    const session_stretch *st = &c->stretches[i];
    json_begin_object(j, 1);
    json_key(j, "start_s"), json_number(j, st->start_s);
    json_key(j, "end_s"), json_number(j, st->end_s);
    json_key(j, "face"), json_int(j, st->face);
    json_key(j, "this"), json_string(j, st->a);
    json_key(j, "other"), json_string(j, st->b);
    json_end_object(j);
  }
  json_end_array(j);
  json_end_object(j);
}

static int write_json(FILE *f, const session_page *pg) {
  const session_summary *s = pg->s;
  const session_log *log = s->log;
  json_out j;
  json_out_init(&j, f);
  json_begin_object(&j, 0);
  json_key(&j, "csv"), json_string(&j, pg->in->csv);
  json_key(&j, "video"), json_string(&j, pg->in->video);
  json_key(&j, "model"), json_string(&j, pg->in->model);
  json_key(&j, "model_made_by"), json_string(&j, pg->in->model_made_by);
  json_key(&j, "emocam_version"), json_string(&j, EMOCAM_VERSION);
  json_key(&j, "classes");
  json_begin_array(&j, 1);
  for (int k = 0; k < log->num_classes; k++) json_string(&j, log->class_names[k]);
  json_end_array(&j);
  json_key(&j, "smooth_s"), json_number(&j, s->smooth_s);
  json_key(&j, "rows"), json_int(&j, log->nrows);
  json_key(&j, "frames"), json_int(&j, s->frames);
  json_key(&j, "start_s"), json_number(&j, s->start_s);
  json_key(&j, "duration_s"), json_number(&j, s->end_s - s->start_s + s->frame_dt);
  json_key(&j, "frame_interval_s"), json_number(&j, s->frame_dt);
  json_key(&j, "face_detection"), json_bool(&j, s->detector);
  json_key(&j, "frames_without_face");
  if (s->detector) json_int(&j, s->frames_no_face);
  else json_null(&j);
  json_key(&j, "identity"), json_string(&j, session_identity_note(s));
  json_key(&j, "total"), json_face(&j, s, &s->total);
  json_key(&j, "faces");
  json_begin_array(&j, 0);
  for (int f2 = 0; f2 < s->nfaces; f2++) json_face(&j, s, &s->faces[f2]);
  json_end_array(&j);
  if (pg->cmp) json_key(&j, "comparison"), json_compare(&j, pg);
  json_end_object(&j);
  fputc('\n', f);
  return json_out_status(&j);
}

/* One face's line of summary.txt: its three most shown labels. */
static void text_face(FILE *f, const session_summary *s, const session_face *fc, const char *name) {
  const session_log *log = s->log;
  int top[3] = {-1, -1, -1};
  for (int k = 0; k < log->num_classes; k++)
    for (int i = 0; i < 3; i++)
      if (top[i] < 0 || fc->share[k] > fc->share[top[i]]) {
        for (int m = 2; m > i; m--) top[m] = top[m - 1];
        top[i] = k;
        break;
      }
  char a[32], b[32];
  session_clock(a, sizeof a, fc->first_s);
  session_clock(b, sizeof b, fc->last_s);
  fprintf(f, "%-14s %s-%s, in view %.0f s:", name, a, b, fc->in_view_s);
  for (int i = 0; i < 3 && top[i] >= 0; i++)
    if (fc->share[top[i]] > 0) fprintf(f, " %s %.0f%%", log->class_names[top[i]], 100 * fc->share[top[i]]);
  fprintf(f, "; %.1f changes/min\n", fc->changes_per_min);
}

static int write_text(FILE *f, const session_page *pg) {
  const session_summary *s = pg->s;
  char d[32];
  session_clock(d, sizeof d, s->end_s - s->start_s + s->frame_dt);
  fprintf(f, "session: %s, %s, %ld frames (%.1f fps)\n", pg->in->csv, d, s->frames,
          s->frame_dt > 0 ? 1 / s->frame_dt : 0);
  fprintf(f, "model: %s%s%s%s\n", pg->in->model ? pg->in->model : "not recorded",
          pg->in->model_made_by ? " (" : "", pg->in->model_made_by ? pg->in->model_made_by : "",
          pg->in->model_made_by ? ")" : "");
  if (s->detector)
    fprintf(f, "frames without a face: %ld (%.1f%%)\n", s->frames_no_face,
            s->frames ? 100.0 * s->frames_no_face / s->frames : 0);
  text_face(f, s, &s->total, "all faces");
  int shown = 0;
  for (int i = 0; i < s->nfaces && shown < 20; i++) {
    const session_face *fc = &s->faces[i];
    if (s->detector && fc->id < 0) continue;
    char name[32];
    if (fc->id < 0) snprintf(name, sizeof name, "centre square");
    else snprintf(name, sizeof name, "face %d", fc->id);
    text_face(f, s, fc, name);
    shown++;
  }
  if (s->nfaces - (s->detector && s->faces[0].id < 0) > shown)
    fprintf(f, "(%d faces in all: summary.json has each)\n", s->nfaces);
  if (pg->cmp)
    fprintf(f, "against %s: agreement %.1f%% (raw), %.1f%% (shown), kappa %.3f, %d stretches of 1 s "
               "or more disagree\n",
            pg->in->compare_model ? pg->in->compare_model : pg->in->compare_csv,
            100 * pg->cmp->agree_raw, 100 * pg->cmp->agree_shown, pg->cmp->kappa,
            pg->cmp->nstretches);
  fprintf(f, "note: %s\n", session_identity_note(s));
  return ferror(f) ? -1 : 0;
}

typedef int (*page_writer)(FILE *f, const session_page *pg);

static int write_file(const char *dir, const char *name, page_writer fn, const session_page *pg,
                      char *err, size_t errlen) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  atomic_file af;
  if (atomic_file_open(&af, path, err, errlen)) return -1;
  int ok = fn(af.f, pg) == 0;
  if (atomic_file_close(&af, ok, err, errlen)) return -1;
  if (!ok) {
    snprintf(err, errlen, "%s: write error", path);
    return -1;
  }
  if (!pg->in->quiet) printf("report: %s\n", path);
  return 0;
}

static unsigned char *read_back(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = n > 0 ? malloc((size_t)n) : NULL;
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *size = buf ? (size_t)n : 0;
  return buf;
}

/* The thumbnails of the total's peaks, from the video when there is one. */
static void peak_thumbs(const session_report_inputs *in, const session_summary *s,
                        session_thumb *thumbs, const char **note) {
  const session_log *log = s->log;
  for (int k = 0; k < log->num_classes; k++) {
    long r = s->total.peak_row[k];
    thumbs[k].frame = r >= 0 ? log->rows[r].frame : -1;
    thumbs[k].box = r >= 0 ? (capture_rect){log->rows[r].x, log->rows[r].y, log->rows[r].w,
                                            log->rows[r].h}
                           : (capture_rect){0, 0, 0, 0};
    thumbs[k].png = NULL;
  }
  if (!in->video) {
    *note = "No thumbnails: the frames were not kept (give the video: emocam report CSV --video "
            "FILE, or record the camera with --record FILE).";
    return;
  }
  char err[512];
  if (session_thumbs_read(in->video, thumbs, log->num_classes, err, sizeof err) != 0) {
    static char why[600];
    snprintf(why, sizeof why, "No thumbnails: %s", err);
    *note = why;
  }
}

int session_report_write(const char *dir, const session_report_inputs *in, char *err,
                         size_t errlen) {
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    snprintf(err, errlen, "%s: %s", dir, strerror(errno));
    return -1;
  }
  session_log a, b;
  session_summary s;
  session_agreement cmp;
  session_thumb thumbs[SESSION_MAX_CLASSES];
  if (session_log_read(&a, in->csv, err, errlen)) return -1;
  int rc = -1, have_b = 0, have_s = 0;
  unsigned char *png = NULL;
  if (in->compare_csv) {
    if (session_log_read(&b, in->compare_csv, err, errlen)) goto done;
    have_b = 1;
    if (session_compare(&cmp, &a, &b)) {
      snprintf(err, errlen, "%s and %s: no class name in common (or out of memory)", in->csv,
               in->compare_csv);
      goto done;
    }
  }
  if (session_summarize(&s, &a, in->smooth_s)) {
    snprintf(err, errlen, "%s: out of memory summarizing %ld rows", in->csv, a.nrows);
    goto done;
  }
  have_s = 1;
  session_page pg = {in, &s, have_b ? &cmp : NULL, NULL, 0, thumbs, NULL};
  peak_thumbs(in, &s, thumbs, &pg.thumbs_note);
  char path[4096], title[1200];
  const char *base = strrchr(in->csv, '/');
  snprintf(title, sizeof title, "Session timeline \xE2\x80\x94 %s", base ? base + 1 : in->csv);
  snprintf(path, sizeof path, "%s/timeline.png", dir);
  if (session_timeline_png(path, &s, title, err, errlen)) goto done;
  if (!in->quiet) printf("report: %s\n", path);
  pg.timeline_png = png = read_back(path, &pg.timeline_size);
  if (write_file(dir, "summary.json", write_json, &pg, err, errlen) ||
      write_file(dir, "summary.txt", write_text, &pg, err, errlen) ||
      write_file(dir, "report.html", session_html_write, &pg, err, errlen))
    goto done;
  rc = 0;
done:
  free(png);
  if (have_s) session_thumbs_free(thumbs, a.num_classes);
  if (have_s) session_summary_free(&s);
  if (have_b) session_log_free(&b);
  session_log_free(&a);
  return rc;
}
