// What absl::Mutex does, told to ThreadSanitizer, for the TSan build (scripts/sanitize.sh
// thread preloads this library into every test process).
//
// Debian's Abseil is not instrumented. Its Mutex takes and releases locks with atomic
// operations TSan never sees, so in TSan's eyes a lock orders nothing and every field guarded
// by one looks raced. Abseil built with TSan annotates each lock operation itself; this
// library does the same from outside: it stands in front of the library's entry points
// (preloaded, it comes first in symbol lookup, for our code and for Abseil's own calls such as
// Notification's), reports the operation with the annotations of <sanitizer/tsan_interface.h>
// and calls the library's function, found with dlsym(RTLD_NEXT).
//
// It is compiled without instrumentation and declares the annotations weak, so that a process
// without the TSan runtime (a Python test driver, Chromium) loads it and is not affected.
#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/synchronization/mutex.h"

extern "C" {
void __tsan_mutex_pre_lock(void* addr, unsigned flags) __attribute__((weak));
int __tsan_mutex_post_lock(void* addr, unsigned flags, int recursion) __attribute__((weak));
int __tsan_mutex_pre_unlock(void* addr, unsigned flags) __attribute__((weak));
void __tsan_mutex_post_unlock(void* addr, unsigned flags) __attribute__((weak));
}

namespace {

// The flag values of <sanitizer/tsan_interface.h>.
constexpr unsigned kReadLock = 1 << 3;
constexpr unsigned kTryLock = 1 << 4;
constexpr unsigned kTryLockFailed = 1 << 5;

// Some entry points call others through the symbol table (CondVar::WaitWithTimeout calls
// WaitWithDeadline): only the outermost reports the operation.
thread_local int depth = 0;

bool Annotating() { return __tsan_mutex_pre_lock != nullptr && depth == 1; }

// Marks the time inside one of our entry points.
struct Entered {
  Entered() { ++depth; }
  ~Entered() { --depth; }
};

// Debian 12's Abseil, whose symbols (inline namespace debian3) are named below.
constexpr char kAbseilSynchronization[] = "libabsl_synchronization.so.20220623";

// The library's own definition of a symbol we stand in front of: next in the global lookup
// order, or, in a process that loaded Abseil privately (Python's gRPC module, dlopened with
// RTLD_LOCAL), in that library.
void* Next(const char* symbol) {
  void* f = dlsym(RTLD_NEXT, symbol);
  if (f == nullptr) {
    void* library = dlopen(kAbseilSynchronization, RTLD_LAZY | RTLD_NOLOAD);
    if (library == nullptr) library = dlopen(kAbseilSynchronization, RTLD_LAZY);
    if (library != nullptr) f = dlsym(library, symbol);
  }
  if (f == nullptr) {
    std::fprintf(stderr, "tsan_absl_sync: %s not found in Abseil\n", symbol);
    std::abort();
  }
  return f;
}

// Mutexes this thread holds in shared mode: an Await or a condition-variable wait on one of
// them gives up and retakes a shared hold, not an exclusive one.
thread_local std::vector<const void*> shared_holds;

unsigned ModeOf(const void* mu) {
  return std::find(shared_holds.begin(), shared_holds.end(), mu) != shared_holds.end() ? kReadLock
                                                                                       : 0u;
}

void PreLock(void* mu, unsigned flags) {
  if (Annotating()) __tsan_mutex_pre_lock(mu, flags);
}
void PostLock(void* mu, unsigned flags) {
  if (!Annotating()) return;
  __tsan_mutex_post_lock(mu, flags, 0);
  if (flags & kReadLock) shared_holds.push_back(mu);
}
void PreUnlock(void* mu, unsigned flags) {
  if (!Annotating()) return;
  __tsan_mutex_pre_unlock(mu, flags);
  if (flags & kReadLock) {
    auto it = std::find(shared_holds.begin(), shared_holds.end(), mu);
    if (it != shared_holds.end()) shared_holds.erase(it);
  }
}
void PostUnlock(void* mu, unsigned flags) {
  if (Annotating()) __tsan_mutex_post_unlock(mu, flags);
}

// A call that takes the lock (blocking): pre, the library's call, post.
template <typename R, typename... Args>
R Taking(void* mu, unsigned flags, R (*next)(absl::Mutex*, Args...), Args... args) {
  PreLock(mu, flags);
  R r = next(static_cast<absl::Mutex*>(mu), args...);
  PostLock(mu, flags);
  return r;
}

// A wait while holding `mu`: the lock is given up and taken again before it returns.
template <typename R, typename Self, typename... Args>
R Waiting(absl::Mutex* mu, R (*next)(Self*, Args...), Self* self, Args... args) {
  const unsigned mode = ModeOf(mu);
  PreUnlock(mu, mode);
  PostUnlock(mu, mode);
  PreLock(mu, mode);
  R r = next(self, args...);
  PostLock(mu, mode);
  return r;
}

}  // namespace

#define HOTLINE_NEXT(type, symbol) reinterpret_cast<type>(Next(symbol))

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  Entered entered;
  static auto next = HOTLINE_NEXT(void (*)(Mutex*), "_ZN4absl7debian35Mutex4LockEv");
  PreLock(this, 0);
  next(this);
  PostLock(this, 0);
}

