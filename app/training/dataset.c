/* dataset: class-folder image sets decoded once into model-resolution floats. */
#include "training/dataset.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cli.h"
#include "common/image_file.h"
#include "common/rng.h"

typedef struct {
  char **items;
  int n, cap;
} name_list;

static int list_push(name_list *l, const char *s) {
  if (l->n == l->cap) {
    int cap = l->cap ? l->cap * 2 : 64;
    char **grown = realloc(l->items, sizeof(char *) * cap);
    if (!grown) return -1;
    l->items = grown;
    l->cap = cap;
  }
  if (!(l->items[l->n] = strdup(s))) return -1;
  l->n++;
  return 0;
}

static void list_free(name_list *l) {
  for (int i = 0; i < l->n; i++) free(l->items[i]);
  free(l->items);
  memset(l, 0, sizeof *l);
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir (no dot files) that are directories (want_dirs) or
 * regular files. */
static int list_dir(const char *dir, int want_dirs, name_list *out, char *err, size_t errlen) {
  DIR *d = opendir(dir);
  if (!d) {
    snprintf(err, errlen, "%s: %s", dir, strerror(errno));
    return -1;
  }
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat st;
    if (n < 0 || (size_t)n >= sizeof path || stat(path, &st) != 0) continue;
    if (want_dirs ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) continue;
    if (list_push(out, e->d_name) != 0) {
      closedir(d);
      snprintf(err, errlen, "%s: out of memory", dir);
      return -1;
    }
  }
  closedir(d);
  if (out->n > 1) qsort(out->items, out->n, sizeof(char *), compare_names); /* items NULL when empty */
  return 0;
}

void dataset_free(dataset *ds) {
  if (!ds) return;
  for (int i = 0; i < ds->num_classes; i++) free(ds->class_names[i]);
  for (int i = 0; i < ds->n; i++) free(ds->paths[i]);
  free(ds->class_names);
  free(ds->paths);
  free(ds->x);
  free(ds->labels);
  free(ds->class_counts);
  memset(ds, 0, sizeof *ds);
}

/* Index of name in names, or -1. */
static int find_name(const char *const *names, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(names[i], name) == 0) return i;
  return -1;
}

/* Fills ds->class_names and the label of each folder. */
static int assign_classes(dataset *ds, const name_list *folders, const char *dir,
                          const char *const *known, int num_known, int *folder_label,
                          char *err, size_t errlen) {
  if (!known) {
    if (folders->n < 2) {
      snprintf(err, errlen, "%s: found %d class folder%s, need at least 2 (one subfolder per class)",
               dir, folders->n, folders->n == 1 ? "" : "s");
      return -1;
    }
    known = (const char *const *)folders->items;
    num_known = folders->n;
  }
  ds->num_classes = num_known;
  ds->class_names = calloc(num_known, sizeof(char *));
  ds->class_counts = calloc(num_known, sizeof(int));
  if (!ds->class_names || !ds->class_counts) return -1;
  for (int i = 0; i < num_known; i++)
    if (!(ds->class_names[i] = strdup(known[i]))) return -1;
  for (int f = 0; f < folders->n; f++) {
    folder_label[f] = find_name(known, num_known, folders->items[f]);
    if (folder_label[f] < 0) {
      size_t used = (size_t)snprintf(err, errlen, "%s: class folder '%s' is not a class of the model (model: ",
                                     dir, folders->items[f]);
      for (int i = 0; i < num_known && used < errlen; i++)
        used += (size_t)snprintf(err + used, errlen - used, "%s%s", i ? ", " : "", known[i]);
      if (used < errlen) used += (size_t)snprintf(err + used, errlen - used, "; folders: ");
      for (int i = 0; i < folders->n && used < errlen; i++)
        used += (size_t)snprintf(err + used, errlen - used, "%s%s", i ? ", " : "", folders->items[i]);
      if (used < errlen) snprintf(err + used, errlen - used, ")");
      return -1;
    }
  }
  return 0;
}

