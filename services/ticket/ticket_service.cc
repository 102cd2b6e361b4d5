#include "services/ticket/ticket_service.h"

#include <glog/logging.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/caller_phone.h"
#include "common/files.h"
#include "common/grpc_status.h"
#include "common/page_token.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/unary_call.h"
#include "services/ticket/ticket_listing.h"

namespace hotline::ticket {
namespace {

bool HeldBy(const v1::Ticket& t, const std::string& department) {
  for (const v1::WorkOrder& w : t.work_orders()) {
    if (w.department_id() == department) return true;
  }
  return false;
}

bool AddressedTo(const v1::TicketEvent& e, const std::string& department) {
  return std::find(e.department_ids().begin(), e.department_ids().end(), department) !=
         e.department_ids().end();
}

// What a principal may see of a ticket: departments get the phone masked, the caller withheld on
// confidential tickets, and only the events addressed to them.
void PresentFor(const Principal& p, v1::Ticket* t) {
  if (p.role != Role::kDepartment) return;
  t->clear_suspected_duplicate_of();
  if (t->confidential()) {
    t->clear_caller_name();
    t->clear_caller_phone();
  } else {
    t->set_caller_phone(MaskPhone(t->caller_phone()));
  }
  auto* events = t->mutable_events();
  events->erase(
      std::remove_if(events->begin(), events->end(),
                     [&](const v1::TicketEvent& e) { return !AddressedTo(e, p.department_id); }),
      events->end());
}

absl::Status NotVisible(const Principal& p, const std::string& ticket_id) {
  return absl::PermissionDeniedError(absl::StrCat(
      "department '", p.department_id, "' has no work order on ticket '", ticket_id, "'"));
}

absl::Status MissingTicket(const Principal& p, const std::string& ticket_id) {
  if (p.role == Role::kDepartment) return NotVisible(p, ticket_id);
  return absl::NotFoundError(absl::StrCat("ticket ", ticket_id, " not found"));
}

// What the similar-ticket index keeps of a ticket: its words, where and when, and for a closed
// ticket who replied to it and who returned it as misrouted (a return the dispatcher accepted).
TicketDoc DocFor(const v1::Ticket& t) {
  TicketDoc doc;
  doc.id = t.id();
  doc.content = t.content();
  doc.district_code = t.location().district_code();
  doc.create_time = FromProtoTime(t.create_time());
  doc.open = !IsFinal(t.state());
  for (const v1::WorkOrder& w : t.work_orders()) {
    if (w.state() == v1::WORK_ORDER_STATE_REPLIED) {
      // The lead first: it is the department that owned the matter.
      if (w.role() == v1::WORK_ORDER_ROLE_LEAD) {
        doc.handled_by.insert(doc.handled_by.begin(), w.department_id());
      } else {
        doc.handled_by.push_back(w.department_id());
      }
    } else if (w.has_return_time() && !w.return_refused() &&
               (w.state() == v1::WORK_ORDER_STATE_REDISPATCHED ||
                w.state() == v1::WORK_ORDER_STATE_CANCELLED)) {
      doc.returned_by.push_back(w.department_id());
    }
  }
  return doc;
}

std::vector<CategoryRouteRule> RoutesOf(const config::TicketConfig& config) {
  std::vector<CategoryRouteRule> routes;
  for (const v1::CategoryRoute& r : config.category_routes()) {
    routes.push_back({r.category_prefix(), {r.department_ids().begin(), r.department_ids().end()}});
  }
  return routes;
}

}  // namespace

v1::Role ToProtoRole(Role role) {
  switch (role) {
    case Role::kAgent:
      return v1::ROLE_AGENT;
    case Role::kReviewer:
      return v1::ROLE_REVIEWER;
    case Role::kDepartment:
      return v1::ROLE_DEPARTMENT;
    case Role::kSupervisor:
      return v1::ROLE_SUPERVISOR;
    case Role::kEditor:
      return v1::ROLE_EDITOR;
    case Role::kAdmin:
      return v1::ROLE_ADMIN;
    case Role::kCallback:
      return v1::ROLE_CALLBACK;
    case Role::kPublic:
      return v1::ROLE_PUBLIC;
  }
  return v1::ROLE_UNSPECIFIED;
}

// What differs between the update rpcs besides the transition itself.
struct TicketService::UpdateSpec {
  const char* rpc;
  absl::Span<const Role> roles;
  const std::string& ticket_id;
  int64_t expected_version;
  const std::string& request_id;
  // Set for rpcs that act on a work order: departments may act only on their own.
  const std::string* work_order_id = nullptr;
  // The whole request, for the checks every request gets (common/proto_checks.h).
  const google::protobuf::Message& request;
};

TicketService::TicketService(std::shared_ptr<const TokenRegistry> tokens, RocksStore* db,
                             TicketServiceOptions options)
    : tokens_(std::move(tokens)),
      options_(std::move(options)),
      calendar_(options_.calendar),
      store_(db, [this](const v1::WorkOrder& w) { return SystemMachine().NextWarningTime(w); }),
      workers_("ticket-worker", options_.worker_threads) {}

TicketService::~TicketService() {
  if (listener_id_ != 0) store_.RemoveCommitListener(listener_id_);
}

std::shared_ptr<const WorkingCalendar> TicketService::calendar() const {
  absl::MutexLock lock(&calendar_mu_);
  return calendar_;
}

void TicketService::SetCalendar(std::shared_ptr<const WorkingCalendar> calendar) {
  absl::MutexLock lock(&calendar_mu_);
  calendar_ = std::move(calendar);
}

TicketMachine TicketService::MachineFor(const Principal& p, const std::string& request_id) const {
  v1::Actor actor;
  actor.set_principal(p.name);
  actor.set_role(ToProtoRole(p.role));
  actor.set_department_id(p.department_id);
  return TicketMachine(MachineEnv{options_.clock->Now(), calendar(), &options_.config},
                       std::move(actor), request_id);
}

TicketMachine TicketService::SystemMachine() const {
  // The service's own actions (deadline warnings) are recorded as ROLE_SYSTEM, a role no token
  // can hold.
  v1::Actor actor;
  actor.set_principal("system");
  actor.set_role(v1::ROLE_SYSTEM);
  return TicketMachine(MachineEnv{options_.clock->Now(), calendar(), &options_.config},
                       std::move(actor), "");
}

absl::Mutex& TicketService::LockFor(const std::string& key) {
  return stripes_[std::hash<std::string>()(key) % 256];
}

absl::Status TicketService::Update(grpc::CallbackServerContext* context, const UpdateSpec& spec,
                                   const Apply& apply, v1::Ticket* response) {
  ASSIGN_OR_RETURN(Principal principal,
                   AuthenticateAndAuthorize(*tokens_, *context, spec.roles, spec.request));
  if (spec.ticket_id.empty()) return absl::InvalidArgumentError("ticket_id: must be set");
  if (spec.work_order_id != nullptr && spec.work_order_id->empty()) {
    return absl::InvalidArgumentError("work_order_id: must be set");
  }
  if (spec.expected_version <= 0) {
    return absl::InvalidArgumentError("expected_version: must be positive");
  }
  if (!spec.request_id.empty() && !IsValidRequestId(spec.request_id)) {
    return absl::InvalidArgumentError("request_id: 1 to 64 letters, digits, '-' or '_'");
  }
  absl::MutexLock lock(&LockFor(spec.ticket_id));
  ASSIGN_OR_RETURN(std::optional<StoredTicket> stored, store_.Load(spec.ticket_id));
  if (!stored.has_value()) return MissingTicket(principal, spec.ticket_id);
  if (principal.role == Role::kDepartment) {
    if (spec.work_order_id == nullptr) return NotVisible(principal, spec.ticket_id);
    const v1::WorkOrder* target = nullptr;
    for (const v1::WorkOrder& w : stored->ticket.work_orders()) {
      if (w.id() == *spec.work_order_id) target = &w;
    }
    if (target == nullptr || target->department_id() != principal.department_id) {
      if (target == nullptr && !HeldBy(stored->ticket, principal.department_id)) {
        return NotVisible(principal, spec.ticket_id);
      }
      return absl::PermissionDeniedError(absl::StrCat("work order ", *spec.work_order_id,
                                                      " does not belong to department '",
                                                      principal.department_id, "'"));
    }
  }
  std::string record_key;
  // What the request id stands for: the rpc and the whole request, so that reusing an id for
  // another request (approve, then refuse under the same id) is an error, not a silent replay
  // of the first answer.
  std::string fingerprint;
  if (!spec.request_id.empty()) {
    fingerprint = absl::StrCat(spec.rpc, "\n", Sha256Hex(spec.request.SerializeAsString()));
    record_key = absl::StrCat("u/", spec.ticket_id, "/", spec.request_id);
    ASSIGN_OR_RETURN(std::optional<std::string> earlier, store_.GetRecord(record_key));
    if (earlier.has_value()) {
      // Records written before fingerprints hold the rpc's name alone.
      const std::string earlier_rpc = earlier->substr(0, earlier->find('\n'));
      if (earlier_rpc != spec.rpc) {
        return absl::InvalidArgumentError(absl::StrCat("request_id: already used for ", earlier_rpc,
                                                       " on ticket ", spec.ticket_id));
      }
      if (*earlier != spec.rpc && *earlier != fingerprint) {
        return absl::InvalidArgumentError(absl::StrCat("request_id: already used for another ",
                                                       spec.rpc, " request on ticket ",
                                                       spec.ticket_id));
      }
      *response = stored->ticket;  // Applied before: answer as now, apply nothing.
      PresentFor(principal, response);
      return absl::OkStatus();
    }
  }
  // The machine is pure, so it runs before the version check: the contract reports a
  // malformed request or an unknown work order before a stale version.
  absl::StatusOr<TicketChange> applied = apply(MachineFor(principal, spec.request_id), *stored);
  if (!applied.ok() && (applied.status().code() == absl::StatusCode::kInvalidArgument ||
                        applied.status().code() == absl::StatusCode::kNotFound)) {
    return applied.status();
  }
  if (stored->ticket.version() != spec.expected_version) {
    return absl::AbortedError(absl::StrCat("ticket ", spec.ticket_id, " is at version ",
                                           stored->ticket.version(), ", request expected ",
                                           spec.expected_version));
  }
  RETURN_IF_ERROR(applied.status());
  TicketChange change = *std::move(applied);
  std::vector<TicketChange> changes;
  changes.push_back(std::move(change));
  std::vector<std::pair<std::string, std::string>> records;
  if (!record_key.empty()) records.emplace_back(record_key, fingerprint);
  RETURN_IF_ERROR(store_.Commit(&changes, std::move(records)));
  IndexChanges(changes);
  *response = std::move(changes.front().after);
  PresentFor(principal, response);
  return absl::OkStatus();
}

void TicketService::IndexChanges(const std::vector<TicketChange>& changes) {
  for (const TicketChange& change : changes) similar_.Upsert(DocFor(change.after));
}

std::string TicketService::DepartmentName(const std::string& id) const {
  for (const config::Department& d : options_.config.departments()) {
    if (d.id() == id) return d.name();
  }
  return id;
}

absl::Status TicketService::Init() {
  RETURN_IF_ERROR(store_.Init());
  RETURN_IF_ERROR(store_.ScanTickets([this](const v1::Ticket& t) {
    similar_.Upsert(DocFor(t));
    return true;
  }));
  std::vector<DepartmentRemit> remits;
  for (const config::Department& d : options_.config.departments()) {
    remits.push_back({d.id(), d.remit()});
  }
  suggester_ = std::make_unique<DepartmentSuggester>(&similar_, RoutesOf(options_.config), remits);
  listener_id_ = store_.AddCommitListener([this](int64_t) { WakeStreams(); });
  ASSIGN_OR_RETURN(query_code_key_, store_.Secret("online-request-query-code"));
  return absl::OkStatus();
}

// ---- Update rpcs: roles from the table, and the machine applies the transition. ---------

// Whether departments must name one of their own work orders (transitions.h's TARGET).
#define HOTLINE_WORK_ORDER_OF_TICKET(request) nullptr
#define HOTLINE_WORK_ORDER_OF_WORK_ORDER(request) (&(request)->work_order_id())

#define HOTLINE_DEFINE_UPDATE_RPC(Rpc, Method, Target)                                          \
  grpc::ServerUnaryReactor* TicketService::Rpc(grpc::CallbackServerContext* context,            \
                                               const v1::Rpc##Request* request,                 \
                                               v1::Ticket* response) {                          \
    static const TransitionSpec& transition = *TransitionForRpc(#Rpc);                          \
    return ServeOnPool(context, workers_, [=] {                                                 \
      UpdateSpec spec{#Rpc,                                                                     \
                      transition.roles,                                                         \
                      request->ticket_id(),                                                     \
                      request->expected_version(),                                              \
                      request->request_id(),                                                    \
                      HOTLINE_WORK_ORDER_OF_##Target(request),                                  \
                      *request};                                                                \
      return Update(                                                                            \
          context, spec,                                                                        \
          [&](const TicketMachine& m, const StoredTicket& t) { return m.Method(t, *request); }, \
          response);                                                                            \
    });                                                                                         \
  }

HOTLINE_TICKET_UPDATES(HOTLINE_DEFINE_UPDATE_RPC)
#undef HOTLINE_DEFINE_UPDATE_RPC
#undef HOTLINE_WORK_ORDER_OF_TICKET
#undef HOTLINE_WORK_ORDER_OF_WORK_ORDER

grpc::ServerUnaryReactor* TicketService::CreateTicket(grpc::CallbackServerContext* context,
                                                      const v1::CreateTicketRequest* request,
                                                      v1::Ticket* response) {
  return ServeOnPool(context, workers_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(
        Principal principal,
        AuthenticateAndAuthorize(*tokens_, *context,
                                 {Role::kAgent, Role::kReviewer, Role::kSupervisor}, *request));
    return Create(principal, *request, response);
  });
}

absl::Status TicketService::Create(const Principal& principal, const v1::CreateTicketRequest& r,
                                   v1::Ticket* response) {
  RETURN_IF_ERROR(ValidateCreate(r, options_.config));
  const std::string record_key = "r/" + r.request_id();
  // The answer is part of what the request_id stands for (without one, the fingerprint is
  // what it always was, so records written before answers existed still match).
  std::string fingerprinted = r.ticket().SerializeAsString();
  if (r.has_direct_answer()) {
    absl::StrAppend(&fingerprinted, "\n", r.direct_answer().SerializeAsString());
  }
  const std::string fingerprint = Sha256Hex(fingerprinted);
  if (const std::string& other = r.ticket().suspected_duplicate_of(); !other.empty()) {
    ASSIGN_OR_RETURN(std::optional<StoredTicket> earlier, store_.Load(other));
    if (!earlier.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("ticket.suspected_duplicate_of: ticket ", other, " not found"));
    }
  }
  absl::MutexLock lock(&LockFor(record_key));
  ASSIGN_OR_RETURN(std::optional<std::string> earlier, store_.GetRecord(record_key));
  if (earlier.has_value()) {
    std::vector<std::string> parts = absl::StrSplit(*earlier, '\n');
    if (parts.size() != 2 || parts[1] != fingerprint) {
      return absl::InvalidArgumentError(absl::StrCat("request_id: already used for ticket ",
                                                     parts[0], " with different content"));
    }
    ASSIGN_OR_RETURN(std::optional<StoredTicket> stored, store_.Load(parts[0]));
    if (!stored.has_value()) return absl::DataLossError("request record names a missing ticket");
    *response = std::move(stored->ticket);
    return absl::OkStatus();
  }
  TicketMachine machine = MachineFor(principal, r.request_id());
  ASSIGN_OR_RETURN(TicketChange change,
                   machine.Create(r, store_.NewTicketId(options_.clock->Now())));
  std::string id = change.after.id();
  std::vector<TicketChange> changes;
  changes.push_back(std::move(change));
  RETURN_IF_ERROR(store_.Commit(&changes, {{record_key, absl::StrCat(id, "\n", fingerprint)}}));
  IndexChanges(changes);
  *response = std::move(changes.front().after);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* TicketService::MergeTicket(grpc::CallbackServerContext* context,
                                                     const v1::MergeTicketRequest* request,
                                                     v1::Ticket* response) {
  static const TransitionSpec& transition = *TransitionForRpc("MergeTicket");
  return ServeOnPool(context, workers_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context, transition.roles, *request));
    const v1::MergeTicketRequest& r = *request;
    if (r.ticket_id().empty()) return absl::InvalidArgumentError("ticket_id: must be set");
    if (r.target_ticket_id().empty()) {
      return absl::InvalidArgumentError("target_ticket_id: must be set");
    }
    if (r.target_ticket_id() == r.ticket_id()) {
      return absl::InvalidArgumentError("target_ticket_id: must differ from ticket_id");
    }
    if (r.expected_version() <= 0) {
      return absl::InvalidArgumentError("expected_version: must be positive");
    }
    if (!r.request_id().empty() && !IsValidRequestId(r.request_id())) {
      return absl::InvalidArgumentError("request_id: 1 to 64 letters, digits, '-' or '_'");
    }
    // Two tickets: lock both stripes in address order, so two merges cannot deadlock.
    absl::Mutex* a = &LockFor(r.ticket_id());
    absl::Mutex* b = &LockFor(r.target_ticket_id());
    if (b < a) std::swap(a, b);
    absl::MutexLock first(a);
    std::optional<absl::MutexLock> second;
    if (b != a) second.emplace(b);
    ASSIGN_OR_RETURN(std::optional<StoredTicket> duplicate, store_.Load(r.ticket_id()));
    if (!duplicate.has_value()) return MissingTicket(principal, r.ticket_id());
    ASSIGN_OR_RETURN(std::optional<StoredTicket> target, store_.Load(r.target_ticket_id()));
    if (!target.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("target ticket ", r.target_ticket_id(), " not found"));
    }
    std::string record_key;
    const std::string fingerprint = absl::StrCat("MergeTicket\n", Sha256Hex(r.SerializeAsString()));
    if (!r.request_id().empty()) {
      record_key = absl::StrCat("u/", r.ticket_id(), "/", r.request_id());
      ASSIGN_OR_RETURN(std::optional<std::string> earlier, store_.GetRecord(record_key));
      if (earlier.has_value()) {
        const std::string earlier_rpc = earlier->substr(0, earlier->find('\n'));
        if (earlier_rpc != "MergeTicket") {
          return absl::InvalidArgumentError(
              absl::StrCat("request_id: already used for ", earlier_rpc));
        }
        if (*earlier != "MergeTicket" && *earlier != fingerprint) {
          return absl::InvalidArgumentError(
              "request_id: already used for another MergeTicket request");
        }
        *response = duplicate->ticket;
        return absl::OkStatus();
      }
    }
    if (duplicate->ticket.version() != r.expected_version()) {
      return absl::AbortedError(absl::StrCat("ticket ", r.ticket_id(), " is at version ",
                                             duplicate->ticket.version(), ", request expected ",
                                             r.expected_version()));
    }
    ASSIGN_OR_RETURN(std::vector<TicketChange> changes,
                     MachineFor(principal, r.request_id()).Merge(*duplicate, *target, r));
    std::vector<std::pair<std::string, std::string>> records;
    if (!record_key.empty()) records.emplace_back(record_key, fingerprint);
    RETURN_IF_ERROR(store_.Commit(&changes, std::move(records)));
    IndexChanges(changes);
    *response = std::move(changes.front().after);
    return absl::OkStatus();
  });
}

