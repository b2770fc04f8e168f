// Watches what the program hands back to the heap: while a FreedMemoryWatch
// is alive, every block freed through operator delete is searched for its
// needles before it goes back to malloc. A hit is a copy of a secret that
// was freed without being wiped, where the next allocation can read it.
//
// It replaces the global operator new and delete and, outside sanitizer
// builds (whose runtime owns malloc), free() itself, so that libcurl's,
// rapidjson's and OpenSSL's frees are searched too; a test binary includes
// this header from exactly one file. What it cannot see: the old block of a
// realloc() that moved (glibc frees it internally), stack frames, the bytes
// a std::string keeps inside itself (see secret.hpp), and, in sanitizer
// builds, free() (FREED_MEMORY_SEES_FREE is 0: tests that need it skip).
#pragma once

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FREED_MEMORY_SEES_FREE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define FREED_MEMORY_SEES_FREE 0
#endif
#endif
#ifndef FREED_MEMORY_SEES_FREE
#define FREED_MEMORY_SEES_FREE 1
#endif

namespace freed_memory {

// Static storage: the watch itself must not allocate what it watches.
struct State {
  std::atomic<bool> armed{false};
  std::atomic<int> hits{0};
  char needles[4][512];
  std::size_t lengths[4] = {};
  int count = 0;
};
inline State &state() {
  static State s;
  return s;
}

inline void inspect(void *p) noexcept {
  State &s = state();
  if (!p || !s.armed.load(std::memory_order_acquire)) return;
  std::size_t size = malloc_usable_size(p);
  for (int i = 0; i < s.count; ++i)
    if (memmem(p, size, s.needles[i], s.lengths[i])) s.hits.fetch_add(1);
}

class Watch {
 public:
  // Up to four needles, each at most 511 bytes. Views: a needle made into a
  // std::string here would be freed, and found, while the watch runs.
  explicit Watch(std::initializer_list<std::string_view> needles) {
    State &s = state();
    s.count = 0;
    for (const auto &n : needles) {
      if (s.count == 4 || n.empty() || n.size() >= sizeof s.needles[0]) std::abort();
      std::memcpy(s.needles[s.count], n.data(), n.size());
      s.lengths[s.count++] = n.size();
    }
    s.hits = 0;
    s.armed.store(true, std::memory_order_release);
  }
  ~Watch() { stop(); }
  // Blocks freed since the watch began that held a needle.
  int stop() {
    state().armed.store(false, std::memory_order_release);
    return state().hits.load();
  }

 private:
  Watch(const Watch &) = delete;
};

}  // namespace freed_memory

// Replacements for the whole program (every unaligned new and delete, so
// that malloc and free always pair, also under a sanitizer that checks the
// pairing; the aligned ones stay the library's, new and delete alike).
void *operator new(std::size_t size) {
  if (void *p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void *operator new[](std::size_t size) { return ::operator new(size); }
void *operator new(std::size_t size, const std::nothrow_t &) noexcept { return std::malloc(size ? size : 1); }
void *operator new[](std::size_t size, const std::nothrow_t &) noexcept { return std::malloc(size ? size : 1); }
void operator delete(void *p) noexcept {
#if !FREED_MEMORY_SEES_FREE
  freed_memory::inspect(p);  // else free() below does
#endif
  std::free(p);
}
void operator delete[](void *p) noexcept { ::operator delete(p); }
void operator delete(void *p, std::size_t) noexcept { ::operator delete(p); }
void operator delete[](void *p, std::size_t) noexcept { ::operator delete(p); }
void operator delete(void *p, const std::nothrow_t &) noexcept { ::operator delete(p); }
void operator delete[](void *p, const std::nothrow_t &) noexcept { ::operator delete(p); }

#if FREED_MEMORY_SEES_FREE
// glibc's own free under its exported second name: the program's free()
// below interposes on every library's calls to free.
extern "C" void __libc_free(void *p);
extern "C" void free(void *p) noexcept {
  freed_memory::inspect(p);
  __libc_free(p);
}
#endif
