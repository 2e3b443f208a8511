/* crop: the one crop-and-resize stage shared by training, eval and the live
 * path, so a face looks the same to the CNN everywhere. Area averaging: each
 * output pixel is the exact area-weighted mean of the source pixels under its
 * footprint, fractional edge pixels weighted by the covered fraction.
 */
#include "capture.h"

#include <math.h>
#include <string.h>

/* Output columns are processed in chunks of this many so that the per-column
 * footprints and the row accumulators live in fixed stack arrays: any out_w
 * works, nothing is allocated (about 9 KB of stack). */
#define CROP_CHUNK 256
/* Source columns summed vertically at once (floats on the stack: 2048 x 4
 * channels = 32 KB). Output columns are grouped so their footprints fit. */
#define CROP_SRC_COLS 2048

/* The source pixels [first, last] covered by one output pixel's footprint
 * along one axis; first/last are only partly covered (w_first, w_last), the
 * ones between fully (weight 1). */
typedef struct {
  int first, last;
  float w_first, w_last;
} crop_span;

capture_rect capture_center_crop(int width, int height, float crop_scale) {
  capture_rect r = {0, 0, 0, 0};
  if (width <= 0 || height <= 0) return r;
  if (!(crop_scale >= 0.2f)) crop_scale = 0.2f; /* also catches NaN */
  if (crop_scale > 1.0f) crop_scale = 1.0f;
  int shorter = width < height ? width : height;
  int side = (int)((float)shorter * crop_scale + 0.5f);
  if (side < 1) side = 1;
  if (side > shorter) side = shorter;
  r.w = side;
  r.h = side;
  r.x = (width - side) / 2;
  r.y = (height - side) / 2;
  return r;
}

/* Footprint of output index o along an axis: [start + o*step, start + (o+1)*step)
 * in source coordinates, where the source covers [start, start + extent). */
static crop_span crop_make_span(int start, int extent, double step, int o) {
  double f0 = start + o * step, f1 = start + (o + 1) * step;
  double end = start + extent;
  if (f1 > end) f1 = end; /* guards rounding at the last index */
  crop_span s;
  s.first = (int)floor(f0);
  s.last = (int)ceil(f1) - 1;
  if (s.last < s.first) s.last = s.first;
  if (s.first == s.last) {
    s.w_first = s.w_last = (float)(f1 - f0);
  } else {
    s.w_first = (float)(s.first + 1 - f0);
    s.w_last = (float)(f1 - s.last);
  }
  return s;
}

/* Weighted sums of R, G, B (or grey in all three) of one source row over the
 * spans of one chunk of output columns: sums[k*3 + c]. */
static void crop_row_sums(const uint8_t *row, int channels, const crop_span *spans, int n,
                          float *sums) {
  for (int k = 0; k < n; k++) {
    const crop_span *s = &spans[k];
    float r = 0, g = 0, b = 0;
    if (channels == 1) {
      const uint8_t *p = row + s->first;
      float v = s->w_first * p[0];
      if (s->last > s->first) {
        uint32_t mid = 0; /* integer sum of the fully covered pixels */
        for (int x = s->first + 1; x < s->last; x++) mid += row[x];
        v += (float)mid + s->w_last * row[s->last];
      }
      r = g = b = v;
    } else {
      const uint8_t *p = row + (size_t)s->first * channels;
      r = s->w_first * p[0];
      g = s->w_first * p[1];
      b = s->w_first * p[2];
      if (s->last > s->first) {
        uint32_t mr = 0, mg = 0, mb = 0;
        const uint8_t *q = p + channels;
        for (int x = s->first + 1; x < s->last; x++, q += channels) {
          mr += q[0];
          mg += q[1];
          mb += q[2];
        }
        r += (float)mr + s->w_last * q[0];
        g += (float)mg + s->w_last * q[1];
        b += (float)mb + s->w_last * q[2];
      }
    }
    sums[k * 3 + 0] = r;
    sums[k * 3 + 1] = g;
    sums[k * 3 + 2] = b;
  }
}

/* Vertical pass: acc[i] = sum over the rows of the footprint vs of
 * wy * row[i], for n contiguous bytes of each row starting at column offset
 * `off` (bytes). Contiguous, so the compiler vectorizes it. */
static void crop_rows(const capture_image *img, crop_span vs, size_t off, int n, float *acc) {
  for (int y = vs.first; y <= vs.last; y++) {
    float wy = y == vs.first ? vs.w_first : (y == vs.last ? vs.w_last : 1.0f);
    const uint8_t *row = img->pixels + (size_t)y * img->stride + off;
    if (y == vs.first)
      for (int i = 0; i < n; i++) acc[i] = wy * row[i];
    else
      for (int i = 0; i < n; i++) acc[i] += wy * row[i];
  }
}

/* Horizontal pass over the vertically summed row acc (channels interleaved,
 * column 0 of acc = source column x0): per output column, weighted R, G, B. */
