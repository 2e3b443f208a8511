/* camera_list: what V4L2 capture devices exist and what they natively send
 * (formats and sizes), straight from the driver (not libv4l2's emulated
 * formats), for `emocam --list-cameras`-style output and error hints.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "capture.h"
#include "util.h"

#define LIST_MAX_DEVICES 64

/* Appends to buf at *n without overflowing it. */
__attribute__((format(printf, 4, 5))) static void list_add(char *buf, size_t len, size_t *n,
                                                         const char *fmt, ...) {
  if (!buf || *n + 1 >= len) return;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(buf + *n, len - *n, fmt, ap);
  va_end(ap);
  if (k > 0) *n = *n + (size_t)k >= len ? len - 1 : *n + (size_t)k;
}

static void list_sizes(int fd, uint32_t pixfmt, char *buf, size_t len, size_t *n) {
  struct v4l2_frmsizeenum s;
  memset(&s, 0, sizeof(s));
  s.pixel_format = pixfmt;
  for (s.index = 0; ioctl(fd, VIDIOC_ENUM_FRAMESIZES, &s) == 0; s.index++) {
    if (s.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
      list_add(buf, len, n, " %ux%u", s.discrete.width, s.discrete.height);
    } else {
      list_add(buf, len, n, " %ux%u to %ux%u", s.stepwise.min_width, s.stepwise.min_height,
               s.stepwise.max_width, s.stepwise.max_height);
      break;
    }
  }
  if (s.index == 0) list_add(buf, len, n, " (sizes not listed)");
}

int capture_describe_camera(const char *device, char *buf, size_t len, char *err,
                            size_t errlen) {
  if (buf && len) buf[0] = 0;
  int fd = open(device, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    cap_msg(err, errlen, "%s: %s", device,
            e == ENOENT ? "no such device" : e == EBUSY ? "device busy" : strerror(e));
    return CAPTURE_ERROR;
  }
  struct v4l2_capability cap;
  memset(&cap, 0, sizeof(cap));
  if (ioctl(fd, VIDIOC_QUERYCAP, &cap) < 0) {
    cap_msg(err, errlen, "%s: not a V4L2 device", device);
    close(fd);
    return CAPTURE_ERROR;
  }
  uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
  size_t n = 0;
  list_add(buf, len, &n, "%s: \"%s\" (%s, %s)", device, (const char *)cap.card,
           (const char *)cap.driver, (const char *)cap.bus_info);
  if (!(caps & V4L2_CAP_VIDEO_CAPTURE)) {
    list_add(buf, len, &n, ": not a video capture node\n");
    close(fd);
    return 0;
  }
  list_add(buf, len, &n, "\n");
  struct v4l2_fmtdesc d;
  memset(&d, 0, sizeof(d));
  for (d.index = 0;; d.index++) {
    d.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (ioctl(fd, VIDIOC_ENUM_FMT, &d) < 0) break;
    char cc[5];
    for (int i = 0; i < 4; i++) {
      char ch = (char)((d.pixelformat >> (8 * i)) & 0xff);
      cc[i] = ch >= 32 && ch < 127 ? ch : '?';
    }
    cc[4] = 0;
    list_add(buf, len, &n, "  %s (%s):", cc, (const char *)d.description);
    list_sizes(fd, d.pixelformat, buf, len, &n);
    list_add(buf, len, &n, "\n");
  }
  close(fd);
  return 1;
}

static int list_cmp(const void *a, const void *b) {
  const char *x = *(const char *const *)a, *y = *(const char *const *)b;
  size_t lx = strlen(x), ly = strlen(y); /* video2 before video10 */
  return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

int capture_list_cameras(char *buf, size_t len) {
  if (buf && len) buf[0] = 0;
  DIR *dir = opendir("/dev");
  if (!dir) return 0;
  static const size_t name_len = 64;
  char names[LIST_MAX_DEVICES][64];
  char *order[LIST_MAX_DEVICES];
  int count = 0;
  struct dirent *e;
  while ((e = readdir(dir)) && count < LIST_MAX_DEVICES) {
    if (strncmp(e->d_name, "video", 5) != 0) continue;
    snprintf(names[count], name_len, "/dev/%.50s", e->d_name);
    order[count] = names[count];
    count++;
  }
  closedir(dir);
  qsort(order, (size_t)count, sizeof(order[0]), list_cmp);
  size_t n = 0;
  int found = 0;
  for (int i = 0; i < count; i++) {
    char one[2048], err[CAPTURE_ERR_LEN];
    int rc = capture_describe_camera(order[i], one, sizeof(one), err, sizeof(err));
    if (rc == 1) {
      found++;
      list_add(buf, len, &n, "%s", one);
    } else if (rc == CAPTURE_ERROR && strstr(err, "busy")) {
      found++; /* a camera in use is still a camera */
      list_add(buf, len, &n, "%s\n", err);
    }
  }
  return found;
}
