/* capture: frames from a V4L2 camera (libv4l2) or a video file (FFmpeg), and
 * the crop-and-resize stage that turns a frame, or any decoded image, into
 * CNN input. A source runs its own thread; the consumer takes frames with
 * capture_next(). capture/ never prints and never exits: failures return a
 * negative code and a message naming the device or file.
 */
#ifndef CAPTURE_H
#define CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#define CAPTURE_ERR_LEN 512

/* ---- crop-and-resize: one pure function for training, eval and live ------ */
typedef struct {
  int x, y, w, h; /* in pixels of the source image */
} capture_rect;

typedef struct {
  const uint8_t *pixels; /* borrowed */
  int width, height;
  int stride;   /* bytes per row */
  int channels; /* 1 = grey, 3 = RGB24, 4 = RGBA/RGBX (4th byte ignored) */
} capture_image;

/* The centre square of the shorter side, scaled by crop_scale (clamped to
 * 0.2 .. 1.0), centred in a width x height frame. */
capture_rect capture_center_crop(int width, int height, float crop_scale);

/* Crops rect (clipped to the image) from img, converts it to out_c channels
 * (1: luma Y = 0.299 R + 0.587 G + 0.114 B; 3: RGB), resizes it with area
 * averaging to out_w x out_h and scales to [0,1]. out: [out_c][out_h][out_w]
 * float32, one CHW sample. Allocates nothing; thread-safe. */
void capture_crop_resize(const capture_image *img, capture_rect rect, int out_c, int out_h,
                         int out_w, float *out);

/* ---- frame sources ------------------------------------------------------- */
typedef struct {
  uint8_t *rgb;  /* width * height * 3 bytes, RGB24, stride width * 3; borrowed
                    until capture_release() */
  int width, height;
  int64_t seq;   /* 0-based number of the frame since the source started */
  double pts_s;  /* presentation time in seconds (video) or capture time since
                    start (camera) */
  double arrived_s; /* monotonic seconds when the frame was published */
} capture_frame;

typedef enum {
  CAPTURE_LATEST = 0, /* consumer gets the newest frame; stale ones are dropped */
  CAPTURE_ALL = 1     /* every frame exactly once, in order (headless replay) */
} capture_delivery;

typedef struct {
  const char *device;      /* "/dev/video0" */
  int width, height;       /* requested size, e.g. 640 x 480 */
  int fps;                 /* requested rate, e.g. 30 */
  const char *record_path; /* NULL, or a .mkv to record the frames into */
  int reconnect;           /* 1: after an unplug, reopen every second */
} capture_camera_opts;

typedef struct {
  const char *path;
  capture_delivery delivery;
  int paced;               /* 1: release frames at the file's frame rate */
} capture_video_opts;

typedef struct {
  int64_t published;        /* frames the capture thread produced */
  int64_t delivered;        /* frames handed to the consumer */
  int64_t dropped;          /* stale frames never delivered (LATEST only) */
  int64_t corrupt_skipped;  /* corrupt packets/frames skipped */
  int width, height;        /* what the device granted / the video has */
  double fps;               /* granted / nominal frame rate */
  char pixel_format[8];     /* camera: granted V4L2 fourcc; video: codec tag */
  int disconnected;         /* camera currently unplugged */
  double capture_ms;        /* mean time to dequeue + convert one frame */
} capture_stats;

typedef struct capture_source capture_source;

enum {
  CAPTURE_OK = 0,
  CAPTURE_TIMEOUT = 1,       /* capture_next: no frame within the timeout */
  CAPTURE_EOF = -1,          /* end of the video */
  CAPTURE_ERROR = -2,        /* err / capture_error() says what */
  CAPTURE_DISCONNECTED = -3  /* camera unplugged (reconnecting if asked) */
};

/* Open and start the capture thread. Return CAPTURE_OK or CAPTURE_ERROR with
 * err naming the device or file. *out is owned by the caller. */
int capture_open_camera(capture_source **out, const capture_camera_opts *opts, char *err,
                        size_t errlen);
int capture_open_video(capture_source **out, const capture_video_opts *opts, char *err,
                       size_t errlen);

/* Waits up to timeout_ms for a frame. Returns CAPTURE_OK with *frame filled
 * (release it before the next call), CAPTURE_TIMEOUT, CAPTURE_EOF,
 * CAPTURE_DISCONNECTED or CAPTURE_ERROR (see capture_error). Consumer thread
 * only. */
int capture_next(capture_source *src, capture_frame *frame, int timeout_ms);
void capture_release(capture_source *src, capture_frame *frame);

/* The last error or warning text (e.g. truncated video), "" if none. */
const char *capture_error(const capture_source *src);
void capture_get_stats(const capture_source *src, capture_stats *stats);

/* Stops the thread (never hangs), joins it and frees everything; NULL ok. */
void capture_close(capture_source *src);

/* Describes every V4L2 capture device (/dev/video*): name, driver, formats and
 * sizes, into buf. Returns the number of devices found. */
int capture_list_cameras(char *buf, size_t len);

/* Describes one device into buf: a line `DEV: "card" (driver, bus)` and one
 * line per native format with its discrete sizes (or size range). Returns 1
 * when it is a video capture device, 0 when it is a V4L2 node of another
 * kind (e.g. a UVC metadata node; buf still says what it is), CAPTURE_ERROR
 * when it cannot be opened or queried (err names the device). */
int capture_describe_camera(const char *device, char *buf, size_t len, char *err,
                            size_t errlen);

#endif
