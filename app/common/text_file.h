/* text_file: reads a small text file (an architecture, a labels list) whole. */
#ifndef APP_TEXT_FILE_H
#define APP_TEXT_FILE_H

#include <stddef.h>

/* The .emo format's limit on architecture text. */
#define TEXT_FILE_ARCH_MAX 65536

/* Returns the NUL-terminated contents of path (caller frees), or NULL with
 * err naming the file and the reason; files over max_bytes are refused. */
char *text_file_read(const char *path, size_t max_bytes, char *err, size_t errlen);

#endif
