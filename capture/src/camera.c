/* camera: a V4L2 webcam through libv4l2, which converts whatever the camera
 * sends (YUYV, MJPEG, ...) into the RGB24 we request. Size and rate are
 * negotiated (S_FMT, S_PARM) and what the device granted is reported; frames
 * stream through mmap buffers on the source's thread, which waits with poll
 * and a timeout, survives an unplug (CAPTURE_DISCONNECTED) and, if asked,
 * reopens the device every second until it returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <libv4l2.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "record.h"
#include "source.h"
#include "util.h"

#define CAM_BUFS 4     /* requested mmap buffers */
#define CAM_MIN_BUFS 3 /* fewer and the driver drops frames while we convert */
#define CAM_POLL_MS 200

typedef struct {
  void *start;
  size_t len;
} cam_buf;

typedef struct {
  char device[256];
  int req_w, req_h, req_fps, reconnect;
  int fd; /* -1 while disconnected */
  cam_buf bufs[CAM_BUFS];
  int nbufs;
  int width, height, stride; /* granted RGB24 frame */
  double fps;                /* granted rate, 0 if the driver does not say */
  char fourcc[8];            /* the camera's own format, e.g. "YUYV", "MJPG" */
  int64_t seq;
  double t0; /* monotonic time of the open: pts 0 */
  recorder *rec;
} camera_state;

static int xioctl(int fd, unsigned long req, void *arg) {
  int r;
  do r = v4l2_ioctl(fd, req, arg);
  while (r < 0 && errno == EINTR);
  return r;
}

static void fourcc_str(uint32_t f, char out[8]) {
  for (int i = 0; i < 4; i++) {
    char c = (char)((f >> (8 * i)) & 0xff);
    out[i] = c >= 32 && c < 127 ? c : '?';
  }
  out[4] = 0;
  for (int i = 3; i > 0 && out[i] == ' '; i--) out[i] = 0;
}

static void camera_teardown(camera_state *c) {
  if (c->fd < 0) return;
  enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  xioctl(c->fd, VIDIOC_STREAMOFF, &type);
  for (int i = 0; i < c->nbufs; i++)
    if (c->bufs[i].start && c->bufs[i].start != MAP_FAILED) v4l2_munmap(c->bufs[i].start, c->bufs[i].len);
  c->nbufs = 0;
  struct v4l2_requestbuffers rb = {.count = 0, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
                                   .memory = V4L2_MEMORY_MMAP};
  xioctl(c->fd, VIDIOC_REQBUFS, &rb);
  v4l2_close(c->fd);
  c->fd = -1;
}

/* The message for a failed open, by errno. */
static void camera_open_error(const camera_state *c, int e, char *err, size_t errlen) {
  switch (e) {
    case ENOENT:
      cap_msg(err, errlen, "%s: no such device (is the camera plugged in?)", c->device);
      break;
    case ENODEV:
    case ENXIO:
      cap_msg(err, errlen, "%s: no such device (unplugged?)", c->device);
      break;
    case EBUSY:
      cap_msg(err, errlen, "%s: device busy (another program is using the camera)", c->device);
      break;
    case EACCES:
    case EPERM:
      cap_msg(err, errlen, "%s: permission denied (is your user in the 'video' group?)",
              c->device);
      break;
    case ENOTTY:
    case EINVAL:
      cap_msg(err, errlen, "%s: not a video capture device (it does not answer V4L2 queries)",
              c->device);
      break;
    default:
      cap_msg(err, errlen, "%s: cannot open: %s", c->device, strerror(e));
  }
}

/* The camera's own formats, for the "no usable format" message. */
static void camera_format_list(int fd, char *out, size_t len) {
  size_t n = 0;
  out[0] = 0;
  struct v4l2_fmtdesc d;
  for (d.index = 0;; d.index++) {
    d.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (ioctl(fd, VIDIOC_ENUM_FMT, &d) < 0) break;
    char cc[8];
    fourcc_str(d.pixelformat, cc);
    if (n < len) n += cap_msg(out + n, len - n, "%s%s", n ? ", " : "", cc);
  }
  if (!out[0]) cap_msg(out, len, "none");
}

/* Sets RGB24 at the requested size and the requested rate; fills the granted
 * values. Called with c->fd open. */