// ---- Reads -----------------------------------------------------------------------------------

grpc::ServerUnaryReactor* TicketService::GetTicket(grpc::CallbackServerContext* context,
                                                   const v1::GetTicketRequest* request,
                                                   v1::Ticket* response) {
  return ServeOnPool(context, workers_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context,
                                              {Role::kAgent, Role::kReviewer, Role::kDepartment,
                                               Role::kSupervisor, Role::kCallback},
                                              *request));
    if (request->ticket_id().empty()) return absl::InvalidArgumentError("ticket_id: must be set");
    // One snapshot: the ticket and its events as of one commit, never a mix, without waiting
    // for a writer's commit (fsync) on this ticket.
    const TicketStore::ReadView view = store_.NewReadView();
    ASSIGN_OR_RETURN(std::optional<StoredTicket> stored, store_.Load(request->ticket_id(), view));
    if (!stored.has_value()) return MissingTicket(principal, request->ticket_id());
    if (principal.role == Role::kDepartment && !HeldBy(stored->ticket, principal.department_id)) {
      return NotVisible(principal, request->ticket_id());
    }
    *response = std::move(stored->ticket);
    if (request->view() != v1::TICKET_VIEW_BASIC) {
      RETURN_IF_ERROR(store_.ScanTicketEvents(
          request->ticket_id(), 0,
          [&](const v1::TicketEvent& e) {
            *response->add_events() = e;
            return true;
          },
          &view));
    }
    PresentFor(principal, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TicketService::ListEvents(grpc::CallbackServerContext* context,
                                                    const v1::ListEventsRequest* request,
                                                    v1::ListEventsResponse* response) {
  return ServeOnPool(context, workers_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context,
                                              {Role::kAgent, Role::kReviewer, Role::kDepartment,
                                               Role::kSupervisor, Role::kCallback},
                                              *request));
    const v1::ListEventsRequest& r = *request;
    if (r.ticket_id().empty()) return absl::InvalidArgumentError("ticket_id: must be set");
    if (r.page_size() < 0) return absl::InvalidArgumentError("page_size: must not be negative");
    int page_size = r.page_size() == 0 ? 100 : std::min(r.page_size(), 1000);
    v1::ListEventsRequest unpaged = r;
    unpaged.clear_page_token();
    unpaged.clear_page_size();
    const std::string fingerprint = RequestFingerprint(unpaged);
    const absl::Time now = options_.clock->Now();
    int64_t after = 0;
    if (!r.page_token().empty()) {
      ASSIGN_OR_RETURN(std::vector<std::string> position,
                       ParsePageToken(r.page_token(), fingerprint, 1, now));
      if (!absl::SimpleAtoi(position[0], &after) || after < 0 ||
          after == std::numeric_limits<int64_t>::max()) {
        return absl::InvalidArgumentError("page_token: invalid; start again from the first page");
      }
    }
    const TicketStore::ReadView view = store_.NewReadView();  // One commit's, as in GetTicket.
    ASSIGN_OR_RETURN(std::optional<StoredTicket> stored, store_.Load(r.ticket_id(), view));
    if (!stored.has_value()) return MissingTicket(principal, r.ticket_id());
    bool department = principal.role == Role::kDepartment;
    if (department && !HeldBy(stored->ticket, principal.department_id)) {
      return NotVisible(principal, r.ticket_id());
    }
    int64_t last = after;
    RETURN_IF_ERROR(store_.ScanTicketEvents(
        r.ticket_id(), after,
        [&](const v1::TicketEvent& e) {
          if (response->events_size() == page_size) return false;
          last = e.sequence();
          if (!r.work_order_id().empty() && e.work_order_id() != r.work_order_id()) return true;
          if (department && !AddressedTo(e, principal.department_id)) return true;
          *response->add_events() = e;
          return true;
        },
        &view));
    if (last < stored->last_sequence) {
      response->set_next_page_token(MakePageToken({absl::StrCat(last)}, fingerprint, now));
    }
    return absl::OkStatus();
  });
}

}  // namespace hotline::ticket

