/* wfa/runner.h as C99 (built with -std=c99 -Wall -Wextra -pedantic -Werror): the example of
   engine_api/README.md "The flow runner as a C API". Opens the flow named by argv[1], runs
   one row of inputs (argv[2]), prints its result line and exits 0 when it was ok. */
#include <wfa/runner.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct waiter {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int finished;
  int32_t status;
} waiter;

/* Exactly once per started row, on the runner's thread; the result is borrowed. */
static void on_done(void* user, const wfa_row_result* r) {
  waiter* w = (waiter*)user;
  printf("%.*s\n", (int)r->line.size, r->line.data);
  pthread_mutex_lock(&w->mu);
  w->status = r->status;
  w->finished = 1;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

int main(int argc, char** argv) {
  wfa_error err;
  wfa_runner_options opts;
  wfa_runner_flow* flow;
  waiter w;
  wfa_str path, inputs;
  if (argc != 3) return 2;
  memset(&err, 0, sizeof err);
  err.struct_size = sizeof err;
  memset(&opts, 0, sizeof opts);
  opts.struct_size = sizeof opts; /* zeroed: every default */
  path.data = argv[1];
  path.size = strlen(argv[1]);
  flow = wfa_runner_open(WFA_RUNNER_MAJOR, WFA_RUNNER_MINOR, path, &opts, &err);
  if (!flow) {
    fprintf(stderr, "open: %s\n", err.message); /* every validation error, one per line */
    return 2;
  }
  pthread_mutex_init(&w.mu, NULL);
  pthread_cond_init(&w.cv, NULL);
  w.finished = 0;
  w.status = WFA_ROW_FAILED;
  inputs.data = argv[2];
  inputs.size = strlen(argv[2]);
  if (wfa_runner_run(flow, inputs, 0, on_done, &w) != 0) {
    pthread_mutex_lock(&w.mu);
    while (!w.finished) pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
  }
  wfa_runner_close(flow); /* after it, no callback fires */
  pthread_cond_destroy(&w.cv);
  pthread_mutex_destroy(&w.mu);
  return w.status == WFA_ROW_OK ? 0 : 1;
}
