/* session_stats: the figures of a session report (see session_stats.h). */
#include "reports/session_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/emotion.h"
#include "common/smoothing.h"

void session_clock(char *buf, size_t len, double t) {
  long s = t > 0 ? (long)floor(t + 1e-9) : 0;
  if (s >= 3600) snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else snprintf(buf, len, "%02ld:%02ld", s / 60, s % 60);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return x < y ? -1 : x > y;
}

/* The median time between consecutive frames (1/30 s when it cannot tell). */
static double median_frame_dt(const session_log *log) {
  double *d = malloc(sizeof(double) * (size_t)log->nrows);
  long n = 0;
  for (long i = 1; d && i < log->nrows; i++)
    if (log->rows[i].frame != log->rows[i - 1].frame && log->rows[i].t > log->rows[i - 1].t)
      d[n++] = log->rows[i].t - log->rows[i - 1].t;
  double dt = 1.0 / 30;
  if (n > 0) {
    qsort(d, (size_t)n, sizeof *d, cmp_double);
    dt = d[n / 2];
  }
  free(d);
  return dt;
}

/* The faces' ids, sorted, into s->faces; rows grouped by face into order. */
static int group_faces(session_summary *s) {
  const session_log *log = s->log;
  int *ids = malloc(sizeof(int) * (size_t)log->nrows);
  s->order = malloc(sizeof(long) * (size_t)log->nrows);
  if (!ids || !s->order) {
    free(ids);
    return -1;
  }
  for (long i = 0; i < log->nrows; i++) ids[i] = log->rows[i].track;
  qsort(ids, (size_t)log->nrows, sizeof *ids, cmp_int);
  int n = 0;
  for (long i = 0; i < log->nrows; i++)
    if (i == 0 || ids[i] != ids[i - 1]) ids[n++] = ids[i];
  s->nfaces = n;
  s->faces = calloc((size_t)n, sizeof *s->faces);
  s->face_start = calloc((size_t)n + 1, sizeof(long));
  long *fill = calloc((size_t)n + 1, sizeof(long));
  int *index_of = malloc(sizeof(int) * (size_t)log->nrows);
  if (!s->faces || !s->face_start || !fill || !index_of) {
    free(ids), free(fill), free(index_of);
    return -1;
  }
  for (int f = 0; f < n; f++) s->faces[f].id = ids[f];
  for (long i = 0; i < log->nrows; i++) {
    int lo = 0, hi = n - 1, id = log->rows[i].track;
    while (lo < hi) { /* binary search of the id */
      int mid = (lo + hi) / 2;
      if (ids[mid] < id) lo = mid + 1;
      else hi = mid;
    }
    index_of[i] = lo;
    s->face_start[lo + 1]++;
  }
  for (int f = 0; f < n; f++) s->face_start[f + 1] += s->face_start[f];
  for (long i = 0; i < log->nrows; i++) {
    int f = index_of[i];
    s->order[s->face_start[f] + fill[f]++] = i;
  }
  free(ids), free(fill), free(index_of);
  return 0;
}

