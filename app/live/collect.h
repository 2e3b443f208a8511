/* collect: labelled face crops saved from the live path, the data a personal
 * model is adapted on. A crop is the face's box exactly as the live path
 * cropped it for the network (clipped to the frame), at the source's
 * resolution, in DIR/<class>/<time>-<frame>.png; `emocam predict` on it
 * gives the probabilities the live row of that frame had (models with
 * crop_scale 1, as the shipped ones). Files are written atomically.
 */
#ifndef APP_LIVE_COLLECT_H
#define APP_LIVE_COLLECT_H

#include <stddef.h>
#include <stdint.h>

#include "capture.h"

#define COLLECT_MAX_CLASSES 64

typedef struct {
  char dir[1024];
  int num_classes;
  const char *const *class_names; /* borrowed: the model's */
  int counts[COLLECT_MAX_CLASSES]; /* crops per class in dir, those found at open included */
  int64_t last_frame;              /* the last frame saved (-1: none), never saved twice */
} collector;

/* Opens dir (created if missing) for the classes, counting the images
 * already in its class folders. Returns 0, or -1 with err naming dir. */
int collect_open(collector *c, const char *dir, const char *const *class_names, int num_classes,
                 char *err, size_t errlen);

/* Saves box of img (frame number frame) as a crop of class cls. Returns 1
 * when saved (path, if not NULL, gets its file name), 0 when frame was
 * already saved, -1 with err on a write error. Not thread-safe. */
int collect_save(collector *c, const capture_image *img, capture_rect box, int cls, int64_t frame,
                 char *path, size_t path_len, char *err, size_t errlen);

/* Crops saved in total. */
int collect_total(const collector *c);

#endif
