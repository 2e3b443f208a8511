/* face_detect: Viola-Jones frontal face detection with an OpenCV Haar cascade,
 * following OpenCV's detectMultiScale so its trained cascades behave as they
 * do there: the grey frame, downscaled once, is shrunk step by step into a
 * pyramid; a fixed window slides over each level's integral image; every
 * window is variance-normalised and run through the stages; raw hits are
 * grouped like cv::groupRectangles (face_group.c).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "face_cascade.h"
#include "face_group.h"
#include "util.h"

/* Fixed-point bilinear weights, as OpenCV's INTER_LINEAR resize. */
#define FD_COEF_BITS 11
#define FD_COEF_ONE (1 << FD_COEF_BITS)

/* Windows are evaluated several at a time, one per lane (face_run.h): 4
 * lanes (SSE2, the x86-64 baseline), or 8 when the CPU has AVX2 (picked at
 * run time; the default build stays portable). Room for the widest. */
#define FD_LANES_MAX 8
#if defined(__x86_64__) && defined(__GNUC__)
#define FD_HAVE_RUN8 1
#else
#define FD_HAVE_RUN8 0
#endif

/* Integral layouts. Levels scanned with step 1 keep columns in order; levels
 * scanned with step 2 store even columns, then odd ones, so that the windows
 * at x, x+2, x+4, x+6 also read consecutive entries. */
enum { FD_PLAIN = 0, FD_SPLIT = 1 };

/* A rectangle's four corners as offsets into the integral image from the
 * window's base entry: sum = s[a] - s[b] - s[c] + s[d]. */
typedef struct {
  int32_t a, b, c, d;
} fd_corners;

/* One stump with its feature inlined, so a window walks one array. */
typedef struct {
  fd_corners r[CASCADE_MAX_RECTS];
  float w[CASCADE_MAX_RECTS]; /* unused rectangles: weight 0 */
  float threshold, left, right;
} fd_stump;

/* A stage's stumps, those with two rectangles first, then those with three,
 * so neither loop branches on the count (the stage sum is order-free). */
typedef struct {
  int first, n2, n3;
  float threshold;
} fd_stage;

struct capture_face_detector {
  const capture_cascade *c; /* borrowed */
  fd_stage *stages;         /* [c->nstages] */
  fd_stump *tab[2];         /* [c->nstumps] per layout, offsets valid for stride */
  fd_corners norm[2];       /* the window shrunk by 1 px per side, per layout */
  int norm_area;
  int lanes; /* windows per cascade run: 4, or 8 with AVX2 */
  int stride, half; /* integral row stride; start of the odd columns (split) */
  /* Scratch for frames whose detection image is at most cap_w x cap_h. */
  int cap_w, cap_h;
  float *greyf;     /* [cap_h][cap_w] grey in [0,1] from capture_crop_resize */
  uint8_t *base;    /* [cap_h][cap_w] the downscaled grey frame */
  int32_t *hrow;    /* [2][cap_w] horizontally interpolated base rows */
  int32_t *xofs;    /* [cap_w] left source column of each level column */
  int32_t *xw;      /* [cap_w] weight of the right source column */
  uint8_t *row;     /* [cap_w] one level row */
  uint32_t *sum;    /* [cap_h + 1][stride] integral image, modulo 2^32 */
  uint32_t *sqsum;  /* [cap_h + 1][stride] integral of squares, modulo 2^32 */
  /* Raw hits and their grouping; grown only when a frame has more hits. */
  int hits_cap;
  capture_rect *hits; /* [hits_cap] in detection-image pixels */
  int *label;         /* [hits_cap] class of each hit */
  fd_class *cls;      /* [hits_cap] */
  capture_rect *out;  /* [hits_cap] grouped boxes before sorting */
};

void capture_face_defaults(capture_face_opts *o) {
  o->min_face = 48;
  o->max_face = 0;
  o->detect_width = 320;
  o->scale_step = 1.2f;
  o->min_neighbors = 3;
}

static int fd_cpu_has_avx2(void) {
#if FD_HAVE_RUN8
  return __builtin_cpu_supports("avx2");
#else
  return 0;
#endif
}

