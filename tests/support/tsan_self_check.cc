// Shows that the ThreadSanitizer run sees through Debian's absl::Mutex (tsan_absl_sync.cc):
//   tsan_self_check locked     two threads add to a counter under an absl::Mutex: no report
//   tsan_self_check unlocked   the same without the lock: TSan reports the race and fails
// Both run as tests in the TSan build; the second is expected to fail. Without the preloaded
// library the first fails too, and without TSan the second passes: either way a test breaks.
#include <cstring>
#include <iostream>
#include <thread>

#include "absl/synchronization/mutex.h"

int main(int argc, char** argv) {
  const bool locked = argc > 1 && std::strcmp(argv[1], "locked") == 0;
  absl::Mutex mu;
  long counter = 0;
  auto add = [&] {
    for (int i = 0; i < 10000; ++i) {
      if (locked) {
        absl::MutexLock lock(&mu);
        ++counter;
      } else {
        ++counter;
      }
    }
  };
  std::thread a(add), b(add);
  a.join();
  b.join();
  std::cout << "counter " << counter << "\n";
  return 0;
}