static int camera_negotiate(camera_state *c, char *err, size_t errlen) {
  struct v4l2_format fmt;
  memset(&fmt, 0, sizeof(fmt));
  fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  fmt.fmt.pix.width = c->req_w;
  fmt.fmt.pix.height = c->req_h;
  fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_RGB24;
  fmt.fmt.pix.field = V4L2_FIELD_NONE;
  if (xioctl(c->fd, VIDIOC_S_FMT, &fmt) < 0) {
    int e = errno;
    if (e == EBUSY) {
      camera_open_error(c, e, err, errlen);
    } else {
      char list[128];
      camera_format_list(c->fd, list, sizeof(list));
      cap_msg(err, errlen, "%s: no usable format: cannot set RGB24 %dx%d (%s; camera formats: %s)",
              c->device, c->req_w, c->req_h, strerror(e), list);
    }
    return CAPTURE_ERROR;
  }
  if (fmt.fmt.pix.pixelformat != V4L2_PIX_FMT_RGB24) {
    char list[128];
    camera_format_list(c->fd, list, sizeof(list));
    cap_msg(err, errlen, "%s: no usable format: libv4l2 cannot convert the camera's formats (%s) to RGB24",
            c->device, list);
    return CAPTURE_ERROR;
  }
  if (fmt.fmt.pix.width < 16 || fmt.fmt.pix.height < 16 ||
      fmt.fmt.pix.bytesperline < fmt.fmt.pix.width * 3) {
    cap_msg(err, errlen, "%s: no usable size: the device granted %ux%u (stride %u)", c->device,
            fmt.fmt.pix.width, fmt.fmt.pix.height, fmt.fmt.pix.bytesperline);
    return CAPTURE_ERROR;
  }
  c->width = (int)fmt.fmt.pix.width;
  c->height = (int)fmt.fmt.pix.height;
  c->stride = (int)fmt.fmt.pix.bytesperline;
  /* The camera's native format: ask the device itself, past libv4l2. */
  struct v4l2_format raw;
  memset(&raw, 0, sizeof(raw));
  raw.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  if (ioctl(c->fd, VIDIOC_G_FMT, &raw) == 0)
    fourcc_str(raw.fmt.pix.pixelformat, c->fourcc);
  else
    fourcc_str(V4L2_PIX_FMT_RGB24, c->fourcc);

  struct v4l2_streamparm parm;
  memset(&parm, 0, sizeof(parm));
  parm.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  parm.parm.capture.timeperframe.numerator = 1;
  parm.parm.capture.timeperframe.denominator = (unsigned)c->req_fps;
  c->fps = 0;
  /* Not every driver can set a rate: then report what it says, if anything. */
  if (xioctl(c->fd, VIDIOC_S_PARM, &parm) == 0 || xioctl(c->fd, VIDIOC_G_PARM, &parm) == 0) {
    struct v4l2_fract t = parm.parm.capture.timeperframe;
    if (t.numerator > 0 && t.denominator > 0) c->fps = (double)t.denominator / t.numerator;
  }
  return CAPTURE_OK;
}

/* Requests, maps and queues the buffers, then starts streaming. */
static int camera_stream(camera_state *c, char *err, size_t errlen) {
  struct v4l2_requestbuffers rb;
  memset(&rb, 0, sizeof(rb));
  rb.count = CAM_BUFS;
  rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  rb.memory = V4L2_MEMORY_MMAP;
  if (xioctl(c->fd, VIDIOC_REQBUFS, &rb) < 0) {
    int e = errno;
    if (e == EBUSY) camera_open_error(c, e, err, errlen);
    else cap_msg(err, errlen, "%s: cannot allocate mmap buffers: %s", c->device, strerror(e));
    return CAPTURE_ERROR;
  }
  if (rb.count < CAM_MIN_BUFS) {
    cap_msg(err, errlen, "%s: the driver granted %u mmap buffers, need at least %d", c->device,
            rb.count, CAM_MIN_BUFS);
    return CAPTURE_ERROR;
  }
  c->nbufs = rb.count > CAM_BUFS ? CAM_BUFS : (int)rb.count;
  for (int i = 0; i < c->nbufs; i++) {
    struct v4l2_buffer b;
    memset(&b, 0, sizeof(b));
    b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b.memory = V4L2_MEMORY_MMAP;
    b.index = (unsigned)i;
    if (xioctl(c->fd, VIDIOC_QUERYBUF, &b) < 0) {
      cap_msg(err, errlen, "%s: QUERYBUF failed: %s", c->device, strerror(errno));
      c->nbufs = i;
      return CAPTURE_ERROR;
    }
    c->bufs[i].len = b.length;
    c->bufs[i].start = v4l2_mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd,
                                 b.m.offset);
    if (c->bufs[i].start == MAP_FAILED) {
      cap_msg(err, errlen, "%s: cannot mmap buffer %d: %s", c->device, i, strerror(errno));
      c->nbufs = i;
      return CAPTURE_ERROR;
    }
    if (xioctl(c->fd, VIDIOC_QBUF, &b) < 0) {
      cap_msg(err, errlen, "%s: QBUF failed: %s", c->device, strerror(errno));
      c->nbufs = i + 1;
      return CAPTURE_ERROR;
    }
  }
  enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  if (xioctl(c->fd, VIDIOC_STREAMON, &type) < 0) {
    int e = errno;
    if (e == ENOSPC)
      cap_msg(err, errlen, "%s: cannot start streaming: not enough USB bandwidth (try a smaller size or another port)", c->device);
    else if (e == EBUSY) camera_open_error(c, e, err, errlen);
    else cap_msg(err, errlen, "%s: cannot start streaming: %s", c->device, strerror(e));
    return CAPTURE_ERROR;
  }
  return CAPTURE_OK;
}

