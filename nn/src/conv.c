/* conv: K x K convolution, zero padding K/2, with bias, as im2col + SGEMM.
 * y[OC, nb*OH*OW] = W[OC, C*K*K] x col[C*K*K, nb*OH*OW] + b for nb samples
 * side by side, col = im2col(x) (a 1x1 stride-1 conv of one sample uses x
 * itself unless it applies a bn's map). nb grows as planes shrink so that
 * every GEMM is wide; a sample alone (planes of 16x16 and up) has its
 * columns built in tiles of output rows that stay in L2 (tile_rows). A
 * batch is cut into fixed chunks of samples that nn's threads take
 * dynamically; each chunk writes its weight gradient into its own slot and
 * the slots are summed in chunk order, so results do not depend on the
 * thread count. At inference, a batch too small to give every thread a
 * chunk (one face, or a few) has each sample split by output rows
 * instead.
 *
 * In training, batch norms leave work to their neighbours (net.c): a 1x1
 * conv after a bn applies the bn's map as it gathers its input (pre), and a
 * conv before a bn computes the bn's input gradient as it gathers its
 * output gradient (post), so neither tensor is written and read back. */
#include "layer_ops.h"
#include "threads.h"
#include "vec.h"

#include <cblas.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static int grouped(const layer *l) { return l->a.groups > 1; }
static int is_pointwise(const layer *l) {
  return l->a.k == 1 && l->a.s == 1 && l->pad == 0 && !grouped(l);
}


/* col[(c*K + ky)*K + kx][(oy - oy0)*OW + ox] = x[c][oy*S - pad + ky][ox*S - pad + kx],
 * 0 outside the image, for output rows [oy0, oy1). x: [C, H, W]; the rows of
 * col are ld floats apart (ld >= (oy1 - oy0)*OW: other samples sit side by
 * side). */
typedef struct {
  int C, H, W, K, S, pad, OH, OW;
  long cs; /* floats from one channel's plane of x to the next's (H*W, or
              more when samples sit side by side) */
} geom;

static geom fwd_geom(const layer *l) {
  return (geom){l->a.c, l->a.h, l->a.w, l->a.k, l->a.s, l->pad, l->a.oh, l->a.ow,
                (long)l->a.h * l->a.w};
}

/* Stride 1 with OW == W (odd K, pad K/2): the rows of tap (c, ky, kx) that
 * fall inside the image are one shifted run of the input plane, copied at
 * once; the K/2 columns that wrapped around from the neighbouring rows (or
 * lay before/after the plane) are then zeroed. One copy per tap instead of
 * one per output row matters for small planes (6x6, 12x12). */
static void im2col_s1(float *col, size_t ld, const float *x, geom g, int oy0, int oy1) {
  int H = g.H, W = g.W, K = g.K, pad = g.pad;
  long plane = (long)H * W;
  for (int c = 0; c < g.C; c++) {
    const float *xc = x + (size_t)c * g.cs;
    for (int ky = 0; ky < K; ky++) {
      /* output rows whose input row oy - pad + ky is inside [0, H) */
      int ya = pad - ky > oy0 ? pad - ky : oy0, yb = H + pad - ky < oy1 ? H + pad - ky : oy1;
      if (yb < ya) yb = ya;
      for (int kx = 0; kx < K; kx++) {
        float *row = col + (size_t)((c * K + ky) * K + kx) * ld;
        if (ya > oy0) memset(row, 0, sizeof(float) * (size_t)(ya - oy0) * W);
        if (yb < oy1) memset(row + (size_t)(yb - oy0) * W, 0, sizeof(float) * (size_t)(oy1 - yb) * W);
        if (yb == ya) continue;
        long s0 = (long)(ya - pad + ky) * W + kx - pad, len = (long)(yb - ya) * W;
        long a = s0 < 0 ? -s0 : 0, b = s0 + len > plane ? s0 + len - plane : 0;
        float *d = row + (size_t)(ya - oy0) * W;
        if (len - a - b > 0) memcpy(d + a, xc + s0 + a, sizeof(float) * (size_t)(len - a - b));
        int lo, hi; /* valid output columns */
        conv_valid_range(W, W, 1, pad, kx, &lo, &hi);
        for (int oy = 0; oy < yb - ya; oy++) {
          float *r = d + (size_t)oy * W;
          for (int ox = 0; ox < lo; ox++) r[ox] = 0.0f;
          for (int ox = hi; ox < W; ox++) r[ox] = 0.0f;
        }
      }
    }
  }
}

