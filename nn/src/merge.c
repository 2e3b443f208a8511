/* merge: the layers that read two tensors (format v2): the line's input x
 * and a tensor named earlier, y (`add NAME`, `mul NAME`, `concat NAME`).
 *  add:    out = x + y, the same shape (residual connections);
 *  mul:    out = x * y, the same shape, or one of them C x 1 x 1 and
 *          broadcast over the other's planes (squeeze-and-excitation);
 *  concat: out = [x; y] along the channels, the same H x W.
 * Split by sample across nn's threads. */
#include "layer_ops.h"
#include "threads.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  const layer *l;
  const layer_fwd *f;
  const layer_bwd *b;
} job;

static long size1(const arch_layer *a) { return (long)a->c * a->h * a->w; }
static long size2(const arch_layer *a) { return (long)a->c2 * a->h2 * a->w2; }

/* ---- add ------------------------------------------------------------------ */

static int add_shape(arch_layer *a, char *why, size_t len) {
  if (a->c != a->c2 || a->h != a->h2 || a->w != a->w2) {
    snprintf(why, len, "add: the shapes differ (%dx%dx%d and %dx%dx%d)", a->c, a->h, a->w, a->c2,
             a->h2, a->w2);
    return -1;
  }
  return 0;
}

static void add_part(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  (void)part;
  long m = size1(&j->l->a);
  for (long i = (long)begin * m; i < (long)end * m; i++) j->f->out[i] = j->f->in[i] + j->f->in2[i];
}

static void add_forward(layer *l, const layer_fwd *f) {
  job j = {.l = l, .f = f};
  par_for(f->n, par_parts(f->n, (double)size1(&l->a) * f->n), add_part, &j);
}

static void add_backward(const layer *l, const layer_bwd *b) {
  size_t count = (size_t)size1(&l->a) * b->n;
  if (b->din) memcpy(b->din, b->dout, sizeof(float) * count);
  if (b->din2) memcpy(b->din2, b->dout, sizeof(float) * count);
}

const layer_ops add_ops = {
    .word = "add", .merge = 1, .shape = add_shape, .forward = add_forward, .backward = add_backward,
};

/* ---- mul ------------------------------------------------------------------ */

/* 0: same shapes; 1: y is C x 1 x 1 (broadcast); 2: x is */
static int mul_form(const arch_layer *a) {
  if (a->c == a->c2 && a->h == a->h2 && a->w == a->w2) return 0;
  return a->h2 == 1 && a->w2 == 1 ? 1 : 2;
}

static int mul_shape(arch_layer *a, char *why, size_t len) {
  int same = a->c == a->c2 && a->h == a->h2 && a->w == a->w2;
  int bcast = a->c == a->c2 && ((a->h2 == 1 && a->w2 == 1) || (a->h == 1 && a->w == 1));
  if (!same && !bcast) {
    snprintf(why, len, "mul: the shapes %dx%dx%d and %dx%dx%d are neither equal nor one of them "
                       "C x 1 x 1 of the same C", a->c, a->h, a->w, a->c2, a->h2, a->w2);
    return -1;
  }
  if (mul_form(a) == 2) a->oh = a->h2, a->ow = a->w2;
  return 0;
}

static void mul_part(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  const arch_layer *a = &j->l->a;
  (void)part;
  int form = mul_form(a);
  long C = a->c, hw = (long)a->oh * a->ow, m = C * hw;
  for (int s = begin; s < end; s++) {
    const float *x = j->f->in + s * size1(a), *y = j->f->in2 + s * size2(a);
    float *o = j->f->out + s * m;
    if (form == 0) {
      for (long i = 0; i < m; i++) o[i] = x[i] * y[i];
      continue;
    }
    const float *map = form == 1 ? x : y, *scale = form == 1 ? y : x;
    for (long c = 0; c < C; c++)
      for (long i = 0; i < hw; i++) o[c * hw + i] = map[c * hw + i] * scale[c];
  }
}

