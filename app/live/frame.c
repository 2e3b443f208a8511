/* frame: the stages around the CNN, shared by the window and headless. */
#include "live/frame.h"

#include "common/clock.h"

int frame_crop(face_stage *fs, const classifier *cl, const capture_image *img, double t_s,
               float *input, crop_tag *tags, double *crop_ms) {
  int n = faces_stage_frame(fs, img, t_s, tags);
  if (n < 0) return -1;
  double t0 = clock_now_s();
  const size_t sample = (size_t)cl->c * cl->h * cl->w;
  for (int i = 0; i < n; i++)
    capture_crop_resize(img, tags[i].box, cl->c, cl->h, cl->w, input + i * sample);
  *crop_ms = (clock_now_s() - t0) * 1e3;
  return n;
}

void frame_results(face_stage *fs, const classifier *cl, live_log *log, int64_t seq,
                   double pts_s, double dt_s, int n, const crop_tag *tags, const float *probs) {
  const int K = cl->num_classes;
  for (int i = 0; i < n; i++) {
    const float *p = probs + (size_t)i * K;
    int face, shown = faces_stage_result(fs, &tags[i], i, p, dt_s, &face);
    if (shown < 0) continue; /* the face left since its frame was taken */
    live_log_frame(log, seq, pts_s, face, tags[i].id, tags[i].box, p, classifier_argmax(p, K),
                   shown);
  }
}

double frame_dt(int first, double pts_s, double prev_pts_s, double nominal_dt) {
  if (first) return 0.0;
  return pts_s - prev_pts_s > 0 ? pts_s - prev_pts_s : nominal_dt;
}
