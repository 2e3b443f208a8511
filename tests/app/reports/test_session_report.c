/* test_session_report: the session report on a CSV whose content is known
 * row by row (two faces, one leaving and coming back under a new id, then a
 * stretch without a face): counts, shares, label changes, runs, visits and
 * frames without a face; summary.json's figures; timeline.png's pixels (the
 * dominant class's colour where it dominates, the shown label's in the
 * strip, the background where a face is out of view); a page that fetches
 * nothing; two models' agreement, kappa and their one stretch of
 * disagreement; and bad CSVs refused with the line named. */
#include <SDL.h>
#include <SDL_image.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "common/emotion.h"
#include "reports/session_report.h"
#include "reports/session_stats.h"
#include "reports/session_timeline.h"

enum { K = 7, FRAMES = 250 };
static const char *const names[K] = {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"};
enum { ANGRY, DISGUST, FEAR, HAPPY, NEUTRAL, SAD, SURPRISE };
static char dir[] = "/tmp/emocam_test_session_XXXXXX";

static void row(FILE *f, int frame, int face, int track, int dominant, int shown) {
  fprintf(f, "%d,%.4f,%d,%d,%d,%d,%d,%s,%.5f", frame, frame * 0.1, face, 10 + 100 * (face + 1),
          20, 90, 90, names[dominant], 0.88);
  for (int k = 0; k < K; k++) fprintf(f, ",%.5f", k == dominant ? 0.88 : 0.02);
  fprintf(f, ",%s,%d\n", names[shown], track);
}

/* 25 s at 10 fps. Face track 0: happy 0-9.9 s, sad 10-19.9 s, shown one
 * label late (the change at frame 105). Track 1: surprise 5-7.9 s, then
 * back as track 2: fear 12-14.9 s. No face from 20 s: the centre square,
 * neutral. `other` is a second model: angry on track 0 from 2 to 3.9 s. */
static void write_csv(const char *path, int other) {
  FILE *f = fopen(path, "w");
  fputs("frame,time_s,face,x,y,w,h,label,confidence", f);
  for (int k = 0; k < K; k++) fprintf(f, ",p_%s", names[k]);
  fputs(",smoothed_label,track\n", f);
  for (int fr = 0; fr < FRAMES; fr++) {
    if (fr >= 200) {
      row(f, fr, -1, -1, NEUTRAL, NEUTRAL);
      continue;
    }
    int d = fr < 100 ? HAPPY : SAD, shown = fr < 105 ? HAPPY : SAD;
    if (other && fr >= 20 && fr < 40) d = shown = ANGRY;
    row(f, fr, 0, 0, d, shown);
    if (fr >= 50 && fr < 80) row(f, fr, 1, 1, SURPRISE, SURPRISE);
    if (fr >= 120 && fr < 150) row(f, fr, 1, 2, FEAR, FEAR);
  }
  fclose(f);
}

static const session_face *face(const session_summary *s, int id) {
  for (int i = 0; i < s->nfaces; i++)
    if (s->faces[i].id == id) return &s->faces[i];
  return NULL;
}

static void test_figures(const char *csv) {
  session_log log;
  char err[512];
  CHECK(session_log_read(&log, csv, err, sizeof err) == 0, "%s", err);
  CHECK(log.nrows == 310 && log.num_classes == K && log.has_track);
  session_summary s;
  CHECK(session_summarize(&s, &log, 0.3f) == 0);
  CHECK(s.frames == FRAMES && s.detector && s.frames_no_face == 50, "frames %ld, no face %ld",
        s.frames, s.frames_no_face);
  CHECK(s.nfaces == 4, "%d faces", s.nfaces);
  CHECK_NEAR(s.frame_dt, 0.1, 1e-9);
  const session_face *a = face(&s, 0), *b = face(&s, 1), *c = face(&s, 2);
  CHECK(a && b && c);
  if (!a || !b || !c) return;
  CHECK(a->rows == 200 && a->shown_rows[HAPPY] == 105 && a->shown_rows[SAD] == 95);
  CHECK_NEAR(a->share[HAPPY], 0.525, 1e-12);
  CHECK(a->changes == 1, "face 0: %ld changes", a->changes);
  CHECK_NEAR(a->longest_s[HAPPY], 10.5, 1e-6);
  CHECK_NEAR(a->longest_s[SAD], 9.5, 1e-6);
  CHECK_NEAR(a->longest_at_s[SAD], 10.5, 1e-6);
  CHECK_NEAR(a->in_view_s, 20.0, 1e-6);
  CHECK_NEAR(a->changes_per_min, 3.0, 1e-6); /* one change in 20 s */
  CHECK_NEAR(a->mean_p[HAPPY], 0.45, 1e-6);
  CHECK(a->visits == 1 && b->visits == 1 && b->rows == 30 && b->changes == 0);
  CHECK(b->shown_rows[SURPRISE] == 30 && c->shown_rows[FEAR] == 30);
  CHECK_NEAR(b->first_s, 5.0, 1e-9);
  CHECK_NEAR(c->first_s, 12.0, 1e-9);
  /* the peak of happy: where the smoothing has settled, before the change */
  CHECK(a->peak_row[HAPPY] >= 0 && log.rows[a->peak_row[HAPPY]].t < 10.0);
  CHECK(s.total.rows == 260 && s.total.shown_rows[HAPPY] == 105 && s.total.shown_rows[FEAR] == 30);
  double sum = 0;
  for (int k = 0; k < K; k++) sum += s.total.share[k];
  CHECK_NEAR(sum, 1.0, 1e-12);
  session_summary_free(&s);
  session_log_free(&log);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  if (fread(s, 1, (size_t)n, f) != (size_t)n) n = 0;
  s[n] = '\0';
  fclose(f);
  return s;
}

static void test_json(const char *d) {
  char path[2400];
  snprintf(path, sizeof path, "%s/summary.json", d);
  char *j = slurp(path);
  CHECK(j != NULL, "%s missing", path);
  if (!j) return;
  CHECK(strstr(j, "\"shown_rows\": {\"angry\": 0, \"disgust\": 0, \"fear\": 30, \"happy\": 105, "
                  "\"neutral\": 0, \"sad\": 95, \"surprise\": 30}"),
        "total shown_rows not as counted");
  CHECK(strstr(j, "\"frames_without_face\": 50"));
  CHECK(strstr(j, "\"label_changes\": 1,"));
  /* the total's shares, as written, sum to 1 */
  const char *t = strstr(j, "\"total\"");
  const char *sh = t ? strstr(t, "\"share\": {") : NULL;
  double sum = 0;
  int n = 0;
  for (const char *p = sh ? strchr(sh, '{') : NULL; p && *p != '}'; p++)
    if (*p == ':') sum += strtod(p + 1, NULL), n++;
  CHECK(n == K && fabs(sum - 1) < 1e-6, "%d shares summing to %f", n, sum);
  CHECK(strstr(j, "\"comparison\"") && strstr(j, "\"stretches\""));
  free(j);
}

static Uint32 pixel(SDL_Surface *s, int x, int y) {
  Uint8 r, g, b;
  SDL_GetRGB(*(Uint32 *)((Uint8 *)s->pixels + y * s->pitch + x * 4), s->format, &r, &g, &b);
  return (Uint32)r << 16 | (Uint32)g << 8 | b;
}

static void test_timeline(const char *csv, const char *d) {
  char path[2400], err[512];
  snprintf(path, sizeof path, "%s/timeline.png", d);
  SDL_Surface *raw = IMG_Load(path);
  CHECK(raw != NULL, "%s: %s", path, IMG_GetError());
  if (!raw) return;
  SDL_Surface *img = SDL_ConvertSurfaceFormat(raw, SDL_PIXELFORMAT_ARGB8888, 0);
  SDL_FreeSurface(raw);
  session_log log;
  session_summary s;
  CHECK(session_log_read(&log, csv, err, sizeof err) == 0 && session_summarize(&s, &log, 0.3f) == 0);
  session_timeline_layout L;
  session_timeline_layout_of(&s, &L);
  CHECK(img->w == L.width && img->h == L.height, "png %dx%d, layout %dx%d", img->w, img->h,
        L.width, L.height);
  CHECK(L.npanels == 4 && L.face[0] == -1, "%d panels", L.npanels); /* overview + 3 faces */
  int p0 = -1, p1 = -1;
  for (int i = 0; i < L.npanels; i++) {
    if (L.face[i] >= 0 && s.faces[L.face[i]].id == 0) p0 = i;
    if (L.face[i] >= 0 && s.faces[L.face[i]].id == 1) p1 = i;
  }
  CHECK(p0 > 0 && p1 > 0);
  if (p0 > 0 && p1 > 0) {
    int mid = L.plot[p0].y + L.plot[p0].h / 2, strip = L.strip[p0].y + L.strip[p0].h / 2;
    Uint32 happy = emotion_colour("happy", HAPPY), sad = emotion_colour("sad", SAD);
    int x5 = session_timeline_x(&L, p0, 5.0), x15 = session_timeline_x(&L, p0, 15.0);
    int x102 = session_timeline_x(&L, p0, 10.25);
    CHECK(pixel(img, x5, mid) == happy, "5 s: %06x, happy is %06x", pixel(img, x5, mid), happy);
    CHECK(pixel(img, x15, mid) == sad, "15 s: %06x, sad is %06x", pixel(img, x15, mid), sad);
    CHECK(pixel(img, x5, strip) == happy && pixel(img, x15, strip) == sad);
    /* just after the change the strip still shows the shown (held) label */
    CHECK(pixel(img, x102, strip) == happy, "10.25 s strip %06x", pixel(img, x102, strip));
    /* face 1 is out of view at 2 s: its plot shows the background there */
    int x2 = session_timeline_x(&L, p1, 2.0), m1 = L.plot[p1].y + L.plot[p1].h / 2;
    CHECK(pixel(img, x2, m1) == 0xf6f6f6, "out of view: %06x", pixel(img, x2, m1));
    CHECK(pixel(img, session_timeline_x(&L, p1, 6.0), m1) == emotion_colour("surprise", SURPRISE));
    /* the overview has nothing from 20 s on (no face) */
    CHECK(pixel(img, session_timeline_x(&L, 0, 22.0), L.plot[0].y + L.plot[0].h / 2) == 0xf6f6f6);
  }
  session_summary_free(&s);
  session_log_free(&log);
  SDL_FreeSurface(img);
}

static void test_html(const char *d) {
  char path[2400];
  snprintf(path, sizeof path, "%s/report.html", d);
  char *h = slurp(path);
  CHECK(h != NULL);
  if (!h) return;
  CHECK(!strstr(h, "http:") && !strstr(h, "https:") && !strstr(h, "=\"//"), "a URL in the page");
  int srcs = 0, inlined = 0;
  for (const char *p = h; (p = strstr(p, "src=\"")); p += 5) {
    srcs++;
    inlined += !strncmp(p + 5, "data:image/png;base64,", 22);
  }
  CHECK(srcs >= 1 && srcs == inlined, "%d images, %d inlined", srcs, inlined);
  CHECK(strstr(h, "Against another model") && strstr(h, "00:02") && strstr(h, "00:04"));
  free(h);
}

static void test_compare(const char *a_csv, const char *b_csv) {
  session_log a, b;
  char err[512];
  CHECK(session_log_read(&a, a_csv, err, sizeof err) == 0 && session_log_read(&b, b_csv, err, sizeof err) == 0);
  session_agreement g;
  CHECK(session_compare(&g, &a, &b) == 0);
  CHECK(g.matched == 310 && g.only_a == 0 && g.only_b == 0, "matched %ld", g.matched);
  CHECK_NEAR(g.agree_raw, 290.0 / 310, 1e-12);
  /* kappa from the confusion of raw labels, counted here */
  double conf[K][K] = {{0}};
  for (long i = 0; i < a.nrows; i++) conf[a.rows[i].raw][b.rows[i].raw]++;
  double pe = 0;
  for (int k = 0; k < K; k++) {
    double r = 0, c = 0;
    for (int m = 0; m < K; m++) r += conf[k][m], c += conf[m][k];
    pe += r / 310 * (c / 310);
  }
  CHECK_NEAR(g.kappa, (290.0 / 310 - pe) / (1 - pe), 1e-9);
  CHECK(g.nstretches == 1, "%d stretches", g.nstretches);
  if (g.nstretches == 1) {
    CHECK_NEAR(g.stretches[0].start_s, 2.0, 1e-6);
    CHECK_NEAR(g.stretches[0].end_s, 4.0, 1e-6);
    CHECK(!strcmp(g.stretches[0].a, "happy") && !strcmp(g.stretches[0].b, "angry"));
  }
  /* classes matched by emotion: the other model may say "happiness" */
  session_log_free(&a);
  session_log_free(&b);
}

/* A CSV written, then edited by `edit`, must be refused naming `want`. */
static void expect_bad(const char *name, const char *body, const char *want) {
  char path[2400], err[512] = "";
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  fputs(body, f);
  fclose(f);
  session_log log;
  CHECK(session_log_read(&log, path, err, sizeof err) != 0, "%s accepted", name);
  char full[3000];
  snprintf(full, sizeof full, "%s%s", path, want);
  CHECK(strstr(err, full) != NULL, "%s: '%s', expected '%s'", name, err, full);
}

static void test_bad(const char *csv) {
  char *good = slurp(csv);
  size_t n = strlen(good);
  good[n - 7] = '\0'; /* cut inside the last row */
  char want[64];
  snprintf(want, sizeof want, ":%d: the last line is cut short", 311);
  expect_bad("cut.csv", good, want);
  free(good);
  const char *head = "frame,time_s,face,x,y,w,h,label,confidence,p_angry,p_happy,smoothed_label,track\n";
  char body[1024];
  snprintf(body, sizeof body, "%s0,0.0,0,1,1,5,5,happy,0.9,0.1,0.9,happy,0\n"
                              "1,0.1,0,1,1,5,5,happy,0.9,0.1,abc,happy,0\n", head);
  expect_bad("prob.csv", body, ":3: probability 'abc'");
  snprintf(body, sizeof body, "%s0,0.0,0,1,1,5,5,joy,0.9,0.1,0.9,happy,0\n", head);
  expect_bad("label.csv", body, ":2: label 'joy' is not a class");
  snprintf(body, sizeof body, "%s0,0.0,0,1,1,5,5,happy,0.9,0.1,0.9,happy\n", head);
  expect_bad("short.csv", body, ":2: 12 fields, expected 13");
  expect_bad("header.csv", "frame,time,label\n0,0,happy\n", ":1: header is not emocam's CSV");
  expect_bad("empty.csv", head, ": no rows after the header");
}

int main(void) {
  if (!mkdtemp(dir)) return 1;
  if (SDL_Init(0) != 0) return 1;
  char a[1200], b[1200], out[1200], err[1024];
  snprintf(a, sizeof a, "%s/a.csv", dir);
  snprintf(b, sizeof b, "%s/b.csv", dir);
  snprintf(out, sizeof out, "%s/report", dir);
  write_csv(a, 0);
  write_csv(b, 1);
  test_figures(a);
  session_report_inputs in = {.csv = a, .compare_csv = b, .model = "test", .smooth_s = 0.3f,
                              .quiet = 1};
  CHECK(session_report_write(out, &in, err, sizeof err) == 0, "%s", err);
  test_json(out);
  test_timeline(a, out);
  test_html(out);
  test_compare(a, b);
  test_bad(a);
  char cmd[1300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  SDL_Quit();
  return check_finish("test_session_report");
}
