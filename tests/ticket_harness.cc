#include "tests/ticket_harness.h"

#include <algorithm>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "common/grpc_status.h"
#include "tests/support/test_tokens.h"
#include "tests/support/test_util.h"

namespace hotline::testing {

std::string TicketTokens::FileContents() const {
  std::vector<TestPrincipal> principals = {{agent, "test-agent", "agent"},
                                           {reviewer, "test-reviewer", "reviewer"},
                                           {supervisor, "test-supervisor", "supervisor"}};
  for (const auto& [department, token] : departments) {
    principals.push_back({token, absl::StrCat(department, "-bureau"), "department", department});
  }
  return TokenFileFor(principals);
}

// ---- TicketServerProcess -------------------------------------------------------------------

TicketServerProcess::TicketServerProcess(TicketServerOptions options)
    : options_(std::move(options)), process_(options_.binary, options_.work_dir) {}

absl::Status TicketServerProcess::Start(absl::Duration timeout) {
  if (options_.redis_address.empty()) {
    return absl::InvalidArgumentError("redis_address: must be set");
  }
  const std::string token_file = options_.work_dir + "/tokens";
  {
    std::ofstream out(token_file, std::ios::trunc);
    out << options_.tokens.FileContents();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", token_file));
  }
  return process_.Start({"--data_dir=" + options_.work_dir + "/data", "--token_file=" + token_file,
                         "--config=" + options_.config, "--calendar_dir=" + options_.calendar_dir,
                         "--redis=" + options_.redis_address},
                        timeout);
}

std::shared_ptr<grpc::Channel> TicketServerProcess::NewChannel() const {
  return LocalChannel(process_.port());
}

std::unique_ptr<ticket::v1::TicketService::Stub> TicketServerProcess::NewStub() const {
  return ticket::v1::TicketService::NewStub(NewChannel());
}

// ---- TicketLoop ----------------------------------------------------------------------------

TicketLoop::TicketLoop(const TicketTokens* tokens, std::string key, std::string lead,
                       std::vector<std::string> assists)
    : tokens_(tokens), key_(std::move(key)), lead_(std::move(lead)), assists_(std::move(assists)) {}

const std::string& TicketLoop::Department(int index) const {
  return index == 0 ? lead_ : assists_[index - 1];
}

const ticket::v1::WorkOrder* TicketLoop::WorkOrderOf(const std::string& department) const {
  for (const ticket::v1::WorkOrder& w : ticket_.work_orders()) {
    if (w.cycle() == ticket_.cycle() && w.department_id() == department) return &w;
  }
  return nullptr;
}

std::string TicketLoop::StepName() const {
  const int departments = 1 + static_cast<int>(assists_.size());
  if (step_ == 0) return "CreateTicket";
  if (step_ == 1) return "ConfirmTicket";
  if (step_ == 2) return "DispatchTicket";
  if (step_ < 3 + departments) return absl::StrCat("SignWorkOrder(", Department(step_ - 3), ")");
  if (step_ < 3 + 2 * departments) {
    return absl::StrCat("ReplyWorkOrder(", Department(step_ - 3 - departments), ")");
  }
  if (step_ == steps() - 1) return "RecordCallback";
  return "done";
}

grpc::Status TicketLoop::Step(ticket::v1::TicketService::Stub& stub, absl::Duration deadline,
                              ticket::v1::Ticket* reply) {
  const int departments = 1 + static_cast<int>(assists_.size());
  const std::string request_id = absl::StrCat(key_, "-", step_);
  grpc::Status status;
  if (done()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the loop is complete");
  } else if (step_ == 0) {
    ticket::v1::CreateTicketRequest r;
    r.set_request_id(request_id);
    ticket::v1::Ticket* t = r.mutable_ticket();
    t->set_kind(ticket::v1::TICKET_KIND_HELP_REQUEST);  // Has a configured default time limit.
    t->set_channel(ticket::v1::CHANNEL_HOTLINE);
    t->set_caller_name("Li Ming");
    t->set_caller_phone("13800138000");
    // Derived from the key alone, so a retried creation has the same content (a different one
    // would be refused as a reuse of the request id).
    t->set_content(absl::StrCat("No running water in building ", key_, " since this morning."));
    status = stub.CreateTicket(ContextWithToken(tokens_->agent, deadline).get(), r, reply);
  } else if (step_ == 1) {
    ticket::v1::ConfirmTicketRequest r;
    r.set_ticket_id(ticket_.id());
    r.set_expected_version(ticket_.version());
    r.set_request_id(request_id);
    status = stub.ConfirmTicket(ContextWithToken(tokens_->reviewer, deadline).get(), r, reply);
  } else if (step_ == 2) {
    ticket::v1::DispatchTicketRequest r;
    r.set_ticket_id(ticket_.id());
    r.set_expected_version(ticket_.version());
    r.set_request_id(request_id);
    r.mutable_lead()->set_department_id(lead_);
    for (const std::string& a : assists_) r.add_assists()->set_department_id(a);
    r.set_instructions("Restore the supply and tell the caller when.");
    status = stub.DispatchTicket(ContextWithToken(tokens_->reviewer, deadline).get(), r, reply);
  } else if (step_ < 3 + 2 * departments) {
    const bool sign = step_ < 3 + departments;
    const std::string& department = Department(sign ? step_ - 3 : step_ - 3 - departments);
    const ticket::v1::WorkOrder* w = WorkOrderOf(department);
    if (w == nullptr) {
      return grpc::Status(grpc::StatusCode::INTERNAL,
                          absl::StrCat("ticket ", ticket_.id(), " has no work order for ",
                                       department, " after dispatch"));
    }
    auto context = ContextWithToken(tokens_->departments.at(department), deadline);
    if (sign) {
      ticket::v1::SignWorkOrderRequest r;
      r.set_ticket_id(ticket_.id());
      r.set_work_order_id(w->id());
      r.set_expected_version(ticket_.version());
      r.set_request_id(request_id);
      status = stub.SignWorkOrder(context.get(), r, reply);
    } else {
      ticket::v1::ReplyWorkOrderRequest r;
      r.set_ticket_id(ticket_.id());
      r.set_work_order_id(w->id());
      r.set_expected_version(ticket_.version());
      r.set_request_id(request_id);
      r.set_reply_text("The main valve was repaired; water is back since 15:00.");
      status = stub.ReplyWorkOrder(context.get(), r, reply);
    }
  } else {
    ticket::v1::RecordCallbackRequest r;
    r.set_ticket_id(ticket_.id());
    r.set_expected_version(ticket_.version());
    r.set_request_id(request_id);
    r.set_result(ticket::v1::CALLBACK_RESULT_SATISFIED);
    status = stub.RecordCallback(ContextWithToken(tokens_->agent, deadline).get(), r, reply);
  }
  if (status.ok()) {
    ticket_ = *reply;
    ++step_;
  }
  return status;
}

// ---- LoopClients ---------------------------------------------------------------------------

LoopClients::LoopClients(const TicketTokens* tokens, Options options)
    : tokens_(tokens), options_(std::move(options)), clients_(options_.clients) {
  for (int i = 0; i < options_.clients; ++i) clients_[i].index = i;
}

LoopClients::~LoopClients() { Stop(); }

void LoopClients::Start(std::shared_ptr<grpc::Channel> channel) {
  Join();
  stop_.store(false);
  expect_server_loss_.store(false);
  // One stub for all threads (stubs are thread-safe), replaced with every run because a
  // restarted server listens on a new port.
  stub_ = ticket::v1::TicketService::NewStub(std::move(channel));
  for (Client& c : clients_) threads_.emplace_back([this, &c] { Run(&c, stub_.get()); });
}

void LoopClients::Stop() {
  stop_.store(true);
  Join();
}

void LoopClients::Join() {
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void LoopClients::Run(Client* c, ticket::v1::TicketService::Stub* stub) {
  c->stopped_by = grpc::Status::OK;
  while (!stop_.load()) {
    if (c->loop == nullptr || c->loop->done()) {
      if (options_.max_loops_per_client > 0 && c->loops_started == options_.max_loops_per_client) {
        return;
      }
      c->loop = std::make_unique<TicketLoop>(
          tokens_, absl::StrCat(options_.key_prefix, "-c", c->index, "-", c->loops_started++),
          options_.lead, options_.assists);
    }
    ticket::v1::Ticket reply;
    grpc::Status status = c->loop->Step(*stub, options_.rpc_deadline, &reply);
    if (!status.ok()) {
      c->stopped_by = status;
      if (!expect_server_loss_.load() || status.error_code() != grpc::StatusCode::UNAVAILABLE) {
        absl::MutexLock lock(&mu_);
        unexpected_.push_back(absl::StrCat("client ", c->index, ", ticket '", c->loop->ticket_id(),
                                           "', ", c->loop->StepName(), ": code ",
                                           status.error_code(), ": ", status.error_message()));
      }
      return;
    }
    c->acks.emplace_back(reply.id(), reply.version());
    acknowledged_.fetch_add(1);
  }
}

int LoopClients::interrupted() const {
  int n = 0;
  for (const Client& c : clients_) n += !c.stopped_by.ok();
  return n;
}

absl::Status LoopClients::RetryInterruptedSteps(ticket::v1::TicketService::Stub& stub) {
  for (Client& c : clients_) {
    if (c.stopped_by.ok()) continue;
    const std::string step = c.loop->StepName();
    ticket::v1::Ticket reply;
    grpc::Status status = c.loop->Step(stub, options_.rpc_deadline, &reply);
    if (!status.ok()) {
      return absl::Status(FromGrpcStatus(status).code(),
                          absl::StrCat("retrying client ", c.index, "'s ", step, " on ticket '",
                                       c.loop->ticket_id(), "': ", status.error_message()));
    }
    c.acks.emplace_back(reply.id(), reply.version());
    acknowledged_.fetch_add(1);
    c.stopped_by = grpc::Status::OK;
  }
  return absl::OkStatus();
}

std::map<std::string, int64_t> LoopClients::AcknowledgedVersions() const {
  std::map<std::string, int64_t> out;
  for (const Client& c : clients_) {
    for (const auto& [id, version] : c.acks) out[id] = std::max(out[id], version);
  }
  return out;
}

std::vector<std::string> LoopClients::UnexpectedErrors() const {
  absl::MutexLock lock(&mu_);
  return unexpected_;
}

// ---- Reads ---------------------------------------------------------------------------------

absl::StatusOr<std::vector<ticket::v1::Ticket>> ListAllTickets(
    ticket::v1::TicketService::Stub& stub, const std::string& token, int page_size) {
  std::vector<ticket::v1::Ticket> out;
  ticket::v1::ListTicketsRequest request;
  request.set_page_size(page_size);
  // A token that never runs out must not hang the test.
  for (int page = 0; page < 100000; ++page) {
    ticket::v1::ListTicketsResponse response;
    grpc::Status status = stub.ListTickets(ContextWithToken(token).get(), request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    for (ticket::v1::Ticket& t : *response.mutable_tickets()) out.push_back(std::move(t));
    if (response.next_page_token().empty()) return out;
    request.set_page_token(response.next_page_token());
  }
  return absl::InternalError("ListTickets kept returning a next_page_token");
}

absl::StatusOr<ticket::v1::Ticket> GetFullTicket(ticket::v1::TicketService::Stub& stub,
                                                 const std::string& token,
                                                 const std::string& ticket_id) {
  ticket::v1::GetTicketRequest request;
  request.set_ticket_id(ticket_id);
  request.set_view(ticket::v1::TICKET_VIEW_FULL);
  ticket::v1::Ticket ticket;
  grpc::Status status = stub.GetTicket(ContextWithToken(token).get(), request, &ticket);
  if (!status.ok()) return FromGrpcStatus(status);
  return ticket;
}

}  // namespace hotline::testing
