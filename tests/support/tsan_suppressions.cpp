// workaround(tsan): ThreadSanitizer does not model std::atomic_thread_fence (GCC 12 says so with -Wtsan).
// Asio's ref_count_down (fetch_sub(release) + acquire fence) guards the heap-allocated
// any_io_executor target (e.g. a strand inside any_io_executor): the delete that follows
// the last release is correct but reported as a race. Suppress exactly that frame.
#if defined(__SANITIZE_THREAD__)
extern "C" const char* __tsan_default_suppressions();
extern "C" const char* __tsan_default_suppressions() {
  return "race:boost::asio::execution::detail::shared_target_executor\n";
}
#endif
