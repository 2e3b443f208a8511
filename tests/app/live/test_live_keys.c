/* test_live_keys: the live window's keys and window close, in process: the
 * test runs cmd_live() (the command behind `emocam --video ...`) on the main
 * thread under SDL's dummy video driver while a helper thread pushes SDL
 * events, as a user's keyboard would. Checks the exit code, that every thread
 * the run started is joined on return, and what each key did.
 */
#include <SDL.h>
#include <SDL_image.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "commands/commands.h"
#include "test_support.h"

static char tmp[256];
static char model[300];

static int count_threads(void) {
  DIR *d = opendir("/proc/self/task");
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
  if (d) closedir(d);
  return n;
}

/* A timed list of events for the helper thread: at ms after the window is
 * up, push a key press (key != 0; key | KEY_UP: its release) or SDL_QUIT
 * (key == 0). */
#define KEY_UP (1 << 28) /* above every SDL keycode of a printable key */
typedef struct {
  int ms;
  SDL_Keycode key;
} step;
typedef struct {
  const step *steps;
  int n;
} script;

static void *pusher(void *arg) {
  const script *sc = arg;
  /* The window exists once SDL's video is up; give the loop a moment more. */
  for (int i = 0; i < 1000 && !SDL_WasInit(SDL_INIT_VIDEO); i++) usleep(10000);
  int at = 0;
  for (int i = 0; i < sc->n; i++) {
    usleep((useconds_t)(sc->steps[i].ms - at) * 1000);
    at = sc->steps[i].ms;
    SDL_Event e;
    memset(&e, 0, sizeof e);
    if (sc->steps[i].key) {
      int up = (sc->steps[i].key & KEY_UP) != 0;
      e.type = up ? SDL_KEYUP : SDL_KEYDOWN;
      e.key.state = up ? SDL_RELEASED : SDL_PRESSED;
      e.key.keysym.sym = sc->steps[i].key & ~KEY_UP;
    } else {
      e.type = SDL_QUIT;
    }
    SDL_PushEvent(&e);
  }
  return NULL;
}

/* Runs cmd_live with args while the script plays; stderr goes to a file
 * whose text is returned. */
static char *live(const char *const *args, const script *sc, int *code) {
  char *argv[16] = {"emocam"};
  int argc = 1;
  for (; args[argc - 1]; argc++) argv[argc] = (char *)args[argc - 1];
  argv[argc] = NULL;
  char errpath[300];
  snprintf(errpath, sizeof errpath, "%s/stderr", tmp);
  fflush(stderr);
  int saved = dup(2), fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(fd, 2);
  close(fd);
  pthread_t th;
  pthread_create(&th, NULL, pusher, (void *)sc);
  *code = cmd_live(argc, argv);
  pthread_join(th, NULL);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  FILE *f = fopen(errpath, "r");
  static char text[8192];
  size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
  text[n] = '\0';
  if (f) fclose(f);
  fputs(text, stderr); /* keep it in the test log */
  return text;
}

#define CLIP EMOCAM_FIXTURES "/app/clip.mp4"
#define FACES_CLIP EMOCAM_FIXTURES "/app/faces.mp4"

static int csv_rows(const char *path) {
  FILE *f = fopen(path, "r");
  int n = -1, c, last = '\n';
  if (!f) return -1;
  while ((c = fgetc(f)) != EOF) {
    n += c == '\n';
    last = c;
  }
  fclose(f);
  return last == '\n' ? n : -2; /* -2: incomplete last line */
}

/* q, Esc and closing the window each end the run with 0 and a complete CSV. */
static void t_quit(SDL_Keycode key) {
  char csv[300];
  snprintf(csv, sizeof csv, "%s/q.csv", tmp);
  const char *args[] = {"--video", CLIP, "--loop", "--model", model, "--csv", csv, NULL};
  const step steps[] = {{1000, key}};
  script sc = {steps, 1};
  int before = count_threads(), code;
  char *err = live(args, &sc, &code);
  CHECK(code == 0, "exit %d after %s", code, key ? SDL_GetKeyName(key) : "window close");
  int rows = csv_rows(csv);
  CHECK(rows >= 10, "CSV has %d complete rows after ~1 s", rows);
  CHECK(strstr(err, "display: "), "no display summary");
  CHECK(count_threads() == before, "%d threads after the run, %d before: not all joined",
        count_threads(), before);
}

