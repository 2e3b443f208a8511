/* atomic_file: temporary file in the target's folder, then rename(). */
#include "common/atomic_file.h"

#include <SDL.h>
#include <SDL_image.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int atomic_file_open(atomic_file *jf, const char *path, char *err, size_t errlen) {
  memset(jf, 0, sizeof *jf);
  if (strcmp(path, "-") == 0) {
    jf->f = stdout;
    jf->is_stdout = 1;
    return 0;
  }
  int n = snprintf(jf->tmp, sizeof jf->tmp, "%s.XXXXXX", path);
  if (n < 0 || (size_t)n >= sizeof jf->tmp || strlen(path) >= sizeof jf->path) {
    snprintf(err, errlen, "%s: path too long (limit %zu bytes)", path, sizeof jf->path - 8);
    return -1;
  }
  strcpy(jf->path, path);
  int fd = mkstemp(jf->tmp);
  if (fd < 0) {
    snprintf(err, errlen, "%s: cannot create a temporary file in its folder: %s", path,
             strerror(errno));
    return -1;
  }
  /* mkstemp makes 0600 files; results are meant to be shared like any other. */
  (void)fchmod(fd, 0644);
  jf->f = fdopen(fd, "w");
  if (!jf->f) {
    snprintf(err, errlen, "%s: %s", jf->tmp, strerror(errno));
    close(fd);
    unlink(jf->tmp);
    return -1;
  }
  return 0;
}

int atomic_file_close(atomic_file *jf, int ok, char *err, size_t errlen) {
  if (jf->is_stdout) {
    if (fflush(stdout) != 0 || ferror(stdout)) {
      snprintf(err, errlen, "standard output: write failed: %s", strerror(errno));
      return -1;
    }
    if (!ok) {
      snprintf(err, errlen, "standard output: the writer failed");
      return -1;
    }
    return 0;
  }
  int failed = !ok;
  int e = 0;
  if (fflush(jf->f) != 0 || ferror(jf->f)) {
    e = errno;
    failed = 1;
  }
  if (fclose(jf->f) != 0 && !failed) {
    e = errno;
    failed = 1;
  }
  jf->f = NULL;
  if (!failed && rename(jf->tmp, jf->path) != 0) {
    e = errno;
    failed = 1;
  }
  if (failed) {
    unlink(jf->tmp);
    if (e)
      snprintf(err, errlen, "%s: write failed: %s", jf->path, strerror(e));
    else
      snprintf(err, errlen, "%s: the writer failed (unbalanced JSON, or an earlier error)", jf->path);
    return -1;
  }
  return 0;
}

int atomic_save_png(SDL_Surface *s, const char *path, char *err, size_t errlen) {
  atomic_file af;
  if (atomic_file_open(&af, path, err, errlen) != 0) return -1;
  if (af.is_stdout) {
    snprintf(err, errlen, "a PNG cannot go to standard output; give a file name");
    return -1;
  }
  /* SDL_image writes by name; the stream only made the file and its mode. */
  fclose(af.f);
  af.f = NULL;
  if (IMG_SavePNG(s, af.tmp) != 0) {
    snprintf(err, errlen, "%s: cannot write PNG: %s", path, IMG_GetError());
    unlink(af.tmp);
    return -1;
  }
  if (rename(af.tmp, path) != 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    unlink(af.tmp);
    return -1;
  }
  return 0;
}