int capture_face_detector_create(capture_face_detector **out, const capture_cascade *c, char *err,
                                 size_t errlen) {
  if (!out || !c) {
    cap_msg(err, errlen, "capture_face_detector_create: no %s", out ? "cascade" : "output pointer");
    return -1;
  }
  *out = NULL;
  capture_face_detector *d = calloc(1, sizeof(*d));
  if (d) {
    d->stages = calloc((size_t)c->nstages, sizeof(fd_stage));
    d->tab[0] = calloc((size_t)c->nstumps, sizeof(fd_stump));
    d->tab[1] = calloc((size_t)c->nstumps, sizeof(fd_stump));
  }
  if (!d || !d->stages || !d->tab[0] || !d->tab[1]) {
    capture_face_detector_destroy(d);
    cap_msg(err, errlen, "face detector: out of memory for %d stumps", c->nstumps);
    return -1;
  }
  d->c = c;
  d->lanes = fd_cpu_has_avx2() ? 8 : 4;
  *out = d;
  return 0;
}

int capture_face_detector_set_lanes(capture_face_detector *d, int lanes) {
  if (!d) return 0;
  if (lanes == 4 || (lanes == 8 && fd_cpu_has_avx2())) d->lanes = lanes;
  return d->lanes;
}

static void fd_free_scratch(capture_face_detector *d) {
  free(d->greyf);
  free(d->base);
  free(d->hrow);
  free(d->xofs);
  free(d->xw);
  free(d->row);
  free(d->sum);
  free(d->sqsum);
  d->greyf = NULL;
  d->base = d->row = NULL;
  d->hrow = d->xofs = d->xw = NULL;
  d->sum = d->sqsum = NULL;
  d->cap_w = d->cap_h = 0;
}

void capture_face_detector_destroy(capture_face_detector *d) {
  if (!d) return;
  fd_free_scratch(d);
  free(d->hits);
  free(d->label);
  free(d->cls);
  free(d->out);
  free(d->stages);
  free(d->tab[0]);
  free(d->tab[1]);
  free(d);
}

/* Entry of integral column col within a row, per layout. */
static inline int fd_col(int layout, int half, int col) {
  return layout == FD_SPLIT ? (col & 1) * half + (col >> 1) : col;
}

/* Offsets of a rectangle relative to a window whose left column is even
 * (always so in the split layout, whose levels are scanned with step 2). */
static fd_corners fd_make_corners(int layout, int stride, int half, int x, int y, int w, int h) {
  fd_corners r;
  r.a = y * stride + fd_col(layout, half, x);
  r.b = y * stride + fd_col(layout, half, x + w);
  r.c = (y + h) * stride + fd_col(layout, half, x);
  r.d = (y + h) * stride + fd_col(layout, half, x + w);
  return r;
}

/* Rebuilds both stump tables (reordered per stage) for a new stride. */
static void fd_set_layout(capture_face_detector *d, int stride, int half) {
  const capture_cascade *c = d->c;
  for (int s = 0; s < c->nstages; s++) {
    const cascade_stage *sg = &c->stages[s];
    fd_stage *o = &d->stages[s];
    o->first = sg->first;
    o->n2 = o->n3 = 0;
    o->threshold = sg->threshold;
    for (int pass = 2; pass <= 3; pass++)
      for (int k = sg->first; k < sg->first + sg->count; k++) {
        const cascade_stump *st = &c->stumps[k];
        const cascade_feature *f = &c->features[st->feature];
        if ((f->nrects == 3) != (pass == 3)) continue;
        int at = sg->first + o->n2 + o->n3;
        *(pass == 2 ? &o->n2 : &o->n3) += 1;
        for (int layout = 0; layout < 2; layout++) {
          fd_stump *t = &d->tab[layout][at];
          memset(t, 0, sizeof(*t));
          for (int i = 0; i < f->nrects; i++) {
            const cascade_rect *r = &f->r[i];
            t->r[i] = fd_make_corners(layout, stride, half, r->x, r->y, r->w, r->h);
            t->w[i] = r->weight;
          }
          t->threshold = st->threshold;
          t->left = st->left;
          t->right = st->right;
        }
      }
  }
  int nw = c->win_w - 2, nh = c->win_h - 2;
  for (int layout = 0; layout < 2; layout++)
    d->norm[layout] = fd_make_corners(layout, stride, half, 1, 1, nw, nh);
  d->norm_area = nw * nh;
  d->stride = stride;
  d->half = half;
}

