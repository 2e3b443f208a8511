/* test_report: renders every report PNG into a temporary folder, loads it
 * back with SDL_image and checks real pixels (heatmap colours, tile borders
 * and caption colours, bars, curve lines), plus the font loader and the
 * sample pickers. No window or display is used.
 * Set EMOCAM_TEST_KEEP=1 to keep the PNGs (their folder is printed).
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <SDL.h>
#include <SDL_image.h>
#include <SDL_ttf.h>

#include "check.h"
#include "common/font.h"
#include "reports/metrics.h"
#include "reports/report.h"

static char tmpdir[] = "/tmp/emocam_test_report_XXXXXX";

static const char *out_path(const char *name) {
  static char buf[512];
  snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
  return buf;
}

/* Loads a PNG as ARGB8888 (NULL on failure, reported). */
static SDL_Surface *load(const char *path) {
  SDL_Surface *s = IMG_Load(path);
  if (!s) {
    check_fail_at(__FILE__, __LINE__, "cannot load %s: %s", path, IMG_GetError());
    return NULL;
  }
  SDL_Surface *c = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_ARGB8888, 0);
  SDL_FreeSurface(s);
  return c;
}

typedef struct {
  int r, g, b;
} rgb;

static rgb px(SDL_Surface *s, int x, int y) {
  if (x < 0 || y < 0 || x >= s->w || y >= s->h)
    return (rgb){-1, -1, -1};
  Uint32 v = ((Uint32 *)((Uint8 *)s->pixels + (size_t)y * s->pitch))[x];
  return (rgb){(int)(v >> 16 & 255), (int)(v >> 8 & 255), (int)(v & 255)};
}

static int near(rgb c, int r, int g, int b, int tol) {
  return abs(c.r - r) <= tol && abs(c.g - g) <= tol && abs(c.b - b) <= tol;
}

static int is_white(rgb c) { return c.r >= 235 && c.g >= 235 && c.b >= 235; }
static int is_greenish(rgb c) { return c.g > 90 && c.g > c.r + 50 && c.g > c.b + 40; }
static int is_reddish(rgb c) { return c.r > 150 && c.r > c.g + 70 && c.r > c.b + 70; }

static int is_bar_blue(rgb c) { return near(c, 31, 119, 180, 3); }
static int is_dark(rgb c) { return c.r < 100 && c.g < 100 && c.b < 100; }
static int is_grey_text(rgb c) { return c.r < 215 && c.r > 140 && near(c, c.r, c.r, c.r, 12); }

/* Pixels in a rectangle that satisfy pred. */
static int count_in(SDL_Surface *s, int x, int y, int w, int h, int (*pred)(rgb)) {
  int n = 0;
  for (int yy = y; yy < y + h; yy++)
    for (int xx = x; xx < x + w; xx++) {
      rgb c = px(s, xx, yy);
      if (c.r >= 0 && pred(c))
        n++;
    }
  return n;
}

/* ---- font ---------------------------------------------------------------- */

