/* face_cascade: a strict reader for exactly one XML schema, OpenCV 4's
 * "opencv-cascade-classifier" with stageType BOOST, featureType HAAR and
 * stump weak classifiers (what opencv_traincascade writes and opencv-data
 * ships), without an XML library. Anything else is rejected with a message
 * naming the file, the line, the element path and what was expected.
 *
 * Schema (element order inside a parent is free, as in OpenCV's reader):
 *   <opencv_storage><cascade type_id="opencv-cascade-classifier">
 *     <stageType>BOOST</stageType> <featureType>HAAR</featureType>
 *     <height>24</height> <width>24</width>
 *     <stageParams>..</stageParams> <featureParams>..</featureParams> (optional)
 *     <stageNum>N</stageNum>
 *     <stages> N x <_> <maxWeakCount>K</maxWeakCount> <stageThreshold>t</stageThreshold>
 *                      <weakClassifiers> K x <_> <internalNodes>0 -1 featureIdx thr</internalNodes>
 *                                               <leafValues>left right</leafValues> </_>
 *     <features> <_> <rects> 1..3 x <_>x y w h weight</_> </rects> [<tilted>0</tilted>] </_> ...
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "face_cascade.h"
#include "xml_reader.h"
#include "util.h"

/* <weakClassifiers><_>: one stump. */
static int xr_stump(xr *x, const xr_tag *open, cascade_stump *st) {
  unsigned seen = 0;
  xr_tag t;
  int rc;
  while ((rc = xr_child(x, open, &t)) == 1) {
    if (xr_push(x, &t, -1) < 0) return -1;
    double v[XR_MAX_NUMS];
    int k;
    if (xr_name_is(t.name, t.len, "internalNodes")) {
      if (xr_once(x, &t, &seen, 1) < 0 || xr_numbers(x, &t, v, 4, XR_MAX_NUMS, &k) < 0) return -1;
      if (k != 4 || v[0] != 0 || v[1] != -1)
        return xr_fail(x, "only stumps are supported: expected \"0 -1 featureIdx threshold\" "
                          "(a tree or categorical split has other values)");
      if (v[2] != floor(v[2]) || v[2] < 0 || v[2] >= XR_MAX_FEATURES)
        return xr_fail(x, "bad feature index %g", v[2]);
      st->feature = (int)v[2];
      st->threshold = (float)v[3];
    } else if (xr_name_is(t.name, t.len, "leafValues")) {
      if (xr_once(x, &t, &seen, 2) < 0 || xr_numbers(x, &t, v, 2, 2, &k) < 0) return -1;
      st->left = (float)v[0];
      st->right = (float)v[1];
    } else {
      return xr_unexpected(x, &t);
    }
    xr_pop(x);
  }
  if (rc < 0) return -1;
  if (!(seen & 1)) return xr_fail(x, "missing <internalNodes>");
  if (!(seen & 2)) return xr_fail(x, "missing <leafValues>");
  return 0;
}

/* <stages><_>: one stage; its stumps are appended to stumps. */
static int xr_stage(xr *x, const xr_tag *open, cascade_stage *sg, xr_vec *stumps) {
  unsigned seen = 0;
  int declared = 0;
  sg->first = stumps->n;
  sg->count = 0;
  xr_tag t;
  int rc;
  while ((rc = xr_child(x, open, &t)) == 1) {
    if (xr_push(x, &t, -1) < 0) return -1;
    if (xr_name_is(t.name, t.len, "maxWeakCount")) {
      if (xr_once(x, &t, &seen, 1) < 0 || xr_int(x, &t, 1, XR_MAX_WEAK, &declared) < 0) return -1;
    } else if (xr_name_is(t.name, t.len, "stageThreshold")) {
      if (xr_once(x, &t, &seen, 2) < 0 || xr_float(x, &t, &sg->threshold) < 0) return -1;
      sg->threshold -= XR_THRESHOLD_EPS;
    } else if (xr_name_is(t.name, t.len, "weakClassifiers")) {
      if (xr_once(x, &t, &seen, 4) < 0) return -1;
      xr_tag w;
      while ((rc = xr_child(x, &t, &w)) == 1) {
        if (!xr_name_is(w.name, w.len, "_")) return xr_unexpected(x, &w);
        if (xr_push(x, &w, sg->count) < 0) return -1;
        if (xr_grow(x, stumps, sizeof(cascade_stump), XR_MAX_WEAK, "weak classifiers") < 0)
          return -1;
        cascade_stump *st = (cascade_stump *)stumps->p + stumps->n;
        if (xr_stump(x, &w, st) < 0) return -1;
        stumps->n++;
        sg->count++;
        xr_pop(x);
      }
      if (rc < 0) return -1;
    } else {
      return xr_unexpected(x, &t);
    }
    xr_pop(x);
  }
  if (rc < 0) return -1;
  if (!(seen & 1)) return xr_fail(x, "missing <maxWeakCount>");
  if (!(seen & 2)) return xr_fail(x, "missing <stageThreshold>");
  if (!(seen & 4)) return xr_fail(x, "missing <weakClassifiers>");
  if (sg->count != declared)
    return xr_fail(x, "<weakClassifiers> has %d entries, <maxWeakCount> says %d", sg->count,
                   declared);
  return 0;
}