/* Opens the device and brings it to streaming. On failure it is closed. */
static int camera_setup(camera_state *c, char *err, size_t errlen) {
  /* Opened and queried directly first: libv4l2 prints to stderr when handed
   * something that is not a V4L2 device, and capture/ never prints. */
  int fd = open(c->device, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    camera_open_error(c, errno, err, errlen);
    return CAPTURE_ERROR;
  }
  struct v4l2_capability cap;
  memset(&cap, 0, sizeof(cap));
  if (ioctl(fd, VIDIOC_QUERYCAP, &cap) < 0) {
    camera_open_error(c, errno == EBUSY || errno == ENODEV ? errno : ENOTTY, err, errlen);
    close(fd);
    return CAPTURE_ERROR;
  }
  uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
  if (!(caps & V4L2_CAP_VIDEO_CAPTURE)) {
    cap_msg(err, errlen, "%s: not a video capture device (\"%s\", driver %s, capabilities 0x%08x; a metadata node? try the other /dev/video*)",
            c->device, (const char *)cap.card, (const char *)cap.driver, caps);
    close(fd);
    return CAPTURE_ERROR;
  }
  if (!(caps & V4L2_CAP_STREAMING)) {
    cap_msg(err, errlen, "%s: \"%s\" does not support streaming I/O", c->device,
            (const char *)cap.card);
    close(fd);
    return CAPTURE_ERROR;
  }
  /* libv4l2 takes over the descriptor: format conversion from here on. */
  c->fd = v4l2_fd_open(fd, 0);
  if (c->fd < 0) {
    cap_msg(err, errlen, "%s: libv4l2 cannot use the device: %s", c->device, strerror(errno));
    close(fd);
    return CAPTURE_ERROR;
  }
  if (camera_negotiate(c, err, errlen) != CAPTURE_OK || camera_stream(c, err, errlen) != CAPTURE_OK) {
    camera_teardown(c);
    return CAPTURE_ERROR;
  }
  return CAPTURE_OK;
}

static void camera_destroy(void *impl) {
  camera_state *c = impl;
  if (!c) return;
  camera_teardown(c);
  recorder_close(c->rec, NULL, 0);
  free(c);
}

/* Copies a dequeued frame into the ring and records it. 0, or -1 (abort). */
static int camera_deliver(capture_source *src, camera_state *c, const struct v4l2_buffer *b,
                          double t_start) {
  ring *r = src->ring;
  int slot = ring_acquire(r);
  if (slot < 0) return -1;
  const uint8_t *p = c->bufs[b->index].start;
  uint8_t *dst = r->slots[slot].rgb;
  size_t row = (size_t)c->width * 3;
  for (int y = 0; y < c->height; y++) memcpy(dst + y * row, p + (size_t)y * c->stride, row);
  double pts;
  if ((b->flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) == V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC &&
      (b->timestamp.tv_sec || b->timestamp.tv_usec))
    pts = b->timestamp.tv_sec + b->timestamp.tv_usec * 1e-6 - c->t0;
  else
    pts = t_start - c->t0;
  if (pts < 0) pts = 0;
  int64_t seq = c->seq++;
  ring_publish(r, slot, seq, pts, (ring_now() - t_start) * 1000.0);
  if (c->rec) {
    /* The slot cannot be recycled while we read it: only this thread writes. */
    char e[CAPTURE_ERR_LEN];
    if (recorder_write(c->rec, dst, pts, e, sizeof(e)) != CAPTURE_OK) {
      char msg[CAPTURE_ERR_LEN];
      cap_msg(msg, sizeof(msg), "recording stopped: %s", e);
      ring_set_message(r, msg);
      recorder_close(c->rec, NULL, 0);
      c->rec = NULL;
    }
  }
  return 0;
}

/* The device went away: release it and tell the consumer. */
static void camera_lost(capture_source *src, camera_state *c, int e) {
  camera_teardown(c);
  char msg[CAPTURE_ERR_LEN];
  cap_msg(msg, sizeof(msg), "%s: camera disconnected (%s) after %lld frames%s", c->device,
          strerror(e), (long long)c->seq, c->reconnect ? "; reopening it every second" : "");
  ring_set_disconnected(src->ring, 1);
  ring_set_status(src->ring, CAPTURE_DISCONNECTED, msg);
}

