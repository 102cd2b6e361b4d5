#include "common/program.h"

#include <glog/logging.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace hotline {

std::string ApplyEnvironmentToFlags(absl::string_view prefix) {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    std::string variable = absl::StrCat(prefix, absl::AsciiStrToUpper(name));
    const char* value = std::getenv(variable.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::StrCat("environment variable ", variable, "='", value, "': ", error);
    }
  }
  return "";
}

std::vector<std::string> InitProgram(int argc, char** argv, absl::string_view usage) {
  absl::SetProgramUsageMessage(usage);
  if (std::string error = ApplyEnvironmentToFlags(); !error.empty()) {
    std::cerr << error << "\n";
    std::exit(2);
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  return std::vector<std::string>(positional.begin(), positional.end());
}

namespace {
sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

void BlockTerminationSignals() {
  sigset_t set = TerminationSignals();
  PCHECK(pthread_sigmask(SIG_BLOCK, &set, nullptr) == 0);
}

int WaitForTerminationSignal() {
  sigset_t set = TerminationSignals();
  int signal_number = 0;
  PCHECK(sigwait(&set, &signal_number) == 0);
  return signal_number;
}

}  // namespace hotline
