// kbctl: the knowledge-base commands of hotlinectl as a program of their own, for editors who
// load and curate the knowledge base (`kbctl import policies.csv`, `kbctl search 公积金提取`).
// The same commands run as `hotlinectl kb ...`; both entry points call kb_commands.cc.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "common/program.h"
#include "services/hotlinectl/client_util.h"
#include "services/hotlinectl/kb_commands.h"

int main(int argc, char** argv) {
  namespace cli = hotline::cli;
  cli::SetProgramName("kbctl");
  cli::ShowAllProgramFlagsInHelp();
  // `kbctl COMMAND --help` shows that command's help rather than every flag of the program.
  if (std::string command = cli::KbCommandAskingForHelp(argc, argv, 1); !command.empty()) {
    return cli::RunKbCommand({"help", command}, "kbctl");
  }
  // Kept alive for the whole run: logging keeps a pointer to argv[0].
  std::vector<std::string> prepared = cli::PrepareCommandLine(argc, argv, cli::KbListFlags());
  std::vector<char*> prepared_argv;
  for (std::string& arg : prepared) prepared_argv.push_back(arg.data());
  prepared_argv.push_back(nullptr);
  std::vector<std::string> args = hotline::InitProgram(
      static_cast<int>(prepared.size()), prepared_argv.data(),
      absl::StrCat("kbctl [flags] COMMAND ...\n\nCommands:\n", cli::KbCommandSummary(""),
                   "  help [COMMAND]           the commands with their arguments and flags\n"));
  if (args.size() < 2) {
    return cli::ReportUsageError("a COMMAND is missing (import, search, get, gaps, ...)", "help");
  }
  return cli::RunKbCommand({args.begin() + 1, args.end()}, "kbctl");
}