/* Tells the consumer what the device granted (size, rate, format). */
/* The stats fields the device decides: size, rate and format. */
static void camera_granted(const camera_state *c, capture_stats *st) {
  memset(st, 0, sizeof(*st));
  st->width = c->width;
  st->height = c->height;
  st->fps = c->fps;
  memcpy(st->pixel_format, c->fourcc, sizeof(st->pixel_format));
}

static void publish_granted(ring *r, const camera_state *c) {
  capture_stats st;
  camera_granted(c, &st);
  ring_update_stats(r, &st);
}

/* While disconnected: one reopen attempt per second. 0 when streaming again,
 * -1 when aborted or the device came back unusable. */
static int camera_reconnect(capture_source *src, camera_state *c) {
  ring *r = src->ring;
  double lost_at = ring_now();
  for (int attempt = 1;; attempt++) {
    if (ring_sleep_until(r, lost_at + attempt) < 0) return -1;
    char err[CAPTURE_ERR_LEN];
    if (camera_setup(c, err, sizeof(err)) != CAPTURE_OK) continue;
    if (c->width != r->width || c->height != r->height) {
      char msg[CAPTURE_ERR_LEN];
      cap_msg(msg, sizeof(msg), "%s: came back with %dx%d frames instead of %dx%d", c->device,
              c->width, c->height, r->width, r->height);
      camera_teardown(c);
      ring_set_status(r, CAPTURE_ERROR, msg);
      return -1;
    }
    char msg[CAPTURE_ERR_LEN];
    cap_msg(msg, sizeof(msg), "%s: camera reconnected after %.1f s", c->device,
            ring_now() - lost_at);
    publish_granted(r, c);
    ring_set_disconnected(r, 0);
    ring_set_status(r, CAPTURE_OK, msg);
    return 0;
  }
}

static void camera_run(capture_source *src) {
  camera_state *c = src->impl;
  ring *r = src->ring;
  while (!ring_aborted(r)) {
    if (c->fd < 0) {
      if (!c->reconnect || camera_reconnect(src, c) < 0) return;
    }
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    int pr = poll(&pfd, 1, CAM_POLL_MS); /* the timeout bounds the abort check */
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) continue;
    double t_start = ring_now();
    struct v4l2_buffer b;
    memset(&b, 0, sizeof(b));
    b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b.memory = V4L2_MEMORY_MMAP;
    if (pr < 0 || xioctl(c->fd, VIDIOC_DQBUF, &b) < 0) {
      int e = errno;
      if (e == EAGAIN) continue;
      if (e == EIO) { /* a damaged frame libv4l2 could not convert */
        ring_count_corrupt(r);
        continue;
      }
      camera_lost(src, c, e);
      continue;
    }
    int rc = camera_deliver(src, c, &b, t_start);
    if (xioctl(c->fd, VIDIOC_QBUF, &b) < 0 && errno != EAGAIN) camera_lost(src, c, errno);
    if (rc < 0) return;
  }
}

int capture_open_camera(capture_source **out, const capture_camera_opts *opts, char *err,
                        size_t errlen) {
  *out = NULL;
  camera_state *c = calloc(1, sizeof(*c));
  if (!c) {
    cap_msg(err, errlen, "out of memory");
    return CAPTURE_ERROR;
  }
  const char *dev = opts && opts->device && opts->device[0] ? opts->device : "/dev/video0";
  snprintf(c->device, sizeof(c->device), "%s", dev);
  c->req_w = opts && opts->width > 0 ? opts->width : 640;
  c->req_h = opts && opts->height > 0 ? opts->height : 480;
  c->req_fps = opts && opts->fps > 0 ? opts->fps : 30;
  c->reconnect = opts ? opts->reconnect : 0;
  c->fd = -1;
  c->t0 = ring_now();
  if (camera_setup(c, err, errlen) != CAPTURE_OK) {
    camera_destroy(c);
    return CAPTURE_ERROR;
  }
  if (opts && opts->record_path && opts->record_path[0] &&
      recorder_open(&c->rec, opts->record_path, c->width, c->height, c->fps, err, errlen) !=
          CAPTURE_OK) {
    camera_destroy(c);
    return CAPTURE_ERROR;
  }
  source_spec spec = {.impl = c, .run = camera_run, .destroy = camera_destroy,
                      .name = c->device, .delivery = CAPTURE_LATEST};
  camera_granted(c, &spec.granted);
  return source_launch(out, &spec, err, errlen);
}
