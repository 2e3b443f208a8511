/* assets: locate files shipped in assets/ whether emocam runs from its build
 * tree, from the source tree or after `cmake --install`.
 */
#include "common/assets.h"

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

/* Writes dir/relative into out; true when it fit and is readable. */
static int try_path(char *out, size_t len, const char *dir, const char *relative) {
  int n = snprintf(out, len, "%s/%s", dir, relative);
  return n > 0 && (size_t)n < len && is_readable(out);
}

int assets_find(const char *relative, char *out, size_t len) {
  char exe[PATH_MAX];
  int have_exe = exe_dir(exe, sizeof exe) == 0;
  /* Next to the executable (build tree, install prefix), then the source
   * tree's assets/ (a build directory anywhere) and the configured prefix. */
  const char *beside_exe[] = {"assets", "../assets", "../share/emocam"};
  if (have_exe) {
    for (size_t i = 0; i < sizeof beside_exe / sizeof beside_exe[0]; i++) {
      char dir[PATH_MAX + 32];
      snprintf(dir, sizeof dir, "%.*s/%s", PATH_MAX - 1, exe, beside_exe[i]);
      if (try_path(out, len, dir, relative)) return 0;
    }
  }
  if (try_path(out, len, EMOCAM_SOURCE_ASSETS, relative)) return 0;
  if (try_path(out, len, EMOCAM_INSTALL_ASSETS, relative)) return 0;
  /* Report the first place looked. */
  snprintf(out, len, "%s/%s", EMOCAM_SOURCE_ASSETS, relative);
  return -1;
}
