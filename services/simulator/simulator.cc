#include "services/simulator/simulator.h"

#include <glog/logging.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/files.h"
#include "common/grpc_status.h"
#include "common/proto_time.h"
#include "services/ticket/working_calendar.h"

namespace hotline::simulator {

namespace v1 = ticket::v1;

absl::StatusOr<RoleTokens> ReadTokensEnv(const std::string& path,
                                         const std::set<std::string>& department_ids) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  std::map<std::string, std::string> variables;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, "export ")) continue;
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    variables[kv.first] = kv.second;
  }
  RoleTokens tokens;
  for (auto [name, field] :
       {std::pair{"AGENT_TOKEN", &tokens.agent}, std::pair{"REVIEWER_TOKEN", &tokens.reviewer},
        std::pair{"SUPERVISOR_TOKEN", &tokens.supervisor}}) {
    auto it = variables.find(name);
    if (it == variables.end() || it->second.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": no ", name));
    }
    *field = it->second;
  }
  for (const std::string& id : department_ids) {
    std::string name =
        absl::StrCat(absl::AsciiStrToUpper(absl::StrReplaceAll(id, {{"-", "_"}})), "_TOKEN");
    auto it = variables.find(name);
    if (it != variables.end() && !it->second.empty()) tokens.departments[id] = it->second;
  }
  return tokens;
}

namespace {

// The service's time is well behind ours: it is replaying its history.
constexpr absl::Duration kHistoryLag = absl::Minutes(10);
// Close enough to count as caught up (the two clocks are on one machine).
constexpr absl::Duration kCaughtUp = absl::Seconds(2);

std::string CallbackComment(v1::CallbackResult result) {
  switch (result) {
    case v1::CALLBACK_RESULT_SATISFIED:
      return "问题已解决，对处理结果满意。";
    case v1::CALLBACK_RESULT_BASICALLY_SATISFIED:
      return "问题基本解决，但处理时间有点长。";
    case v1::CALLBACK_RESULT_DISSATISFIED:
      return "问题没有解决，要求重新处理。";
    case v1::CALLBACK_RESULT_UNREACHABLE:
      return "电话无人接听。";
    default:
      return "";
  }
}

bool IsFinal(const v1::Ticket& t) {
  return t.state() == v1::TICKET_STATE_REJECTED || t.state() == v1::TICKET_STATE_MERGED;
}

}  // namespace

Simulator::Simulator(std::shared_ptr<grpc::Channel> channel, RoleTokens tokens,
                     SimulatorOptions options, Clock* real_clock,
                     std::function<bool(absl::Duration)> pause)
    : stub_(v1::TicketService::NewStub(channel)),
      tokens_(std::move(tokens)),
      options_(options),
      real_clock_(real_clock),
      pause_(std::move(pause)),
      arrivals_(options.seed ^ 0x5eed5eed5eed5eedULL) {
  for (const auto& [id, token] : tokens_.departments) departments_.insert(id);
}

void Simulator::PrepareContext(grpc::ClientContext* context, const std::string& token) const {
  context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  context->set_deadline(absl::ToChronoTime(real_clock_->Now() + options_.rpc_timeout));
}

absl::StatusOr<absl::Time> Simulator::ServiceNow() {
  // A department stream opens with a heartbeat stamped with the service's clock; a supervisor
  // may watch any department.
  grpc::ClientContext context;
  PrepareContext(&context, tokens_.supervisor);
  v1::WatchWorkOrdersRequest request;
  request.set_department_id(*departments_.begin());
  request.set_start_from_now(true);
  std::unique_ptr<grpc::ClientReader<v1::WatchWorkOrdersResponse>> reader =
      stub_->WatchWorkOrders(&context, request);
  v1::WatchWorkOrdersResponse first;
  const bool read = reader->Read(&first);
  context.TryCancel();
  grpc::Status status = reader->Finish();
  if (!read) return FromGrpcStatus(status);
  return FromProtoTime(first.send_time());
}