static void test_font(void) {
  char err[512] = "";
  unsetenv("EMOCAM_FONT");
  unsetenv("EMOCAM_FONT_BOLD");
  TTF_Font *f = font_open(14, 0, err, sizeof err);
  if (!f) {
    check_fail_at(__FILE__, __LINE__, "font_open: %s", err);
    return;
  }
  TTF_Font *b = font_open(14, 1, err, sizeof err);
  CHECK(b != NULL);
  CHECK(TTF_WasInit() == 2); /* one SDL_ttf reference per open font */
  CHECK(strcmp(TTF_FontFaceFamilyName(f), "DejaVu Sans") == 0);
  CHECK(b && strstr(TTF_FontFaceStyleName(b), "Bold") != NULL);
  font_close(f);
  font_close(b);
  font_close(NULL);
  CHECK(TTF_WasInit() == 0);

  /* Override: a missing file is reported with the variable's name. */
  setenv("EMOCAM_FONT", "/nonexistent/NoSuch.ttf", 1);
  CHECK(font_open(14, 0, err, sizeof err) == NULL);
  CHECK(strstr(err, "/nonexistent/NoSuch.ttf") && strstr(err, "EMOCAM_FONT"));
  printf("expected error: %s\n", err);
  CHECK(TTF_WasInit() == 0);
  /* A report cannot be drawn without its font, and says why. */
  float probs[2] = {1, 0};
  int truth[1] = {0};
  metrics_report r;
  CHECK(metrics_compute(&r, 2, 1, truth, probs) == 0);
  CHECK(report_confusion_png(out_path("nofont.png"), &r, NULL, 0, err, sizeof err) == -1);
  CHECK(strstr(err, "NoSuch.ttf") != NULL);
  CHECK(access(out_path("nofont.png"), F_OK) != 0);
  metrics_free(&r);

  /* Override with a real file; bold falls back to synthetic bold. */
  setenv("EMOCAM_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 1);
  f = font_open(12, 1, err, sizeof err);
  CHECK(f != NULL);
  if (f) {
    CHECK(strcmp(TTF_FontFaceFamilyName(f), "DejaVu Sans Mono") == 0);
    CHECK(TTF_GetFontStyle(f) & TTF_STYLE_BOLD);
    font_close(f);
  }
  unsetenv("EMOCAM_FONT");
  CHECK(font_open(0, 0, err, sizeof err) == NULL);
}

/* ---- confusion ----------------------------------------------------------- */

/* K classes, `per` samples each, one-hot probabilities for pred. */
static void one_hot_metrics(metrics_report *r, int k, int n, const int *truth, const int *pred) {
  float *probs = calloc((size_t)n * k, sizeof *probs);
  for (int i = 0; i < n; i++)
    probs[i * k + pred[i]] = 1;
  CHECK(metrics_compute(r, k, n, truth, probs) == 0);
  free(probs);
}

static void test_confusion(void) {
  const char *names[3] = {"angry", "happy", "surprise"};
  /* Perfect on classes 0 and 2; class 1 half right, half predicted as 2. */
  int truth[30], pred[30];
  for (int i = 0; i < 30; i++) {
    truth[i] = i / 10;
    pred[i] = (truth[i] == 1 && i % 2) ? 2 : truth[i];
  }
  metrics_report r;
  one_hot_metrics(&r, 3, 30, truth, pred);
  char err[512] = "";
  report_confusion_layout l;
  report_confusion_geometry(3, &l);
  for (int norm = 0; norm < 2; norm++) {
    const char *name = norm ? "confusion_normalized.png" : "confusion.png";
    CHECK(report_confusion_png(out_path(name), &r, names, norm, err, sizeof err) == 0);
    SDL_Surface *s = load(out_path(name));
    if (!s)
      continue;
    CHECK(s->w == l.width && s->h == l.height);
    /* cell corners (away from the centred text) */
#define CELL(t, p) px(s, l.grid_x + (p)*l.cell + 5, l.grid_y + (t)*l.cell + 5)
    /* 10 of 10 (100% / the largest count): the strong blue end. */
    CHECK(near(CELL(0, 0), 8, 48, 107, 6));
    CHECK(near(CELL(2, 2), 8, 48, 107, 6));
    /* zero cells: white */
    CHECK(is_white(CELL(0, 1)));
    CHECK(is_white(CELL(1, 0)));
    CHECK(is_white(CELL(2, 0)));
    /* 5 of 10: the middle of the scale, a mid blue */
    rgb mid = CELL(1, 1);
    CHECK(mid.b > mid.r + 80 && mid.r > 70 && mid.r < 150);
    CHECK(near(CELL(1, 2), mid.r, mid.g, mid.b, 2)); /* 5 and 5: same colour */
    /* Contrast: white text on the dark cell, dark text on the light mid
     * blue cell, light grey text (a zero) on the white cell. */
    CHECK(count_in(s, l.grid_x + l.cell / 2 - 20, l.grid_y + l.cell / 2 - 12, 40, 24, is_white) >
          10);
    CHECK(count_in(s, l.grid_x + l.cell + l.cell / 2 - 20, l.grid_y + l.cell + l.cell / 2 - 12, 40,
                   24, is_dark) > 5);
    CHECK(count_in(s, l.grid_x + l.cell + l.cell / 2 - 20, l.grid_y + l.cell / 2 - 12, 40, 24,
                   is_grey_text) > 5);
    CHECK(count_in(s, l.grid_x + l.cell + l.cell / 2 - 20, l.grid_y + l.cell / 2 - 12, 40, 24,
                   is_dark) == 0);
    /* Class names beside the rows: dark pixels left of the grid, per row. */
    for (int t = 0; t < 3; t++) {
      int n = 0;
      for (int y = l.grid_y + t * l.cell + 20; y < l.grid_y + (t + 1) * l.cell - 20; y++)
        for (int x = 40; x < l.grid_x - 4; x++) {
          rgb c = px(s, x, y);
          n += c.r < 100 && c.g < 100 && c.b < 100;
        }
      CHECK(n > 20);
    }
#undef CELL
    SDL_FreeSurface(s);
  }
  metrics_free(&r);
  /* Unwritable destination: error names it, nothing is left behind. */
  CHECK(report_confusion_png("/nonexistent_dir/c.png", &r, names, 0, err, sizeof err) == -1);
}

/* ---- thumbnail grid ------------------------------------------------------ */

static void test_grid(void) {
  enum { N = 10, H = 48, W = 48 };
  static float images[N * H * W];
  int truth[N], pred[N];
  float conf[N];
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < H * W; j++)
      images[i * H * W + j] = (float)i / (N - 1); /* uniform grey i/9 */
    truth[i] = i % 3;
    pred[i] = (i == 2 || i == 5 || i == 7) ? (truth[i] + 1) % 3 : truth[i];
    conf[i] = 0.5f + 0.05f * i;
  }
  const char *names[3] = {"angry", "happy", "surprise"};
  int which[8] = {9, 2, 0, 5, 1, 7, 3, 4}; /* 8 tiles, out of order */
  char err[512] = "";
  CHECK(report_grid_png(out_path("grid.png"), "Test grid", images, 1, H, W, which, 8, truth, pred,
                        conf, names, err, sizeof err) == 0);
  report_grid_layout l;
  report_grid_geometry(8, &l);
  CHECK(l.cols == 6 && l.rows == 2);
  SDL_Surface *s = load(out_path("grid.png"));
  if (s) {
    CHECK(s->w == l.width && s->h == l.height);
    for (int i = 0; i < 12; i++) {
      SDL_Rect t = report_grid_thumb(&l, i);
      rgb border = px(s, t.x - 2, t.y + t.h / 2);
      rgb centre = px(s, t.x + t.w / 2, t.y + t.h / 2);
      /* caption band below the thumbnail */
      int green = count_in(s, t.x - 28, t.y + t.h + 4, t.w + 56, 38, is_greenish);
      int red = count_in(s, t.x - 28, t.y + t.h + 4, t.w + 56, 38, is_reddish);
      if (i >= 8) { /* no tile there */
        CHECK(is_white(border) && is_white(centre) && green == 0 && red == 0);
        continue;
      }
      int sidx = which[i];
      int ok = truth[sidx] == pred[sidx];
      CHECK(ok ? is_greenish(border) : is_reddish(border));
      CHECK(ok ? (green > 30 && red == 0) : (red > 30 && green == 0));
      int grey = (int)lroundf(255.0f * sidx / (N - 1));
      CHECK(near(centre, grey, grey, grey, 1));
    }
    SDL_FreeSurface(s);
  }

  /* Colour images: planes are R, G, B. */
  static float rgbimg[3 * 8 * 8];
  for (int j = 0; j < 64; j++) {
    rgbimg[j] = 1.0f;
    rgbimg[64 + j] = 0.5f;
    rgbimg[128 + j] = 0.0f;
  }
  int w0[1] = {0}, t0[1] = {1}, p0[1] = {1};
  float c0[1] = {0.9f};
  CHECK(report_grid_png(out_path("grid_rgb.png"), "Colour", rgbimg, 3, 8, 8, w0, 1, t0, p0, c0,
                        NULL, err, sizeof err) == 0);
  report_grid_geometry(1, &l);
  s = load(out_path("grid_rgb.png"));
  if (s) {
    SDL_Rect t = report_grid_thumb(&l, 0);
    CHECK(near(px(s, t.x + 40, t.y + 40), 255, 128, 0, 1));
    SDL_FreeSurface(s);
  }

  /* More than REPORT_GRID_MAX tiles are cut; none draws "(none)". */
  report_grid_geometry(100, &l);
  CHECK(l.cols * l.rows == REPORT_GRID_MAX);
  CHECK(report_grid_png(out_path("grid_empty.png"), "Nothing", NULL, 1, H, W, NULL, 0, NULL, NULL,
                        NULL, names, err, sizeof err) == 0);
}

