// Bearer-token authentication and role-based authorisation for every gRPC call.
//
// Clients send `authorization: Bearer <token>`. The token file holds SHA-256 hashes of tokens,
// never the tokens themselves, so a leaked file does not leak credentials. One line a token:
//
//   # sha256-hex-of-token  principal  role  [department_id]
//   9f86d081...  agent-zhang  agent
//   2c26b46b...  water-bureau  department  water-bureau
//
// Roles: agent, reviewer, department (needs a department id), supervisor, editor, callback,
// admin, public (the citizens' portal).
//
// People signed in on the web present a short-lived signed credential instead (see
// common/credentials.h); a registry given the identity service's public key accepts those.
#ifndef HOTLINE_COMMON_AUTH_H_
#define HOTLINE_COMMON_AUTH_H_

#include <google/protobuf/message.h>
#include <grpcpp/server_context.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace hotline {

enum class Role : uint8_t {
  kAgent,
  kReviewer,
  kDepartment,
  kSupervisor,
  kEditor,
  kAdmin,
  kCallback,  // Callback staff (回访员): call citizens back and record their rating.
  // The citizens' portal: a system account that reads public content and passes on online
  // requests for anyone, so it may do nothing else (each service names what it allows).
  kPublic,
};

absl::string_view RoleName(Role role);
absl::StatusOr<Role> ParseRole(absl::string_view name);

struct Principal {
  std::string name;
  Role role = Role::kAgent;
  std::string department_id;  // Set for department principals only.
  // For people signed in on the web: names their session (common/credentials.h); empty for
  // API tokens.
  std::string session_tag;
};

// Lowercase hex SHA-256 of the token, as stored in token files.
std::string HashToken(absl::string_view token);

class CredentialVerifier;

class TokenRegistry {
 public:
  // Parses token-file contents; errors name the offending line.
  static absl::StatusOr<std::shared_ptr<const TokenRegistry>> Parse(absl::string_view contents);
  static absl::StatusOr<std::shared_ptr<const TokenRegistry>> LoadFile(const std::string& path);
  // The same, also accepting credentials signed with the key whose public half is in
  // `credential_key_file` (none when empty).
  static absl::StatusOr<std::shared_ptr<const TokenRegistry>> LoadFile(
      const std::string& path, const std::string& credential_key_file);
  // A copy that also accepts credentials `verifier` checks.
  std::shared_ptr<const TokenRegistry> WithCredentials(
      std::shared_ptr<const CredentialVerifier> verifier) const;

  // UNAUTHENTICATED when the token is unknown, or is a credential that is forged, expired or
  // not accepted here.
  absl::StatusOr<Principal> AuthenticateToken(absl::string_view token) const;

  // Reads the bearer token from the call's metadata. UNAUTHENTICATED when it is missing,
  // malformed or unknown.
  absl::StatusOr<Principal> Authenticate(const grpc::ServerContextBase& context) const;

  // The role of the call's bearer token when it is one of the token file's (a system
  // account's), without checking any signed credential: cheap enough to choose how to serve a
  // call before its handler authenticates it properly. nullopt otherwise.
  std::optional<Role> FileTokenRole(const grpc::ServerContextBase& context) const;

  size_t size() const { return by_hash_.size(); }

 private:
  absl::flat_hash_map<std::string, Principal> by_hash_;
  std::shared_ptr<const CredentialVerifier> credentials_;
};

// OK when the principal's role is one of `allowed`; admin is always allowed. Otherwise
// PERMISSION_DENIED naming the role and what the call needs.
absl::Status Authorize(const Principal& principal, absl::Span<const Role> allowed);

// Department principals may only act within their own department; other roles pass.
absl::Status AuthorizeDepartment(const Principal& principal, absl::string_view department_id);

// Authenticate + Authorize in one step, for the first line of a handler.
absl::StatusOr<Principal> AuthenticateAndAuthorize(const TokenRegistry& tokens,
                                                   const grpc::ServerContextBase& context,
                                                   absl::Span<const Role> allowed);

// The same, then CheckWellFormed(request) (common/proto_checks.h): every handler's first line,
// so that no malformed time or enum reaches a handler, in the contract's order of errors
// (UNAUTHENTICATED and PERMISSION_DENIED before INVALID_ARGUMENT).
absl::StatusOr<Principal> AuthenticateAndAuthorize(const TokenRegistry& tokens,
                                                   const grpc::ServerContextBase& context,
                                                   absl::Span<const Role> allowed,
                                                   const google::protobuf::Message& request);

}  // namespace hotline

#endif  // HOTLINE_COMMON_AUTH_H_