/* <features><_>: 1..3 rectangles inside the window, upright only. */
static int xr_feature(xr *x, const xr_tag *open, cascade_feature *f, int win_w, int win_h) {
  unsigned seen = 0;
  f->nrects = 0;
  xr_tag t;
  int rc;
  while ((rc = xr_child(x, open, &t)) == 1) {
    if (xr_push(x, &t, -1) < 0) return -1;
    if (xr_name_is(t.name, t.len, "rects")) {
      if (xr_once(x, &t, &seen, 1) < 0) return -1;
      xr_tag r;
      while ((rc = xr_child(x, &t, &r)) == 1) {
        if (!xr_name_is(r.name, r.len, "_")) return xr_unexpected(x, &r);
        if (xr_push(x, &r, f->nrects) < 0) return -1;
        if (f->nrects >= CASCADE_MAX_RECTS)
          return xr_fail(x, "more than %d rectangles in one feature", CASCADE_MAX_RECTS);
        double v[XR_MAX_NUMS];
        int k;
        if (xr_numbers(x, &r, v, 5, 5, &k) < 0) return -1;
        for (int i = 0; i < 4; i++)
          if (v[i] != floor(v[i]))
            return xr_fail(x, "rectangle coordinate %g is not an integer", v[i]);
        if (v[0] < 0 || v[1] < 0 || v[2] < 1 || v[3] < 1 || v[0] + v[2] > win_w ||
            v[1] + v[3] > win_h)
          return xr_fail(x, "rectangle %g %g %g %g is not inside the %dx%d window", v[0], v[1],
                         v[2], v[3], win_w, win_h);
        f->r[f->nrects++] = (cascade_rect){(int)v[0], (int)v[1], (int)v[2], (int)v[3], (float)v[4]};
        xr_pop(x);
      }
      if (rc < 0) return -1;
    } else if (xr_name_is(t.name, t.len, "tilted")) {
      int tilted = 0;
      if (xr_once(x, &t, &seen, 2) < 0 || xr_int(x, &t, 0, 1, &tilted) < 0) return -1;
      if (tilted) return xr_fail(x, "tilted (45 degree) features are not supported");
    } else {
      return xr_unexpected(x, &t);
    }
    xr_pop(x);
  }
  if (rc < 0) return -1;
  if (!(seen & 1)) return xr_fail(x, "missing <rects>");
  if (f->nrects == 0) return xr_fail(x, "<rects> is empty");
  return 0;
}

/* <stageParams> / <featureParams>: only maxCatCount matters (0 = not LBP). */
static int xr_params(xr *x, const xr_tag *open) {
  xr_tag t;
  int rc;
  while ((rc = xr_child(x, open, &t)) == 1) {
    if (xr_push(x, &t, -1) < 0) return -1;
    if (xr_name_is(t.name, t.len, "maxCatCount")) {
      int cats = 0;
      if (xr_int(x, &t, 0, 1 << 20, &cats) < 0) return -1;
      if (cats != 0) return xr_fail(x, "categorical features (maxCatCount %d) are not HAAR", cats);
    } else if (xr_skip_element(x, &t) < 0) {
      return -1;
    }
    xr_pop(x);
  }
  return rc;
}

/* Element bits of <cascade>'s once-only children. */
enum { C_STAGETYPE = 1, C_FEATTYPE = 2, C_H = 4, C_W = 8, C_SP = 16, C_FP = 32, C_NUM = 64,
       C_STAGES = 128, C_FEATS = 256 };