namespace hotline::ticket {
namespace {

// ListTickets page tokens: the sort key and id of the last ticket returned, plus a digest of
// the request, so a token cannot be replayed against other filters.
struct PageToken {
  std::string sort_key;
  std::string ticket_id;
};

// The most tickets one ListTickets call walks past; a rarer filter gets a short page and a
// token to go on.
constexpr size_t kListingWalkBudget = 2000;

std::string RequestDigest(v1::ListTicketsRequest r) {
  r.clear_page_token();
  r.clear_page_size();
  return RequestFingerprint(r);
}

bool Matches(const v1::ListTicketsRequest& r, const v1::Ticket& t, absl::Time now) {
  auto in = [](const auto& list, int value) {
    return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
  };
  if (!in(r.states(), t.state()) || !in(r.kinds(), t.kind()) || !in(r.channels(), t.channel()) ||
      !in(r.urgencies(), t.urgency()) || !in(r.warning_levels(), t.warning_level())) {
    return false;
  }
  if (!r.category_prefix().empty()) {
    std::string prefix(absl::StripSuffix(r.category_prefix(), "/"));
    if (t.category_path() != prefix && t.category_path().rfind(prefix + "/", 0) != 0) return false;
  }
  if (!r.caller_phone().empty() && t.caller_phone() != r.caller_phone()) return false;
  if (r.has_create_time_after() &&
      FromProtoTime(t.create_time()) < FromProtoTime(r.create_time_after())) {
    return false;
  }
  if (r.has_create_time_before() &&
      FromProtoTime(t.create_time()) >= FromProtoTime(r.create_time_before())) {
    return false;
  }
  if (r.has_deadline_after() &&
      (!t.has_deadline() || FromProtoTime(t.deadline()) < FromProtoTime(r.deadline_after()))) {
    return false;
  }
  if (r.has_deadline_before() &&
      (!t.has_deadline() || FromProtoTime(t.deadline()) >= FromProtoTime(r.deadline_before()))) {
    return false;
  }
  bool need_work_order =
      !r.department_id().empty() || r.work_order_states_size() > 0 || r.overdue_only();
  if (!need_work_order) return true;
  for (const v1::WorkOrder& w : t.work_orders()) {
    if (w.cycle() != t.cycle() || !IsActive(w)) continue;
    if (!r.department_id().empty() && w.department_id() != r.department_id()) continue;
    if (!in(r.work_order_states(), w.state())) continue;
    if (r.overdue_only() && !(IsOpen(w) && now > FromProtoTime(w.deadline()))) continue;
    return true;
  }
  return false;
}

}  // namespace

grpc::ServerUnaryReactor* TicketService::ListTickets(grpc::CallbackServerContext* context,
                                                     const v1::ListTicketsRequest* request,
                                                     v1::ListTicketsResponse* response) {
  return ServeOnPool(context, workers_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context,
                                              {Role::kAgent, Role::kReviewer, Role::kDepartment,
                                               Role::kSupervisor, Role::kCallback},
                                              *request));
    v1::ListTicketsRequest r = *request;
    if (principal.role == Role::kDepartment) {
      if (!r.department_id().empty() && r.department_id() != principal.department_id) {
        return absl::PermissionDeniedError(absl::StrCat("department_id: department '",
                                                        principal.department_id,
                                                        "' may only list its own tickets"));
      }
      if (!r.caller_phone().empty()) {
        return absl::InvalidArgumentError("caller_phone: not allowed for department callers");
      }
      r.set_department_id(principal.department_id);
    }
    if (r.page_size() < 0) return absl::InvalidArgumentError("page_size: must not be negative");
    int page_size = r.page_size() == 0 ? 50 : std::min(r.page_size(), 500);
    std::string order = r.order_by().empty() ? "create_time desc" : r.order_by();
    std::vector<std::string> order_parts = absl::StrSplit(order, ' ', absl::SkipEmpty());
    bool descending = order_parts.size() == 2 && order_parts[1] == "desc";
    if (order_parts.empty() || order_parts.size() > 2 || (order_parts.size() == 2 && !descending) ||
        (order_parts[0] != "create_time" && order_parts[0] != "update_time" &&
         order_parts[0] != "deadline")) {
      return absl::InvalidArgumentError(
          absl::StrCat("order_by: unsupported '", order,
                       "'; use create_time, update_time or deadline, optionally with ' desc'"));
    }
    for (int i = 0; i < r.states_size(); ++i) {
      if (r.states(i) == v1::TICKET_STATE_UNSPECIFIED) {
        return absl::InvalidArgumentError(
            absl::StrCat("states[", i, "]: must not be TICKET_STATE_UNSPECIFIED"));
      }
    }
    if (r.has_deadline_after() && r.has_deadline_before() &&
        FromProtoTime(r.deadline_before()) <= FromProtoTime(r.deadline_after())) {
      return absl::InvalidArgumentError("deadline_before: must be after deadline_after");
    }
    std::optional<PageToken> after;
    const std::string digest = RequestDigest(r);
    absl::Time now = options_.clock->Now();
    if (!r.page_token().empty()) {
      ASSIGN_OR_RETURN(std::vector<std::string> position,
                       ParsePageToken(r.page_token(), digest, 2, now));
      if (position[0].size() != 20 ||
          position[0].find_first_not_of("0123456789") != std::string::npos || position[1].empty() ||
          position[1].find('/') != std::string::npos) {
        return absl::InvalidArgumentError("page_token: malformed");
      }
      after = PageToken{position[0], position[1]};
    }

