/* xml_reader: the small XML tokenizer under the cascade reader: tags,
 * text, numbers and child elements of one buffer, with the element path kept
 * for messages that name the file, the line and where in the document the
 * problem is. Private to capture/face.
 */
#ifndef CAPTURE_FACE_XML_READER_H
#define CAPTURE_FACE_XML_READER_H

#include <stddef.h>

/* Limits checked before anything is allocated or grown (the frontal-face
 * cascade has 25 stages, 2913 stumps and 2913 features). */
#define XR_MAX_FILE (64L << 20)
#define XR_MAX_STAGES 1000
#define XR_MAX_WEAK 100000 /* per stage and in total */
#define XR_MAX_FEATURES 100000
#define XR_MAX_DEPTH 16
/* Numbers in one text element: 5 in a rectangle, 4 per node in
 * <internalNodes> (read up to 16 nodes, to say "a tree" rather than "too many"). */
#define XR_MAX_NUMS 64
/* OpenCV lowers every stage threshold by this much when it loads one. */
#define XR_THRESHOLD_EPS 1e-5f

typedef struct {
  const char *name; /* into the buffer, not NUL-terminated */
  int len;
  int index; /* position among its parent's children named "_", else -1 */
} xr_frame;

/* Reader state: the whole file, NUL-terminated, and the element path. */
typedef struct {
  const char *path;
  const char *s;
  size_t n, pos;
  char *err;
  size_t errlen;
  int failed;
  xr_frame stack[XR_MAX_DEPTH];
  int depth;
} xr;

typedef struct {
  int closing;      /* </name> */
  int self_closing; /* <name/> */
  const char *name;
  int len;
  char type_id[64]; /* value of a type_id attribute, "" if none */
} xr_tag;

/* Growable array that never passes `limit` elements. */
typedef struct {
  void *p;
  int n, cap;
} xr_vec;

__attribute__((format(printf, 2, 3))) int xr_fail(xr *x, const char *fmt, ...);

/* Whitespace, comments and (prolog only) <?...?> between elements. */
int xr_skip_misc(xr *x, int allow_pi);

int xr_name_is(const char *name, int len, const char *lit);

/* Reads the next tag; only whitespace and comments may come before it. */
int xr_next_tag(xr *x, xr_tag *t);

int xr_push(xr *x, const xr_tag *t, int index);

void xr_pop(xr *x);

/* Parses the whitespace-separated numbers of a text element into v[0..*count).
 * Only plain decimal notation is accepted (no hex, inf or nan). */
int xr_numbers(xr *x, const xr_tag *open, double *v, int min, int max, int *count);

int xr_int(xr *x, const xr_tag *open, int lo, int hi, int *out);

int xr_float(xr *x, const xr_tag *open, float *out);

/* The text of an element that must be one word, e.g. BOOST. */
int xr_word(xr *x, const xr_tag *open, const char *want);

/* Skips an element's content and its close tag (parameters we do not use). */
int xr_skip_element(xr *x, const xr_tag *open);

/* Next child of the current element: 1 with *t filled, 0 at the parent's
 * close tag (consumed), -1 on error. */
int xr_child(xr *x, const xr_tag *parent, xr_tag *t);

int xr_unexpected(xr *x, const xr_tag *t);

/* Makes room for one more element, refusing to pass limit. */
int xr_grow(xr *x, xr_vec *v, size_t elem, int limit, const char *what);

/* Which once-only children of an element were seen. */
int xr_once(xr *x, const xr_tag *t, unsigned *seen, unsigned bit);

#endif
