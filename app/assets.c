/* assets: locate files shipped in assets/ whether emocam runs from its build
 * tree, from the source tree or after `cmake --install`.
 */
#include "assets.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int is_readable(const char *path) { return access(path, R_OK) == 0; }

/* Directory of the running executable, from /proc/self/exe. */
static int exe_dir(char *out, size_t len) {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return -1;
  buf[n] = '\0';
  char *slash = strrchr(buf, '/');
  if (!slash) return -1;
  *slash = '\0';
  if (strlen(buf) + 1 > len) return -1;
  memcpy(out, buf, strlen(buf) + 1);
  return 0;
}

int assets_find(const char *relative, char *out, size_t len) {
  char dir[PATH_MAX];
  const char *exe_relative[] = {"assets", "../assets", "../share/emocam"};
  char first[PATH_MAX] = "";
  if (exe_dir(dir, sizeof dir) == 0) {
    for (size_t i = 0; i < sizeof exe_relative / sizeof exe_relative[0]; i++) {
      char path[PATH_MAX * 2];
      snprintf(path, sizeof path, "%s/%s/%s", dir, exe_relative[i], relative);
      if (!first[0]) snprintf(first, sizeof first, "%s", path);
      if (is_readable(path)) {
        snprintf(out, len, "%s", path);
        return 0;
      }
    }
  }
  /* The source tree's assets/ (a build directory anywhere) and the install
   * prefix chosen at configure time. */
  const char *fixed[] = {EMOCAM_SOURCE_ASSETS, EMOCAM_INSTALL_ASSETS};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s/%s", fixed[i], relative);
    if (!first[0]) snprintf(first, sizeof first, "%s", path);
    if (is_readable(path)) {
      snprintf(out, len, "%s", path);
      return 0;
    }
  }
  snprintf(out, len, "%s", first);
  return -1;
}