static const char *const xr_cascade_names[] = {"stageType", "featureType", "height",
                                               "width", "stageParams", "featureParams",
                                               "stageNum", "stages", "features"};

static int xr_cascade(xr *x, const xr_tag *open, capture_cascade *c, xr_vec *stages,
                      xr_vec *stumps, xr_vec *feats) {
  unsigned seen = 0;
  int stage_num = 0;
  c->win_w = c->win_h = 0;
  xr_tag t;
  int rc;
  while ((rc = xr_child(x, open, &t)) == 1) {
    if (xr_push(x, &t, -1) < 0) return -1;
    int which = -1;
    for (int i = 0; i < 9; i++)
      if (xr_name_is(t.name, t.len, xr_cascade_names[i])) which = i;
    if (which < 0) return xr_unexpected(x, &t);
    if (xr_once(x, &t, &seen, 1u << which) < 0) return -1;
    switch (1u << which) {
    case C_STAGETYPE: rc = xr_word(x, &t, "BOOST"); break;
    case C_FEATTYPE: rc = xr_word(x, &t, "HAAR"); break;
    case C_H: rc = xr_int(x, &t, 3, CASCADE_MAX_WIN, &c->win_h); break;
    case C_W: rc = xr_int(x, &t, 3, CASCADE_MAX_WIN, &c->win_w); break;
    case C_SP:
    case C_FP: rc = xr_params(x, &t); break;
    case C_NUM: rc = xr_int(x, &t, 1, XR_MAX_STAGES, &stage_num); break;
    case C_STAGES: {
      xr_tag s;
      while ((rc = xr_child(x, &t, &s)) == 1) {
        if (!xr_name_is(s.name, s.len, "_")) return xr_unexpected(x, &s);
        if (xr_push(x, &s, stages->n) < 0 ||
            xr_grow(x, stages, sizeof(cascade_stage), XR_MAX_STAGES, "stages") < 0 ||
            xr_stage(x, &s, (cascade_stage *)stages->p + stages->n, stumps) < 0)
          return -1;
        stages->n++;
        xr_pop(x);
      }
      break;
    }
    default: { /* C_FEATS: rectangles are checked against the window, so it comes first */
      if (!(seen & C_W) || !(seen & C_H))
        return xr_fail(x, "<features> before <width> and <height>");
      xr_tag f;
      while ((rc = xr_child(x, &t, &f)) == 1) {
        if (!xr_name_is(f.name, f.len, "_")) return xr_unexpected(x, &f);
        if (xr_push(x, &f, feats->n) < 0 ||
            xr_grow(x, feats, sizeof(cascade_feature), XR_MAX_FEATURES, "features") < 0 ||
            xr_feature(x, &f, (cascade_feature *)feats->p + feats->n, c->win_w, c->win_h) < 0)
          return -1;
        feats->n++;
        xr_pop(x);
      }
      break;
    }
    }
    if (rc < 0) return -1;
    xr_pop(x);
  }
  if (rc < 0) return -1;
  static const unsigned required[] = {C_STAGETYPE, C_FEATTYPE, C_H, C_W, C_NUM, C_STAGES, C_FEATS};
  for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
    if (!(seen & required[i])) {
      int bit = 0;
      while ((1u << bit) != required[i]) bit++;
      return xr_fail(x, "missing <%s>", xr_cascade_names[bit]);
    }
  if (stages->n != stage_num)
    return xr_fail(x, "<stages> has %d entries, <stageNum> says %d", stages->n, stage_num);
  if (feats->n == 0) return xr_fail(x, "<features> is empty");
  const cascade_stump *st = stumps->p;
  const cascade_stage *sg = stages->p;
  for (int s = 0; s < stages->n; s++)
    for (int k = 0; k < sg[s].count; k++)
      if (st[sg[s].first + k].feature >= feats->n)
        return xr_fail(x, "stage %d weak classifier %d uses feature %d, but <features> has only %d",
                       s, k, st[sg[s].first + k].feature, feats->n);
  return 0;
}

