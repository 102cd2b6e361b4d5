#include "services/hotlinectl/account_commands.h"

#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hotline/identity/v1/identity.grpc.pb.h"
#include "services/hotlinectl/client_util.h"

ABSL_FLAG(std::string, identity, "127.0.0.1:50054", "address of the identity service");
ABSL_FLAG(std::string, display_name, "", "account create: the person's name as shown");
ABSL_FLAG(std::string, principal, "", "audit list: only entries of this user or system");
ABSL_FLAG(std::string, ticket_id, "", "audit list: only entries about this ticket");
ABSL_FLAG(std::string, action, "", "audit list: only this action, e.g. view_ticket");

namespace hotline::cli {
namespace {

namespace idv1 = ::hotline::identity::v1;

absl::StatusOr<std::unique_ptr<idv1::IdentityService::Stub>> Stub() {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = Connect(absl::GetFlag(FLAGS_identity));
  if (!channel.ok()) return channel.status();
  return idv1::IdentityService::NewStub(*channel);
}

// The first line of standard input (a terminal, a pipe or a file).
std::string ReadPassword() {
  std::cerr << "password (one line on standard input): " << std::flush;
  std::string line;
  std::getline(std::cin, line);
  return std::string(absl::StripTrailingAsciiWhitespace(line));
}

idv1::Role RoleFromName(const std::string& name) {
  idv1::Role role = idv1::ROLE_UNSPECIFIED;
  idv1::Role_Parse("ROLE_" + absl::AsciiStrToUpper(name), &role);
  return role;
}

void PrintAccount(const idv1::Account& a) {
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(a) << "\n";
    return;
  }
  std::string role = idv1::Role_Name(a.role());
  std::cout << absl::StrFormat(
      "%-20s %-12s %-16s %-10s %s %s\n", a.username(), absl::AsciiStrToLower(role.substr(5)),
      a.department_id(), a.disabled() ? "disabled" : "active", a.display_name(),
      a.has_last_login_time() ? "last login " + FormatTimestamp(a.last_login_time())
                              : "never logged in");
}

}  // namespace

std::string AccountCommandSummary() {
  return "  account create USER ROLE [DEPARTMENT]  a person's account; the password is read "
         "from standard input\n"
         "  account list | disable USER | enable USER | reset USER (new password on standard "
         "input)\n"
         "  audit list [--principal= --ticket_id= --action= --page_size=]  the audit trail, "
         "newest first\n";
}

int RunAccountCommand(const std::vector<std::string>& args) {
  if (args.empty()) return ReportUsageError("account: a command is missing", "--help");
  auto stub = Stub();
  if (!stub.ok()) return ReportError(stub.status());
  const std::string& command = args[0];
  grpc::ClientContext context;
  PrepareContext(&context);
  idv1::Account account;
  grpc::Status status;
  if (command == "create") {
    if (args.size() < 3 || args.size() > 4) {
      return ReportUsageError("account create USER ROLE [DEPARTMENT]", "--help");
    }
    idv1::Role role = RoleFromName(args[2]);
    if (role == idv1::ROLE_UNSPECIFIED) {
      return ReportUsageError(absl::StrCat("unknown role '", args[2],
                                           "' (expected agent, reviewer, department, callback, "
                                           "supervisor, editor or admin)"),
                              "--help");
    }
    idv1::CreateAccountRequest request;
    request.mutable_account()->set_username(args[1]);
    request.mutable_account()->set_role(role);
    if (args.size() == 4) request.mutable_account()->set_department_id(args[3]);
    request.mutable_account()->set_display_name(absl::GetFlag(FLAGS_display_name));
    request.set_password(ReadPassword());
    status = (*stub)->CreateAccount(&context, request, &account);
  } else if (command == "disable" || command == "enable") {
    if (args.size() != 2)
      return ReportUsageError(absl::StrCat("account ", command, " USER"), "--help");
    idv1::SetAccountDisabledRequest request;
    request.set_username(args[1]);
    request.set_disabled(command == "disable");
    status = (*stub)->SetAccountDisabled(&context, request, &account);
  } else if (command == "reset") {
    if (args.size() != 2) return ReportUsageError("account reset USER", "--help");
    idv1::ResetPasswordRequest request;
    request.set_username(args[1]);
    request.set_new_password(ReadPassword());
    status = (*stub)->ResetPassword(&context, request, &account);
  } else if (command == "list") {
    idv1::ListAccountsResponse response;
    status = (*stub)->ListAccounts(&context, idv1::ListAccountsRequest(), &response);
    if (!status.ok()) return ReportError(status);
    for (const idv1::Account& a : response.accounts()) PrintAccount(a);
    return kExitOk;
  } else {
    return ReportUsageError(absl::StrCat("unknown account command '", command, "'"), "--help");
  }
  if (!status.ok()) return ReportError(status);
  PrintAccount(account);
  return kExitOk;
}

int RunAuditCommand(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0] != "list") return ReportUsageError("audit list", "--help");
  auto stub = Stub();
  if (!stub.ok()) return ReportError(stub.status());
  grpc::ClientContext context;
  PrepareContext(&context);
  idv1::ListAuditRequest request;
  request.set_principal(absl::GetFlag(FLAGS_principal));
  request.set_ticket_id(absl::GetFlag(FLAGS_ticket_id));
  request.set_action(absl::GetFlag(FLAGS_action));
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  idv1::ListAuditResponse response;
  grpc::Status status = (*stub)->ListAudit(&context, request, &response);
  if (!status.ok()) return ReportError(status);
  for (const idv1::AuditEntry& e : response.entries()) {
    if (absl::GetFlag(FLAGS_json)) {
      std::cout << ToJson(e) << "\n";
      continue;
    }
    std::cout << absl::StrFormat("%6d %s %-18s %-10s %-15s %-20s %s %s\n", e.sequence(),
                                 FormatTimestamp(e.time()), e.principal(),
                                 absl::AsciiStrToLower(idv1::Role_Name(e.role()).substr(5)),
                                 e.client_address(), e.action(), e.ticket_id(), e.detail());
  }
  return kExitOk;
}

}  // namespace hotline::cli