/* One face's figures from its rows (order[a..b)), and its smoothed curves. */
static void summarize_face(session_summary *s, session_face *fc, const long *rows, long n) {
  const session_log *log = s->log;
  const int K = log->num_classes;
  const double dt0 = s->frame_dt;
  smooth_state sm;
  smooth_init(&sm, K, s->smooth_s);
  for (int k = 0; k < K; k++) fc->peak_row[k] = -1, fc->peak_p[k] = -1;
  fc->rows = n;
  double run_start = 0, prev_t = 0;
  int run_label = -1, prev_shown = -1;
  for (long j = 0; j < n; j++) {
    long i = rows[j];
    const session_row *r = &log->rows[i];
    const float *p = log->probs + (size_t)i * K;
    double dt = j ? r->t - prev_t : 0;
    int gap = j == 0 || dt > SESSION_GAP_S || dt < 0;
    if (gap) {
      fc->visits++;
      fc->in_view_s += dt0;
      smooth_reset(&sm);
      dt = 0;
    } else {
      fc->in_view_s += dt;
      if (dt <= 0) dt = dt0; /* time stamps that do not advance */
    }
    if (j == 0) fc->first_s = r->t;
    fc->last_s = r->t;
    smooth_update(&sm, p, dt);
    const float *q = smooth_probs(&sm);
    float *out = s->smoothed + (size_t)i * K;
    for (int k = 0; k < K; k++) {
      out[k] = q[k];
      fc->mean_p[k] += p[k];
      if (q[k] > fc->peak_p[k]) fc->peak_p[k] = q[k], fc->peak_row[k] = i;
    }
    fc->shown_rows[r->shown]++;
    if (!gap && r->shown != prev_shown) fc->changes++;
    /* runs of one shown label end at a change or a gap */
    if (gap || r->shown != run_label) run_label = r->shown, run_start = r->t;
    double run = r->t - run_start + dt0;
    if (run > fc->longest_s[run_label])
      fc->longest_s[run_label] = run, fc->longest_at_s[run_label] = run_start;
    prev_t = r->t;
    prev_shown = r->shown;
  }
  for (int k = 0; k < K; k++) {
    fc->mean_p[k] /= (double)n;
    fc->share[k] = (double)fc->shown_rows[k] / (double)n;
  }
  fc->changes_per_min = fc->in_view_s > 0 ? fc->changes / (fc->in_view_s / 60.0) : 0;
}

/* The total: every face row (or the centre square's rows without faces). */
static void summarize_total(session_summary *s) {
  const int K = s->log->num_classes;
  session_face *t = &s->total;
  memset(t, 0, sizeof *t);
  t->id = -2;
  for (int k = 0; k < K; k++) t->peak_row[k] = -1, t->peak_p[k] = -1;
  t->first_s = s->end_s, t->last_s = s->start_s;
  for (int f = 0; f < s->nfaces; f++) {
    const session_face *fc = &s->faces[f];
    if (s->detector && fc->id < 0) continue;
    t->rows += fc->rows;
    t->in_view_s += fc->in_view_s;
    t->visits += fc->visits;
    t->changes += fc->changes;
    if (fc->first_s < t->first_s) t->first_s = fc->first_s;
    if (fc->last_s > t->last_s) t->last_s = fc->last_s;
    for (int k = 0; k < K; k++) {
      t->shown_rows[k] += fc->shown_rows[k];
      t->mean_p[k] += fc->mean_p[k] * (double)fc->rows;
      if (fc->longest_s[k] > t->longest_s[k])
        t->longest_s[k] = fc->longest_s[k], t->longest_at_s[k] = fc->longest_at_s[k];
      if (fc->peak_p[k] > t->peak_p[k]) t->peak_p[k] = fc->peak_p[k], t->peak_row[k] = fc->peak_row[k];
    }
  }
  for (int k = 0; k < K && t->rows; k++) {
    t->mean_p[k] /= (double)t->rows;
    t->share[k] = (double)t->shown_rows[k] / (double)t->rows;
  }
  t->changes_per_min = t->in_view_s > 0 ? t->changes / (t->in_view_s / 60.0) : 0;
}

int session_summarize(session_summary *s, const session_log *log, float smooth_s) {
  memset(s, 0, sizeof *s);
  s->log = log;
  s->smooth_s = smooth_s;
  s->frame_dt = median_frame_dt(log);
  s->smoothed = malloc(sizeof(float) * (size_t)log->nrows * (size_t)log->num_classes);
  if (!s->smoothed || group_faces(s)) {
    session_summary_free(s);
    return -1;
  }
  s->start_s = log->rows[0].t, s->end_s = log->rows[0].t;
  for (long i = 0; i < log->nrows; i++) {
    const session_row *r = &log->rows[i];
    if (r->t < s->start_s) s->start_s = r->t;
    if (r->t > s->end_s) s->end_s = r->t;
    s->detector |= r->face >= 0;
    if (i == 0 || r->frame != log->rows[i - 1].frame) s->frames++;
  }
  s->lead = malloc(sizeof(long) * (size_t)log->nrows);
  if (!s->lead) {
    session_summary_free(s);
    return -1;
  }
  for (long i = 0; i < log->nrows; i++) {
    if (s->detector && log->rows[i].face < 0) s->frames_no_face++;
    if (log->rows[i].face == 0 || !s->detector) s->lead[s->nlead++] = i;
  }
  for (int f = 0; f < s->nfaces; f++)
    summarize_face(s, &s->faces[f], s->order + s->face_start[f],
                   s->face_start[f + 1] - s->face_start[f]);
  summarize_total(s);
  return 0;
}

