// Online requests (网上诉求) from the citizens' portal: SubmitOnlineRequest turns one into a
// ticket on CHANNEL_WEB, GetOnlineRequest shows its holder where it is.
//
// The query code is HMAC-SHA-256 of the ticket id under a key the service made once and
// keeps in its store: nothing secret sits beside the ticket, a retry of the same submission
// gets the same code, and a code cannot be guessed from the tracking number. Ten symbols of
// a 32-letter alphabet are 50 bits: with the portal's per-address limits, guessing is
// hopeless.
#include <sodium.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/unary_call.h"
#include "common/utf8.h"
#include "services/ticket/ticket_service.h"

namespace hotline::ticket {
namespace {

// No 0/O or 1/I: read out on the phone or copied from paper without confusion.
constexpr char kCodeAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
constexpr int kCodeLength = 10;

constexpr int kMinContent = 5;
constexpr int kMaxContent = 2000;
constexpr int kMaxAddress = 200;
constexpr int kMaxName = 50;

// Upper case, without the spaces and dashes people put between groups.
std::string NormalizeCode(absl::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == ' ' || c == '-') continue;
    out.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

v1::OnlineRequestState PublicState(v1::TicketState state) {
  switch (state) {
    case v1::TICKET_STATE_PENDING_REVIEW:
    case v1::TICKET_STATE_PENDING_DISPATCH:
      return v1::ONLINE_REQUEST_STATE_RECEIVED;
    case v1::TICKET_STATE_IN_PROGRESS:
    case v1::TICKET_STATE_PENDING_REDISPATCH:
      return v1::ONLINE_REQUEST_STATE_IN_PROGRESS;
    case v1::TICKET_STATE_PENDING_CALLBACK:
      return v1::ONLINE_REQUEST_STATE_REPLIED;
    case v1::TICKET_STATE_CLOSED:
      return v1::ONLINE_REQUEST_STATE_CLOSED;
    case v1::TICKET_STATE_REJECTED:
      return v1::ONLINE_REQUEST_STATE_NOT_ACCEPTED;
    case v1::TICKET_STATE_MERGED:
      return v1::ONLINE_REQUEST_STATE_MERGED;
    default:
      return v1::ONLINE_REQUEST_STATE_UNSPECIFIED;
  }
}

absl::Status NoSuchRequest() {
  return absl::NotFoundError("no online request with this number and code");
}

}  // namespace

std::string TicketService::QueryCode(const std::string& ticket_id) const {
  const std::string message = "online-request\n" + ticket_id;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(message.data()),
                         message.size(),
                         reinterpret_cast<const unsigned char*>(query_code_key_.data()));
  // Five bits of the MAC per symbol.
  std::string code;
  for (int i = 0; i < kCodeLength; ++i) {
    const int bit = i * 5;
    const unsigned int two = (mac[bit / 8] << 8) | mac[bit / 8 + 1];
    code.push_back(kCodeAlphabet[(two >> (11 - bit % 8)) & 31]);
  }
  return code;
}