/* ---- pickers ------------------------------------------------------------- */

static void test_pickers(void) {
  enum { N = 200 };
  int truth[N], pred[N];
  float conf[N];
  /* class 0: 150 correct; class 1: 2 correct (at 160, 170); class 2: none
   * correct. Wrong: 150..179 but 160 and 170 (confidence .3), and 180..199
   * with confidences .5 .. .68 that tie in pairs; 48 in all. */
  for (int i = 0; i < N; i++) {
    truth[i] = i < 150 ? 0 : i < 180 ? 1 : 2;
    pred[i] = truth[i];
    if (i >= 150 && i < 180 && i != 160 && i != 170)
      pred[i] = 0;
    if (i >= 180)
      pred[i] = 1;
    conf[i] = i >= 180 ? 0.5f + 0.02f * ((i - 180) / 2) : pred[i] == truth[i] ? 0.9f : 0.3f;
  }
  int which[REPORT_GRID_MAX];
  int m = report_pick_correct(truth, pred, N, 3, which, 10);
  CHECK(m == 10);
  /* round robin: class 1 gets both, class 0 the other 8, evenly spread:
   * positions floor((j + .5) * 150 / 8) = 9, 28, 46, 65, 84, 103, 121, 140 */
  const int expect[10] = {9, 28, 46, 65, 84, 103, 121, 140, 160, 170};
  for (int i = 0; i < m && i < 10; i++)
    CHECK(which[i] == expect[i]);
  CHECK(report_pick_correct(truth, pred, N, 3, which, REPORT_GRID_MAX) == REPORT_GRID_MAX);

  m = report_pick_incorrect(truth, pred, conf, N, which, 5);
  CHECK(m == 5);
  /* most confident first: 198, 199 (tie, lower index first), 196, 197, 194 */
  const int wrong[5] = {198, 199, 196, 197, 194};
  for (int i = 0; i < m && i < 5; i++)
    CHECK(which[i] == wrong[i]);
  CHECK(report_pick_incorrect(truth, pred, conf, N, which, REPORT_GRID_MAX) == REPORT_GRID_MAX);
  CHECK(report_pick_incorrect(truth, pred, conf, N, which, 0) == 0);
}

