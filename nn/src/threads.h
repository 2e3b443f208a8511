/* threads: nn's process-wide worker pool (private).
 * nn_set_threads() sizes it; par_for() splits a range into contiguous parts,
 * one per thread, and runs them; the caller runs part 0 itself. The split
 * depends only on the thread count, so results are reproducible for a given
 * count. A par_for called while the pool is busy (another net in another
 * thread, or a nested call) runs serially in the caller instead of waiting. */
#ifndef NN_THREADS_H
#define NN_THREADS_H

#define NN_MAX_THREADS 64

/* fn runs part `part` covering items [begin, end). */
typedef void (*par_fn)(void *ctx, int part, int begin, int end);

/* Splits [0, count) into min(threads, max_parts, count) parts. */
void par_for(int count, int max_parts, par_fn fn, void *ctx);

/* How many parts par_for would use for `count` items given roughly
 * `flops` of work in total: 1 when the work is too small to be worth waking
 * other threads. */
int par_parts(int count, double flops);

#endif