/* Grows the image scratch to hold a w x h detection image. */
static int fd_reserve_image(capture_face_detector *d, int w, int h) {
  if (w <= d->cap_w && h <= d->cap_h) return 0;
  int cw = w > d->cap_w ? w : d->cap_w, ch = h > d->cap_h ? h : d->cap_h;
  fd_free_scratch(d);
  /* Integral columns 0..cw; the last lanes of a row's last group may read up
   * to FD_LANES_MAX - 1 entries past its end: zeroed padding, never garbage. */
  int half = (cw + 2) / 2, stride = 2 * half + FD_LANES_MAX;
  size_t px = (size_t)cw * (size_t)ch, ipx = (size_t)stride * (size_t)(ch + 1) + FD_LANES_MAX;
  d->greyf = malloc(px * sizeof(float));
  d->base = malloc(px);
  d->hrow = malloc(2 * (size_t)cw * sizeof(int32_t));
  d->xofs = malloc((size_t)cw * sizeof(int32_t));
  d->xw = malloc((size_t)cw * sizeof(int32_t));
  d->row = malloc((size_t)cw);
  d->sum = calloc(ipx, sizeof(uint32_t));
  d->sqsum = calloc(ipx, sizeof(uint32_t));
  if (!d->greyf || !d->base || !d->hrow || !d->xofs || !d->xw || !d->row || !d->sum ||
      !d->sqsum) {
    fd_free_scratch(d);
    return -1;
  }
  d->cap_w = cw;
  d->cap_h = ch;
  fd_set_layout(d, stride, half);
  return 0;
}

static int fd_reserve_hits(capture_face_detector *d, int n) {
  if (n <= d->hits_cap) return 0;
  int cap = d->hits_cap ? d->hits_cap : 1024;
  while (cap < n) cap *= 2;
  void *h = realloc(d->hits, (size_t)cap * sizeof(*d->hits));
  if (h) d->hits = h;
  void *l = realloc(d->label, (size_t)cap * sizeof(*d->label));
  if (l) d->label = l;
  void *c = realloc(d->cls, (size_t)cap * sizeof(*d->cls));
  if (c) d->cls = c;
  void *o = realloc(d->out, (size_t)cap * sizeof(*d->out));
  if (o) d->out = o;
  if (!h || !l || !c || !o) return -1;
  d->hits_cap = cap;
  return 0;
}

/* Base row y interpolated horizontally to the level's columns, times 2^11. */
static void fd_hinterp(const capture_face_detector *d, int y, int lw, int32_t *out) {
  const uint8_t *r = d->base + (size_t)y * d->cap_w;
  for (int x = 0; x < lw; x++) {
    int x0 = d->xofs[x], x1 = x0 + (d->xw[x] != 0);
    out[x] = r[x0] * (FD_COEF_ONE - d->xw[x]) + r[x1] * d->xw[x];
  }
}

/* Resizes the w x h base image to one lw x lh pyramid level (bilinear with
 * pixel centres aligned, as OpenCV's INTER_LINEAR) and builds its integral
 * and squared integral images row by row in the given layout. Sums wrap
 * modulo 2^32: any window sum is below 2^32 (64 x 64 x 255^2 < 2^28), so
 * differences of wrapped entries are exact. */
