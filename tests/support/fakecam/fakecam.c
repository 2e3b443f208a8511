/* fakecam: LD_PRELOAD emulation of a UVC webcam (see fakecam.h). libv4l2
 * (Debian 12, 1.22) reaches the device through syscall(SYS_open / SYS_ioctl /
 * SYS_mmap / SYS_munmap / SYS_close / SYS_read), applications through libc
 * open/ioctl/mmap/poll/close; both are interposed here. The descriptor handed
 * out is a real eventfd, so close/dup/fstat behave; poll on it is answered
 * from the emulated state. Buffers are memfds, so every mmap of one is a real,
 * independent mapping that munmap can release.
 * The device is process-wide state behind one mutex: it is a device.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fakecam.h"

#define FAKE_MAX_FDS 8
#define FAKE_MAX_BUFS 16
#define FAKE_MAX_SIZES 8

typedef struct {
  int memfd;
  uint8_t *mem; /* the fake's own mapping */
  size_t len;
  int queued;   /* waiting to be filled */
  int done;     /* filled, waiting for DQBUF */
  uint64_t order; /* QBUF order: frames fill the oldest queued buffer */
  uint32_t bytesused, sequence;
  struct timeval ts;
} fake_buf;

typedef struct {
  pthread_mutex_t lock;
  int fds[FAKE_MAX_FDS];     /* open descriptors of the node, -1 = unused */
  int open_fds;              /* how many; read without the lock by is_fake */
  int fd_gen[FAKE_MAX_FDS];  /* device generation each was opened in */
  int fd_nonblock[FAKE_MAX_FDS];
  int gen;                   /* bumped when the device returns after an unplug */
  char path[256];
  uint32_t formats[3];
  int nformats;
  int sizes[FAKE_MAX_SIZES][2];
  int nsizes;
  uint32_t pixfmt;
  int width, height, fps;
  fake_buf bufs[FAKE_MAX_BUFS];
  int nbufs;
  uint64_t qorder;
  int streaming;
  double next_frame;  /* monotonic time the next frame is due */
  uint32_t frames;    /* frames produced since the device (re)appeared */
  long unplug_after;  /* -1: never */
  double return_after; /* seconds, < 0: never */
  int unplugged, unplug_done;
  double unplug_time;
} fake_dev;

static fake_dev dev = {.lock = PTHREAD_MUTEX_INITIALIZER, .fds = {-1, -1, -1, -1, -1, -1, -1, -1}};

/* ---- the real functions -------------------------------------------------- */
static long (*real_syscall)(long, ...);
static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);
static int (*real_ioctl)(int, unsigned long, ...);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static ssize_t (*real_read)(int, void *, size_t);
/* Resolved on first use without pthread_once or locks: a sanitizer runtime
 * calls mmap while it initialises, before its pthread interceptors work.
 * Racing resolutions store the same pointers. */