/* The document: prolog, <opencv_storage>, one <cascade>, nothing after. */
static int xr_document(xr *x, capture_cascade *c, xr_vec *stages, xr_vec *stumps, xr_vec *feats) {
  if (xr_skip_misc(x, 1) < 0) return -1;
  xr_tag root;
  if (xr_next_tag(x, &root) < 0) return -1;
  if (root.closing || !xr_name_is(root.name, root.len, "opencv_storage"))
    return xr_fail(x, "expected <opencv_storage>, found <%.*s> (not an OpenCV cascade?)", root.len,
                   root.name);
  if (xr_push(x, &root, -1) < 0) return -1;
  int found = 0, rc;
  xr_tag t;
  while ((rc = xr_child(x, &root, &t)) == 1) {
    if (!xr_name_is(t.name, t.len, "cascade")) {
      if (strcmp(t.type_id, "opencv-haar-classifier") == 0)
        return xr_fail(x, "<%.*s> is an old-style cascade (type_id \"opencv-haar-classifier\"); "
                          "expected <cascade type_id=\"opencv-cascade-classifier\">",
                       t.len, t.name);
      return xr_unexpected(x, &t);
    }
    if (found++) return xr_fail(x, "more than one <cascade>");
    if (xr_push(x, &t, -1) < 0) return -1;
    /* Some of opencv-data's cascades have no type_id: OpenCV goes by name. */
    if (t.type_id[0] && strcmp(t.type_id, "opencv-cascade-classifier") != 0)
      return xr_fail(x, "type_id \"%s\", expected \"opencv-cascade-classifier\"", t.type_id);
    if (xr_cascade(x, &t, c, stages, stumps, feats) < 0) return -1;
    xr_pop(x);
  }
  if (rc < 0) return -1;
  if (!found) return xr_fail(x, "missing <cascade>");
  xr_pop(x);
  if (xr_skip_misc(x, 0) < 0) return -1;
  if (x->pos != x->n) return xr_fail(x, "unexpected content after </opencv_storage>");
  return 0;
}

/* Reads the whole file, NUL-terminated. */
static char *cascade_read_file(const char *path, size_t *len, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    cap_msg(err, errlen, "%s: cannot open face cascade: %s%s", path, strerror(errno),
            errno == ENOENT ? " (install the Debian package opencv-data?)" : "");
    return NULL;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    cap_msg(err, errlen, "%s: not a regular file", path);
    fclose(f);
    return NULL;
  }
  if (st.st_size > XR_MAX_FILE) {
    cap_msg(err, errlen, "%s: %lld bytes, larger than the %ld a cascade may have", path,
            (long long)st.st_size, XR_MAX_FILE);
    fclose(f);
    return NULL;
  }
  size_t n = (size_t)st.st_size;
  char *buf = malloc(n + 1);
  if (!buf) {
    cap_msg(err, errlen, "%s: out of memory for %zu bytes", path, n);
    fclose(f);
    return NULL;
  }
  if (fread(buf, 1, n, f) != n) {
    cap_msg(err, errlen, "%s: read error: %s", path, ferror(f) ? strerror(errno) : "short read");
    free(buf);
    fclose(f);
    return NULL;
  }
  fclose(f);
  buf[n] = '\0';
  *len = n;
  return buf;
}

int capture_cascade_load(capture_cascade **out, const char *path, char *err, size_t errlen) {
  if (!out || !path) {
    cap_msg(err, errlen, "capture_cascade_load: no %s", out ? "path" : "output pointer");
    return -1;
  }
  *out = NULL;
  size_t n = 0;
  char *buf = cascade_read_file(path, &n, err, errlen);
  if (!buf) return -1;
  if (n == 0) {
    cap_msg(err, errlen, "%s: empty file, expected an OpenCV cascade XML", path);
    free(buf);
    return -1;
  }
  capture_cascade *c = calloc(1, sizeof(*c));
  xr x = {.path = path, .s = buf, .n = n, .err = err, .errlen = errlen};
  xr_vec stages = {0}, stumps = {0}, feats = {0};
  int rc = c ? xr_document(&x, c, &stages, &stumps, &feats) : -1;
  if (!c) cap_msg(err, errlen, "%s: out of memory", path);
  free(buf);
  if (rc < 0) {
    free(stages.p);
    free(stumps.p);
    free(feats.p);
    free(c);
    return -1;
  }
  c->stages = stages.p;
  c->nstages = stages.n;
  c->stumps = stumps.p;
  c->nstumps = stumps.n;
  c->features = feats.p;
  c->nfeatures = feats.n;
  *out = c;
  return 0;
}

void capture_cascade_destroy(capture_cascade *c) {
  if (!c) return;
  free(c->stages);
  free(c->stumps);
  free(c->features);
  free(c);
}