/* ---- reliability --------------------------------------------------------- */

static void test_reliability(void) {
  /* 10 samples per chosen bin: bin 13 (conf .9) all correct, bin 6 (conf
   * .45) all wrong, bin 11 empty. */
  enum { N = 20, K = 3 };
  int truth[N];
  float probs[N * K];
  for (int i = 0; i < N; i++) {
    truth[i] = 0;
    float c = i < 10 ? 0.9f : 0.45f;
    int p = i < 10 ? 0 : 1;
    for (int j = 0; j < K; j++)
      probs[i * K + j] = j == p ? c : (1 - c) / 2;
  }
  metrics_report r;
  CHECK(metrics_compute(&r, K, N, truth, probs) == 0);
  CHECK(r.bin_count[13] == 10 && r.bin_count[6] == 10);
  char err[512] = "";
  CHECK(report_reliability_png(out_path("reliability.png"), &r, err, sizeof err) == 0);
  SDL_Surface *s = load(out_path("reliability.png"));
  SDL_Rect p = report_reliability_plot();
  if (s) {
#define AT(conf, acc) px(s, (int)(p.x + (conf)*p.w), (int)(p.y + p.h - (acc)*p.h))
    CHECK(near(AT(13.5 / 15, 0.5), 31, 119, 180, 3));   /* accuracy-1 bar */
    CHECK(near(AT(13.5 / 15, 0.85), 31, 119, 180, 3));  /* below the gap */
    CHECK(!near(AT(11.5 / 15, 0.5), 31, 119, 180, 40)); /* empty bin: no bar */
    /* Bin 6 (accuracy 0, confidence .45): no bar, the gap hatched in red
     * from 0 up to .45 and nothing above it. */
    int gx = (int)(p.x + 6.2 / 15 * p.w), gw = (int)(0.6 / 15 * p.w);
    int gy = (int)(p.y + p.h - 0.4 * p.h), gh = (int)(0.3 * p.h);
    CHECK(count_in(s, gx, gy, gw, gh, is_reddish) > gw * gh / 5);
    CHECK(count_in(s, gx, gy, gw, gh, is_bar_blue) == 0);
    CHECK(is_white(AT(6.5 / 15, 0.7)));
    /* Bin 13 (accuracy 1, confidence .9): the gap .9 .. 1 is hatched inside
     * the blue bar, which is plain blue below .9. */
    int bx = (int)(p.x + 13.2 / 15 * p.w);
    int by = (int)(p.y + p.h - 0.99 * p.h), bh = (int)(0.07 * p.h);
    CHECK(count_in(s, bx, by, gw, bh, is_reddish) > gw * bh / 5);
    CHECK(count_in(s, bx, by, gw, bh, is_bar_blue) > gw * bh / 5);
#undef AT
    SDL_FreeSurface(s);
  }
  metrics_free(&r);
}

