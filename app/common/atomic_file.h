/* atomic_file: output files a reader never sees half-written: written to a
 * temporary file in the same folder and renamed into place when complete, so
 * a crash or a full disk leaves the old file (or none), never a truncated
 * one. For text (CSV, JSON) and for PNG images (reports, screenshots, saved
 * crops).
 */
#ifndef APP_COMMON_ATOMIC_FILE_H
#define APP_COMMON_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

typedef struct SDL_Surface SDL_Surface;

typedef struct {
  FILE *f;       /* the stream to write to */
  int is_stdout; /* path was "-" */
  char path[4096];
  char tmp[4104];
} atomic_file;

/* Opens path for writing through a temporary file "<path>.XXXXXX" in the same
 * folder (made with mkstemp, then given mode 0644). path "-" means stdout.
 * Returns 0, or -1 with err filled. */
int atomic_file_open(atomic_file *af, const char *path, char *err, size_t errlen);
/* Flushes, closes and renames the temporary file onto path; on any failure
 * (including ok == 0, meaning the caller's writing failed) the temporary file
 * is removed and path is left untouched. Returns 0, or -1 with err filled. */
int atomic_file_close(atomic_file *af, int ok, char *err, size_t errlen);

/* Writes surface s as a PNG (SDL2_image) at path, the same way. */
int atomic_save_png(SDL_Surface *s, const char *path, char *err, size_t errlen);

#endif
