/* collect: saving labelled crops into class folders (see collect.h). */
#include "live/collect.h"

#include <SDL.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "common/atomic_file.h"

static int make_dir(const char *path, char *err, size_t errlen) {
  if (mkdir(path, 0755) == 0 || errno == EEXIST) {
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
    snprintf(err, errlen, "%s: exists and is not a folder", path);
    return -1;
  }
  snprintf(err, errlen, "%s: cannot create the folder: %s", path, strerror(errno));
  return -1;
}

/* Image files in a class folder: the crops saved here, and any face images
 * put there by hand (adaptation reads those too). */
static int count_images(const char *path) {
  static const char *const ext[] = {".png", ".jpg", ".jpeg", ".bmp", ".webp"};
  DIR *d = opendir(path);
  if (!d) return 0;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) {
    const char *dot = strrchr(e->d_name, '.');
    for (size_t k = 0; dot && e->d_name[0] != '.' && k < sizeof ext / sizeof ext[0]; k++)
      n += strcasecmp(dot, ext[k]) == 0;
  }
  closedir(d);
  return n;
}

int collect_open(collector *c, const char *dir, const char *const *class_names, int num_classes,
                 char *err, size_t errlen) {
  memset(c, 0, sizeof *c);
  if (num_classes > COLLECT_MAX_CLASSES) {
    snprintf(err, errlen, "%s: the model has %d classes, at most %d can be collected", dir,
             num_classes, COLLECT_MAX_CLASSES);
    return -1;
  }
  if (strlen(dir) >= sizeof c->dir - 80) {
    snprintf(err, errlen, "%s: path too long", dir);
    return -1;
  }
  snprintf(c->dir, sizeof c->dir, "%s", dir);
  c->class_names = class_names;
  c->num_classes = num_classes;
  c->last_frame = -1;
  if (make_dir(dir, err, errlen) != 0) return -1;
  for (int k = 0; k < num_classes; k++) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, class_names[k]);
    c->counts[k] = count_images(path);
  }
  return 0;
}

/* The box clipped to the image; w or h 0 when nothing is left. */
static capture_rect clip(capture_rect r, int width, int height) {
  int x0 = r.x < 0 ? 0 : r.x, y0 = r.y < 0 ? 0 : r.y;
  int x1 = r.x + r.w > width ? width : r.x + r.w, y1 = r.y + r.h > height ? height : r.y + r.h;
  return (capture_rect){x0, y0, x1 > x0 ? x1 - x0 : 0, y1 > y0 ? y1 - y0 : 0};
}

/* The pixels of box as an RGB24 surface (a grey source gives R = G = B, so
 * its luma is unchanged). */
static SDL_Surface *cut(const capture_image *img, capture_rect b) {
  SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, b.w, b.h, 24, SDL_PIXELFORMAT_RGB24);
  if (!s) return NULL;
  for (int y = 0; y < b.h; y++) {
    const uint8_t *src = img->pixels + (size_t)(b.y + y) * img->stride + (size_t)b.x * img->channels;
    uint8_t *dst = (uint8_t *)s->pixels + (size_t)y * s->pitch;
    for (int x = 0; x < b.w; x++, src += img->channels, dst += 3) {
      if (img->channels == 1) dst[0] = dst[1] = dst[2] = src[0];
      else dst[0] = src[0], dst[1] = src[1], dst[2] = src[2];
    }
  }
  return s;
}

int collect_save(collector *c, const capture_image *img, capture_rect box, int cls, int64_t frame,
                 char *path, size_t path_len, char *err, size_t errlen) {
  if (frame == c->last_frame) return 0;
  if (cls < 0 || cls >= c->num_classes) {
    snprintf(err, errlen, "class %d: the model has %d classes", cls + 1, c->num_classes);
    return -1;
  }
  capture_rect b = clip(box, img->width, img->height);
  if (b.w == 0 || b.h == 0) {
    snprintf(err, errlen, "frame %lld: the face box is outside the frame", (long long)frame);
    return -1;
  }
  char folder[1200], file[1400];
  snprintf(folder, sizeof folder, "%s/%s", c->dir, c->class_names[cls]);
  if (make_dir(folder, err, errlen) != 0) return -1;
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  snprintf(file, sizeof file, "%s/%s-%06lld.png", folder, stamp, (long long)frame);
  SDL_Surface *s = cut(img, b);
  if (!s) {
    snprintf(err, errlen, "out of memory for a %dx%d crop", b.w, b.h);
    return -1;
  }
  int rc = atomic_save_png(s, file, err, errlen);
  SDL_FreeSurface(s);
  if (rc != 0) return -1;
  c->counts[cls]++;
  c->last_frame = frame;
  if (path) snprintf(path, path_len, "%s", file);
  return 1;
}

int collect_total(const collector *c) {
  int n = 0;
  for (int k = 0; k < c->num_classes; k++) n += c->counts[k];
  return n;
}