int dataset_load(dataset *ds, const char *dir, int c, int h, int w, float crop_scale,
                 const char *const *known_classes, int num_known, char *err, size_t errlen) {
  memset(ds, 0, sizeof *ds);
  ds->c = c;
  ds->h = h;
  ds->w = w;
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "%s: %s", dir, stat(dir, &st) != 0 ? strerror(errno) : "not a directory");
    return -1;
  }
  if (image_file_init(err, errlen) != 0) return -1;
  name_list folders = {0};
  name_list *files = NULL;
  int *folder_label = NULL;
  int rc = -1;
  if (list_dir(dir, 1, &folders, err, errlen) != 0) goto done;
  folder_label = calloc(folders.n ? folders.n : 1, sizeof(int));
  files = calloc(folders.n ? folders.n : 1, sizeof(name_list));
  if (!folder_label || !files) goto oom;
  if (assign_classes(ds, &folders, dir, known_classes, num_known, folder_label, err, errlen) != 0)
    goto done;

  int total = 0;
  for (int f = 0; f < folders.n; f++) {
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/%s", dir, folders.items[f]);
    if (list_dir(sub, 0, &files[f], err, errlen) != 0) goto done;
    if (files[f].n == 0 && !known_classes) {
      snprintf(err, errlen, "%s: empty class folder (no files)", sub);
      goto done;
    }
    total += files[f].n;
  }
  if (total == 0) {
    snprintf(err, errlen, "%s: no image files in its class folders", dir);
    goto done;
  }
  const size_t sample = (size_t)c * h * w;
  ds->x = malloc(sizeof(float) * sample * total);
  ds->labels = malloc(sizeof(int) * total);
  ds->paths = calloc(total, sizeof(char *));
  if (!ds->x || !ds->labels || !ds->paths) goto oom;

  for (int f = 0; f < folders.n; f++) {
    int decoded_here = 0;
    for (int i = 0; i < files[f].n; i++) {
      char path[4096], why[1024];
      snprintf(path, sizeof path, "%s/%s/%s", dir, folders.items[f], files[f].items[i]);
      if (image_file_load_sample(path, c, h, w, crop_scale, ds->x + sample * ds->n, why,
                                 sizeof why) != 0) {
        cli_warn("skipping %s", why);
        ds->skipped++;
        continue;
      }
      if (!(ds->paths[ds->n] = strdup(path))) goto oom;
      ds->labels[ds->n++] = folder_label[f];
      ds->class_counts[folder_label[f]]++;
      decoded_here++;
    }
    if (decoded_here == 0 && !known_classes) {
      snprintf(err, errlen, "%s/%s: no decodable images in this class folder", dir,
               folders.items[f]);
      goto done;
    }
  }
  if (ds->n == 0) {
    snprintf(err, errlen, "%s: no decodable images", dir);
    goto done;
  }
  if (ds->skipped) cli_warn("%s: skipped %d file%s that %s not a decodable image%s", dir,
                            ds->skipped, ds->skipped == 1 ? "" : "s",
                            ds->skipped == 1 ? "is" : "are", ds->skipped == 1 ? "" : "s");
  rc = 0;
  goto done;
oom:
  snprintf(err, errlen, "%s: out of memory", dir);
done:
  for (int f = 0; files && f < folders.n; f++) list_free(&files[f]);
  free(files);
  free(folder_label);
  list_free(&folders);
  if (rc != 0) dataset_free(ds);
  return rc;
}

int dataset_split(dataset *d, float share, uint64_t seed, float **x_out, int **y_out) {
  const size_t sample = (size_t)d->c * d->h * d->w;
  char *to_val = calloc((size_t)d->n + 1, 1);
  int *idx = malloc(sizeof(int) * ((size_t)d->n + 1));
  *x_out = NULL;
  *y_out = NULL;
  int nval = 0;
  if (!to_val || !idx) goto oom;
  for (int k = 0; k < d->num_classes; k++) {
    int m = 0;
    for (int i = 0; i < d->n; i++)
      if (d->labels[i] == k) idx[m++] = i;
    uint64_t rng = seed * 1000003u + (uint64_t)k;
    rng_shuffle(idx, m, &rng);
    int take = (int)lroundf(share * m);
    if (take == 0 && m >= 2 && share > 0) take = 1; /* every class is held out from */
    if (take >= m) take = m > 0 ? m - 1 : 0;        /* and trained on (none of an empty class) */
    for (int i = 0; i < take; i++) to_val[idx[i]] = 1;
    nval += take;
  }
  *x_out = malloc(sizeof(float) * sample * (nval ? nval : 1));
  *y_out = malloc(sizeof(int) * (nval ? nval : 1));
  if (!*x_out || !*y_out) goto oom;
  /* Compact in place: the kept samples stay in d, in order. */
  int kept = 0, v = 0;
  for (int i = 0; i < d->n; i++) {
    if (to_val[i]) {
      memcpy(*x_out + sample * v, d->x + sample * i, sizeof(float) * sample);
      (*y_out)[v++] = d->labels[i];
      d->class_counts[d->labels[i]]--;
      free(d->paths[i]);
    } else {
      if (kept != i) {
        memcpy(d->x + sample * kept, d->x + sample * i, sizeof(float) * sample);
        d->labels[kept] = d->labels[i];
        d->paths[kept] = d->paths[i];
      }
      kept++;
    }
  }
  d->n = kept;
  free(to_val);
  free(idx);
  return nval;
oom:
  free(to_val);
  free(idx);
  free(*x_out);
  free(*y_out);
  *x_out = NULL;
  *y_out = NULL;
  return -1;
}