static void fd_level_integrals(capture_face_detector *d, int w, int h, int lw, int lh, int layout) {
  const int stride = d->stride, half = d->half;
  double sx = (double)w / lw, sy = (double)h / lh;
  for (int x = 0; x < lw; x++) {
    double fx = (x + 0.5) * sx - 0.5;
    int x0 = (int)floor(fx);
    double t = fx - x0;
    if (x0 < 0) x0 = 0, t = 0;
    if (x0 >= w - 1) x0 = w - 1, t = 0;
    d->xofs[x] = x0;
    d->xw[x] = (int32_t)lrint(t * FD_COEF_ONE);
  }
  for (int x = 0; x <= lw; x++) { /* row 0 of both integrals */
    int at = fd_col(layout, half, x);
    d->sum[at] = d->sqsum[at] = 0;
  }
  /* Base rows interpolated horizontally, kept while the next level row still
   * needs them: h0 holds base row have0, h1 row have1. At factor 1 the level
   * is the base image itself. */
  int32_t *h0 = d->hrow, *h1 = d->hrow + d->cap_w;
  int have0 = -1, have1 = -1;
  const int same = lw == w && lh == h;
  for (int y = 0; y < lh; y++) {
    const uint8_t *row = d->base + (size_t)y * d->cap_w;
    if (!same) {
      double fy = (y + 0.5) * sy - 0.5;
      int y0 = (int)floor(fy);
      double t = fy - y0;
      if (y0 < 0) y0 = 0, t = 0;
      if (y0 >= h - 1) y0 = h - 1, t = 0;
      int32_t wy = (int32_t)lrint(t * FD_COEF_ONE);
      if (have0 != y0 && have1 == y0) {
        int32_t *tmp = h0;
        h0 = h1, h1 = tmp;
        have1 = have0, have0 = y0;
      } else if (have0 != y0) {
        fd_hinterp(d, y0, lw, h0);
        have0 = y0;
      }
      if (wy && have1 != y0 + 1) {
        fd_hinterp(d, y0 + 1, lw, h1);
        have1 = y0 + 1;
      }
      /* (h0 (1 - wy) + h1 wy) / 2^22, rounded; fits int32: 255 * 2^22 < 2^31 */
      if (wy)
        for (int x = 0; x < lw; x++)
          d->row[x] = (uint8_t)((h0[x] * (FD_COEF_ONE - wy) + h1[x] * wy + (1 << 21)) >> 22);
      else
        for (int x = 0; x < lw; x++)
          d->row[x] = (uint8_t)((h0[x] + (1 << (FD_COEF_BITS - 1))) >> FD_COEF_BITS);
      row = d->row;
    }
    uint32_t *s = d->sum + (size_t)(y + 1) * stride, *sq = d->sqsum + (size_t)(y + 1) * stride;
    const uint32_t *sp = s - stride, *sqp = sq - stride;
    uint32_t rs = 0, rsq = 0;
    s[0] = sq[0] = 0;
    if (layout == FD_PLAIN) {
      for (int x = 0; x < lw; x++) {
        uint32_t v = row[x];
        rs += v;
        rsq += v * v;
        s[x + 1] = sp[x + 1] + rs;
        sq[x + 1] = sqp[x + 1] + rsq;
      }
    } else {
      for (int x = 0; x < lw; x++) {
        uint32_t v = row[x];
        int at = fd_col(FD_SPLIT, half, x + 1);
        rs += v;
        rsq += v * v;
        s[at] = sp[at] + rs;
        sq[at] = sqp[at] + rsq;
      }
    }
  }
}

#define FD_RUN fd_run4
#define FD_RUN_LANES 4
#define FD_RUN_TARGET
#include "face_run.h"
#if FD_HAVE_RUN8
#define FD_RUN fd_run8
#define FD_RUN_LANES 8
#define FD_RUN_TARGET __attribute__((target("avx2")))
#include "face_run.h"
#endif

/* Scans one pyramid level, d->lanes windows at a time; appends hits (in
 * detection-image pixels). Every window position of the grid is evaluated
 * (OpenCV skips the neighbour of a window the first stage rejects). */
static int fd_scan_level(capture_face_detector *d, int lw, int lh, double factor, int layout,
                         int *nhits) {
  const int ww = d->c->win_w, wh = d->c->win_h;
  const int step = layout == FD_SPLIT ? 2 : 1, lanes = d->lanes;
  const int bw = (int)lrint(ww * factor), bh = (int)lrint(wh * factor);
  for (int y = 0; y + wh <= lh; y += step) {
    size_t rowofs = (size_t)y * d->stride;
    for (int x = 0; x + ww <= lw; x += lanes * step) {
      unsigned live = 0;
      for (int k = 0; k < lanes; k++) live |= (unsigned)(x + k * step + ww <= lw) << k;
      size_t at = rowofs + (size_t)(layout == FD_SPLIT ? x / 2 : x);
#if FD_HAVE_RUN8
      unsigned hit = lanes == 8 ? fd_run8(d, layout, at, live) : fd_run4(d, layout, at, live);
#else
      unsigned hit = fd_run4(d, layout, at, live);
#endif
      for (int k = 0; hit && k < lanes; k++, hit >>= 1) {
        if (!(hit & 1)) continue;
        if (fd_reserve_hits(d, *nhits + 1) < 0) return -1;
        d->hits[(*nhits)++] = (capture_rect){(int)lrint((x + k * step) * factor),
                                             (int)lrint(y * factor), bw, bh};
      }
    }
  }
  return 0;
}