static void real_init(void) {
  __atomic_store_n(&real_syscall, (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall"), __ATOMIC_RELEASE);
  __atomic_store_n(&real_open, (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open"), __ATOMIC_RELEASE);
  __atomic_store_n(&real_openat, (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat"), __ATOMIC_RELEASE);
  __atomic_store_n(&real_close, (int (*)(int))dlsym(RTLD_NEXT, "close"), __ATOMIC_RELEASE);
  __atomic_store_n(&real_ioctl, (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl"), __ATOMIC_RELEASE);
  __atomic_store_n(&real_mmap, (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap"), __ATOMIC_RELEASE);
  __atomic_store_n(&real_poll, (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll"), __ATOMIC_RELEASE);
  __atomic_store_n(&real_read, (ssize_t(*)(int, void *, size_t))dlsym(RTLD_NEXT, "read"), __ATOMIC_RELEASE);
}
#define REAL(fn) \
  (__atomic_load_n(&real_##fn, __ATOMIC_ACQUIRE) ? real_##fn : (real_init(), real_##fn))

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *fake_path(void) {
  const char *p = getenv("FAKECAM_DEVICE");
  return p && *p ? p : "/dev/video-fake0";
}

/* Slot of a fake descriptor, or -1. Lock held. */
static int fake_slot(int fd) {
  if (fd < 0) return -1;
  for (int i = 0; i < FAKE_MAX_FDS; i++)
    if (dev.fds[i] == fd) return i;
  return -1;
}

static int is_fake(int fd) {
  if (fd < 0 || __atomic_load_n(&dev.open_fds, __ATOMIC_ACQUIRE) == 0) return 0;
  pthread_mutex_lock(&dev.lock);
  int s = fake_slot(fd);
  pthread_mutex_unlock(&dev.lock);
  return s >= 0;
}

static void fake_free_bufs(void) {
  for (int i = 0; i < dev.nbufs; i++) {
    munmap(dev.bufs[i].mem, dev.bufs[i].len);
    REAL(close)(dev.bufs[i].memfd);
  }
  memset(dev.bufs, 0, sizeof(dev.bufs));
  dev.nbufs = 0;
  dev.streaming = 0;
}

/* (Re)reads the configuration; called when the device (re)appears. A fresh
 * start (first open, not a return from an unplug) re-arms the unplug. */
static void fake_configure(int fresh) {
  if (fresh) dev.unplug_done = 0;
  const char *f = getenv("FAKECAM_FORMATS");
  if (!f || !*f) f = "yuyv,mjpeg";
  dev.nformats = 0;
  for (const char *p = f; *p && dev.nformats < 3;) {
    if (strncmp(p, "yuyv", 4) == 0) dev.formats[dev.nformats++] = V4L2_PIX_FMT_YUYV;
    if (strncmp(p, "mjpeg", 5) == 0) dev.formats[dev.nformats++] = V4L2_PIX_FMT_MJPEG;
    /* libv4lconvert has no H.264 decoder: a camera offering only this one
     * is what drives camera.c's "no usable format" path. */
    if (strncmp(p, "h264", 4) == 0) dev.formats[dev.nformats++] = V4L2_PIX_FMT_H264;
    p = strchr(p, ',');
    if (!p) break;
    p++;
  }
  const char *s = getenv("FAKECAM_SIZES");
  if (!s || !*s) s = "640x480,320x240";
  dev.nsizes = 0;
  for (const char *p = s; *p && dev.nsizes < FAKE_MAX_SIZES;) {
    int w, h;
    if (sscanf(p, "%dx%d", &w, &h) == 2 && w > 0 && h > 0 && w % 2 == 0) {
      dev.sizes[dev.nsizes][0] = w;
      dev.sizes[dev.nsizes][1] = h;
      dev.nsizes++;
    }
    p = strchr(p, ',');
    if (!p) break;
    p++;
  }
  const char *u = getenv("FAKECAM_UNPLUG_AFTER");
  dev.unplug_after = u && *u ? strtol(u, NULL, 10) : -1;
  const char *r = getenv("FAKECAM_RETURN_AFTER");
  dev.return_after = r && *r ? strtod(r, NULL) : -1;
  dev.pixfmt = dev.formats[0];
  dev.width = dev.sizes[0][0];
  dev.height = dev.sizes[0][1];
  dev.fps = 30;
  dev.frames = 0;
}

/* ---- open / close ------------------------------------------------------- */
static int fake_open(int flags) {
  pthread_mutex_lock(&dev.lock);
  int returning = 0;
  if (dev.unplugged) {
    if (dev.return_after < 0 || now_s() < dev.unplug_time + dev.return_after) {
      pthread_mutex_unlock(&dev.lock);
      errno = ENOENT; /* the node is gone while unplugged */
      return -1;
    }
    dev.unplugged = 0;
    dev.gen++;
    fake_free_bufs();
    fake_configure(0);
    returning = 1;
  }
  const char *busy = getenv("FAKECAM_BUSY");
  if (busy && strcmp(busy, "1") == 0) {
    pthread_mutex_unlock(&dev.lock);
    errno = EBUSY;
    return -1;
  }
  int slot = -1;
  for (int i = 0; i < FAKE_MAX_FDS && slot < 0; i++)
    if (dev.fds[i] < 0) slot = i;
  int fd = slot >= 0 ? eventfd(0, EFD_CLOEXEC) : -1;
  if (fd < 0) {
    pthread_mutex_unlock(&dev.lock);
    errno = EMFILE;
    return -1;
  }
  int first = 1;
  for (int i = 0; i < FAKE_MAX_FDS; i++)
    if (dev.fds[i] >= 0) first = 0;
  if (first && !returning && !dev.streaming && dev.nbufs == 0) fake_configure(1);
  snprintf(dev.path, sizeof(dev.path), "%s", fake_path());
  dev.fds[slot] = fd;
  __atomic_add_fetch(&dev.open_fds, 1, __ATOMIC_RELEASE);
  dev.fd_gen[slot] = dev.gen;
  dev.fd_nonblock[slot] = (flags & O_NONBLOCK) != 0;
  pthread_mutex_unlock(&dev.lock);
  return fd;
}

static int fake_close(int fd) {
  pthread_mutex_lock(&dev.lock);
  int slot = fake_slot(fd);
  if (slot >= 0) {
    dev.fds[slot] = -1;
    __atomic_sub_fetch(&dev.open_fds, 1, __ATOMIC_RELEASE);
  }
  int any = 0;
  for (int i = 0; i < FAKE_MAX_FDS; i++)
    if (dev.fds[i] >= 0 && dev.fd_gen[i] == dev.gen) any = 1;
  if (!any) fake_free_bufs(); /* the last user gone: like a driver's release */
  pthread_mutex_unlock(&dev.lock);
  return REAL(close)(fd);
}

/* ---- frames --------------------------------------------------------------- */
static double fake_period(void) { return 1.0 / (dev.fps > 0 ? dev.fps : 30); }

/* Produces due frames into queued buffers; handles the scheduled unplug.
 * Lock held. */
static void fake_produce(void) {
  if (!dev.streaming || dev.unplugged) return;
  double t = now_s();
  while (t >= dev.next_frame) {
    if (dev.unplug_after >= 0 && !dev.unplug_done && dev.frames >= dev.unplug_after) {
      dev.unplugged = 1;
      dev.unplug_done = 1;
      dev.unplug_time = t;
      return;
    }
    int b = -1;
    for (int i = 0; i < dev.nbufs; i++)
      if (dev.bufs[i].queued && (b < 0 || dev.bufs[i].order < dev.bufs[b].order)) b = i;
    if (b < 0) return; /* no buffer: the frame waits (never dropped, so tests can count) */
    fake_buf *fb = &dev.bufs[b];
    if (dev.pixfmt == V4L2_PIX_FMT_MJPEG)
      fb->bytesused = (uint32_t)fakecam_render_mjpeg(fb->mem, fb->len, dev.width, dev.height,
                                                     dev.frames);
    else
      fb->bytesused = (uint32_t)fakecam_render_yuyv(fb->mem, dev.width, dev.height, dev.frames);
    fb->sequence = dev.frames++;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    fb->ts.tv_sec = ts.tv_sec;
    fb->ts.tv_usec = ts.tv_nsec / 1000;
    fb->queued = 0;
    fb->done = 1;
    dev.next_frame += fake_period();
    if (dev.next_frame < t - fake_period()) dev.next_frame = t + fake_period();
  }
}

static int fake_has_done(void) {
  for (int i = 0; i < dev.nbufs; i++)
    if (dev.bufs[i].done) return 1;
  return 0;
}

static int fake_has_queued(void) {
  for (int i = 0; i < dev.nbufs; i++)
    if (dev.bufs[i].queued) return 1;
  return 0;
}

/* ---- ioctls ---------------------------------------------------------------- */
static void fake_fill_pix(struct v4l2_pix_format *p, uint32_t fmt, int w, int h) {
  memset(p, 0, sizeof(*p));
  p->width = w;
  p->height = h;
  p->pixelformat = fmt;
  p->field = V4L2_FIELD_NONE;
  p->bytesperline = fmt == V4L2_PIX_FMT_YUYV ? w * 2 : 0;
  p->sizeimage = w * h * 2;
  p->colorspace = V4L2_COLORSPACE_SRGB;
}

/* The supported size nearest to w x h, like uvcvideo's choice. */
static void fake_nearest(int *w, int *h) {
  int best = 0;
  long bd = -1;
  for (int i = 0; i < dev.nsizes; i++) {
    long d = labs((long)dev.sizes[i][0] - *w) + labs((long)dev.sizes[i][1] - *h);
    if (bd < 0 || d < bd) {
      bd = d;
      best = i;
    }
  }
  *w = dev.sizes[best][0];
  *h = dev.sizes[best][1];
}

static int fake_try_fmt(struct v4l2_format *f) {
  if (f->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return EINVAL;
  uint32_t fmt = dev.formats[0];
  for (int i = 0; i < dev.nformats; i++)
    if (dev.formats[i] == f->fmt.pix.pixelformat) fmt = dev.formats[i];
  int w = f->fmt.pix.width, h = f->fmt.pix.height;
  fake_nearest(&w, &h);
  fake_fill_pix(&f->fmt.pix, fmt, w, h);
  return 0;
}

static int fake_dqbuf(int slot, struct v4l2_buffer *b) {
  for (;;) {
    fake_produce();
    if (dev.unplugged) return ENODEV;
    if (!dev.streaming) return EINVAL;
    int best = -1;
    for (int i = 0; i < dev.nbufs; i++)
      if (dev.bufs[i].done && (best < 0 || dev.bufs[i].sequence < dev.bufs[best].sequence))
        best = i;
    if (best >= 0) {
      fake_buf *fb = &dev.bufs[best];
      fb->done = 0;
      memset(b, 0, sizeof(*b));
      b->index = best;
      b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
      b->memory = V4L2_MEMORY_MMAP;
      b->bytesused = fb->bytesused;
      b->flags = V4L2_BUF_FLAG_MAPPED | V4L2_BUF_FLAG_DONE | V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC;
      b->field = V4L2_FIELD_NONE;
      b->timestamp = fb->ts;
      b->sequence = fb->sequence;
      b->m.offset = (uint32_t)(best * 0x100000);
      b->length = (uint32_t)fb->len;
      return 0;
    }
    if (dev.fd_nonblock[slot] || !fake_has_queued()) return EAGAIN;
    double wait = dev.next_frame - now_s();
    pthread_mutex_unlock(&dev.lock);
    if (wait > 0) usleep((useconds_t)(wait * 1e6) + 100);
    pthread_mutex_lock(&dev.lock);
  }
}

static int fake_reqbufs(struct v4l2_requestbuffers *r) {
  if (r->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || r->memory != V4L2_MEMORY_MMAP) return EINVAL;
  if (dev.streaming) return EBUSY;
  /* The fake renders no H.264 bitstream; refusing buffers keeps it from
   * handing out YUYV bytes labelled H264. */
  if (dev.pixfmt == V4L2_PIX_FMT_H264 && r->count > 0) return EINVAL;
  fake_free_bufs();
  unsigned n = r->count > FAKE_MAX_BUFS ? FAKE_MAX_BUFS : r->count;
  size_t len = ((size_t)dev.width * dev.height * 2 + 4095) & ~(size_t)4095;
  for (unsigned i = 0; i < n; i++) {
    fake_buf *fb = &dev.bufs[i];
    fb->memfd = memfd_create("fakecam-buffer", MFD_CLOEXEC);
    if (fb->memfd < 0 || ftruncate(fb->memfd, (off_t)len) != 0) return ENOMEM;
    fb->mem = REAL(mmap)(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fb->memfd, 0);
    if (fb->mem == MAP_FAILED) return ENOMEM;
    fb->len = len;
    dev.nbufs = i + 1;
  }
  r->count = n;
  r->capabilities = V4L2_BUF_CAP_SUPPORTS_MMAP;
  return 0;
}

static int fake_ioctl_locked(int slot, unsigned long req, void *arg) {
  if (dev.unplugged || dev.fd_gen[slot] != dev.gen) return ENODEV;
  const char *meta = getenv("FAKECAM_META");
  int is_meta = meta && strcmp(meta, "1") == 0;
  switch (req) {
    case VIDIOC_QUERYCAP: {
      struct v4l2_capability *c = arg;
      memset(c, 0, sizeof(*c));
      snprintf((char *)c->driver, sizeof(c->driver), "fakecam");
      snprintf((char *)c->card, sizeof(c->card), "Fake UVC Camera (emocam tests)");
      snprintf((char *)c->bus_info, sizeof(c->bus_info), "fake:%.26s", dev.path);
      c->version = 0x060100;
      c->device_caps = is_meta ? V4L2_CAP_META_CAPTURE | V4L2_CAP_STREAMING
                               : V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
      c->capabilities = c->device_caps | V4L2_CAP_DEVICE_CAPS;
      return 0;
    }
    case VIDIOC_ENUM_FMT: {
      struct v4l2_fmtdesc *d = arg;
      if (is_meta || d->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || d->index >= (unsigned)dev.nformats)
        return EINVAL;
      uint32_t idx = d->index, type = d->type;
      memset(d, 0, sizeof(*d));
      d->index = idx;
      d->type = type;
      d->pixelformat = dev.formats[idx];
      d->flags = d->pixelformat == V4L2_PIX_FMT_YUYV ? 0 : V4L2_FMT_FLAG_COMPRESSED;
      snprintf((char *)d->description, sizeof(d->description), "%s",
               d->pixelformat == V4L2_PIX_FMT_MJPEG  ? "Motion-JPEG"
               : d->pixelformat == V4L2_PIX_FMT_H264 ? "H.264"
                                                     : "YUYV 4:2:2");
      return 0;
    }
    case VIDIOC_ENUM_FRAMESIZES: {
      struct v4l2_frmsizeenum *s = arg;
      int known = 0;
      for (int i = 0; i < dev.nformats; i++) known |= dev.formats[i] == s->pixel_format;
      if (!known || s->index >= (unsigned)dev.nsizes) return EINVAL;
      s->type = V4L2_FRMSIZE_TYPE_DISCRETE;
      s->discrete.width = dev.sizes[s->index][0];
      s->discrete.height = dev.sizes[s->index][1];
      return 0;
    }
    case VIDIOC_ENUM_FRAMEINTERVALS: {
      struct v4l2_frmivalenum *v = arg;
      if (v->index >= 2) return EINVAL;
      v->type = V4L2_FRMIVAL_TYPE_DISCRETE;
      v->discrete.numerator = 1;
      v->discrete.denominator = v->index == 0 ? 30 : 15;
      return 0;
    }
    case VIDIOC_G_FMT: {
      struct v4l2_format *f = arg;
      if (f->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return EINVAL;
      fake_fill_pix(&f->fmt.pix, dev.pixfmt, dev.width, dev.height);
      return 0;
    }
    case VIDIOC_TRY_FMT:
      return fake_try_fmt(arg);
    case VIDIOC_S_FMT: {
      struct v4l2_format *f = arg;
      if (dev.nbufs > 0) return EBUSY; /* buffers allocated: format locked */
      int rc = fake_try_fmt(f);
      if (rc) return rc;
      dev.pixfmt = f->fmt.pix.pixelformat;
      dev.width = f->fmt.pix.width;
      dev.height = f->fmt.pix.height;
      return 0;
    }
    case VIDIOC_G_PARM:
    case VIDIOC_S_PARM: {
      struct v4l2_streamparm *p = arg;
      if (p->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return EINVAL;
      if (req == VIDIOC_S_PARM && p->parm.capture.timeperframe.numerator > 0) {
        double want = (double)p->parm.capture.timeperframe.denominator /
                      p->parm.capture.timeperframe.numerator;
        dev.fps = want > 22.5 ? 30 : 15;
      }
      memset(&p->parm, 0, sizeof(p->parm));
      p->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
      p->parm.capture.timeperframe.numerator = 1;
      p->parm.capture.timeperframe.denominator = dev.fps;
      p->parm.capture.readbuffers = 0;
      return 0;
    }
    case VIDIOC_REQBUFS:
      return fake_reqbufs(arg);
    case VIDIOC_QUERYBUF: {
      struct v4l2_buffer *b = arg;
      if (b->index >= (unsigned)dev.nbufs) return EINVAL;
      fake_buf *fb = &dev.bufs[b->index];
      uint32_t idx = b->index;
      memset(b, 0, sizeof(*b));
      b->index = idx;
      b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
      b->memory = V4L2_MEMORY_MMAP;
      b->length = (uint32_t)fb->len;
      b->m.offset = idx * 0x100000;
      b->flags = V4L2_BUF_FLAG_MAPPED | (fb->queued ? V4L2_BUF_FLAG_QUEUED : 0) |
                 (fb->done ? V4L2_BUF_FLAG_DONE : 0);
      return 0;
    }
    case VIDIOC_QBUF: {
      struct v4l2_buffer *b = arg;
      if (b->index >= (unsigned)dev.nbufs) return EINVAL;
      fake_buf *fb = &dev.bufs[b->index];
      if (fb->queued || fb->done) return EINVAL;
      fb->queued = 1;
      fb->order = dev.qorder++;
      b->flags |= V4L2_BUF_FLAG_QUEUED;
      return 0;
    }
    case VIDIOC_DQBUF:
      return fake_dqbuf(slot, arg);
    case VIDIOC_STREAMON:
      if (dev.nbufs == 0) return EINVAL;
      if (!dev.streaming) dev.next_frame = now_s() + fake_period();
      dev.streaming = 1;
      return 0;
    case VIDIOC_STREAMOFF:
      dev.streaming = 0;
      for (int i = 0; i < dev.nbufs; i++) dev.bufs[i].queued = dev.bufs[i].done = 0;
      return 0;
    default:
      return ENOTTY; /* controls, inputs, standards: not emulated */
  }
}

static int fake_ioctl(int fd, unsigned long req, void *arg) {
  pthread_mutex_lock(&dev.lock);
  int slot = fake_slot(fd);
  int rc = slot < 0 ? EBADF : fake_ioctl_locked(slot, req, arg);
  pthread_mutex_unlock(&dev.lock);
  if (rc) {
    errno = rc;
    return -1;
  }
  return 0;
}

static void *fake_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  pthread_mutex_lock(&dev.lock);
  int idx = (int)(off / 0x100000);
  void *p = MAP_FAILED;
  int err = EINVAL;
  if (dev.unplugged) {
    err = ENODEV;
  } else if (off % 0x100000 == 0 && idx >= 0 && idx < dev.nbufs && len <= dev.bufs[idx].len) {
    p = REAL(mmap)(addr, len, prot, flags, dev.bufs[idx].memfd, 0);
    err = errno;
  }
  pthread_mutex_unlock(&dev.lock);
  (void)fd;
  if (p == MAP_FAILED) errno = err;
  return p;
}

/* Readiness of a fake fd for poll: POLLERR|POLLHUP once unplugged, POLLIN
 * when a filled buffer waits. *next: when the next frame is due. */
static short fake_revents(int fd, double *next) {
  pthread_mutex_lock(&dev.lock);
  short ev = 0;
  int slot = fake_slot(fd);
  if (slot >= 0) {
    fake_produce();
    if (dev.unplugged || dev.fd_gen[slot] != dev.gen)
      ev = POLLERR | POLLHUP;
    else if (!dev.streaming)
      ev = POLLERR;
    else if (fake_has_done())
      ev = POLLIN | POLLRDNORM;
    else if (fake_has_queued() && dev.next_frame < *next)
      *next = dev.next_frame;
  }
  pthread_mutex_unlock(&dev.lock);
  return ev;
}

/* ---- interposed entry points --------------------------------------------- */
#define NEEDS_MODE(flags) (((flags)&O_CREAT) || ((flags)&O_TMPFILE) == O_TMPFILE)

static int path_is_fake(const char *path) { return path && strcmp(path, fake_path()) == 0; }

int open(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = NEEDS_MODE(flags) ? va_arg(ap, mode_t) : 0;
  va_end(ap);
  if (path_is_fake(path)) return fake_open(flags);
  return REAL(open)(path, flags, mode);
}

int open64(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = NEEDS_MODE(flags) ? va_arg(ap, mode_t) : 0;
  va_end(ap);
  if (path_is_fake(path)) return fake_open(flags);
  return REAL(open)(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = NEEDS_MODE(flags) ? va_arg(ap, mode_t) : 0;
  va_end(ap);
  if (path_is_fake(path)) return fake_open(flags);
  return REAL(openat)(dirfd, path, flags, mode);
}

int close(int fd) {
  if (is_fake(fd)) return fake_close(fd);
  return REAL(close)(fd);
}

int ioctl(int fd, unsigned long req, ...) {
  va_list ap;
  va_start(ap, req);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  if (is_fake(fd)) return fake_ioctl(fd, req, arg);
  return REAL(ioctl)(fd, req, arg);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  if (!(flags & MAP_ANONYMOUS) && is_fake(fd)) return fake_mmap(addr, len, prot, flags, fd, off);
  return REAL(mmap)(addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  return mmap(addr, len, prot, flags, fd, off);
}

ssize_t read(int fd, void *buf, size_t n) {
  if (is_fake(fd)) {
    errno = EINVAL; /* no V4L2_CAP_READWRITE, like most UVC cameras */
    return -1;
  }
  return REAL(read)(fd, buf, n);
}

int poll(struct pollfd *fds, nfds_t n, int timeout) {
  int any = 0;
  for (nfds_t i = 0; i < n; i++) any |= is_fake(fds[i].fd);
  if (!any) return REAL(poll)(fds, n, timeout);
  double deadline = timeout < 0 ? 1e300 : now_s() + timeout / 1000.0;
  int saved[64];
  if (n > 64) {
    errno = EINVAL;
    return -1;
  }
  for (;;) {
    double next = deadline;
    int ready = 0;
    for (nfds_t i = 0; i < n; i++) {
      saved[i] = fds[i].fd;
      fds[i].revents = 0;
      if (is_fake(fds[i].fd)) {
        short ev = fake_revents(fds[i].fd, &next);
        fds[i].revents = ev & (fds[i].events | POLLERR | POLLHUP);
        if (fds[i].revents) ready++;
        fds[i].fd = -1; /* hidden from the real poll */
      }
    }
    double wait = ready ? 0 : next - now_s();
    int ms = wait <= 0 ? 0 : (int)(wait * 1000.0) + 1;
    int rc = REAL(poll)(fds, n, ms);
    for (nfds_t i = 0; i < n; i++) {
      if (fds[i].fd == -1 && saved[i] != -1) {
        fds[i].fd = saved[i];
      }
    }
    if (rc < 0) return rc;
    /* real poll cleared revents of hidden entries: recompute them */
    ready = 0;
    double dummy = 1e300;
    for (nfds_t i = 0; i < n; i++) {
      if (is_fake(fds[i].fd))
        fds[i].revents = fake_revents(fds[i].fd, &dummy) & (fds[i].events | POLLERR | POLLHUP);
      if (fds[i].revents) ready++;
    }
    if (ready || now_s() >= deadline) return ready;
  }
}

long syscall(long nr, ...) {
  va_list ap;
  va_start(ap, nr);
  long a[6];
  for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
  va_end(ap);
  switch (nr) {
    case SYS_open:
      if (path_is_fake((const char *)a[0])) return fake_open((int)a[1]);
      break;
    case SYS_openat:
      if (path_is_fake((const char *)a[1])) return fake_open((int)a[2]);
      break;
    case SYS_close:
      if (is_fake((int)a[0])) return fake_close((int)a[0]);
      break;
    case SYS_ioctl:
      if (is_fake((int)a[0])) return fake_ioctl((int)a[0], (unsigned long)a[1], (void *)a[2]);
      break;
    case SYS_mmap:
      if (!(a[3] & MAP_ANONYMOUS) && is_fake((int)a[4]))
        return (long)fake_mmap((void *)a[0], (size_t)a[1], (int)a[2], (int)a[3], (int)a[4],
                               (off_t)a[5]);
      break;
    case SYS_read:
      if (is_fake((int)a[0])) {
        errno = EINVAL;
        return -1;
      }
      break;
    default:
      break;
  }
  return REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
