/* pipeline: the live window's inference worker. The main thread crops and
 * resizes each frame into the worker's input and submits it; one worker
 * thread runs the CNN and publishes the latest probabilities, so the UI never
 * waits for inference. A frame submitted while the worker is busy replaces
 * the one still waiting (latest wins; counted as skipped). A frame carries up
 * to max_samples crops (one per face), each with a caller's tag that comes
 * back with its probabilities. Buffers are sized once; nothing is allocated
 * per frame.
 */
#ifndef APP_PIPELINE_H
#define APP_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "common/classifier.h"
#include "live/faces.h"

typedef struct pipeline pipeline;

typedef struct {
  int64_t seq;   /* frame number the probabilities belong to */
  int n;         /* samples (crops) of that frame */
  double pts_s;  /* that frame's time stamp */
  double cnn_ms; /* time of the forward pass(es) */
} pipeline_result;

/* Starts the worker for cl (borrowed; from now on only the worker may use it
 * until pipeline_destroy), for frames of up to max_samples crops. Returns 0
 * or -1 with err filled. */
int pipeline_create(pipeline **out, classifier *cl, int max_samples, char *err, size_t errlen);
/* Stops and joins the worker (never hangs: waits use timeouts and an abort
 * flag) and frees everything; NULL ok. */
void pipeline_destroy(pipeline *p);

/* The buffer the next frame's input goes in: [max_samples, c, h, w] floats
 * of the classifier. Main thread only; a different buffer after each submit. */
float *pipeline_input(pipeline *p);
/* Hands the input buffer, holding n (1..max_samples) crops tagged tags[n],
 * to the worker for frame seq. Never blocks on the CNN. Main thread only. */
void pipeline_submit(pipeline *p, int64_t seq, double pts_s, int n, const crop_tag *tags);

/* Copies the newest result not yet polled: probs [info->n, num_classes],
 * tags [info->n] (room for max_samples each) and *info. Returns 1 when there
 * was one, 0 when not, -1 when the CNN failed. */
int pipeline_poll(pipeline *p, float *probs, crop_tag *tags, pipeline_result *info);
/* Waits up to timeout_ms until the result of frame seq (or a later one) is
 * published. Returns 1 if it is, 0 on timeout, -1 if the CNN failed. */
int pipeline_wait(pipeline *p, int64_t seq, int timeout_ms);
/* Switches the worker to cl (borrowed, the same input shape and classes as
 * the one before), waiting for a forward pass in progress, so that the
 * previous classifier is free to close when this returns. Main thread only. */
void pipeline_set_classifier(pipeline *p, classifier *cl);
/* Submitted frames replaced before the worker took them. */
int64_t pipeline_skipped(pipeline *p);

#endif
