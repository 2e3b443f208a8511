/* faces: the faces the live view follows. Detections come and go from frame
 * to frame and jitter by a few pixels; a track keeps each face's box
 * smoothed over time, its own label smoothing and a stable id, and turns the
 * detector's box into the crop the model was trained on (FER2013 framing:
 * the face from forehead to chin filling a square).
 */
#ifndef APP_FACES_H
#define APP_FACES_H

#include <stdint.h>

#include "capture.h"
#include "capture_face.h"
#include "common/smoothing.h"

#define FACES_MAX 16          /* --max-faces limit */
#define FACES_DEFAULT_MAX 4   /* --max-faces default */
#define FACES_BOX_SMOOTH_S 0.1f /* time constant of the box's position and size */
#define FACES_HOLD_S 0.25f    /* a face missed for this long is dropped */

typedef struct {
  int id;             /* stable while the face is followed */
  float cx, cy, side; /* smoothed detection: centre and side, frame pixels */
  double last_seen_s; /* time of the last detection matched to it */
  smooth_state sm;    /* its own shown-label smoothing */
  int shown;          /* label shown for it; -1 before its first result */
} face_track;

typedef struct {
  int max_faces, num_classes;
  float label_smooth_s;
  int count;                 /* tracks in t[]: detected now, largest first, then held */
  face_track t[FACES_MAX];
  int next_id;
  double now_s;              /* time of the last update */
} face_tracker;

/* Caller-owned tracker for up to max_faces (1..FACES_MAX) faces; labels are
 * smoothed with label_smooth_s like smoothing.h. Returns 0 or -1 on a bad
 * argument. */
int faces_init(face_tracker *ft, int max_faces, int num_classes, float label_smooth_s);

/* Feeds the detections of the frame at time t_s (frame pixels, any order):
 * each track takes the detection overlapping it most (IoU >= 0.3) and moves
 * its box towards it; unmatched detections start tracks while there is room
 * (largest first); tracks missed for FACES_HOLD_S end. Afterwards t[] holds
 * the faces detected in this frame, largest first, then the held ones. */
void faces_update(face_tracker *ft, const capture_rect *det, int ndet, double t_s);

/* The square crop for a track's box in a width x height frame: the detector's
 * box widened and shifted to FER2013's framing, then moved (not shrunk) to
 * stay inside the frame where it fits. */
capture_rect faces_crop(const face_track *t, int width, int height);

/* The index in t[] of the track with this id, or -1. */
int faces_find(const face_tracker *ft, int id);

/* Intersection over union of two boxes (0 when either is empty). */
double faces_iou(capture_rect a, capture_rect b);

/* One crop of a frame, as decided when the frame was taken: the track it
 * belongs to (-1: the centre square, no face in view) and the square of the
 * source frame that was classified. It travels with the crop's input to the
 * CNN and back with its probabilities, so the CSV row, the window's box and
 * a saved crop all name the pixels the network saw. */
typedef struct {
  int id;
  capture_rect box;
} crop_tag;

/* The crop stage of the live path: the centre square, or (with a detector)
 * one crop per followed face and the centre square when no face is in view.
 * The one place that decides how a crop is framed for the model. */
typedef struct {
  capture_face_detector *detector; /* borrowed; NULL: centre crop only */
  capture_face_opts detect_opts;
  float crop_scale;                /* of the centre square */
  face_tracker tracker;
  smooth_state centre;             /* the centre square's shown label */
  int centre_label;                /* -1 before its first result */
  double detect_ms;                /* time of the last detection */
  int64_t frames;                  /* frames seen */
  int64_t whole_frames;            /* of which the whole frame was searched */
  int64_t missed_frames;           /* of those, because a followed face was missed */
  int full_search;                 /* a followed face was missed: search the whole frame */
  int whole_frame_always;          /* 1: no search around faces (as before it existed; for
                                      comparisons) */
  int num_crops;                   /* the last frame's crops, largest first */
  crop_tag crops[FACES_MAX];
} face_stage;

/* Returns 0, or -1 on a bad argument. detector may be NULL. */
int faces_stage_init(face_stage *fs, capture_face_detector *detector, int max_faces,
                     int num_classes, float label_smooth_s, float crop_scale);

/* While faces are followed, the detector searches only around them (a
 * square FACES_SEARCH_AROUND times each face's side, at scales near its
 * size; a held face around where it was last seen), and the whole frame
 * every FACES_FULL_EVERY frames, and at once when a face seen in the last
 * frame is not found around where it was. */
#define FACES_SEARCH_AROUND 1.6f
#define FACES_FULL_EVERY 8

/* The crops of the frame img at time t_s, largest face first, into
 * fs->crops (also copied to tags[], room for FACES_MAX when not NULL).
 * Returns their count n >= 1, or -1 when the detector ran out of memory. */
int faces_stage_frame(face_stage *fs, const capture_image *img, double t_s, crop_tag *tags);

/* The CNN's probabilities for crop `index` of a frame, tagged by
 * faces_stage_frame: updates that face's (or the centre square's) label
 * smoothing, dt_s after its previous result, and gives its CSV face number
 * (index, or -1 for the centre square). Returns the label to show, or -1
 * when the face has been dropped since its frame was taken (a result that
 * arrives late). */
int faces_stage_result(face_stage *fs, const crop_tag *tag, int index, const float *probs,
                       double dt_s, int *face);

#endif