absl::Time Simulator::NextArrival(absl::Time after, bool history) {
  if (!history) return after + options_.live_interval * (0.5 + arrivals_.Uniform());
  const absl::TimeZone zone = ticket::ShanghaiTimeZone();
  absl::Time next = after + options_.history_interval * (0.4 + 1.2 * arrivals_.Uniform());
  absl::CivilSecond local = absl::ToCivilSecond(next, zone);
  const absl::Weekday weekday = absl::GetWeekday(absl::CivilDay(local));
  if (weekday == absl::Weekday::saturday || weekday == absl::Weekday::sunday) {
    // Fewer calls at weekends.
    next += options_.history_interval * arrivals_.Uniform();
    local = absl::ToCivilSecond(next, zone);
  }
  if (local.hour() >= 21 || local.hour() < 8) {
    // Hardly any calls at night: the next one comes in the morning.
    absl::CivilDay day(local);
    if (local.hour() >= 21) day += 1;
    next = absl::FromCivil(absl::CivilMinute(day.year(), day.month(), day.day(), 8, 0), zone) +
           absl::Minutes(60) * arrivals_.Uniform();
  }
  return next;
}

void Simulator::StartCase(absl::Time arrival, absl::Time real_now) {
  Running r;
  r.c.index = static_cast<int>(cases_.size());
  r.c.plan = DrawPlan(options_.seed, r.c.index, departments_);
  r.c.pace = real_now - arrival > kHistoryLag ? HistoryPace() : LivePace();
  if (r.c.plan.fate == Fate::kMerge) {
    // A second caller reporting the latest matter still being handled.
    for (auto it = cases_.rbegin(); it != cases_.rend(); ++it) {
      if (it->c.plan.fate == Fate::kConfirm && !it->c.ticket.id().empty() &&
          !IsFinal(it->c.ticket)) {
        r.c.merge_target = it->c.ticket.id();
        r.c.plan.matter = it->c.plan.matter;
        r.c.plan.district = it->c.plan.district;
        r.c.plan.place = it->c.plan.place;
        break;
      }
    }
    if (r.c.merge_target.empty()) r.c.plan.fate = Fate::kConfirm;
  }
  r.next.due = arrival;
  cases_.push_back(std::move(r));
  queue_.push({arrival, static_cast<int>(cases_.size()) - 1, 0});
}