    // A walk along the listing index of the most selective filter (ticket_listing.h): the
    // page costs about its size, and at most kListingWalkBudget tickets when the other
    // filters are rare.
    const ListingWalk walk = PlanListing(r, order_parts[0], descending);
    const std::string position =
        after.has_value() ? absl::StrCat(after->sort_key, "/", after->ticket_id) : std::string();
    ASSIGN_OR_RETURN(ListingPage page,
                     WalkListing(store_, walk, position, page_size, kListingWalkBudget,
                                 [&](const v1::Ticket& t) { return Matches(r, t, now); }));
    for (v1::Ticket& ticket : page.tickets) {
      v1::Ticket* out = response->add_tickets();
      *out = std::move(ticket);
      PresentFor(principal, out);
    }
    if (!page.resume_after.empty()) {
      const size_t cut = page.resume_after.find('/');
      response->set_next_page_token(MakePageToken(
          {page.resume_after.substr(0, cut), page.resume_after.substr(cut + 1)}, digest, now));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<int> TicketService::RunDueWarnings() {
  absl::Time now = options_.clock->Now();
  std::string limit = absl::StrCat("a/", TicketStore::Number(absl::ToUnixMicros(now)));
  std::vector<std::pair<std::string, std::string>> due;  // (alarm key, ticket id)
  RETURN_IF_ERROR(store_.ScanIndex("a/", [&](absl::string_view key) {
    if (key > limit) return false;
    std::vector<std::string> parts = absl::StrSplit(key, '/');
    if (parts.size() == 4) due.emplace_back(std::string(key), parts[2]);
    return due.size() < 1000;
  }));
  int changed = 0;
  for (const auto& [alarm_key, ticket_id] : due) {
    absl::MutexLock lock(&LockFor(ticket_id));
    ASSIGN_OR_RETURN(std::optional<StoredTicket> stored, store_.Load(ticket_id));
    if (!stored.has_value()) continue;
    std::vector<TicketChange> changes;
    changes.push_back(SystemMachine().RaiseDueWarnings(*stored));
    if (!changes.front().events.empty()) {
      RETURN_IF_ERROR(store_.Commit(&changes));
      ++changed;
    } else if (!store_.IndexKeys(stored->ticket).count(alarm_key)) {
      RETURN_IF_ERROR(store_.DeleteIndexKey(alarm_key));  // Stale: the ticket moved on.
    }
  }
  return changed;
}

}  // namespace hotline::ticket