/* Space pauses: ~1 s of playing, ~1.5 s paused, so ~30 frames, not ~75. */
static void t_pause(void) {
  const char *args[] = {"--video", CLIP, "--loop", "--model", model, NULL};
  const step steps[] = {{1000, SDLK_SPACE}, {2500, SDLK_q}};
  script sc = {steps, 2};
  int code;
  char *err = live(args, &sc, &code);
  CHECK(code == 0, "exit %d", code);
  const char *d = strstr(err, "display: ");
  int frames = d ? atoi(d + strlen("display: ")) : -1;
  CHECK(frames >= 10 && frames <= 50, "%d frames shown in 2.5 s with 1.5 s paused", frames);
}

/* s saves emocam-*.png in the working folder; h hides the overlay (the
 * screenshot at exit has no status bar over the clip's plain background);
 * f mirrors without breaking anything. */
static void t_keys(void) {
  char shot[300];
  snprintf(shot, sizeof shot, "%s/exit.png", tmp);
  const char *args[] = {"--video", CLIP, "--loop", "--model", model, "--screenshot", shot, NULL};
  const step steps[] = {{800, SDLK_s}, {1000, SDLK_f}, {1200, SDLK_h}, {1600, SDLK_ESCAPE}};
  script sc = {steps, 4};
  int code;
  live(args, &sc, &code);
  CHECK(code == 0, "exit %d", code);
  int saved = 0;
  DIR *d = opendir(tmp);
  for (struct dirent *e; d && (e = readdir(d));)
    saved += strncmp(e->d_name, "emocam-", 7) == 0 && strstr(e->d_name, ".png") != NULL;
  if (d) closedir(d);
  CHECK(saved == 1, "%d emocam-*.png screenshots after pressing s once", saved);

  SDL_Surface *s = IMG_Load(shot);
  CHECK(s != NULL, "no screenshot at exit: %s", shot);
  if (!s) return;
  SDL_Surface *rgb = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_RGB24, 0);
  /* Bottom-left corner: the clip's background 0x2b3a4a, unless the status
   * bar (translucent black) is drawn over it. */
  const Uint8 *p = (const Uint8 *)rgb->pixels + (rgb->h - 4) * rgb->pitch + 4 * 3;
  CHECK(abs(p[0] - 0x2b) < 14 && abs(p[1] - 0x3a) < 14 && abs(p[2] - 0x4a) < 14,
        "overlay still drawn after h: corner pixel %02x%02x%02x", p[0], p[1], p[2]);
  SDL_FreeSurface(rgb);
  SDL_FreeSurface(s);
}


static int count_files(const char *dir, const char *suffix) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) {
    size_t len = strlen(e->d_name), sl = strlen(suffix);
    n += e->d_name[0] != '.' && len > sl && strcmp(e->d_name + len - sl, suffix) == 0;
  }
  if (d) closedir(d);
  return n;
}

/* --collect: holding 1 saves a few crops of the face as class 1, a tap of 2
 * one as class 2; T adapts in the background while frames keep coming and
 * switches to DIR/personal.emo; M goes back to the original and again to
 * the personal model. */
static void t_collect(void) {
  char dir[300], path[400];
  snprintf(dir, sizeof dir, "%s/faces", tmp);
  const char *args[] = {"--video", FACES_CLIP, "--loop", "--crop", "face", "--model", model,
                        "--collect", dir, NULL};
  const step steps[] = {{500, SDLK_1},          {1300, SDLK_1 | KEY_UP}, {1500, SDLK_2},
                        {1600, SDLK_2 | KEY_UP}, {1800, SDLK_t},         {5000, SDLK_m},
                        {5300, SDLK_m},          {5600, SDLK_q}};
  script sc = {steps, 8};
  int before = count_threads(), code;
  char *err = live(args, &sc, &code);
  CHECK(code == 0, "exit %d", code);
  nn_model m;
  char why[512];
  CHECK(nn_model_load(model, &m, 1, NULL, why, sizeof why) == 0, "%s", why);
  snprintf(path, sizeof path, "%s/%s", dir, m.class_names[0]);
  int first = count_files(path, ".png");
  snprintf(path, sizeof path, "%s/%s", dir, m.class_names[1]);
  int second = count_files(path, ".png");
  /* 0.8 s held at 4 crops a second at most, one per frame at most */
  CHECK(first >= 2 && first <= 5, "%d crops saved holding 1 for 0.8 s", first);
  CHECK(second == 1, "%d crops saved tapping 2", second);
  nn_model_free(&m);
  snprintf(path, sizeof path, "%s/personal.emo", dir);
  nn_model p = {0};
  CHECK(nn_model_load(path, &p, 1, NULL, why, sizeof why) == 0, "personal model: %s", why);
  CHECK(p.train_state && strstr(p.train_state, "adapted_from=") &&
            strstr(p.train_state, "adapted_crops="),
        "metadata: %s", p.train_state ? p.train_state : "none");
  nn_model_free(&p);
  CHECK(strstr(err, "emocam: personal model:") != NULL, "no switch to the personal model");
  const char *orig = strstr(err, "emocam: model: original");
  CHECK(orig && strstr(orig, "emocam: model: personal"), "M did not toggle the model");
  const char *d = strstr(err, "display: ");
  int frames = d ? atoi(d + strlen("display: ")) : -1;
  /* 5.6 s at the clip's 30 fps; training blocking the loop would leave
   * about the 54 frames before T */
  CHECK(frames >= 90, "%d frames shown in 5.6 s with adaptation running", frames);
  CHECK(count_threads() == before, "%d threads after the run, %d before", count_threads(),
        before);
}

