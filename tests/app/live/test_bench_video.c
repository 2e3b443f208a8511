/* test_capture_bench: bench_video_run (app/bench_video.c, compiled in here
 * until the app wires `emocam bench --video`) on the fixture clip and the
 * shared 70-face clip, plus its error path. Prints the measured figures.
 */
#include <stdio.h>
#include <unistd.h>

#include "live/bench_video.h"
#include "check.h"

int main(void) {
  CHECK(bench_video_run(EMOCAM_FIXTURES "/capture/clip.mp4", 1, 48, 48, 1.0f, NULL, 1) == 0,
        "bench on clip.mp4 did not return 0");
  fflush(stdout);
  CHECK(bench_video_run("/nonexistent/h3-bench.mp4", 1, 48, 48, 1.0f, NULL, 0) == 1,
        "bench on a missing file did not return 1");
  CHECK(bench_video_run(EMOCAM_FIXTURES "/capture/clip.mp4", 2, 48, 48, 1.0f, NULL, 0) == 1,
        "bench with 2 channels did not return 1");
  const char *big = EMOCAM_SHARED_DATA "/clips/fer-val-70faces.mp4";
  if (access(big, R_OK) == 0) {
    CHECK(bench_video_run(big, 1, 48, 48, 1.0f, NULL, 0) == 0, "bench on %s did not return 0", big);
  } else {
    printf("fer-val-70faces.mp4 absent: only the fixture clip measured\n");
  }
  return check_finish("test_capture_bench");
}