void session_summary_free(session_summary *s) {
  if (!s) return;
  free(s->smoothed);
  free(s->order);
  free(s->face_start);
  free(s->lead);
  free(s->faces);
  memset(s, 0, sizeof *s);
}

/* ---- two models ---------------------------------------------------------- */

typedef struct {
  char names[2 * SESSION_MAX_CLASSES][64];
  int n;
  int of_a[SESSION_MAX_CLASSES], of_b[SESSION_MAX_CLASSES]; /* class -> union index */
} class_union;

/* Classes are matched by their emotion's canonical name ("happiness" in
 * one model is "happy" in the other). */
static int union_add(class_union *u, const char *class_name) {
  char name[64];
  emotion_canonical(class_name, name, sizeof name);
  for (int i = 0; i < u->n; i++)
    if (!strcmp(u->names[i], name)) return i;
  snprintf(u->names[u->n], sizeof u->names[0], "%s", name);
  return u->n++;
}

/* A stretch in progress: where it began and what each model showed. */
typedef struct {
  int open;
  double start_s, last_s;
  int face;
  long count_a[2 * SESSION_MAX_CLASSES], count_b[2 * SESSION_MAX_CLASSES];
} open_stretch;

static int mode(const long *count, int n) {
  int best = 0;
  for (int i = 1; i < n; i++)
    if (count[i] > count[best]) best = i;
  return best;
}

/* Ends st, keeping it among the longest when it lasted 1 s or more. */
static void close_stretch(session_agreement *out, open_stretch *st, const class_union *u,
                          double dt) {
  if (!st->open) return;
  st->open = 0;
  double len = st->last_s - st->start_s + dt;
  if (len < 1.0) return;
  int at = out->nstretches < SESSION_MAX_STRETCHES ? out->nstretches++ : -1;
  if (at < 0) { /* replace the shortest kept */
    at = 0;
    for (int i = 1; i < SESSION_MAX_STRETCHES; i++)
      if (out->stretches[i].end_s - out->stretches[i].start_s <
          out->stretches[at].end_s - out->stretches[at].start_s)
        at = i;
    if (out->stretches[at].end_s - out->stretches[at].start_s >= len) return;
  }
  session_stretch *s = &out->stretches[at];
  s->start_s = st->start_s;
  s->end_s = st->start_s + len;
  s->face = st->face;
  snprintf(s->a, sizeof s->a, "%s", u->names[mode(st->count_a, u->n)]);
  snprintf(s->b, sizeof s->b, "%s", u->names[mode(st->count_b, u->n)]);
}

static int cmp_stretch(const void *x, const void *y) {
  const session_stretch *a = x, *b = y;
  return a->start_s < b->start_s ? -1 : a->start_s > b->start_s;
}

/* The stretch state of each face rank (faces in view at once are few). */
typedef struct {
  int id;
  open_stretch st;
} track_stretch;

/* What a comparison counts as it walks the rows of both. */
typedef struct {
  session_agreement *out;
  const class_union *u;
  long *conf;          /* [U][U] raw label of a x raw label of b */
  track_stretch ts[64];
  int nts;
  long agree_raw, agree_shown, differ;
  double dt;
} compare_state;