static void mul_forward(layer *l, const layer_fwd *f) {
  job j = {.l = l, .f = f};
  par_for(f->n, par_parts(f->n, (double)layer_out_size(l) * f->n), mul_part, &j);
}

/* d map = dout * scale; d scale[c] = sum over the plane of dout * map */
static void mul_bwd_part(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  const layer_bwd *b = j->b;
  const arch_layer *a = &j->l->a;
  (void)part;
  int form = mul_form(a);
  long C = a->c, hw = (long)a->oh * a->ow, m = C * hw;
  for (int s = begin; s < end; s++) {
    const float *x = b->in + s * size1(a), *y = b->in2 + s * size2(a), *dy = b->dout + s * m;
    float *dx = b->din ? b->din + s * size1(a) : NULL, *dy2 = b->din2 ? b->din2 + s * size2(a) : NULL;
    if (form == 0) {
      for (long i = 0; i < m; i++) {
        if (dx) dx[i] = dy[i] * y[i];
        if (dy2) dy2[i] = dy[i] * x[i];
      }
      continue;
    }
    const float *map = form == 1 ? x : y, *scale = form == 1 ? y : x;
    float *dmap = form == 1 ? dx : dy2, *dscale = form == 1 ? dy2 : dx;
    for (long c = 0; c < C; c++) {
      double acc = 0;
      for (long i = 0; i < hw; i++) {
        if (dmap) dmap[c * hw + i] = dy[c * hw + i] * scale[c];
        acc += (double)dy[c * hw + i] * map[c * hw + i];
      }
      if (dscale) dscale[c] = (float)acc;
    }
  }
}

static void mul_backward(const layer *l, const layer_bwd *b) {
  job j = {.l = l, .b = b};
  par_for(b->n, par_parts(b->n, 2.0 * layer_out_size(l) * b->n), mul_bwd_part, &j);
}

static double mul_macs(const arch_layer *a) { return (double)a->oc * a->oh * a->ow; }

const layer_ops mul_ops = {
    .word = "mul", .merge = 1, .shape = mul_shape, .macs = mul_macs, .forward = mul_forward,
    .backward = mul_backward,
};

/* ---- concat --------------------------------------------------------------- */

static int concat_shape(arch_layer *a, char *why, size_t len) {
  if (a->h != a->h2 || a->w != a->w2) {
    snprintf(why, len, "concat: the maps differ in size (%dx%d and %dx%d)", a->h, a->w, a->h2,
             a->w2);
    return -1;
  }
  if (a->c + a->c2 > ARCH_MAX_CHANNELS) {
    snprintf(why, len, "concat: %d + %d channels is more than %d", a->c, a->c2, ARCH_MAX_CHANNELS);
    return -1;
  }
  a->oc = a->c + a->c2;
  return 0;
}

static void concat_part(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  const arch_layer *a = &j->l->a;
  (void)part;
  long m1 = size1(a), m2 = size2(a);
  for (int s = begin; s < end; s++) {
    float *o = j->f->out + s * (m1 + m2);
    memcpy(o, j->f->in + s * m1, sizeof(float) * (size_t)m1);
    memcpy(o + m1, j->f->in2 + s * m2, sizeof(float) * (size_t)m2);
  }
}

static void concat_forward(layer *l, const layer_fwd *f) {
  job j = {.l = l, .f = f};
  par_for(f->n, par_parts(f->n, (double)layer_out_size(l) * f->n), concat_part, &j);
}

static void concat_backward(const layer *l, const layer_bwd *b) {
  long m1 = size1(&l->a), m2 = size2(&l->a);
  for (int s = 0; s < b->n; s++) {
    const float *dy = b->dout + s * (m1 + m2);
    if (b->din) memcpy(b->din + s * m1, dy, sizeof(float) * (size_t)m1);
    if (b->din2) memcpy(b->din2 + s * m2, dy + m1, sizeof(float) * (size_t)m2);
  }
}

const layer_ops concat_ops = {
    .word = "concat", .merge = 1, .shape = concat_shape, .forward = concat_forward,
    .backward = concat_backward,
};