grpc::ServerUnaryReactor* TicketService::SubmitOnlineRequest(
    grpc::CallbackServerContext* context, const v1::SubmitOnlineRequestRequest* request,
    v1::SubmitOnlineRequestResponse* response) {
  return ServeOnPool(context, workers_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context, {Role::kPublic}, *request));
    const v1::SubmitOnlineRequestRequest& r = *request;
    if (r.request_id().empty()) return absl::InvalidArgumentError("request_id: must be set");
    switch (r.kind()) {
      case v1::TICKET_KIND_CONSULTATION:
      case v1::TICKET_KIND_HELP_REQUEST:
      case v1::TICKET_KIND_SUGGESTION:
      case v1::TICKET_KIND_COMPLAINT:
      case v1::TICKET_KIND_REPORT:
        break;
      default:
        return absl::InvalidArgumentError(
            "kind: must be one of consultation, help request, suggestion, complaint, report");
    }
    const int content = CodePointCount(absl::StripAsciiWhitespace(r.content()));
    if (content < kMinContent) {
      return absl::InvalidArgumentError(
          absl::StrCat("content: at least ", kMinContent, " characters"));
    }
    if (content > kMaxContent) {
      return absl::InvalidArgumentError(
          absl::StrCat("content: longer than ", kMaxContent, " characters"));
    }
    if (CodePointCount(r.address()) > kMaxAddress) {
      return absl::InvalidArgumentError(
          absl::StrCat("address: longer than ", kMaxAddress, " characters"));
    }
    if (CodePointCount(r.caller_name()) > kMaxName) {
      return absl::InvalidArgumentError(
          absl::StrCat("caller_name: longer than ", kMaxName, " characters"));
    }
    if (r.caller_phone().empty()) {
      return absl::InvalidArgumentError("caller_phone: must be set, for the callback");
    }
    // The rest is a ticket like any other, checked as any other (ValidateCreate names the
    // ticket's fields; the request's are named the same without "ticket.").
    v1::CreateTicketRequest create;
    create.set_request_id(r.request_id());
    v1::Ticket* t = create.mutable_ticket();
    t->set_kind(r.kind());
    t->set_channel(v1::CHANNEL_WEB);
    t->set_urgency(v1::URGENCY_NORMAL);
    t->set_content(std::string(absl::StripAsciiWhitespace(r.content())));
    t->set_caller_phone(r.caller_phone());
    t->set_caller_name(r.caller_name());
    t->mutable_location()->set_address(r.address());
    v1::Ticket created;
    if (absl::Status s = Create(principal, create, &created); !s.ok()) {
      std::string message(s.message());
      if (absl::StartsWith(message, "ticket.")) message.erase(0, 7);
      return absl::Status(s.code(), message);
    }
    response->set_tracking_number(created.id());
    response->set_query_code(QueryCode(created.id()));
    *response->mutable_create_time() = created.create_time();
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TicketService::GetOnlineRequest(
    grpc::CallbackServerContext* context, const v1::GetOnlineRequestRequest* request,
    v1::OnlineRequest* response) {
  return ServeOnPool(context, workers_, [=]() -> absl::Status {
    RETURN_IF_ERROR(
        AuthenticateAndAuthorize(*tokens_, *context, {Role::kPublic}, *request).status());
    const v1::GetOnlineRequestRequest& r = *request;
    if (r.tracking_number().empty()) {
      return absl::InvalidArgumentError("tracking_number: must be set");
    }
    if (r.query_code().empty()) return absl::InvalidArgumentError("query_code: must be set");
    if (r.tracking_number().size() > 64) return NoSuchRequest();
    const std::string given = NormalizeCode(r.query_code());
    const std::string expected = QueryCode(r.tracking_number());
    // Compared before the ticket is read, in constant time: the answer takes as long for a
    // number that exists as for one that does not.
    if (given.size() != expected.size() ||
        sodium_memcmp(given.data(), expected.data(), expected.size()) != 0) {
      return NoSuchRequest();
    }
    ASSIGN_OR_RETURN(std::optional<StoredTicket> stored, store_.Load(r.tracking_number()));
    if (!stored.has_value() || stored->ticket.channel() != v1::CHANNEL_WEB) return NoSuchRequest();
    const v1::Ticket& t = stored->ticket;
    response->set_tracking_number(t.id());
    response->set_state(PublicState(t.state()));
    response->set_kind(t.kind());
    response->set_content(t.content());
    *response->mutable_create_time() = t.create_time();
    *response->mutable_update_time() = t.update_time();
    std::vector<const v1::WorkOrder*> replied;
    for (const v1::WorkOrder& w : t.work_orders()) {
      if (!w.reply_text().empty()) replied.push_back(&w);
    }
    std::stable_sort(replied.begin(), replied.end(),
                     [](const v1::WorkOrder* a, const v1::WorkOrder* b) {
                       return a->reply_time().seconds() < b->reply_time().seconds();
                     });
    for (const v1::WorkOrder* w : replied) {
      v1::OnlineReply* reply = response->add_replies();
      reply->set_text(w->reply_text());
      *reply->mutable_reply_time() = w->reply_time();
    }
    return absl::OkStatus();
  });
}

}  // namespace hotline::ticket