/* One row of a and its match in b. */
static void match_pair(compare_state *c, const session_row *ra, const session_row *rb) {
  const class_union *u = c->u;
  int raw_a = u->of_a[ra->raw], raw_b = u->of_b[rb->raw];
  int sh_a = u->of_a[ra->shown], sh_b = u->of_b[rb->shown];
  c->conf[raw_a * u->n + raw_b]++;
  c->agree_raw += raw_a == raw_b;
  c->agree_shown += sh_a == sh_b;
  int t;
  for (t = 0; t < c->nts && c->ts[t].id != ra->face; t++) {}
  if (t == c->nts && c->nts < 64) c->ts[c->nts++].id = ra->face;
  if (t == 64) return;
  open_stretch *st = &c->ts[t].st;
  if (st->open && ra->t - st->last_s > SESSION_GAP_S) close_stretch(c->out, st, u, c->dt);
  if (sh_a == sh_b) {
    close_stretch(c->out, st, u, c->dt);
    return;
  }
  c->differ++;
  if (!st->open) {
    memset(st, 0, sizeof *st);
    st->open = 1, st->start_s = ra->t, st->face = ra->face;
  }
  st->last_s = ra->t;
  st->count_a[sh_a]++, st->count_b[sh_b]++;
}

/* The shares and kappa from the counts. */
static void finish_compare(compare_state *c) {
  session_agreement *out = c->out;
  const int U = c->u->n;
  for (int t = 0; t < c->nts; t++) close_stretch(out, &c->ts[t].st, c->u, c->dt);
  qsort(out->stretches, (size_t)out->nstretches, sizeof out->stretches[0], cmp_stretch);
  double n = (double)out->matched;
  out->agree_raw = n ? c->agree_raw / n : NAN;
  out->agree_shown = n ? c->agree_shown / n : NAN;
  out->disagree_s = c->differ * c->dt;
  double pe = 0;
  for (int k = 0; k < U && n; k++) {
    double ra = 0, cb = 0;
    for (int m = 0; m < U; m++) ra += c->conf[k * U + m], cb += c->conf[m * U + k];
    pe += (ra / n) * (cb / n);
  }
  out->kappa = !n ? NAN : pe >= 1 ? (out->agree_raw >= 1 ? 1.0 : 0.0)
                                  : (out->agree_raw - pe) / (1 - pe);
}

int session_compare(session_agreement *out, const session_log *a, const session_log *b) {
  memset(out, 0, sizeof *out);
  class_union *u = calloc(1, sizeof *u);
  compare_state *c = calloc(1, sizeof *c);
  int rc = -1;
  if (!u || !c) goto done;
  for (int k = 0; k < a->num_classes; k++) u->of_a[k] = union_add(u, a->class_names[k]);
  int common = 0;
  for (int k = 0; k < b->num_classes; k++) {
    u->of_b[k] = union_add(u, b->class_names[k]);
    common += u->of_b[k] < a->num_classes;
  }
  c->out = out, c->u = u, c->dt = median_frame_dt(a);
  c->conf = calloc((size_t)u->n * u->n, sizeof(long));
  if (!common || !c->conf) goto done;
  long i = 0, j = 0;
  while (i < a->nrows || j < b->nrows) {
    int64_t fa = i < a->nrows ? a->rows[i].frame : INT64_MAX;
    int64_t fb = j < b->nrows ? b->rows[j].frame : INT64_MAX;
    if (fa != fb) { /* a frame only one of them has */
      if (fa < fb) out->only_a++, i++;
      else out->only_b++, j++;
      continue;
    }
    long ie = i, je = j, matched = 0; /* the rows of this frame in each */
    while (ie < a->nrows && a->rows[ie].frame == fa) ie++;
    while (je < b->nrows && b->rows[je].frame == fb) je++;
    for (long x = i; x < ie; x++) {
      long y = j;
      while (y < je && b->rows[y].face != a->rows[x].face) y++;
      if (y == je) continue;
      match_pair(c, &a->rows[x], &b->rows[y]);
      matched++;
    }
    out->matched += matched;
    out->only_a += (ie - i) - matched;
    out->only_b += (je - j) - matched;
    i = ie, j = je;
  }
  finish_compare(c);
  rc = 0;
done:
  if (c) free(c->conf);
  free(c);
  free(u);
  return rc;
}