static void im2col_g(float *col, size_t ld, const float *x, geom g, int oy0, int oy1) {
  int C = g.C, H = g.H, W = g.W, K = g.K, S = g.S, pad = g.pad, OH = g.OH, OW = g.OW;
  if (S == 1 && OW == W && OH == H && 2 * pad == K - 1) {
    im2col_s1(col, ld, x, g, oy0, oy1);
    return;
  }
  for (int c = 0; c < C; c++)
    for (int ky = 0; ky < K; ky++)
      for (int kx = 0; kx < K; kx++) {
        float *row = col + (size_t)((c * K + ky) * K + kx) * ld;
        int lo, hi;
        conv_valid_range(W, OW, S, pad, kx, &lo, &hi);
        for (int oy = oy0; oy < oy1; oy++) {
          float *r = row + (size_t)(oy - oy0) * OW;
          int iy = oy * S - pad + ky;
          if (iy < 0 || iy >= H) {
            memset(r, 0, sizeof(float) * OW);
            continue;
          }
          const float *xr = x + (size_t)c * g.cs + (size_t)iy * W - pad + kx;
          for (int ox = 0; ox < lo; ox++) r[ox] = 0.0f;
          if (S == 1 && hi - lo >= 16) {
            memcpy(r + lo, xr + lo, sizeof(float) * (hi - lo));
          } else if (S == 1) {
            for (int ox = lo; ox < hi; ox++) r[ox] = xr[ox]; /* short rows: no call */
          } else {
            for (int ox = lo; ox < hi; ox++) r[ox] = xr[ox * S];
          }
          for (int ox = hi; ox < OW; ox++) r[ox] = 0.0f;
        }
      }
}

/* The adjoint of im2col: dx = 0, then dx[c][iy][ix] += col[...] for every
 * column entry that im2col read from (c, iy, ix). dx: [C, H, W]; col rows
 * ld floats apart. */
static void col2im(float *dx, const float *col, size_t ld, const layer *l) {
  int C = l->a.c, H = l->a.h, W = l->a.w, K = l->a.k, S = l->a.s, pad = l->pad;
  int OH = l->a.oh, OW = l->a.ow;
  memset(dx, 0, sizeof(float) * C * H * W);
  for (int c = 0; c < C; c++)
    for (int ky = 0; ky < K; ky++)
      for (int kx = 0; kx < K; kx++) {
        const float *row = col + (size_t)((c * K + ky) * K + kx) * ld;
        int lo, hi;
        conv_valid_range(W, OW, S, pad, kx, &lo, &hi);
        for (int oy = 0; oy < OH; oy++) {
          int iy = oy * S - pad + ky;
          if (iy < 0 || iy >= H) continue;
          const float *r = row + (size_t)oy * OW;
          float *xr = dx + ((size_t)c * H + iy) * W - pad + kx;
          if (S == 1) {
            for (int ox = lo; ox < hi; ox++) xr[ox] += r[ox];
          } else {
            for (int ox = lo; ox < hi; ox++) xr[ox * S] += r[ox];
          }
        }
      }
}

/* dst[r][i*HW + p] = src[i][r][p] for nb samples of rows x HW: samples side by
 * side, and its inverse (scatter) */
static void gather(float *dst, const float *src, int rows, int HW, int nb) {
  for (int i = 0; i < nb; i++)
    for (int r = 0; r < rows; r++)
      memcpy(dst + (size_t)r * nb * HW + (size_t)i * HW, src + ((size_t)i * rows + r) * HW,
             sizeof(float) * HW);
}