/* q while the default model adapts: exit 0, every thread joined, and
 * nothing written but the crops. */
static void t_collect_quit(void) {
  char dir[300], path[400], fer[600];
  snprintf(dir, sizeof dir, "%s/quit", tmp);
  snprintf(fer, sizeof fer, "%s/assets/fer2013.emo", EMOCAM_SOURCE_DIR);
  const char *args[] = {"--video", FACES_CLIP, "--loop", "--crop", "face", "--model", fer,
                        "--collect", dir, NULL};
  const step steps[] = {{400, SDLK_1}, {1400, SDLK_1 | KEY_UP}, {1500, SDLK_t}, {1560, SDLK_q}};
  script sc = {steps, 4};
  int before = count_threads(), code;
  char *err = live(args, &sc, &code);
  CHECK(code == 0, "exit %d", code);
  CHECK(count_threads() == before, "%d threads after the run, %d before", count_threads(),
        before);
  snprintf(path, sizeof path, "%s/personal.emo", dir);
  int finished = strstr(err, "emocam: personal model:") != NULL;
  printf("adaptation %s when q was pressed\n", finished ? "had finished" : "was running");
  CHECK(finished == (access(path, F_OK) == 0), "personal.emo %s though adaptation %s",
        access(path, F_OK) == 0 ? "written" : "missing", finished ? "finished" : "was stopped");
  int litter = count_files(dir, ".ckpt") + count_files(dir, ".swa");
  CHECK(litter == 0, "%d checkpoint files left in %s", litter, dir);
  int tmpfiles = 0;
  DIR *dd = opendir(dir);
  for (struct dirent *e; dd && (e = readdir(dd));) tmpfiles += strstr(e->d_name, ".emo.") != NULL;
  if (dd) closedir(dd);
  CHECK(tmpfiles == 0, "%d half-written model files in %s", tmpfiles, dir);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_live_keys quit|escape|close|pause|keys|collect|collect_quit\n");
    return 2;
  }
  setenv("SDL_VIDEODRIVER", "dummy", 0);
  setenv("SDL_RENDER_DRIVER", "software", 0);
  snprintf(tmp, sizeof tmp, "/tmp/test_live_keys_XXXXXX");
  if (!mkdtemp(tmp) || chdir(tmp) != 0) {
    perror(tmp);
    return 1;
  }
  snprintf(model, sizeof model, "%s/tiny.emo", tmp);
  test_save_tiny_model(model, TEST_ARCH_ONE_CONV, 5);
  if (!strcmp(argv[1], "quit")) t_quit(SDLK_q);
  else if (!strcmp(argv[1], "escape")) t_quit(SDLK_ESCAPE);
  else if (!strcmp(argv[1], "close")) t_quit(0);
  else if (!strcmp(argv[1], "pause")) t_pause();
  else if (!strcmp(argv[1], "keys")) t_keys();
  else if (!strcmp(argv[1], "collect")) t_collect();
  else if (!strcmp(argv[1], "collect_quit")) t_collect_quit();
  else {
    fprintf(stderr, "unknown scenario %s\n", argv[1]);
    return 2;
  }
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
  return check_finish("test_live_keys %s", argv[1]);
}
