// The citizens' side of the gateway (市民门户), on a listening port of its own: the public
// policy Q&A portal (search, entry pages, browsing, suggestions, "did this answer your
// question?") and online requests (网上诉求) with their tracking, for anyone, without signing
// in.
//
// Upstream it calls the knowledge base and the ticket service with one credential of its own,
// a token of the role "public", which the services hold to the public scope (kb.proto,
// "Public scope"; ticket.proto, SubmitOnlineRequest): what a citizen could ask for beyond it
// is refused there, not only here.
//
// Being open to anyone, it limits every client address (AddressLimiter: reads and writes
// each have their own allowance), keeps anonymous answers for a short while (ResponseCache),
// lets only so many knowledge-base calls run at once (the agents' searches must keep their
// share of the machine), and asks an arithmetic question before taking a request. It runs on
// its own server and threads, so a crowd here never takes the staff consoles' threads.
#ifndef HOTLINE_SERVICES_GATEWAY_CITIZEN_PORTAL_H_
#define HOTLINE_SERVICES_GATEWAY_CITIZEN_PORTAL_H_

#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/address_limiter.h"
#include "common/clock.h"
#include "common/worker_pool.h"
#include "hotline/kb/v1/kb.grpc.pb.h"
#include "hotline/ticket/v1/ticket.grpc.pb.h"
#include "services/gateway/arithmetic_challenge.h"
#include "services/gateway/response_cache.h"

namespace hotline::gateway {

struct CitizenPortalOptions {
  // Directory of the pages: the portal's own are in its public/ folder; it also serves the
  // shared app.css and common.js from here.
  std::string web_root;
  // The portal's bearer token (role "public").
  std::string token;
  absl::Duration call_timeout = absl::Seconds(3);
  // Searches, suggestions, entry pages and challenges, per client address.
  RateLimit reads{20, 60};
  // Feedback, submissions and lookups, per client address: a person sends a few a minute.
  RateLimit writes{0.5, 10};
  absl::Duration cache_ttl = absl::Seconds(30);
  // How long after its ttl an answer may still be served while one asker fetches the new one
  // (or when the knowledge base is busy). Only with a ttl.
  absl::Duration cache_stale_for = absl::Minutes(5);
  size_t cache_entries = 20000;
  // Knowledge-base calls in flight at once; beyond it a citizen waits up to kb_slot_wait for
  // one to end, then gets 503 with Retry-After.
  int max_concurrent_kb_calls = 8;
  absl::Duration kb_slot_wait = absl::Milliseconds(250);
  // Added to the nice value of the portal's own threads (its fetches of expired answers), as
  // GatedServerOptions::niceness is for its server's; 0 leaves them as they are.
  int thread_niceness = 10;
  // As GatewayOptions::client_address_header.
  std::string client_address_header;
  Clock* clock = Clock::Real();
};

class CitizenPortal {
 public:
  CitizenPortal(CitizenPortalOptions options, std::shared_ptr<grpc::Channel> kb,
                std::shared_ptr<grpc::Channel> ticket);

  // Adds the portal's routes and pages to `server` (a server of its own). False if web_root
  // has no public/ folder.
  bool Register(httplib::Server* server);

 private:
  std::unique_ptr<grpc::ClientContext> Context() const;
  // False (and 429 with Retry-After sent) when the address is over `limiter`'s allowance.
  bool Admit(AddressLimiter& limiter, const httplib::Request& request, httplib::Response& response);
  // A knowledge-base read, answered from the cache when it can be. `call` makes the call
  // and writes the answer's JSON; only successful answers are kept.
  // A place among the knowledge-base calls in flight (max_concurrent_kb_calls), waiting up to
  // kb_slot_wait; false if none came free.
  bool AcquireKbSlot();
  void ReleaseKbSlot();
  // `call` owns what it needs (it may run after the request is answered).
  using KbCall = std::function<grpc::Status(grpc::ClientContext*, std::string* json)>;
  void CachedKbRead(const httplib::Request& request, httplib::Response& response, KbCall call);
  // The call of a search or a browse, with the page token and the shape of a public list.
  KbCall SearchCall(const httplib::Request& request, kb::v1::SearchRequest upstream) const;

  void Search(const httplib::Request& request, httplib::Response& response);
  void Browse(const httplib::Request& request, httplib::Response& response);
  void Suggest(const httplib::Request& request, httplib::Response& response);
  void Entry(const httplib::Request& request, httplib::Response& response);
  void Feedback(const httplib::Request& request, httplib::Response& response);
  void Challenge(const httplib::Request& request, httplib::Response& response);
  void Submit(const httplib::Request& request, httplib::Response& response);
  void Lookup(const httplib::Request& request, httplib::Response& response);

  const CitizenPortalOptions options_;
  std::unique_ptr<kb::v1::KnowledgeBaseService::Stub> kb_;
  std::unique_ptr<ticket::v1::TicketService::Stub> ticket_;
  AddressLimiter reads_;
  AddressLimiter writes_;
  ResponseCache cache_;
  ArithmeticChallenge challenge_;
  // A knowledge-base read under way, which others asking the same wait for.
  struct InFlight {
    absl::Notification done;
    // Written by the first asker before `done` is notified; read by the others after.
    grpc::Status status;
    std::string json;
  };
  // Makes the call for `flight` (one of in_flight_), keeps a good answer in the cache, and
  // lets the others waiting for it go.
  void Fetch(const std::string& key, const KbCall& call, InFlight& flight);
  absl::Mutex in_flight_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<InFlight>> in_flight_
      ABSL_GUARDED_BY(in_flight_mu_);
  absl::Mutex kb_mu_;
  int kb_calls_ ABSL_GUARDED_BY(kb_mu_) = 0;
  // Fetches of expired answers, behind the citizens who were given them. Declared last so that
  // it is destroyed first: a fetch under way finishes while the rest is still there.
  std::unique_ptr<WorkerPool> refreshes_;
};

}  // namespace hotline::gateway

#endif  // HOTLINE_SERVICES_GATEWAY_CITIZEN_PORTAL_H_