/* gather of a bn's input through its map (bn_map_plane): the bn's output,
 * which a training forward left unwritten (net.c) */
static void gather_mapped(float *dst, const float *src, int rows, int HW, int nb,
                          const layer *bn) {
  for (int i = 0; i < nb; i++)
    for (int r = 0; r < rows; r++)
      bn_map_plane(bn, r, dst + (size_t)r * nb * HW + (size_t)i * HW,
                   src + ((size_t)i * rows + r) * HW, HW);
}

/* gather of dy for a bn's input gradient left to this layer (bn_grad_plane);
 * x: the bn's input, this layer's output */
static void gather_bn_grad(float *dst, const float *dy, const float *x, int rows, int HW, int nb,
                           const bn_grad *post) {
  for (int i = 0; i < nb; i++)
    for (int r = 0; r < rows; r++) {
      size_t at = ((size_t)i * rows + r) * HW;
      bn_grad_plane(post, r, dst + (size_t)r * nb * HW + (size_t)i * HW, dy + at, x + at, HW);
    }
}

static void scatter(float *dst, const float *src, int rows, int HW, int nb) {
  for (int i = 0; i < nb; i++)
    for (int r = 0; r < rows; r++)
      memcpy(dst + ((size_t)i * rows + r) * HW, src + (size_t)r * nb * HW + (size_t)i * HW,
             sizeof(float) * HW);
}

/* The flipped-kernel dx (im2col of dy, then one GEMM with K = OC*K*K)
 * beats GEMM-then-col2im (K = OC, then a scattered sum) for stride-1 3x3+
 * convs with enough input channels; the im2col of a 1-channel input's
 * gradient would cost more than it saves. */
static int wflip_pays(const layer *l) {
  return l->a.s == 1 && l->a.k > 1 && l->a.c >= 8 && 2 * l->pad == l->a.k - 1 && /* "same" */
         !grouped(l);
}

/* Samples per GEMM: a power of two (<= 16) making it at least 256 columns
 * wide; late layers' 6x6 planes alone make GEMMs too narrow to keep the
 * kernel busy and reload the whole weight (gradient) matrix per sample. */
static int gemm_samples(const layer *l) {
  int hw = l->a.oh * l->a.ow, nb = 1;
  while (nb < 16 && nb * hw < 256) nb *= 2;
  return nb;
}

/* At most this many chunks per batch: enough pieces for the threads to
 * balance their load, few enough weight-gradient slots to sum. */
#define MAX_CHUNKS 16

/* Samples per chunk of a batch of n: a multiple of gemm_samples. */
static int chunk_samples(const layer *l, int n) {
  int nb = gemm_samples(l), groups = (n + nb - 1) / nb;
  return nb * ((groups + MAX_CHUNKS - 1) / MAX_CHUNKS);
}

/* rows of the two scratch matrices, each rows x nb*OH*OW: A holds columns
 * (im2col of x or of dy, gathered x, or dcol), B gathered dy, the outputs of
 * several samples or their dx */
static int rows_a(const layer *l) {
  /* a 1x1 conv of one sample reads x itself, unless a bn's map is applied */
  int KK = l->a.k * l->a.k, r = l->a.c * KK;
  if (wflip_pays(l) && l->a.oc * KK > r) r = l->a.oc * KK;
  return r;
}

static int rows_b(const layer *l) {
  /* one sample: room for dy when a bn's input gradient is left to us */
  return gemm_samples(l) > 1 ? (l->a.oc > l->a.c ? l->a.oc : l->a.c) : l->a.oc;
}

int conv_takes_map(const layer *l) { return is_pointwise(l); }

size_t conv_col_size(const layer *l) {
  size_t cols = (size_t)gemm_samples(l) * l->a.oh * l->a.ow;
  return (size_t)(rows_a(l) + rows_b(l)) * cols;
}

size_t conv_wflip_size(const layer *l) {
  return wflip_pays(l) ? (size_t)l->a.oc * l->a.c * l->a.k * l->a.k : 0;
}