static void crop_cols(const float *acc, int ch, int x0, const crop_span *spans, int n,
                      float *sums) {
  for (int k = 0; k < n; k++) {
    const crop_span *s = &spans[k];
    const float *p = acc + (size_t)(s->first - x0) * ch;
    float r = s->w_first * p[0], g, b;
    if (ch == 1) {
      for (int x = s->first + 1; x < s->last; x++) r += acc[x - x0];
      if (s->last > s->first) r += s->w_last * acc[s->last - x0];
      g = b = r;
    } else {
      g = s->w_first * p[1];
      b = s->w_first * p[2];
      for (int x = s->first + 1; x <= s->last; x++) {
        const float *q = acc + (size_t)(x - x0) * ch;
        float w = x == s->last ? s->w_last : 1.0f;
        r += w * q[0];
        g += w * q[1];
        b += w * q[2];
      }
    }
    sums[k * 3 + 0] = r;
    sums[k * 3 + 1] = g;
    sums[k * 3 + 2] = b;
  }
}

/* Writes one output row of n columns from the weighted sums (k*3 + c). */
static void crop_store(const float *acc, int n, int out_c, float norm, size_t plane, float *o) {
  if (out_c == 1) {
    /* luma is linear, so it can be taken of the averaged R, G, B */
    for (int k = 0; k < n; k++)
      o[k] = (0.299f * acc[k * 3] + 0.587f * acc[k * 3 + 1] + 0.114f * acc[k * 3 + 2]) * norm;
  } else {
    for (int c = 0; c < 3; c++)
      for (int k = 0; k < n; k++) o[c * plane + k] = acc[k * 3 + c] * norm;
  }
}

void capture_crop_resize(const capture_image *img, capture_rect rect, int out_c, int out_h,
                         int out_w, float *out) {
  if (!out || out_h <= 0 || out_w <= 0 || (out_c != 1 && out_c != 3)) return;
  size_t plane = (size_t)out_h * out_w;
  /* Clip the rectangle to the image. */
  int x0 = rect.x < 0 ? 0 : rect.x, y0 = rect.y < 0 ? 0 : rect.y;
  int x1 = rect.x + rect.w, y1 = rect.y + rect.h;
  if (img && x1 > img->width) x1 = img->width;
  if (img && y1 > img->height) y1 = img->height;
  int ch = img ? img->channels : 0;
  if (!img || !img->pixels || x1 <= x0 || y1 <= y0 || (ch != 1 && ch != 3 && ch != 4)) {
    memset(out, 0, plane * out_c * sizeof(float)); /* nothing to crop: black */
    return;
  }
  int cw = x1 - x0, chh = y1 - y0;
  double sx = (double)cw / out_w, sy = (double)chh / out_h;
  /* mean = sum / footprint area, then /255 to [0,1] */
  float norm = (float)(1.0 / (sx * sy * 255.0));

  crop_span spans[CROP_CHUNK];
  float acc[CROP_CHUNK * 3], sums[CROP_CHUNK * 3];
  float rows[CROP_SRC_COLS * 4]; /* vertical sums of up to CROP_SRC_COLS columns */
  for (int c0 = 0; c0 < out_w;) {
    /* As many output columns as fit both arrays: their source columns must
     * fit in `rows` for the separable path. */
    int n = 0;
    while (c0 + n < out_w && n < CROP_CHUNK) {
      spans[n] = crop_make_span(x0, cw, sx, c0 + n);
      if (spans[n].last - spans[0].first >= CROP_SRC_COLS) break;
      n++;
    }
    if (n > 0) {
      int sx0 = spans[0].first, ncols = spans[n - 1].last - sx0 + 1;
      for (int oy = 0; oy < out_h; oy++) {
        crop_rows(img, crop_make_span(y0, chh, sy, oy), (size_t)sx0 * ch, ncols * ch, rows);
        crop_cols(rows, ch, sx0, spans, n, sums);
        crop_store(sums, n, out_c, norm, plane, out + (size_t)oy * out_w + c0);
      }
    } else {
      /* One output column wider than CROP_SRC_COLS source columns (a huge
       * image shrunk to a few pixels): sum each row's span directly. */
      n = 1;
      for (int oy = 0; oy < out_h; oy++) {
        crop_span vs = crop_make_span(y0, chh, sy, oy);
        for (int i = 0; i < 3; i++) acc[i] = 0;
        for (int y = vs.first; y <= vs.last; y++) {
          float wy = y == vs.first ? vs.w_first : (y == vs.last ? vs.w_last : 1.0f);
          crop_row_sums(img->pixels + (size_t)y * img->stride, ch, spans, 1, sums);
          for (int i = 0; i < 3; i++) acc[i] += wy * sums[i];
        }
        crop_store(acc, 1, out_c, norm, plane, out + (size_t)oy * out_w + c0);
      }
    }
    c0 += n;
  }
}
