#include "common/auth.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/credentials.h"
#include "common/files.h"
#include "common/proto_checks.h"
#include "common/sha256.h"

namespace hotline {

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAgent:
      return "agent";
    case Role::kReviewer:
      return "reviewer";
    case Role::kDepartment:
      return "department";
    case Role::kSupervisor:
      return "supervisor";
    case Role::kEditor:
      return "editor";
    case Role::kAdmin:
      return "admin";
    case Role::kCallback:
      return "callback";
    case Role::kPublic:
      return "public";
  }
  return "unknown";
}

absl::StatusOr<Role> ParseRole(absl::string_view name) {
  for (Role r : {Role::kAgent, Role::kReviewer, Role::kDepartment, Role::kSupervisor, Role::kEditor,
                 Role::kAdmin, Role::kCallback, Role::kPublic}) {
    if (RoleName(r) == name) return r;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown role '", name,
      "' (expected agent, reviewer, department, supervisor, editor, callback, admin or "
      "public)"));
}

std::string HashToken(absl::string_view token) { return Sha256Hex(token); }

absl::StatusOr<std::shared_ptr<const TokenRegistry>> TokenRegistry::Parse(
    absl::string_view contents) {
  auto registry = std::make_shared<TokenRegistry>();
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("token file line ", line_number, ": ", why));
    };
    if (fields.size() < 3 || fields.size() > 4) {
      return bad("expected 'sha256-hex principal role [department_id]'");
    }
    std::string hash = absl::AsciiStrToLower(fields[0]);
    if (hash.size() != 64 || hash.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return bad("the first field must be the 64-digit hex SHA-256 of the token");
    }
    absl::StatusOr<Role> role = ParseRole(fields[2]);
    if (!role.ok()) return bad(role.status().message());
    Principal principal{std::string(fields[1]), *role, "", ""};
    if (*role == Role::kDepartment) {
      if (fields.size() != 4) return bad("a department token needs a department_id");
      principal.department_id = std::string(fields[3]);
    } else if (fields.size() == 4) {
      return bad("only department tokens take a department_id");
    }
    if (!registry->by_hash_.emplace(hash, std::move(principal)).second) {
      return bad("duplicate token hash");
    }
  }
  return std::shared_ptr<const TokenRegistry>(std::move(registry));
}

absl::StatusOr<std::shared_ptr<const TokenRegistry>> TokenRegistry::LoadFile(
    const std::string& path) {
  absl::StatusOr<std::string> contents = ReadFileToString(path, "token file");
  if (!contents.ok()) return contents.status();
  absl::StatusOr<std::shared_ptr<const TokenRegistry>> registry = Parse(*contents);
  if (!registry.ok()) {
    return absl::Status(registry.status().code(),
                        absl::StrCat(path, ": ", registry.status().message()));
  }
  return registry;
}

absl::StatusOr<std::shared_ptr<const TokenRegistry>> TokenRegistry::LoadFile(
    const std::string& path, const std::string& credential_key_file) {
  absl::StatusOr<std::shared_ptr<const TokenRegistry>> registry = LoadFile(path);
  if (!registry.ok() || credential_key_file.empty()) return registry;
  absl::StatusOr<CredentialVerifier> verifier = CredentialVerifier::FromFile(credential_key_file);
  if (!verifier.ok()) return verifier.status();
  return (*registry)->WithCredentials(
      std::make_shared<const CredentialVerifier>(std::move(*verifier)));
}

std::shared_ptr<const TokenRegistry> TokenRegistry::WithCredentials(
    std::shared_ptr<const CredentialVerifier> verifier) const {
  auto copy = std::make_shared<TokenRegistry>(*this);
  copy->credentials_ = std::move(verifier);
  return copy;
}

absl::StatusOr<Principal> TokenRegistry::AuthenticateToken(absl::string_view token) const {
  if (LooksLikeCredential(token)) {
    if (credentials_ == nullptr) {
      return absl::UnauthenticatedError("this service does not accept signed credentials");
    }
    absl::StatusOr<CredentialClaims> claims = credentials_->Verify(token, absl::Now());
    if (!claims.ok()) return claims.status();
    Principal principal = claims->principal;
    principal.session_tag = claims->session_tag;
    return principal;
  }
  // Lookup by hash: the time taken depends on the hash, not on how much of the token matched.
  auto it = by_hash_.find(HashToken(token));
  if (it == by_hash_.end()) return absl::UnauthenticatedError("unknown bearer token");
  return it->second;
}

namespace {

// The bearer token of the call's metadata.
absl::StatusOr<absl::string_view> BearerToken(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError("missing 'authorization: Bearer <token>' metadata");
  }
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::ConsumePrefix(&value, "Bearer ") && !absl::ConsumePrefix(&value, "bearer ")) {
    return absl::UnauthenticatedError("authorization metadata must be 'Bearer <token>'");
  }
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) return absl::UnauthenticatedError("empty bearer token");
  return value;
}

}  // namespace

absl::StatusOr<Principal> TokenRegistry::Authenticate(
    const grpc::ServerContextBase& context) const {
  absl::StatusOr<absl::string_view> token = BearerToken(context);
  if (!token.ok()) return token.status();
  return AuthenticateToken(*token);
}

std::optional<Role> TokenRegistry::FileTokenRole(const grpc::ServerContextBase& context) const {
  absl::StatusOr<absl::string_view> token = BearerToken(context);
  if (!token.ok() || LooksLikeCredential(*token)) return std::nullopt;
  auto it = by_hash_.find(HashToken(*token));
  if (it == by_hash_.end()) return std::nullopt;
  return it->second.role;
}

absl::Status Authorize(const Principal& principal, absl::Span<const Role> allowed) {
  if (principal.role == Role::kAdmin) return absl::OkStatus();
  for (Role r : allowed) {
    if (r == principal.role) return absl::OkStatus();
  }
  std::vector<std::string> names;
  for (Role r : allowed) names.emplace_back(RoleName(r));
  return absl::PermissionDeniedError(
      absl::StrCat("principal '", principal.name, "' has role ", RoleName(principal.role),
                   "; this call needs one of: ", absl::StrJoin(names, ", "), ", admin"));
}

absl::Status AuthorizeDepartment(const Principal& principal, absl::string_view department_id) {
  if (principal.role != Role::kDepartment || principal.department_id == department_id) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat("department '", principal.department_id,
                                                  "' may not access work of department '",
                                                  department_id, "'"));
}

absl::StatusOr<Principal> AuthenticateAndAuthorize(const TokenRegistry& tokens,
                                                   const grpc::ServerContextBase& context,
                                                   absl::Span<const Role> allowed) {
  absl::StatusOr<Principal> principal = tokens.Authenticate(context);
  if (!principal.ok()) return principal;
  if (absl::Status s = Authorize(*principal, allowed); !s.ok()) return s;
  return principal;
}

absl::StatusOr<Principal> AuthenticateAndAuthorize(const TokenRegistry& tokens,
                                                   const grpc::ServerContextBase& context,
                                                   absl::Span<const Role> allowed,
                                                   const google::protobuf::Message& request) {
  absl::StatusOr<Principal> principal = AuthenticateAndAuthorize(tokens, context, allowed);
  if (!principal.ok()) return principal;
  if (absl::Status s = CheckWellFormed(request); !s.ok()) return s;
  return principal;
}

}  // namespace hotline