void Simulator::AdoptUnfinished(absl::Time service_now) {
  v1::ListTicketsRequest request;
  for (v1::TicketState s : {v1::TICKET_STATE_PENDING_REVIEW, v1::TICKET_STATE_PENDING_DISPATCH,
                            v1::TICKET_STATE_IN_PROGRESS, v1::TICKET_STATE_PENDING_REDISPATCH,
                            v1::TICKET_STATE_PENDING_CALLBACK}) {
    request.add_states(s);
  }
  request.set_page_size(500);
  request.set_order_by("create_time");
  while (true) {
    grpc::ClientContext context;
    PrepareContext(&context, tokens_.supervisor);
    v1::ListTicketsResponse page;
    grpc::Status status = stub_->ListTickets(&context, request, &page);
    if (!status.ok()) {
      LOG(WARNING) << "cannot list unfinished tickets to take over: " << status.error_message();
      return;
    }
    for (const v1::Ticket& t : page.tickets()) {
      // Only the simulator's own tickets: someone trying the loop by hand keeps theirs.
      if (!absl::StartsWith(t.request_id(), "sim-")) continue;
      int matter = -1;
      for (int i = 0; i < static_cast<int>(Matters().size()); ++i) {
        if (t.category_path() == Matters()[i].category &&
            departments_.count(Matters()[i].department) != 0) {
          matter = i;
        }
      }
      if (matter < 0) continue;
      Running r;
      r.c.index = static_cast<int>(cases_.size());
      r.c.plan = DrawPlan(options_.seed, 1000000 + r.c.index, departments_);
      // What is left of an interrupted plan is unknown; finish the matter plainly.
      r.c.plan.fate = Fate::kConfirm;
      r.c.plan.matter = matter;
      r.c.plan.misrouted = false;
      r.c.plan.late_sign = false;
      r.c.plan.handling = Handling::kPrompt;
      r.c.plan.first_callbacks = {v1::CALLBACK_RESULT_SATISFIED};
      r.c.plan.reopen_after_close = false;
      r.c.pace = LivePace();
      r.c.ticket = t;
      r.not_before = service_now + absl::Minutes(1) + absl::Minutes(9) * r.c.plan.u[0];
      cases_.push_back(std::move(r));
      Schedule(static_cast<int>(cases_.size()) - 1);
      ++stats_.tickets_adopted;
    }
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (stats_.tickets_adopted > 0) {
    LOG(INFO) << "took over " << stats_.tickets_adopted << " unfinished tickets of an earlier run";
  }
}

void Simulator::Schedule(int index) {
  Running& r = cases_[index];
  ++r.generation;
  r.next = NextStep(r.c);
  if (r.next.kind == Step::Kind::kNone) return;
  r.next.due = std::max(r.next.due, r.not_before);
  queue_.push({r.next.due, index, r.generation});
}

std::string Simulator::Token(const Step& step, const std::string& department) const {
  switch (step.kind) {
    case Step::Kind::kConfirm:
    case Step::Kind::kReject:
    case Step::Kind::kMerge:
    case Step::Kind::kDispatch:
    case Step::Kind::kRedispatch:
      return tokens_.reviewer;
    case Step::Kind::kSign:
    case Step::Kind::kReturn:
    case Step::Kind::kRequestExtension:
    case Step::Kind::kReply: {
      auto it = tokens_.departments.find(department);
      return it == tokens_.departments.end() ? "" : it->second;
    }
    case Step::Kind::kApproveExtension:
    case Step::Kind::kRefuseExtension:
    case Step::Kind::kUrge:
    case Step::Kind::kReopen:
      return tokens_.supervisor;
    case Step::Kind::kCallback:
    case Step::Kind::kNone:
      return tokens_.agent;
  }
  return "";
}

grpc::Status Simulator::Refresh(Running& r) {
  grpc::ClientContext context;
  PrepareContext(&context, tokens_.supervisor);
  v1::GetTicketRequest request;
  request.set_ticket_id(r.c.ticket.id());
  request.set_view(v1::TICKET_VIEW_BASIC);
  v1::Ticket ticket;
  grpc::Status status = stub_->GetTicket(&context, request, &ticket);
  if (status.ok()) r.c.ticket = std::move(ticket);
  return status;
}

absl::Status Simulator::Execute(int index) {
  Running& r = cases_[index];
  const Step& step = r.next;
  const v1::Ticket& t = r.c.ticket;
  const Matter& matter = Matters()[r.c.plan.matter];
  const std::string request_id = absl::StrCat("sim-", run_id_, "-", r.c.index, "-", r.steps_done);
  const std::string token = Token(step, step.department_id);
  const bool creating = t.id().empty();
  const char* name = creating ? "create" : StepName(step.kind);
  if (token.empty()) {
    LOG(WARNING) << t.id() << ": no token for department " << step.department_id
                 << "; leaving the ticket as it is";
    return absl::OkStatus();
  }
  grpc::ClientContext context;
  PrepareContext(&context, token);
  v1::Ticket reply;
  grpc::Status status;
  auto common = [&](auto* request) {
    request->set_ticket_id(t.id());
    request->set_expected_version(t.version());
    request->set_request_id(request_id);
  };
  if (creating) {
    v1::CreateTicketRequest request;
    request.set_request_id(request_id);
    *request.mutable_ticket() = TicketToCreate(r.c.plan);
    status = stub_->CreateTicket(&context, request, &reply);
  } else {
    switch (step.kind) {
      case Step::Kind::kConfirm: {
        v1::ConfirmTicketRequest request;
        common(&request);
        status = stub_->ConfirmTicket(&context, request, &reply);
        break;
      }
      case Step::Kind::kReject: {
        v1::RejectTicketRequest request;
        common(&request);
        request.set_reason(OutOfRemitMatters()[r.c.plan.out_of_remit].reason);
        status = stub_->RejectTicket(&context, request, &reply);
        break;
      }
      case Step::Kind::kMerge: {
        v1::MergeTicketRequest request;
        common(&request);
        request.set_target_ticket_id(r.c.merge_target);
        request.set_reason("同一地点同一问题，合并办理。");
        status = stub_->MergeTicket(&context, request, &reply);
        break;
      }
      case Step::Kind::kDispatch: {
        v1::DispatchTicketRequest request;
        common(&request);
        request.mutable_lead()->set_department_id(step.department_id);
        if (matter.unresolved_working_days > 0) {
          request.mutable_lead()->mutable_time_limit()->set_working_days(
              matter.unresolved_working_days);
        }
        if (r.c.plan.with_assist && matter.assist != nullptr) {
          v1::DepartmentAssignment* assist = request.add_assists();
          assist->set_department_id(matter.assist);
          if (matter.unresolved_working_days > 0) {
            assist->mutable_time_limit()->set_working_days(matter.unresolved_working_days);
          }
        }
        request.set_instructions("请按时限办理，及时答复来电人。");
        status = stub_->DispatchTicket(&context, request, &reply);
        break;
      }
      case Step::Kind::kSign: {
        v1::SignWorkOrderRequest request;
        common(&request);
        request.set_work_order_id(step.work_order_id);
        status = stub_->SignWorkOrder(&context, request, &reply);
        break;
      }
      case Step::Kind::kReturn: {
        v1::ReturnWorkOrderRequest request;
        common(&request);
        request.set_work_order_id(step.work_order_id);
        request.set_reason(matter.return_reason != nullptr ? matter.return_reason
                                                           : "不属本单位职责，请改派。");
        status = stub_->ReturnWorkOrder(&context, request, &reply);
        break;
      }
      case Step::Kind::kRedispatch: {
        v1::RedispatchWorkOrderRequest request;
        common(&request);
        request.set_work_order_id(step.work_order_id);
        request.mutable_assignment()->set_department_id(step.department_id);
        request.set_instructions("经核实属贵单位职责，请按时限办理。");
        status = stub_->RedispatchWorkOrder(&context, request, &reply);
        break;
      }
      case Step::Kind::kRequestExtension: {
        v1::RequestExtensionRequest request;
        common(&request);
        request.set_work_order_id(step.work_order_id);
        request.mutable_extension()->set_working_days(3);
        request.set_reason("需协调相关单位现场核查，申请延期三个工作日。");
        status = stub_->RequestExtension(&context, request, &reply);
        break;
      }
      case Step::Kind::kApproveExtension:
      case Step::Kind::kRefuseExtension: {
        v1::DecideExtensionRequest request;
        common(&request);
        request.set_work_order_id(step.work_order_id);
        const bool approve = step.kind == Step::Kind::kApproveExtension;
        request.set_decision(approve ? v1::EXTENSION_DECISION_APPROVE
                                     : v1::EXTENSION_DECISION_REFUSE);
        request.set_reason(approve ? "情况属实，同意延期。"
                                   : "事项不复杂，不同意延期，请按原时限办结。");
        status = stub_->DecideExtension(&context, request, &reply);
        break;
      }
      case Step::Kind::kReply: {
        v1::ReplyWorkOrderRequest request;
        common(&request);
        request.set_work_order_id(step.work_order_id);
        const bool lead = step.department_id == matter.department;
        request.set_reply_text(lead ? matter.reply
                                    : "协办意见：已配合主办单位完成现场核查并提供相关资料。");
        status = stub_->ReplyWorkOrder(&context, request, &reply);
        break;
      }
      case Step::Kind::kUrge: {
        v1::UrgeTicketRequest request;
        common(&request);
        request.add_work_order_ids(step.work_order_id);
        request.set_message("该工单已超期，请立即办理并尽快答复来电人。");
        status = stub_->UrgeTicket(&context, request, &reply);
        break;
      }
      case Step::Kind::kCallback: {
        v1::RecordCallbackRequest request;
        common(&request);
        request.set_result(step.callback);
        request.set_comment(CallbackComment(step.callback));
        status = stub_->RecordCallback(&context, request, &reply);
        break;
      }
      case Step::Kind::kReopen: {
        v1::ReopenTicketRequest request;
        common(&request);
        request.set_reason("市民再次来电反映问题反复，重新交办。");
        status = stub_->ReopenTicket(&context, request, &reply);
        break;
      }
      case Step::Kind::kNone:
        return absl::OkStatus();
    }
  }

  if (status.ok()) {
    ++r.steps_done;
    ++stats_.steps[name];
    if (creating) ++stats_.tickets_created;
    if (step.kind == Step::Kind::kReopen) r.c.reopened_by_supervisor = true;
    VLOG(1) << reply.id() << " " << name << " " << step.department_id;
    r.c.ticket = std::move(reply);
    Schedule(index);
    return absl::OkStatus();
  }
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::UNAUTHENTICATED:
      // Try the same step again (same request id, so a lost success is not repeated) once
      // the service answers; the caller backs off.
      queue_.push({step.due, index, r.generation});
      return FromGrpcStatus(status);
    case grpc::StatusCode::ABORTED:
      // The service itself changed the ticket (a deadline warning): re-read and re-decide.
      if (grpc::Status s = Refresh(r); !s.ok()) {
        queue_.push({step.due, index, r.generation});
        return FromGrpcStatus(s);
      }
      Schedule(index);
      return absl::OkStatus();
    default:
      break;
  }
  ++stats_.failed_steps;
  LOG(WARNING) << (creating ? "new ticket" : t.id()) << ": " << name
               << " failed: " << status.error_message();
  // The plan met a rule it did not foresee (e.g. a deadline passed before the extension
  // request went out): fall back to plainer handling, and give up after a few tries.
  if (step.kind == Step::Kind::kRequestExtension) r.c.plan.handling = Handling::kLate;
  if (step.kind == Step::Kind::kReturn) r.c.plan.misrouted = false;
  if (++r.failures > 3 || creating) return absl::OkStatus();
  if (grpc::Status s = Refresh(r); !s.ok()) return absl::OkStatus();
  Schedule(index);
  return absl::OkStatus();
}

