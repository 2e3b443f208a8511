/* session_stats: what a session report says of a live run's CSV, per face
 * and in total: time per shown label, mean probabilities, how steady the
 * reading is, the longest run of each label, the peaks the thumbnails show,
 * frames without a face; and the agreement of two models on one video.
 * Every figure is computed from all rows (nothing is down-sampled here). */
#ifndef APP_SESSION_STATS_H
#define APP_SESSION_STATS_H

#include "reports/session_log.h"

/* A face leaves the view when its rows stop for longer than this: its
 * time in view and its runs of one label end there (the tracker itself
 * drops a face after 0.25 s unseen). */
#define SESSION_GAP_S 0.5

typedef struct {
  int id;                /* track id (face rank without a track column), -1 centre */
  long rows;
  double first_s, last_s;
  double in_view_s;      /* time covered by its rows, gaps excluded */
  int visits;            /* stretches in view (1 + gaps) */
  long shown_rows[SESSION_MAX_CLASSES];  /* rows per shown label */
  double share[SESSION_MAX_CLASSES];     /* shown_rows / rows: sums to 1 */
  double mean_p[SESSION_MAX_CLASSES];    /* mean raw probability */
  long changes;          /* shown label changes between consecutive rows */
  double changes_per_min; /* changes per minute in view */
  double longest_s[SESSION_MAX_CLASSES]; /* longest run of each shown label */
  double longest_at_s[SESSION_MAX_CLASSES]; /* where it starts */
  long peak_row[SESSION_MAX_CLASSES];    /* row of the highest smoothed probability, -1 none */
  float peak_p[SESSION_MAX_CLASSES];
} session_face;

typedef struct {
  const session_log *log;  /* borrowed */
  float smooth_s;          /* time constant the smoothed curves used */
  double frame_dt;         /* median interval between frames */
  double start_s, end_s;   /* first and last row's time */
  long frames;             /* distinct frames */
  int detector;            /* some row is a face (else the centre square only) */
  long frames_no_face;     /* frames whose only row is the centre square (detector on) */
  int nfaces;
  session_face *faces;     /* [nfaces] by id; the centre square (-1) first if present */
  session_face total;      /* over every face row (the centre square's when no detector) */
  float *smoothed;         /* [nrows, K]: each face's probabilities smoothed like the window */
  long *order;             /* [nrows]: row indices grouped by face (faces[] order), by time */
  long *face_start;        /* [nfaces + 1]: face i's rows are order[face_start[i]..] */
  long *lead;              /* [nlead]: each frame's largest face's row (all rows without
                              a detector): what the window's big panel follows */
  long nlead;
} session_summary;

/* Computes the summary of log with the window's smoothing (time constant
 * smooth_s). Returns 0, or -1 when out of memory. */
int session_summarize(session_summary *s, const session_log *log, float smooth_s);
void session_summary_free(session_summary *s);

/* Two models on the same frames: rows matched by frame and face rank (the
 * same detector on the same frame ranks the faces the same way, while two
 * runs' tracker ids can differ when one of them skipped frames). */
#define SESSION_MAX_STRETCHES 10
typedef struct {
  double start_s, end_s;
  int face;          /* rank: 0 the largest face, -1 the centre square */
  char a[64], b[64]; /* what each showed most in the stretch */
} session_stretch;

typedef struct {
  long matched;            /* rows present in both */
  long only_a, only_b;     /* rows of one alone (different faces found) */
  double agree_raw, agree_shown; /* share of matched rows with the same label */
  double kappa;            /* Cohen's kappa of the raw labels, by class name */
  double disagree_s;       /* time the shown labels differ */
  int nstretches;          /* longest stretches of different shown labels, >= 1 s */
  session_stretch stretches[SESSION_MAX_STRETCHES];
} session_agreement;

/* Compares a and b (classes matched by their emotion, any order:
 * emotion_canonical). Returns 0, or
 * -1 when out of memory or the two have no class name in common. */
int session_compare(session_agreement *out, const session_log *a, const session_log *b);

/* "mm:ss" (or "h:mm:ss") of t seconds */
void session_clock(char *buf, size_t len, double t);

#endif