/* ---- learning curves ----------------------------------------------------- */

static int is_train(rgb c) { return near(c, 31, 119, 180, 30); }
static int is_val(rgb c) { return near(c, 255, 127, 14, 30); }

/* Mean row of pixels matching pred in columns [x0, x1) of the plot. */
static double mean_row(SDL_Surface *s, SDL_Rect p, int x0, int x1, int (*pred)(rgb)) {
  double sum = 0;
  int n = 0;
  for (int y = p.y; y < p.y + p.h; y++)
    for (int x = x0; x < x1; x++)
      if (pred(px(s, x, y))) {
        sum += y;
        n++;
      }
  return n ? sum / n : NAN;
}

static void test_curves(void) {
  enum { E = 12 };
  float tl[E], vl[E], ta[E], va[E], nan_only[E];
  for (int i = 0; i < E; i++) {
    tl[i] = 2.0f - 1.5f * i / (E - 1);
    vl[i] = i % 2 ? NAN : 2.1f - 1.2f * i / (E - 1); /* validation every other epoch */
    ta[i] = 0.3f + 0.5f * i / (E - 1);
    va[i] = i % 2 ? NAN : 0.28f + 0.35f * i / (E - 1);
    nan_only[i] = NAN;
  }
  char err[512] = "";
  CHECK(report_curves_png(out_path("curves.png"), E, tl, vl, ta, va, NULL, err, sizeof err) == 0);
  SDL_Surface *s = load(out_path("curves.png"));
  if (s) {
    CHECK(s->w == REPORT_CURVES_WIDTH && s->h == REPORT_CURVES_HEIGHT);
    for (int panel = 0; panel < 2; panel++) {
      SDL_Rect p = report_curves_plot(panel);
      CHECK(count_in(s, p.x, p.y, p.w, p.h, is_train) > 300);
      CHECK(count_in(s, p.x, p.y, p.w, p.h, is_val) > 300);
      double left = mean_row(s, p, p.x, p.x + p.w / 5, is_train);
      double right = mean_row(s, p, p.x + p.w * 4 / 5, p.x + p.w, is_train);
      /* loss falls (line goes down the image: larger y), accuracy rises */
      CHECK(panel == 0 ? right > left + 100 : right < left - 100);
    }
    SDL_FreeSurface(s);
  }
  /* A note (what became of a --swa mean) lengthens the summary line: its
   * text reaches further right. */
  CHECK(report_curves_png(out_path("curves_note.png"), E, tl, vl, ta, va,
                          "the mean of epochs 5-12 (--swa): 67.2%, kept", err, sizeof err) == 0);
  SDL_Surface *plain = load(out_path("curves.png")), *noted = load(out_path("curves_note.png"));
  if (plain && noted) {
    int right = plain->w / 3; /* past the end of the plain summary line */
    int a = count_in(plain, right, 40, plain->w - right, 24, is_white);
    int b = count_in(noted, right, 40, noted->w - right, 24, is_white);
    CHECK(b < a - 200, "the note added %d non-white pixels right of x=%d", a - b, right);
  }
  SDL_FreeSurface(plain);
  SDL_FreeSurface(noted);
  /* Without validation: no orange anywhere (no line, no legend entry). */
  CHECK(report_curves_png(out_path("curves_noval.png"), E, tl, nan_only, ta, NULL, NULL, err,
                          sizeof err) == 0);
  s = load(out_path("curves_noval.png"));
  if (s) {
    CHECK(count_in(s, 0, 0, s->w, s->h, is_val) == 0);
    CHECK(count_in(s, 0, 0, s->w, s->h, is_train) > 600);
    SDL_FreeSurface(s);
  }
  /* One epoch is a valid (dots only) chart; zero epochs is an error. */
  CHECK(report_curves_png(out_path("curves_one.png"), 1, tl, vl, ta, va, NULL, err, sizeof err) == 0);
  CHECK(report_curves_png(out_path("curves_zero.png"), 0, tl, vl, ta, va, NULL, err, sizeof err) == -1);
}