size_t conv_slots_size(const layer *l, int max_batch) {
  /* the most chunks any batch n <= max_batch is cut into (a smaller batch
   * can have more: 16 of 1 sample, where 17 make 9 of 2) */
  int nb = gemm_samples(l), groups = (max_batch + nb - 1) / nb;
  int chunks = groups < MAX_CHUNKS ? groups : MAX_CHUNKS;
  return (size_t)chunks * ((size_t)l->a.oc * l->a.c * l->a.k * l->a.k + l->a.oc);
}

typedef struct {
  const layer *l;
  float *out, *din;
  const float *in, *dout;
  const layer_ws *ws;
  const float *wflip; /* [C, OC, K, K] flipped kernel for the stride-1 dx, or NULL */
  const layer *pre;   /* NULL, or the bn whose map a 1x1 conv applies to `in` */
  const bn_grad *post; /* NULL, or the bn after whose input gradient we compute */
  int n, chunk, param_grads; /* chunk: samples per chunk */
} job;

/* The columns of samples [s0, s0 + nb) side by side in A (or x itself for a
 * single sample of a 1x1 conv without a bn's map). */
static const float *columns(const layer *l, const layer *pre, float *A, const float *in, int s0,
                            int nb) {
  long isz = layer_in_size(l);
  int HW = l->a.oh * l->a.ow;
  const float *x = in + s0 * isz;
  if (pre) {
    gather_mapped(A, x, l->a.c, HW, nb, pre);
    return A;
  }
  if (is_pointwise(l)) {
    if (nb == 1) return x;
    gather(A, x, l->a.c, HW, nb);
    return A;
  }
  for (int i = 0; i < nb; i++) im2col_g(A + (size_t)i * HW, (size_t)nb * HW, x + i * isz, fwd_geom(l), 0, l->a.oh);
  return A;
}

/* Output rows per im2col tile of one sample whose columns have `rows` rows:
 * a whole plane's columns (2.6 MB for 32 channels at 48x48) fall out of L2
 * between im2col writing them and the GEMM packing them; tiles of about
 * COL_TILE_BYTES stay. Equal tiles, so the last is not a sliver. */
#define COL_TILE_BYTES (512 * 1024)
static long col_tile_bytes = COL_TILE_BYTES;

void conv_set_tile_bytes(long bytes) { col_tile_bytes = bytes > 0 ? bytes : COL_TILE_BYTES; }

static int tile_rows(const layer *l, int rows) {
  long per_row = (long)rows * l->a.ow * (long)sizeof(float);
  long fit = col_tile_bytes / per_row;
  int tiles = fit < 1 ? l->a.oh : (int)((l->a.oh + fit - 1) / fit);
  return (l->a.oh + tiles - 1) / tiles;
}

/* y = W x + b for output rows [oy0, oy1) of one sample (x: [C, H, W], y:
 * [OC, OH, OW]), the columns built in col (unless a 1x1 conv reads x). */
static void fwd_rows(const layer *l, float *col, const float *x, float *y, int oy0, int oy1) {
  int OC = l->a.oc, OW = l->a.ow, HW = l->a.oh * OW, CKK = l->a.c * l->a.k * l->a.k;
  int c0 = oy0 * OW, nc = (oy1 - oy0) * OW;
  const float *b = x + c0;
  int ldb = HW;
  if (!is_pointwise(l)) {
    im2col_g(col, (size_t)nc, x, fwd_geom(l), oy0, oy1);
    b = col;
    ldb = nc;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, nc, CKK, 1.0f, l->w, CKK, b, ldb,
              0.0f, y + c0, HW);
  for (int o = 0; o < OC; o++) {
    float *r = y + (size_t)o * HW + c0;
    vec_affine(r, r, 1.0f, l->b[o], nc, l->fuse_relu);
  }
}