absl::Status Simulator::Run() {
  if (departments_.empty()) {
    return absl::InvalidArgumentError("no department tokens: the simulator needs at least one");
  }
  bool usable = false;
  for (const Matter& m : Matters()) usable = usable || departments_.count(m.department) != 0;
  if (!usable) return absl::InvalidArgumentError("no matter of the catalog has a department token");

  // Wait for the service, then take its time as the start of the run.
  absl::Time service_now;
  for (absl::Duration backoff = absl::Milliseconds(100);;
       backoff = std::min(backoff * 2, absl::Seconds(5))) {
    absl::StatusOr<absl::Time> now = ServiceNow();
    if (now.ok()) {
      service_now = *now;
      break;
    }
    if (absl::IsUnauthenticated(now.status()) || absl::IsPermissionDenied(now.status())) {
      return absl::PermissionDeniedError(absl::StrCat(
          "the ticket service refused the supervisor token: ", now.status().message()));
    }
    LOG(WARNING) << "waiting for the ticket service: " << now.status();
    if (pause_(backoff)) return absl::OkStatus();
  }
  run_id_ = absl::StrCat(absl::Hex(absl::ToUnixSeconds(service_now)));
  absl::Time real_now = real_clock_->Now();
  LOG(INFO) << "service time " << absl::FormatTime(service_now, ticket::ShanghaiTimeZone())
            << (real_now - service_now > kHistoryLag ? " (replaying its history)" : "")
            << "; departments played: " << departments_.size();
  if (options_.adopt_unfinished) AdoptUnfinished(service_now);

  absl::Time next_arrival = service_now;
  absl::Time last_probe_real = real_now;
  absl::Time last_probe_service = service_now;
  double speed = 1.0;
  absl::Time last_report = real_now;
  absl::Duration backoff = absl::Milliseconds(100);
  while (true) {
    absl::StatusOr<absl::Time> probed = ServiceNow();
    real_now = real_clock_->Now();
    if (!probed.ok()) {
      LOG(WARNING) << "ticket service: " << probed.status();
      if (pause_(backoff)) return absl::OkStatus();
      backoff = std::min(backoff * 2, absl::Seconds(5));
      continue;
    }
    backoff = absl::Milliseconds(100);
    service_now = *probed;
    if (real_now - last_probe_real > absl::Milliseconds(1)) {
      speed = std::clamp(
          absl::FDivDuration(service_now - last_probe_service, real_now - last_probe_real), 1.0,
          1e7);
    }
    last_probe_real = real_now;
    last_probe_service = service_now;
    const bool history = real_now - service_now > kHistoryLag;

    auto more_to_create = [&] {
      return options_.max_tickets == 0 ||
             static_cast<int>(cases_.size()) - stats_.tickets_adopted < options_.max_tickets;
    };
    if (!history && next_arrival - service_now > options_.live_interval * 1.5) {
      // Just caught up: the last arrival was drawn at the history's pace (and may be the next
      // morning); from now on tickets come at the live pace.
      next_arrival = service_now + options_.live_interval * (0.5 + arrivals_.Uniform());
    }
    while (more_to_create() && next_arrival <= service_now) {
      StartCase(next_arrival, real_now);
      next_arrival = NextArrival(next_arrival, history);
    }
    bool unavailable = false;
    while (!queue_.empty() && queue_.top().at <= service_now) {
      Due due = queue_.top();
      queue_.pop();
      if (due.generation != cases_[due.case_index].generation) continue;
      if (absl::Status s = Execute(due.case_index); !s.ok()) {
        if (absl::IsUnauthenticated(s)) return s;
        LOG(WARNING) << "ticket service: " << s;
        unavailable = true;
        break;
      }
    }
    if (unavailable) {
      if (pause_(backoff)) return absl::OkStatus();
      continue;
    }

    if (real_now - last_report > absl::Minutes(1)) {
      LOG(INFO) << "service time " << absl::FormatTime(service_now, ticket::ShanghaiTimeZone())
                << (history ? " (replaying its history)" : "") << ": " << stats_.tickets_created
                << " tickets created, " << queue_.size() << " waiting for their next step, "
                << stats_.failed_steps << " failed steps";
      last_report = real_now;
    }
    if (options_.exit_when_caught_up && real_now - service_now < kCaughtUp) {
      LOG(INFO) << "caught up with real time";
      return absl::OkStatus();
    }
    if (!more_to_create() && queue_.empty()) {
      LOG(INFO) << "every ticket has finished its scenario";
      return absl::OkStatus();
    }
    absl::Time next = queue_.empty() ? absl::InfiniteFuture() : queue_.top().at;
    if (more_to_create()) next = std::min(next, next_arrival);
    absl::Duration wait = absl::Seconds(1);
    if (next != absl::InfiniteFuture()) {
      wait = std::clamp((next - service_now) / speed, absl::Milliseconds(5), absl::Seconds(1));
    }
    if (pause_(wait)) return absl::OkStatus();
  }
}

}  // namespace hotline::simulator
