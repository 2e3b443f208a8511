/* threads: the worker pool behind par_for (see threads.h).
 * The pool is process-wide because nn_set_threads() is: one pool serves every
 * net. Workers spin briefly between jobs (layers follow each other within
 * microseconds) and then sleep on a condition variable. OpenBLAS is kept
 * single-threaded: nn splits GEMMs across its own threads, which avoids two
 * thread pools fighting over the same cores. */
#include "nn.h"
#include "threads.h"

#include <cblas.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

enum { SPIN_WORKER = 4000, SPIN_CALLER = 2000 };

typedef struct {
  pthread_mutex_t mu;     /* guards sleeping workers' wake-up */
  pthread_cond_t wake;
  pthread_mutex_t busy;   /* held by the thread running a job */
  pthread_t th[NN_MAX_THREADS];
  int threads;            /* total, counting the caller; 0 = not started */
  atomic_uint gen;        /* bumped once per job */
  unsigned start_gen;     /* gen when the workers were created */
  atomic_int pending;     /* workers yet to finish the current job */
  atomic_int quit;
  par_fn fn;              /* the current job */
  void *ctx;
  int count, pieces, workers;
  atomic_int next;        /* next piece to take */
} pool;

/* The pool nn_set_threads() configures: process-wide, as the thread count
 * is (nn's other mutable static is conv.c's im2col tile size, set by tests). */
static pool P = {.mu = PTHREAD_MUTEX_INITIALIZER,
                 .wake = PTHREAD_COND_INITIALIZER,
                 .busy = PTHREAD_MUTEX_INITIALIZER};

/* Takes pieces of the current job until none is left. */
static void run_pieces(int worker) {
  for (;;) {
    int k = atomic_fetch_add_explicit(&P.next, 1, memory_order_relaxed);
    if (k >= P.pieces) return;
    long begin = (long)P.count * k / P.pieces, end = (long)P.count * (k + 1) / P.pieces;
    if (end > begin) P.fn(P.ctx, worker, (int)begin, (int)end);
  }
}

static void *worker_main(void *arg) {
  int id = (int)(long)arg;
  /* the generation when the pool started, not now: a job may already have
   * been posted before this thread first runs */
  unsigned seen = P.start_gen;
  for (;;) {
    unsigned g;
    int spins = 0;
    while ((g = atomic_load_explicit(&P.gen, memory_order_acquire)) == seen &&
           !atomic_load(&P.quit)) {
      if (++spins < SPIN_WORKER) {
        CPU_RELAX();
        continue;
      }
      pthread_mutex_lock(&P.mu);
      while (atomic_load(&P.gen) == seen && !atomic_load(&P.quit))
        pthread_cond_wait(&P.wake, &P.mu);
      pthread_mutex_unlock(&P.mu);
    }
    if (atomic_load(&P.quit)) return NULL;
    seen = g;
    if (id < P.workers) run_pieces(id);
    atomic_fetch_sub_explicit(&P.pending, 1, memory_order_release);
  }
}

static void pool_stop(void) {
  if (P.threads <= 1) {
    P.threads = 0;
    return;
  }
  pthread_mutex_lock(&P.mu);
  atomic_store(&P.quit, 1);
  pthread_cond_broadcast(&P.wake);
  pthread_mutex_unlock(&P.mu);
  for (int i = 1; i < P.threads; i++) pthread_join(P.th[i], NULL);
  atomic_store(&P.quit, 0);
  P.threads = 0;
}

/* OpenBLAS internals of DYNAMIC_ARCH builds (Debian's), weak so nn still
 * links against a BLAS without them. */
extern char *openblas_get_corename(void) __attribute__((weak));
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

/* OpenBLAS 0.3.21 does not know CPUs newer than it (e.g. Emerald Rapids) and
 * falls back to its generic "Prescott" SSE3 kernels, 5-10x slower. When that
 * happened and the user did not choose a core with OPENBLAS_CORETYPE, pick
 * the kernels the CPU's features allow and let OpenBLAS re-initialise. */
