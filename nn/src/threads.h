/* threads: nn's process-wide worker pool (private).
 * nn_set_threads() sizes it. par_for() cuts a range into contiguous pieces
 * that the caller and the workers take one after another until none is
 * left, so a thread slowed by another process just takes fewer pieces. Which
 * thread runs which piece depends on timing: callers use the worker index
 * only to pick scratch memory, and every result must depend on the items
 * alone (per-item outputs, or sums over items in a fixed order). A par_for
 * called while the pool is busy (another net in another thread, or a nested
 * call) runs serially in the caller instead of waiting. */
#ifndef NN_THREADS_H
#define NN_THREADS_H

#define NN_MAX_THREADS 64

/* fn runs items [begin, end) on worker `worker` (0 = the calling thread,
 * < the number of threads). */
typedef void (*par_fn)(void *ctx, int worker, int begin, int end);

/* Runs [0, count) on up to max_workers threads, in pieces of several items. */
void par_for(int count, int max_workers, par_fn fn, void *ctx);
/* Same, one item per piece: fn(ctx, worker, i, i + 1), for costly items. */
void par_each(int count, int max_workers, par_fn fn, void *ctx);
/* Same, in exactly min(pieces, count) pieces: for work whose cost per
 * piece grows with the number of pieces (each packs the same weights). */
void par_pieces(int count, int pieces, int max_workers, par_fn fn, void *ctx);

/* How many parts par_for would use for `count` items given roughly
 * `flops` of work in total: 1 when the work is too small to be worth waking
 * other threads. */
int par_parts(int count, double flops);

#endif
