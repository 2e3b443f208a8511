/* smoothing: what the live window shows, from the per-frame probabilities:
 * an exponential moving average over time plus a little hysteresis on the
 * shown label, so the label does not flicker while a real change of
 * expression still shows within about half a second.
 */
#ifndef APP_SMOOTHING_H
#define APP_SMOOTHING_H

#define SMOOTH_MAX_CLASSES 64
#define SMOOTH_DEFAULT_S 0.3f /* --smooth default: EMA time constant */
/* The shown label changes only when another class's smoothed probability
 * beats it by a margin: SMOOTH_MARGIN_REL of the leader's probability, but at
 * least SMOOTH_MARGIN_ABS. Relative, so that when the model is unsure (every
 * class near 1/7) the shown label still follows a clear leader instead of
 * sticking to a class well below it; with a floor, so that near-uniform noise
 * does not flip it. A step from one confident class to another switches in
 * ~0.25 s at the default time constant; two classes trading the lead every
 * frame never switch it. */
#define SMOOTH_MARGIN_REL 0.15f
#define SMOOTH_MARGIN_ABS 0.03f

typedef struct {
  int num_classes;
  float tau_s;  /* EMA time constant in seconds; 0: off (shown = raw argmax) */
  int started;  /* a first frame has been seen */
  int shown;    /* index of the label shown */
  float p[SMOOTH_MAX_CLASSES]; /* smoothed probabilities */
} smooth_state;

/* Caller-owned state for num_classes (1..SMOOTH_MAX_CLASSES) and time constant
 * tau_s >= 0. Returns 0, or -1 when an argument is out of range. */
int smooth_init(smooth_state *s, int num_classes, float tau_s);

/* Forgets the history (e.g. after a pause or a reconnect). */
void smooth_reset(smooth_state *s);

/* Feeds the raw probabilities of one frame, dt_s seconds after the previous
 * one (the first frame, or dt_s <= 0, takes probs as they are).
 * EMA: p += a (probs - p), a = 1 - exp(-dt / tau), so the weight of the past
 * decays by e every tau seconds whatever the frame rate.
 * Returns the label to show. smooth_probs() gives the smoothed values. */
int smooth_update(smooth_state *s, const float *probs, double dt_s);

/* [num_classes] smoothed probabilities (raw when tau_s is 0); borrowed. */
const float *smooth_probs(const smooth_state *s);

#endif