static void blas_fix_core(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (!openblas_get_corename || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) return;
  if (getenv("OPENBLAS_CORETYPE")) return;
  const char *core = openblas_get_corename();
  if (!core || strcmp(core, "Prescott") != 0) return;
  __builtin_cpu_init();
  const char *want = NULL;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    want = "SkylakeX";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    want = "Haswell";
  else if (__builtin_cpu_supports("avx"))
    want = "Sandybridge";
  if (!want) return;
  setenv("OPENBLAS_CORETYPE", want, 1);
  gotoblas_dynamic_quit();
  gotoblas_dynamic_init();
  unsetenv("OPENBLAS_CORETYPE");
#endif
}

static void pool_start(int n) {
  if (n > NN_MAX_THREADS) n = NN_MAX_THREADS;
  if (n < 1) n = 1;
  P.threads = 1;
  P.start_gen = atomic_load(&P.gen);
  for (int i = 1; i < n; i++) {
    if (pthread_create(&P.th[i], NULL, worker_main, (void *)(long)i) != 0) break;
    P.threads = i + 1;
  }
  /* nn parallelises around OpenBLAS calls, so BLAS itself runs on one thread */
  openblas_set_num_threads(1);
  static int blas_checked;
  if (!blas_checked) {
    blas_checked = 1;
    blas_fix_core();
  }
}

static int online_cores(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : (int)n;
}

void nn_set_threads(int n) {
  if (n <= 0) n = online_cores();
  pool_stop();
  pool_start(n);
}

int nn_get_threads(void) {
  if (P.threads == 0) nn_set_threads(0);
  return P.threads;
}

int par_parts(int count, double flops) {
  int t = nn_get_threads();
  /* waking a worker costs a few microseconds: not worth it below ~200 kflop */
  if (flops < 2e5 || count < 2) return 1;
  return t < count ? t : count;
}

/* pieces of [0, count), taken dynamically by up to max_workers threads;
 * each: every piece is one item, also when run serially */
static void par_run(int count, int pieces, int max_workers, int each, par_fn fn, void *ctx) {
  if (count <= 0) return;
  int t = nn_get_threads();
  int workers = max_workers < t ? max_workers : t;
  if (workers > pieces) workers = pieces;
  if (workers <= 1 || pthread_mutex_trylock(&P.busy) != 0) {
    if (each)
      for (int i = 0; i < count; i++) fn(ctx, 0, i, i + 1);
    else
      fn(ctx, 0, 0, count);
    return;
  }
  P.fn = fn;
  P.ctx = ctx;
  P.count = count;
  P.pieces = pieces;
  P.workers = workers;
  atomic_store_explicit(&P.next, 0, memory_order_relaxed);
  atomic_store_explicit(&P.pending, P.threads - 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&P.gen, 1, memory_order_release);
  pthread_mutex_lock(&P.mu);
  pthread_cond_broadcast(&P.wake);
  pthread_mutex_unlock(&P.mu);
  run_pieces(0);
  int spins = 0;
  while (atomic_load_explicit(&P.pending, memory_order_acquire) > 0) {
    if (++spins < SPIN_CALLER) CPU_RELAX();
    else sched_yield();
  }
  pthread_mutex_unlock(&P.busy);
}

/* Four pieces per worker: small enough that a thread sharing its core with
 * another process leaves the rest to the others, large enough that taking
 * a piece (one atomic add) costs nothing. */
void par_for(int count, int max_workers, par_fn fn, void *ctx) {
  int w = max_workers < 1 ? 1 : max_workers;
  int pieces = w == 1 ? 1 : 4 * w < count ? 4 * w : count;
  par_run(count, pieces, max_workers, 0, fn, ctx);
}

void par_each(int count, int max_workers, par_fn fn, void *ctx) {
  par_run(count, count, max_workers, 1, fn, ctx);
}

void par_pieces(int count, int pieces, int max_workers, par_fn fn, void *ctx) {
  if (pieces < 1) pieces = 1;
  par_run(count, pieces < count ? pieces : count, max_workers, 0, fn, ctx);
}