/* y = W x + b for samples [s0, s0 + nb) */
static void fwd_group(const job *j, float *A, float *B, int s0, int nb) {
  const layer *l = j->l;
  int OC = l->a.oc, HW = l->a.oh * l->a.ow, CKK = l->a.c * l->a.k * l->a.k, ld = nb * HW;
  long osz = layer_out_size(l);
  if (nb == 1 && !j->pre) {
    const float *x = j->in + s0 * layer_in_size(l);
    int R = is_pointwise(l) ? l->a.oh : tile_rows(l, CKK);
    for (int oy0 = 0; oy0 < l->a.oh; oy0 += R)
      fwd_rows(l, A, x, j->out + s0 * osz, oy0, oy0 + R < l->a.oh ? oy0 + R : l->a.oh);
    return;
  }
  const float *cols = columns(l, j->pre, A, j->in, s0, nb);
  float *y = nb > 1 ? B : j->out + s0 * osz; /* one sample: its output as is */
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, ld, CKK, 1.0f, l->w, CKK, cols, ld,
              0.0f, y, ld);
  for (int i = 0; i < nb; i++)
    for (int o = 0; o < OC; o++)
      vec_affine(j->out + (s0 + i) * osz + (size_t)o * HW, y + (size_t)o * ld + (size_t)i * HW,
                 1.0f, l->b[o], HW, l->fuse_relu);
}

static void fwd_chunk(void *ctx, int worker, int chunk, int end) {
  const job *j = ctx;
  (void)end;
  int nb = gemm_samples(j->l), s1 = (chunk + 1) * j->chunk < j->n ? (chunk + 1) * j->chunk : j->n;
  float *A = j->ws->col[worker], *B = A + (size_t)rows_a(j->l) * nb * j->l->a.oh * j->l->a.ow;
  for (int s = chunk * j->chunk; s < s1; s += nb) fwd_group(j, A, B, s, s1 - s < nb ? s1 - s : nb);
}

/* Single-sample split by output rows: each part builds the columns of its
 * rows [oy0, oy1) and multiplies them, so no part packs another's data and
 * one synchronisation covers the layer. */
static void fwd_row_block(void *ctx, int worker, int oy0, int oy1) {
  const job *j = ctx;
  fwd_rows(j->l, j->ws->col[worker], j->in, j->out, oy0, oy1);
}

void conv_forward(const layer *l, float *out, const float *in, int n, int train, const layer *pre,
                  const layer_ws *ws) {
  job j = {.l = l, .out = out, .in = in, .ws = ws, .n = n, .chunk = chunk_samples(l, n),
           .pre = pre};
  double flops = 2.0 * l->a.oc * l->a.c * l->a.k * l->a.k * l->a.oh * l->a.ow;
  int threads = par_parts(1 << 20, flops * n);
  if (threads > ws->threads) threads = ws->threads;
  int chunks = (n + j.chunk - 1) / j.chunk;
  /* training always takes the chunks, so that its results do not depend on
   * the thread count; a few samples at inference (the live path, flip
   * averaging) that would leave threads idle split each sample by rows */
  if (train || chunks >= threads) {
    par_each(chunks, threads, fwd_chunk, &j);
    return;
  }
  long isz = layer_in_size(l), osz = layer_out_size(l);
  for (int s = 0; s < n; s++) {
    j.in = in + s * isz;
    j.out = out + s * osz;
    /* one piece per thread: each piece multiplies the whole weight matrix */
    par_pieces(l->a.oh, threads, threads, fwd_row_block, &j);
  }
}

/* Samples [s0, s0 + nb): slot (= dW, db of the chunk) += dy x col^T, sum(dy);
 * dx = Wf x im2col(dy) (stride 1), or col2im(W^T x dy). */
