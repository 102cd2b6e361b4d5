// Percentiles of a run's latencies, as the benchmarks print them.
#ifndef HOTLINE_TESTS_SUPPORT_LATENCY_SUMMARY_H_
#define HOTLINE_TESTS_SUPPORT_LATENCY_SUMMARY_H_

#include <cstddef>
#include <vector>

namespace hotline::testing {

struct LatencySummary {
  size_t count = 0;
  double p50 = 0, p99 = 0, p999 = 0, max = 0;
};

// Nearest-rank percentiles of `ms` (any unit, in fact); all zero when it is empty.
LatencySummary Summarise(std::vector<double> ms);

}  // namespace hotline::testing

#endif  // HOTLINE_TESTS_SUPPORT_LATENCY_SUMMARY_H_
