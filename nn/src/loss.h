/* loss: softmax and softmax cross-entropy with class weights and label
 * smoothing (private). */
#ifndef NN_LOSS_H
#define NN_LOSS_H

/* probs[n,K] = softmax(logits[n,K] / t); probs may equal logits */
void loss_softmax(float *probs, const float *logits, int n, int K, float t);

/* Cross-entropy of probs[n,K] against labels[n] with targets
 * (1-eps) onehot + eps/K, weighted mean sum_i w_{y_i} loss_i / sum_i w_{y_i}
 * (w = class_weights or all 1). Writes dL/dlogits into grad[n,K] (grad may
 * equal probs). With teacher [n,K] non-NULL the target of sample i is
 * (1 - teacher_w) t_i + teacher_w teacher_i (distillation). Returns the loss;
 * 0 with zero gradients if all weights are 0. */
float loss_xent(float *grad, const float *probs, const int *labels, int n, int K,
                const float *class_weights, float eps, const float *teacher, float teacher_w);

#endif