/* ---- the evaluation folder ----------------------------------------------- */

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

static void test_write_eval(void) {
  enum { N = 70, K = 7, H = 48, W = 48 };
  static float images[N * H * W], probs[N * K];
  int truth[N];
  unsigned seed = 12345;
  for (int i = 0; i < N; i++) {
    truth[i] = i % K;
    for (int j = 0; j < H * W; j++)
      images[(size_t)i * H * W + j] = (float)((j % W) + (j / W)) / (H + W);
    float sum = 0;
    for (int k = 0; k < K; k++) {
      seed = seed * 1103515245u + 12345u;
      probs[i * K + k] = 0.1f + (float)(seed >> 16 & 1023) / 1024.0f;
      if (k == truth[i])
        probs[i * K + k] += 0.6f;
      sum += probs[i * K + k];
    }
    for (int k = 0; k < K; k++)
      probs[i * K + k] /= sum;
  }
  metrics_report r;
  CHECK(metrics_compute(&r, K, N, truth, probs) == 0);
  const char *names[K] = {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"};
  char dir[600], err[512] = "";
  snprintf(dir, sizeof dir, "%s/eval/nested", tmpdir);
  CHECK(report_write_eval(dir, &r, names, images, 1, H, W, truth, r.pred, r.confidence, N, err,
                          sizeof err) == 0);
  if (err[0])
    fprintf(stderr, "report_write_eval: %s\n", err);
  CHECK(count_entries(dir) == 5); /* and no temporary files */
  const char *files[5] = {"confusion.png", "confusion_normalized.png", "correct.png",
                          "incorrect.png", "reliability.png"};
  for (int i = 0; i < 5; i++) {
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    SDL_Surface *s = load(path);
    CHECK(s && s->w >= 600 && s->h >= 200);
    SDL_FreeSurface(s);
  }
  /* Without images: the three metric figures only. */
  snprintf(dir, sizeof dir, "%s/eval_noimg", tmpdir);
  CHECK(report_write_eval(dir, &r, names, NULL, 1, H, W, truth, r.pred, r.confidence, N, err,
                          sizeof err) == 0);
  CHECK(count_entries(dir) == 3);
  /* Mismatched counts and a folder path through a file are errors. */
  CHECK(report_write_eval(dir, &r, names, NULL, 1, H, W, truth, r.pred, r.confidence, N - 1, err,
                          sizeof err) == -1);
  char file_dir[700];
  snprintf(file_dir, sizeof file_dir, "%s/eval/nested/confusion.png/sub", tmpdir);
  CHECK(report_write_eval(file_dir, &r, names, NULL, 1, H, W, truth, r.pred, r.confidence, N, err,
                          sizeof err) == -1);
  printf("expected error: %s\n", err);
  metrics_free(&r);
}

static void remove_tree(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *e;
  char path[1024];
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
      remove_tree(path);
    else
      unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

int main(void) {
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  test_font();
  test_confusion();
  test_grid();
  test_pickers();
  test_reliability();
  test_curves();
  test_write_eval();
  if (getenv("EMOCAM_TEST_KEEP"))
    printf("PNGs kept in %s\n", tmpdir);
  else
    remove_tree(tmpdir);
  return check_finish("test_report");
}