int capture_face_detect(capture_face_detector *d, const capture_image *img,
                        const capture_face_opts *o, capture_rect *faces, int max) {
  if (!d || !img || (max > 0 && !faces)) return -1;
  if (!img->pixels || img->width <= 0 || img->height <= 0 ||
      (img->channels != 1 && img->channels != 3 && img->channels != 4))
    return -1;
  capture_face_opts opt;
  capture_face_defaults(&opt);
  if (o) {
    if (o->min_face > 0) opt.min_face = o->min_face;
    opt.max_face = o->max_face > 0 ? o->max_face : 0;
    opt.detect_width = o->detect_width;
    if (o->scale_step > 1.001f && o->scale_step <= 4.0f) opt.scale_step = o->scale_step;
    opt.min_neighbors = o->min_neighbors < 1 ? 1 : o->min_neighbors;
  }
  const int ww = d->c->win_w, wh = d->c->win_h;
  /* The detection image: grey, at most detect_width wide (<= 0: full width),
   * but never narrower than the window. */
  int dw = img->width;
  if (opt.detect_width > 0 && opt.detect_width < dw)
    dw = opt.detect_width > ww ? opt.detect_width : ww;
  if (dw > img->width) dw = img->width;
  int dh = (int)lrint((double)img->height * dw / img->width);
  if (dh < 1) dh = 1;
  if (dw < ww || dh < wh) return 0;
  if (fd_reserve_image(d, dw, dh) < 0) return -1;
  capture_rect all = {0, 0, img->width, img->height};
  capture_crop_resize(img, all, 1, dh, dw, d->greyf);
  for (int y = 0; y < dh; y++)
    for (int x = 0; x < dw; x++) {
      float v = d->greyf[(size_t)y * dw + x] * 255.0f + 0.5f;
      d->base[(size_t)y * d->cap_w + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  /* Scales: the window grows by scale_step from min_face (in detection pixels). */
  double to_det = (double)dw / img->width;
  double f0 = opt.min_face * to_det / ww;
  if (f0 < 1.0) f0 = 1.0;
  int nhits = 0;
  for (double factor = f0;; factor *= opt.scale_step) {
    int lw = (int)lrint(dw / factor), lh = (int)lrint(dh / factor);
    if (lw < ww || lh < wh) break;
    if (opt.max_face > 0 && factor * ww / to_det > opt.max_face * opt.scale_step) break;
    /* step 2 below scale 2, then 1, as OpenCV */
    int layout = factor >= 2.0 ? FD_PLAIN : FD_SPLIT;
    fd_level_integrals(d, dw, dh, lw, lh, layout);
    if (fd_scan_level(d, lw, lh, factor, layout, &nhits) < 0) return -1;
  }
  if (nhits == 0) return 0;
  int n = fd_group(d->hits, nhits, opt.min_neighbors, d->label, d->cls, d->out);
  fd_sort(d->out, n);
  /* Back to source pixels, clipped to the image. */
  double sx = (double)img->width / dw, sy = (double)img->height / dh;
  int count = 0;
  for (int i = 0; i < n && count < max; i++) {
    const capture_rect *r = &d->out[i];
    int x0 = (int)lrint(r->x * sx), y0 = (int)lrint(r->y * sy);
    int x1 = (int)lrint((r->x + r->w) * sx), y1 = (int)lrint((r->y + r->h) * sy);
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > img->width) x1 = img->width;
    if (y1 > img->height) y1 = img->height;
    if (x1 <= x0 || y1 <= y0) continue;
    faces[count++] = (capture_rect){x0, y0, x1 - x0, y1 - y0};
  }
  return count;
}