void Mutex::ReaderLock() {
  Entered entered;
  static auto next = HOTLINE_NEXT(void (*)(Mutex*), "_ZN4absl7debian35Mutex10ReaderLockEv");
  PreLock(this, kReadLock);
  next(this);
  PostLock(this, kReadLock);
}

bool Mutex::TryLock() {
  Entered entered;
  static auto next = HOTLINE_NEXT(bool (*)(Mutex*), "_ZN4absl7debian35Mutex7TryLockEv");
  PreLock(this, kTryLock);
  const bool locked = next(this);
  if (locked) {
    PostLock(this, kTryLock);
  } else if (Annotating()) {
    __tsan_mutex_post_lock(this, kTryLock | kTryLockFailed, 0);
  }
  return locked;
}

bool Mutex::ReaderTryLock() {
  Entered entered;
  static auto next = HOTLINE_NEXT(bool (*)(Mutex*), "_ZN4absl7debian35Mutex13ReaderTryLockEv");
  PreLock(this, kReadLock | kTryLock);
  const bool locked = next(this);
  if (locked) {
    PostLock(this, kReadLock | kTryLock);
  } else if (Annotating()) {
    __tsan_mutex_post_lock(this, kReadLock | kTryLock | kTryLockFailed, 0);
  }
  return locked;
}

void Mutex::Unlock() {
  Entered entered;
  static auto next = HOTLINE_NEXT(void (*)(Mutex*), "_ZN4absl7debian35Mutex6UnlockEv");
  PreUnlock(this, 0);
  next(this);
  PostUnlock(this, 0);
}

void Mutex::ReaderUnlock() {
  Entered entered;
  static auto next = HOTLINE_NEXT(void (*)(Mutex*), "_ZN4absl7debian35Mutex12ReaderUnlockEv");
  PreUnlock(this, kReadLock);
  next(this);
  PostUnlock(this, kReadLock);
}

void Mutex::LockWhen(const Condition& cond) {
  Entered entered;
  static auto next = HOTLINE_NEXT(void (*)(Mutex*, const Condition&),
                                  "_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE");
  PreLock(this, 0);
  next(this, cond);
  PostLock(this, 0);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  Entered entered;
  static auto next = HOTLINE_NEXT(void (*)(Mutex*, const Condition&),
                                  "_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE");
  PreLock(this, kReadLock);
  next(this, cond);
  PostLock(this, kReadLock);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  Entered entered;
  static auto next =
      HOTLINE_NEXT(bool (*)(Mutex*, const Condition&, absl::Duration),
                   "_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Taking<bool, const Condition&, absl::Duration>(this, 0, next, cond, timeout);
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  Entered entered;
  static auto next =
      HOTLINE_NEXT(bool (*)(Mutex*, const Condition&, absl::Time),
                   "_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Taking<bool, const Condition&, absl::Time>(this, 0, next, cond, deadline);
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  Entered entered;
  static auto next = HOTLINE_NEXT(
      bool (*)(Mutex*, const Condition&, absl::Duration),
      "_ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Taking<bool, const Condition&, absl::Duration>(this, kReadLock, next, cond, timeout);
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  Entered entered;
  static auto next = HOTLINE_NEXT(
      bool (*)(Mutex*, const Condition&, absl::Time),
      "_ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Taking<bool, const Condition&, absl::Time>(this, kReadLock, next, cond, deadline);
}

void Mutex::Await(const Condition& cond) {
  Entered entered;
  static auto next = HOTLINE_NEXT(void (*)(Mutex*, const Condition&),
                                  "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE");
  const unsigned mode = ModeOf(this);
  PreUnlock(this, mode);
  PostUnlock(this, mode);
  PreLock(this, mode);
  next(this, cond);
  PostLock(this, mode);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  Entered entered;
  static auto next =
      HOTLINE_NEXT(bool (*)(Mutex*, const Condition&, absl::Duration),
                   "_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Waiting<bool, Mutex, const Condition&, absl::Duration>(this, next, this, cond, timeout);
}

bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time deadline) {
  Entered entered;
  static auto next =
      HOTLINE_NEXT(bool (*)(Mutex*, const Condition&, absl::Time),
                   "_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Waiting<bool, Mutex, const Condition&, absl::Time>(this, next, this, cond, deadline);
}

void CondVar::Wait(Mutex* mu) {
  Entered entered;
  static auto next =
      HOTLINE_NEXT(void (*)(CondVar*, Mutex*), "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE");
  const unsigned mode = ModeOf(mu);
  PreUnlock(mu, mode);
  PostUnlock(mu, mode);
  PreLock(mu, mode);
  next(this, mu);
  PostLock(mu, mode);
}

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  Entered entered;
  static auto next =
      HOTLINE_NEXT(bool (*)(CondVar*, Mutex*, absl::Duration),
                   "_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  return Waiting<bool, CondVar, Mutex*, absl::Duration>(mu, next, this, mu, timeout);
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  Entered entered;
  static auto next =
      HOTLINE_NEXT(bool (*)(CondVar*, Mutex*, absl::Time),
                   "_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  return Waiting<bool, CondVar, Mutex*, absl::Time>(mu, next, this, mu, deadline);
}

ABSL_NAMESPACE_END
}  // namespace absl
