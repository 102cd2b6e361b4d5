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
#include <type_traits>
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

// Each entry point below calls one of these with the library's call. They mark the time
// inside our entry points (see Entered) and report the operation around the call.

// Takes the lock, blocking (or, for the *WithTimeout/*WithDeadline forms, holding it again
// whatever they return, as Abseil does).
template <typename Call>
auto Taking(void* mu, unsigned flags, Call call) {
  Entered entered;
  PreLock(mu, flags);
  if constexpr (std::is_void_v<decltype(call())>) {
    call();
    PostLock(mu, flags);
  } else {
    auto result = call();
    PostLock(mu, flags);
    return result;
  }
}

template <typename Call>
bool Trying(void* mu, unsigned flags, Call call) {
  Entered entered;
  PreLock(mu, flags | kTryLock);
  const bool locked = call();
  if (locked) {
    PostLock(mu, flags | kTryLock);
  } else if (Annotating()) {
    __tsan_mutex_post_lock(mu, flags | kTryLock | kTryLockFailed, 0);
  }
  return locked;
}

template <typename Call>
void Releasing(void* mu, unsigned flags, Call call) {
  Entered entered;
  PreUnlock(mu, flags);
  call();
  PostUnlock(mu, flags);
}

// A wait while holding `mu` (Await, a condition variable): the lock is given up and taken
// again, in the mode it is held in, before the call returns.
template <typename Call>
auto Waiting(void* mu, Call call) {
  Entered entered;
  const unsigned mode = ModeOf(mu);
  PreUnlock(mu, mode);
  PostUnlock(mu, mode);
  PreLock(mu, mode);
  if constexpr (std::is_void_v<decltype(call())>) {
    call();
    PostLock(mu, mode);
  } else {
    auto result = call();
    PostLock(mu, mode);
    return result;
  }
}

}  // namespace

#define HOTLINE_NEXT(type, symbol) reinterpret_cast<type>(Next(symbol))

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  static auto next = HOTLINE_NEXT(void (*)(Mutex*), "_ZN4absl7debian35Mutex4LockEv");
  Taking(this, 0, [&] { next(this); });
}

void Mutex::ReaderLock() {
  static auto next = HOTLINE_NEXT(void (*)(Mutex*), "_ZN4absl7debian35Mutex10ReaderLockEv");
  Taking(this, kReadLock, [&] { next(this); });
}

bool Mutex::TryLock() {
  static auto next = HOTLINE_NEXT(bool (*)(Mutex*), "_ZN4absl7debian35Mutex7TryLockEv");
  return Trying(this, 0, [&] { return next(this); });
}

bool Mutex::ReaderTryLock() {
  static auto next = HOTLINE_NEXT(bool (*)(Mutex*), "_ZN4absl7debian35Mutex13ReaderTryLockEv");
  return Trying(this, kReadLock, [&] { return next(this); });
}

void Mutex::Unlock() {
  static auto next = HOTLINE_NEXT(void (*)(Mutex*), "_ZN4absl7debian35Mutex6UnlockEv");
  Releasing(this, 0, [&] { next(this); });
}

void Mutex::ReaderUnlock() {
  static auto next = HOTLINE_NEXT(void (*)(Mutex*), "_ZN4absl7debian35Mutex12ReaderUnlockEv");
  Releasing(this, kReadLock, [&] { next(this); });
}

void Mutex::LockWhen(const Condition& cond) {
  static auto next = HOTLINE_NEXT(void (*)(Mutex*, const Condition&),
                                  "_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE");
  Taking(this, 0, [&] { next(this, cond); });
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static auto next = HOTLINE_NEXT(void (*)(Mutex*, const Condition&),
                                  "_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE");
  Taking(this, kReadLock, [&] { next(this, cond); });
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  static auto next =
      HOTLINE_NEXT(bool (*)(Mutex*, const Condition&, absl::Duration),
                   "_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Taking(this, 0, [&] { return next(this, cond, timeout); });
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  static auto next =
      HOTLINE_NEXT(bool (*)(Mutex*, const Condition&, absl::Time),
                   "_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Taking(this, 0, [&] { return next(this, cond, deadline); });
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  static auto next = HOTLINE_NEXT(
      bool (*)(Mutex*, const Condition&, absl::Duration),
      "_ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Taking(this, kReadLock, [&] { return next(this, cond, timeout); });
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  static auto next = HOTLINE_NEXT(
      bool (*)(Mutex*, const Condition&, absl::Time),
      "_ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Taking(this, kReadLock, [&] { return next(this, cond, deadline); });
}

void Mutex::Await(const Condition& cond) {
  static auto next = HOTLINE_NEXT(void (*)(Mutex*, const Condition&),
                                  "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE");
  Waiting(this, [&] { next(this, cond); });
}

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  static auto next =
      HOTLINE_NEXT(bool (*)(Mutex*, const Condition&, absl::Duration),
                   "_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Waiting(this, [&] { return next(this, cond, timeout); });
}

bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time deadline) {
  static auto next =
      HOTLINE_NEXT(bool (*)(Mutex*, const Condition&, absl::Time),
                   "_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Waiting(this, [&] { return next(this, cond, deadline); });
}

void CondVar::Wait(Mutex* mu) {
  static auto next =
      HOTLINE_NEXT(void (*)(CondVar*, Mutex*), "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE");
  Waiting(mu, [&] { next(this, mu); });
}

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  static auto next =
      HOTLINE_NEXT(bool (*)(CondVar*, Mutex*, absl::Duration),
                   "_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  return Waiting(mu, [&] { return next(this, mu, timeout); });
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  static auto next =
      HOTLINE_NEXT(bool (*)(CondVar*, Mutex*, absl::Time),
                   "_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  return Waiting(mu, [&] { return next(this, mu, deadline); });
}

ABSL_NAMESPACE_END
}  // namespace absl
