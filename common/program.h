// Start-up shared by every binary: flags (with environment fallbacks), logging and the
// termination signals.
#ifndef HOTLINE_COMMON_PROGRAM_H_
#define HOTLINE_COMMON_PROGRAM_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace hotline {

// Sets every flag `--foo_bar` whose variable HOTLINE_FOO_BAR is present in the environment,
// then parses the command line (which wins over the environment), and starts logging to
// stderr. Exits with a message naming the variable on a malformed value. Returns the
// positional arguments, argv[0] first.
std::vector<std::string> InitProgram(int argc, char** argv, absl::string_view usage);

// Applies HOTLINE_* environment variables to registered flags; exposed for tests.
// Returns an error message naming the first malformed variable, or an empty string.
std::string ApplyEnvironmentToFlags(absl::string_view prefix = "HOTLINE_");

// Servers call this before starting any thread so that SIGINT and SIGTERM reach only
// WaitForTerminationSignal(), never a random gRPC thread.
void BlockTerminationSignals();

// Blocks until SIGINT or SIGTERM arrives; returns the signal number.
int WaitForTerminationSignal();

}  // namespace hotline

#endif  // HOTLINE_COMMON_PROGRAM_H_
