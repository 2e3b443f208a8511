/* face_framing: where the face detector's box sits on training faces, to
 * frame live crops as the model was trained (app/faces.c FRAMING_*). Each
 * image of a folder tree (e.g. fer2013/train) is scaled to 192x192, pasted in
 * the middle of a 400x400 grey canvas and searched; prints how often a face
 * was found and the medians of the image side / box side and of the image
 * centre's offset from the box centre, in box sides.
 * usage: face_framing DIR [MAX_IMAGES] */
#include <SDL.h>
#include <SDL_image.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "capture_face.h"

enum { CANVAS = 400, SIDE = 192, MAX_FILES = 100000 };

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static float median(float *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_float);
  return n ? v[n / 2] : 0.0f;
}

/* paths of the files one level below dir's subfolders, every step-th one */
static int list_images(const char *dir, char **out, int max) {
  int n = 0;
  DIR *d = opendir(dir);
  if (!d) return -1;
  struct dirent *e;
  while ((e = readdir(d)) && n < max) {
    if (e->d_name[0] == '.') continue;
    char sub[2048];
    snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
    DIR *s = opendir(sub);
    if (!s) continue;
    struct dirent *f;
    while ((f = readdir(s)) && n < max) {
      if (f->d_name[0] == '.') continue;
      char *p = malloc(4096);
      snprintf(p, 4096, "%s/%s", sub, f->d_name);
      out[n++] = p;
    }
    closedir(s);
  }
  closedir(d);
  return n;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: face_framing DIR [MAX_IMAGES]\n");
    return 2;
  }
  int max = argc > 2 ? atoi(argv[2]) : 2000;
  static char *files[MAX_FILES];
  int all = list_images(argv[1], files, MAX_FILES);
  if (all <= 0) {
    fprintf(stderr, "face_framing: no images under %s\n", argv[1]);
    return 1;
  }
  char err[CAPTURE_ERR_LEN];
  capture_cascade *c = NULL;
  capture_face_detector *det = NULL;
  if (capture_cascade_load(&c, CAPTURE_CASCADE_DEFAULT, err, sizeof err) != 0 ||
      capture_face_detector_create(&det, c, err, sizeof err) != 0) {
    fprintf(stderr, "face_framing: %s\n", err);
    return 1;
  }
  capture_face_opts fo;
  capture_face_defaults(&fo);
  SDL_Surface *canvas = SDL_CreateRGBSurfaceWithFormat(0, CANVAS, CANVAS, 24, SDL_PIXELFORMAT_RGB24);
  float *scale = malloc(sizeof(float) * max), *dx = malloc(sizeof(float) * max),
        *dy = malloc(sizeof(float) * max);
  int step = all > max ? all / max : 1, tried = 0, found = 0;
  for (int i = 0; i < all && tried < max; i += step) {
    SDL_Surface *img = IMG_Load(files[i]);
    if (!img) continue;
    SDL_Surface *rgb = SDL_ConvertSurfaceFormat(img, SDL_PIXELFORMAT_RGB24, 0);
    SDL_FreeSurface(img);
    if (!rgb) continue;
    SDL_FillRect(canvas, NULL, SDL_MapRGB(canvas->format, 128, 128, 128));
    SDL_Rect at = {(CANVAS - SIDE) / 2, (CANVAS - SIDE) / 2, SIDE, SIDE};
    SDL_BlitScaled(rgb, NULL, canvas, &at);
    SDL_FreeSurface(rgb);
    tried++;
    capture_image ci = {canvas->pixels, CANVAS, CANVAS, canvas->pitch, 3};
    capture_rect box;
    if (capture_face_detect(det, &ci, &fo, &box, 1) != 1) continue;
    /* only boxes on the pasted face */
    float bcx = box.x + 0.5f * box.w, bcy = box.y + 0.5f * box.h;
    if (bcx < at.x || bcx > at.x + SIDE || bcy < at.y || bcy > at.y + SIDE) continue;
    scale[found] = (float)SIDE / box.w;
    dx[found] = (CANVAS * 0.5f - bcx) / box.w;
    dy[found] = (CANVAS * 0.5f - bcy) / box.h;
    found++;
  }
  printf("%s: a face found in %d of %d images (%.1f%%)\n", argv[1], found, tried,
         tried ? 100.0 * found / tried : 0.0);
  printf("image side / box side: median %.3f\n", median(scale, found));
  printf("image centre - box centre, in box sides: dx %.3f, dy %.3f (medians)\n",
         median(dx, found), median(dy, found));
  capture_face_detector_destroy(det);
  capture_cascade_destroy(c);
  return 0;
}