static void bwd_group(const job *j, float *A, float *B, float *slot, int first, int s0, int nb) {
  const layer *l = j->l;
  int OC = l->a.oc, C = l->a.c, HW = l->a.oh * l->a.ow, KK = l->a.k * l->a.k, CKK = C * KK;
  int ld = nb * HW;
  long isz = layer_in_size(l), osz = layer_out_size(l);
  const float *dy = j->dout + s0 * osz;
  if (j->post) {
    gather_bn_grad(B, dy, j->post->x + s0 * osz, OC, HW, nb, j->post);
    dy = B;
  } else if (nb > 1) {
    gather(B, dy, OC, HW, nb);
    dy = B;
  }
  if (j->param_grads && nb == 1 && !is_pointwise(l)) {
    /* one sample: dW accumulated over tiles of output rows (tile_rows) */
    const float *x = j->in + s0 * isz;
    int R = tile_rows(l, CKK), OW = l->a.ow;
    for (int oy0 = 0; oy0 < l->a.oh; oy0 += R) {
      int oy1 = oy0 + R < l->a.oh ? oy0 + R : l->a.oh, nc = (oy1 - oy0) * OW;
      im2col_g(A, (size_t)nc, x, fwd_geom(l), oy0, oy1);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, CKK, nc, 1.0f, dy + oy0 * OW, ld,
                  A, nc, first && oy0 == 0 ? 0.0f : 1.0f, slot, CKK);
    }
  } else if (j->param_grads) {
    const float *cols = columns(l, j->pre, A, j->in, s0, nb);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, CKK, ld, 1.0f, dy, ld, cols, ld,
                first ? 0.0f : 1.0f, slot, CKK);
  }
  if (j->param_grads) {
    float *db = slot + (size_t)OC * CKK;
    for (int o = 0; o < OC; o++) db[o] = (first ? 0.0f : db[o]) + vec_sum(dy + (size_t)o * ld, ld);
  }
  if (!j->din) return;
  float *dx = j->din + s0 * isz;
  if (j->wflip) {
    /* stride 1: dx = dy correlated with the flipped, transposed kernel,
     * dx[C, HW] = Wf[C, OC*K*K] x im2col(dy); dy (in B) is no longer needed */
    geom g = {OC, l->a.oh, l->a.ow, l->a.k, 1, l->pad, l->a.h, l->a.w, ld};
    if (nb == 1) {
      /* in tiles of rows of dx, as the forward pass (same plane size) */
      int R = tile_rows(l, OC * KK), W = l->a.w;
      for (int y0 = 0; y0 < l->a.h; y0 += R) {
        int y1 = y0 + R < l->a.h ? y0 + R : l->a.h, nc = (y1 - y0) * W;
        im2col_g(A, (size_t)nc, dy, g, y0, y1);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, C, nc, OC * KK, 1.0f, j->wflip,
                    OC * KK, A, nc, 0.0f, dx + y0 * W, HW);
      }
      return;
    }
    for (int i = 0; i < nb; i++) im2col_g(A + (size_t)i * HW, (size_t)ld, dy + i * HW, g, 0, l->a.h);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, C, ld, OC * KK, 1.0f, j->wflip,
                OC * KK, A, ld, 0.0f, nb > 1 ? B : dx, ld);
    if (nb > 1) scatter(dx, B, C, HW, nb);
  } else if (is_pointwise(l)) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, ld, OC, 1.0f, l->w, C, dy, ld, 0.0f,
                nb > 1 ? A : dx, ld);
    if (nb > 1) scatter(dx, A, C, HW, nb);
  } else {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, ld, OC, 1.0f, l->w, CKK, dy, ld,
                0.0f, A, ld);
    for (int i = 0; i < nb; i++) col2im(dx + i * isz, A + (size_t)i * HW, (size_t)ld, l);
  }
}

static void bwd_chunk(void *ctx, int worker, int chunk, int end) {
  const job *j = ctx;
  const layer *l = j->l;
  (void)end;
  int nb = gemm_samples(l), s0 = chunk * j->chunk;
  int s1 = s0 + j->chunk < j->n ? s0 + j->chunk : j->n;
  size_t acc = (size_t)l->a.oc * l->a.c * l->a.k * l->a.k + l->a.oc;
  float *A = j->ws->col[worker], *B = A + (size_t)rows_a(l) * nb * l->a.oh * l->a.ow;
  float *slot = j->ws->slots + (size_t)chunk * acc;
  for (int s = s0; s < s1; s += nb) bwd_group(j, A, B, slot, s == s0, s, s1 - s < nb ? s1 - s : nb);
}

typedef struct {
  float *dw, *db;
  const float *slots;
  size_t wcount, acc;
  int chunks;
} sum_job;

