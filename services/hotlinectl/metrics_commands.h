// `hotlinectl metrics ...`: the supervisors' figures from hotline.metrics.v1.MetricsService
// (on-time completion, callback satisfaction and the other rates with their numerators and
// denominators, backlog, trend, overdue list, a live dashboard), in Chinese for the terminal
// or as JSON.
#ifndef HOTLINE_SERVICES_HOTLINECTL_METRICS_COMMANDS_H_
#define HOTLINE_SERVICES_HOTLINECTL_METRICS_COMMANDS_H_

#include <set>
#include <string>
#include <vector>

namespace hotline::cli {

// One line per metrics command, for the program's usage message.
std::string MetricsCommandSummary();

// Runs `hotlinectl metrics ARGS...`; `args` are the positional arguments after "metrics" (the
// command name first). Returns the exit code.
int RunMetricsCommand(const std::vector<std::string>& args);

}  // namespace hotline::cli

#endif  // HOTLINE_SERVICES_HOTLINECTL_METRICS_COMMANDS_H_
