/* How an engine loads a wfa plugin, in C99: dlopen, negotiate, list the actions, create
   an instance, execute test.echo, wait for its completion on a condition variable, and
   destroy. Usage: host_example PLUGIN.so (exit 0 when the echo came back);
   host_example --list PLUGIN.so stops after listing (tests/install builds this file
   against an installed wfa and lists the installed plugin's actions). */
#include <wfa/wfa.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct waiter {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
  int32_t code;
  char text[256]; /* the outputs, or the error message */
} waiter;

/* Runs on a plugin thread, exactly once. The result is borrowed: copy what you keep. */
static void on_done(void* user, const wfa_result* r) {
  waiter* w = (waiter*)user;
  wfa_str t = r->code == WFA_OK ? r->outputs_json : r->message;
  pthread_mutex_lock(&w->mu);
  w->code = r->code;
  snprintf(w->text, sizeof w->text, "%.*s", (int)t.size, t.data ? t.data : "");
  w->done = 1;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

static void on_log(void* ctx, int32_t level, wfa_str message) {
  (void)ctx;
  fprintf(stderr, "plugin log %d: %.*s\n", (int)level, (int)message.size, message.data);
}

static wfa_str str(const char* s) {
  wfa_str v;
  v.data = s;
  v.size = strlen(s);
  return v;
}

int main(int argc, char** argv) {
  wfa_error err = {sizeof(wfa_error), 0, ""};
  wfa_host host = {sizeof(wfa_host), NULL, on_log, NULL, NULL}; /* acquire (1.1) NULL: no rate budget */
  waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, ""};
  wfa_plugin_entry_fn entry;
  const wfa_plugin* plugin;
  wfa_instance* inst;
  wfa_call call;
  void* lib;
  void* sym;
  uint32_t i;
  const int list_only = argc == 3 && strcmp(argv[1], "--list") == 0;

  if (argc != 2 && !list_only) return 2;
  lib = dlopen(argv[argc - 1], RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!lib || !(sym = dlsym(lib, WFA_ENTRY_SYMBOL))) {
    fprintf(stderr, "not a wfa plugin: %s\n", dlerror());
    return 1;
  }
  memcpy(&entry, &sym, sizeof entry); /* ISO C has no object-to-function pointer cast */
  plugin = entry(WFA_ABI_MAJOR, WFA_ABI_MINOR, &err);
  if (!plugin) {
    fprintf(stderr, "incompatible plugin: %s\n", err.message);
    return 1;
  }
  printf("%s %s (ABI %u.%u)\n", plugin->name, plugin->version, (unsigned)plugin->abi_major,
         (unsigned)plugin->abi_minor);
  for (i = 0; i < plugin->action_count; ++i) printf("  %s: %s\n", plugin->actions[i].id, plugin->actions[i].title);
  if (list_only) return 0;

  inst = plugin->create(&host, str("{\"prefix\":\"c99-\"}"), &err);
  if (!inst) {
    fprintf(stderr, "create: %s\n", err.message);
    return 1;
  }
  memset(&call, 0, sizeof call);
  call.struct_size = sizeof call;
  call.action_id = str("test.echo");
  call.options_json = str("{}");
  call.inputs_json = str("{\"value\":{\"from\":\"C\"}}");
  call.step_id = str("echo");

  pthread_mutex_lock(&w.mu);
  plugin->execute(inst, &call, on_done, &w); /* returns at once */
  while (!w.done) pthread_cond_wait(&w.cv, &w.mu);
  pthread_mutex_unlock(&w.mu);
  plugin->destroy(inst); /* no callback can fire after this */

  printf("test.echo -> %d %s\n", (int)w.code, w.text);
  dlclose(lib);
  return w.code == WFA_OK && strstr(w.text, "\"value\":{\"from\":\"C\"}") != NULL ? 0 : 1;
}
