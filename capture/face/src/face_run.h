/* face_run.h: the cascade on FD_RUN_LANES neighbouring windows at once, one
 * window per vector lane. face_detect.c includes it once per lane width,
 * defining FD_RUN (the function's name), FD_RUN_LANES and FD_RUN_TARGET (a
 * target attribute, or nothing) first; it undefines them. Written once so
 * that the widths cannot drift apart: every lane computes alone, with the
 * same float operations in the same order, so any width finds the same
 * faces. The vector helpers are macros and the function takes no vector
 * argument: a 256-bit argument would change the ABI between targets.
 *
 * Runs the cascade on the windows whose integral entries start at base + k
 * for the lanes k set in live. Returns the lanes that pass every stage.
 * The std-dev normalisation is per window: nf = area * std-dev, and like
 * OpenCV windows with a std-dev of 10 grey levels or less are no faces (flat
 * walls, sky): area / nf must be below 0.1.
 */
FD_RUN_TARGET static unsigned FD_RUN(const capture_face_detector *d, int layout, size_t base,
                                     unsigned live) {
  typedef uint32_t vu __attribute__((vector_size(4 * FD_RUN_LANES), aligned(4), may_alias));
  typedef int32_t vi __attribute__((vector_size(4 * FD_RUN_LANES)));
  typedef float vf __attribute__((vector_size(4 * FD_RUN_LANES)));
/* a scalar in every lane */
#define FD_SPLAT(x) ((vf){0} + (float)(x))
/* the sum of one rectangle in every lane's window, as floats */
#define FD_RECT(p, r)                                                                      \
  __builtin_convertvector((vi)(*(const vu *)((p) + (r)->a) - *(const vu *)((p) + (r)->b) -  \
                               *(const vu *)((p) + (r)->c) + *(const vu *)((p) + (r)->d)),  \
                          vf)
  const uint32_t *p = d->sum + base, *q = d->sqsum + base;
  const fd_corners *n = &d->norm[layout];
  const double area = d->norm_area;
  vf inv_nf = FD_SPLAT(0);
  vi alive = {0};
  int any = 0;
  for (int k = 0; k < FD_RUN_LANES; k++) {
    if (!(live >> k & 1)) continue;
    int64_t s = (int32_t)(p[n->a + k] - p[n->b + k] - p[n->c + k] + p[n->d + k]);
    int64_t sq = (uint32_t)(q[n->a + k] - q[n->b + k] - q[n->c + k] + q[n->d + k]);
    int64_t nf2 = (int64_t)d->norm_area * sq - s * s;
    if (nf2 <= 0) continue;
    double nf = sqrt((double)nf2);
    if (area >= 0.1 * nf) continue;
    inv_nf[k] = (float)(1.0 / nf);
    alive[k] = -1;
    any = 1;
  }
  if (!any) return 0;
  const capture_cascade *c = d->c;
  const fd_stump *tab = d->tab[layout];
  unsigned out = live;
  for (int si = 0; si < c->nstages; si++) {
    const fd_stage *sg = &d->stages[si];
    const fd_stump *t = tab + sg->first, *end2 = t + sg->n2, *end3 = end2 + sg->n3;
    vf acc = FD_SPLAT(0);
    /* each stump: acc += (value / nf < threshold) ? left : right */
    for (; t < end2; t++) {
      vf v = FD_SPLAT(t->w[0]) * FD_RECT(p, &t->r[0]) + FD_SPLAT(t->w[1]) * FD_RECT(p, &t->r[1]);
      vi lt = v * inv_nf < FD_SPLAT(t->threshold);
      acc += (vf)((lt & (vi)FD_SPLAT(t->left)) | (~lt & (vi)FD_SPLAT(t->right)));
    }
    for (; t < end3; t++) {
      vf v = FD_SPLAT(t->w[0]) * FD_RECT(p, &t->r[0]) + FD_SPLAT(t->w[1]) * FD_RECT(p, &t->r[1]) +
             FD_SPLAT(t->w[2]) * FD_RECT(p, &t->r[2]);
      vi lt = v * inv_nf < FD_SPLAT(t->threshold);
      acc += (vf)((lt & (vi)FD_SPLAT(t->left)) | (~lt & (vi)FD_SPLAT(t->right)));
    }
    alive &= acc >= FD_SPLAT(sg->threshold);
    out = 0;
    for (int k = 0; k < FD_RUN_LANES; k++) out |= (alive[k] & 1u) << k;
    if (!out) return 0;
  }
  return out;
#undef FD_SPLAT
#undef FD_RECT
}

#undef FD_RUN
#undef FD_RUN_LANES
#undef FD_RUN_TARGET