/* dst[i] += slots[0][i] + slots[1][i] + ... in chunk order, i < n */
static void add_slots(float *dst, const float *slots, size_t acc, int chunks, long n) {
  long i = 0;
  for (; i + VL <= n; i += VL) {
    vf g = vf_load(slots + i);
    for (int c = 1; c < chunks; c++) g += vf_load(slots + (size_t)c * acc + i);
    vf_store(dst + i, vf_load(dst + i) + g);
  }
  for (; i < n; i++) {
    float g = slots[i];
    for (int c = 1; c < chunks; c++) g += slots[(size_t)c * acc + i];
    dst[i] += g;
  }
}

/* dW[i] += sum of the chunks' slots[c][i], c in order (db after dW) */
static void sum_slots(void *ctx, int worker, int begin, int end) {
  const sum_job *j = ctx;
  (void)worker;
  size_t w = j->wcount, b = (size_t)begin, e = (size_t)end;
  if (b < w) add_slots(j->dw + b, j->slots + b, j->acc, j->chunks, (long)((e < w ? e : w) - b));
  if (e > w) {
    size_t b2 = b > w ? b : w;
    add_slots(j->db + (b2 - w), j->slots + b2, j->acc, j->chunks, (long)(e - b2));
  }
}

void conv_backward(const layer *l, float *din, const float *dout, const float *in, int n,
                   int param_grads, const layer *pre, const bn_grad *post, const layer_ws *ws) {
  job j = {.l = l, .din = din, .in = in, .dout = dout, .ws = ws, .n = n,
           .chunk = chunk_samples(l, n), .param_grads = param_grads, .pre = pre, .post = post};
  if (din && wflip_pays(l)) {
    /* Wf[c][o][ky][kx] = W[o][c][K-1-ky][K-1-kx] */
    int C = l->a.c, OC = l->a.oc, K = l->a.k, KK = K * K;
    float *wf = ws->wflip;
    for (int c = 0; c < C; c++)
      for (int o = 0; o < OC; o++)
        for (int t = 0; t < KK; t++)
          wf[((size_t)c * OC + o) * KK + t] = l->w[((size_t)o * C + c) * KK + (KK - 1 - t)];
    j.wflip = wf;
  }
  double flops = 4.0 * l->a.oc * l->a.c * l->a.k * l->a.k * l->a.oh * l->a.ow * n;
  int chunks = (n + j.chunk - 1) / j.chunk, threads = par_parts(chunks, flops);
  if (threads > ws->threads) threads = ws->threads;
  par_each(chunks, threads, bwd_chunk, &j);
  if (!param_grads) return;
  size_t wcount = (size_t)l->a.oc * l->a.c * l->a.k * l->a.k;
  sum_job sj = {l->dw, l->db, ws->slots, wcount, wcount + l->a.oc, chunks};
  int count = (int)sj.acc;
  par_for(count, par_parts(count, (double)count * chunks), sum_slots, &sj);
}

/* The row of the layer table. */

/* padding K/2 with odd K: out = floor((in - 1) / S) + 1 */
int conv_shape_same(arch_layer *a, char *why, size_t len) {
  const char *word = layer_ops_of(a->kind)->word;
  if (a->k % 2 == 0) {
    snprintf(why, len, "%s: K %d must be odd (padding is K/2 on each side)", word, a->k);
    return -1;
  }
  a->oh = (a->h - 1) / a->s + 1;
  a->ow = (a->w - 1) / a->s + 1;
  return 0;
}

