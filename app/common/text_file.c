/* text_file: whole small text files into memory. */
#include "common/text_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *text_file_read(const char *path, size_t max_bytes, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  /* One byte more than allowed tells an oversized file from a full one. */
  char *text = malloc(max_bytes + 2);
  size_t n = text ? fread(text, 1, max_bytes + 1, f) : 0;
  int read_error = ferror(f);
  fclose(f);
  if (!text || read_error || n > max_bytes) {
    snprintf(err, errlen, "%s: %s", path,
             !text ? "out of memory" : read_error ? "read error" : "file too large");
    free(text);
    return NULL;
  }
  text[n] = '\0';
  return text;
}
