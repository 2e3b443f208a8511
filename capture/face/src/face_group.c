/* face_group: what the detector does with its raw hits, as OpenCV does:
 * cv::partition into classes of similar boxes, cv::groupRectangles' averaging
 * and pruning, then the boxes in a fixed order (face_group.h).
 */
#include <math.h>

#include "face_group.h"

/* Grouping tolerance of cv::groupRectangles as CascadeClassifier calls it. */
#define FD_GROUP_EPS 0.2

/* cv::groupRectangles' SimilarRects: all four edges within eps of the mean size. */
static int fd_similar(const capture_rect *a, const capture_rect *b) {
  double delta = FD_GROUP_EPS * (fmin(a->w, b->w) + fmin(a->h, b->h)) * 0.5;
  return fabs((double)(a->x - b->x)) <= delta && fabs((double)(a->y - b->y)) <= delta &&
         fabs((double)(a->x + a->w - b->x - b->w)) <= delta &&
         fabs((double)(a->y + a->h - b->y - b->h)) <= delta;
}

static int fd_root(int *parent, int i) {
  while (parent[i] != i) i = parent[i] = parent[parent[i]];
  return i;
}

int fd_group(capture_rect *hits, int n, int min_neighbors, int *label, fd_class *cls,
             capture_rect *out) {
  int *parent = label;
  for (int i = 0; i < n; i++) parent[i] = i;
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      if (fd_similar(&hits[i], &hits[j])) {
        int a = fd_root(parent, i), b = fd_root(parent, j);
        if (a != b) parent[b] = a;
      }
  int ncls = 0;
  for (int i = 0; i < n; i++) /* number the roots 0..ncls-1, stored as -1-k */
    if (parent[i] == i) cls[ncls] = (fd_class){0, 0, 0, 0, 0}, parent[i] = -1 - ncls++;
  for (int i = 0; i < n; i++) {
    int r = i;
    while (parent[r] >= 0) r = parent[r];
    fd_class *k = &cls[-1 - parent[r]];
    k->x += hits[i].x, k->y += hits[i].y, k->w += hits[i].w, k->h += hits[i].h;
    k->n++;
  }
  capture_rect *avg = hits; /* the raw hits are no longer needed */
  for (int k = 0; k < ncls; k++) {
    double s = 1.0 / cls[k].n;
    avg[k] = (capture_rect){(int)lrint(cls[k].x * s), (int)lrint(cls[k].y * s),
                            (int)lrint(cls[k].w * s), (int)lrint(cls[k].h * s)};
  }
  int kept = 0;
  for (int i = 0; i < ncls; i++) {
    int n1 = cls[i].n;
    if (n1 < min_neighbors) continue;
    const capture_rect *r1 = &avg[i];
    int inside = 0;
    for (int j = 0; j < ncls && !inside; j++) {
      int n2 = cls[j].n;
      if (j == i || n2 < min_neighbors) continue;
      const capture_rect *r2 = &avg[j];
      int dx = (int)lrint(r2->w * FD_GROUP_EPS), dy = (int)lrint(r2->h * FD_GROUP_EPS);
      inside = r1->x >= r2->x - dx && r1->y >= r2->y - dy && r1->x + r1->w <= r2->x + r2->w + dx &&
               r1->y + r1->h <= r2->y + r2->h + dy && (n2 > (n1 > 3 ? n1 : 3) || n1 < 3);
    }
    if (!inside) out[kept++] = *r1;
  }
  return kept;
}

static int fd_before(const capture_rect *p, const capture_rect *q) {
  long long ap = (long long)p->w * p->h, aq = (long long)q->w * q->h;
  if (ap != aq) return ap > aq;
  return p->y != q->y ? p->y < q->y : p->x < q->x;
}

void fd_sort(capture_rect *r, int n) {
  for (int i = 1; i < n; i++) {
    capture_rect v = r[i];
    int j = i;
    for (; j > 0 && fd_before(&v, &r[j - 1]); j--) r[j] = r[j - 1];
    r[j] = v;
  }
}