static int shape(arch_layer *a, char *why, size_t len) {
  a->oc = a->out;
  if (a->pad < 0) return conv_shape_same(a, why, len);
  /* conv OUT K STRIDE PAD [GROUPS] (v2): any K, out = floor((in + 2 PAD - K) / S) + 1 */
  int g = a->groups > 1 ? a->groups : 1;
  if (a->c % g || a->out % g) {
    snprintf(why, len, "conv %d %d %d %d %d: %d input and %d output channels do not split into %d "
                       "groups", a->out, a->k, a->s, a->pad, g, a->c, a->out, g);
    return -1;
  }
  int oh = a->h + 2 * a->pad - a->k, ow = a->w + 2 * a->pad - a->k;
  if (a->pad >= a->k || oh < 0 || ow < 0) {
    snprintf(why, len, "conv %d %d %d %d: %s", a->out, a->k, a->s, a->pad,
             a->pad >= a->k ? "the padding must be less than K" : "the input is smaller than the kernel");
    return -1;
  }
  a->oh = oh / a->s + 1;
  a->ow = ow / a->s + 1;
  return 0;
}

static int tensors(layer *l, tensor_spec *t) {
  const arch_layer *a = &l->a;
  int per = a->groups > 1 ? a->c / a->groups : a->c; /* input channels of one group */
  t[0] = (tensor_spec){"conv.weight", TENSOR_PARAM, 4, {a->oc, per, a->k, a->k}, INIT_HE, &l->w, &l->dw};
  t[1] = (tensor_spec){"conv.bias", TENSOR_PARAM, 1, {a->oc}, INIT_ZERO, &l->b, &l->db};
  return 2;
}

static double macs(const arch_layer *a) {
  return (double)a->oc * a->c / (a->groups > 1 ? a->groups : 1) * a->k * a->k * a->oh * a->ow;
}

static void needs(const layer *l, int max_batch, layer_needs *need) {
  if (grouped(l)) return; /* gconv.c needs no scratch */
  need->col = conv_col_size(l);
  need->wflip = conv_wflip_size(l);
  need->slots = conv_slots_size(l, max_batch);
}

static void forward(layer *l, const layer_fwd *f) {
  if (grouped(l)) gconv_forward(l, f->out, f->in, f->n);
  else conv_forward(l, f->out, f->in, f->n, f->train, f->pre, f->ws);
}

static void backward(const layer *l, const layer_bwd *b) {
  if (grouped(l)) gconv_backward(l, b->din, b->dout, b->in, b->n, b->param_grads);
  else conv_backward(l, b->din, b->dout, b->in, b->n, b->param_grads, b->pre, b->post, b->ws);
}

static int takes_bn_map(const layer *l, int n) {
  (void)n;
  return conv_takes_map(l);
}

static int takes_bn_grad(const layer *l, int n) {
  (void)n;
  return !grouped(l);
}

static long folds_bn(const arch_layer *a) {
  return (long)a->c / (a->groups > 1 ? a->groups : 1) * a->k * a->k;
}

const layer_ops conv_ops = {
    .word = "conv",
    .usage = "OUT K STRIDE",
    .nargs = 3,
    .args = {{"OUT", ARG_INT, 1, ARCH_MAX_CHANNELS, offsetof(arch_layer, out)},
             {"K", ARG_INT, 1, ARCH_MAX_KERNEL, offsetof(arch_layer, k)},
             {"STRIDE", ARG_INT, 1, ARCH_MAX_STRIDE, offsetof(arch_layer, s)}},
    .alt_usage = "OUT K STRIDE PAD [GROUPS]",
    .alt_nargs = 5,
    .alt_min = 4,
    .alt_args = {{"OUT", ARG_INT, 1, ARCH_MAX_CHANNELS, offsetof(arch_layer, out)},
                 {"K", ARG_INT, 1, ARCH_MAX_KERNEL, offsetof(arch_layer, k)},
                 {"STRIDE", ARG_INT, 1, ARCH_MAX_STRIDE, offsetof(arch_layer, s)},
                 {"PAD", ARG_INT, 0, ARCH_MAX_KERNEL - 1, offsetof(arch_layer, pad)},
                 {"GROUPS", ARG_INT, 1, ARCH_MAX_CHANNELS, offsetof(arch_layer, groups)}},
    .shape = shape,
    .tensors = tensors,
    .macs = macs,
    .needs = needs,
    .forward = forward,
    .backward = backward,
    .takes_bn_map = takes_bn_map,
    .takes_bn_grad = takes_bn_grad,
    .folds_bn = folds_bn,
};
