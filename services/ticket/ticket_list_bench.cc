// ticket_list_bench: what a ListTickets page costs in a store of a province's size.
//
// 1. Generates --tickets tickets (default 1,000,000) through the store's own write path
//    (TicketStore::Commit, batches of 2,000, unsynced: generation only), spread over a year:
//    states, 40 departments, category paths of two or three segments, 200,000 callers, kinds,
//    channels, urgencies, deadlines (a part of the open ones overdue). With --store=DIR the
//    store is kept there and reused by the next run.
// 2. Serves it with the real TicketService on port 0 (synced writes, as deployed) and asks
//    every filter ListTickets offers, and the department console's backlog (its states, its
//    department, soonest deadline first), for pages of 50: --calls first pages each, p50/p99.
// 3. Pages through 10,000 tickets in pages of 500, and compares the whole walk with one page.
//
//   build/services/ticket/ticket_list_bench --tickets=1000000 --store=/var/tmp/list-bench
// Run from the repository root (the configuration and calendars are relative to it).
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/program.h"
#include "common/proto_time.h"
#include "common/rocks_store.h"
#include "common/service_host.h"
#include "common/status_macros.h"
#include "services/ticket/ticket_service.h"
#include "services/ticket/ticket_store.h"
#include "tests/support/latency_summary.h"
#include "tests/support/test_tokens.h"
#include "tests/support/test_util.h"

ABSL_FLAG(int, tickets, 1000000, "tickets in the store");
ABSL_FLAG(std::string, store, "",
          "keep the generated store here and reuse it (default: a "
          "temporary directory, removed at the end)");
ABSL_FLAG(int, calls, 100, "first pages asked per filter");
ABSL_FLAG(std::string, config, "deploy/config/ticket.textproto", "ticket configuration");
ABSL_FLAG(std::string, calendar_dir, "../shared/data/holiday-cn", "official holiday calendars");

namespace hotline::ticket {
namespace {

constexpr int kDepartments = 40;
constexpr int kCallers = 200000;

std::string Department(int i) { return absl::StrFormat("dept-%02d", i); }

std::string Category(int i) {
  static const char* const kTop[] = {"城乡建设", "交通运输", "社会保障", "市场监管",
                                     "生态环境", "教育",     "卫生健康", "公安"};
  static const char* const kMiddle[] = {"物业管理", "道路", "供水", "投诉", "噪音", "学位"};
  std::string path = absl::StrCat(kTop[i % 8], "/", kMiddle[(i / 8) % 6]);
  if (i % 3 == 0) absl::StrAppend(&path, "/细项", i % 5);
  return path;
}

// One synthetic ticket, as the machine would have left it (the fields listings look at).
v1::Ticket Synthetic(int n, int total, absl::Time now, std::mt19937_64& rng) {
  v1::Ticket t;
  t.set_id(absl::StrFormat("T20250101-%07d", n));
  // Ids are handed out as tickets are created (TicketStore::NewTicketId), so creation order
  // is id order, as in a real store; a minute of jitter.
  const absl::Time created = now - absl::Hours(24 * 365) +
                             absl::Seconds(static_cast<int64_t>(n) * 365 * 86400 / total) +
                             absl::Seconds(static_cast<int64_t>(rng() % 60));
  *t.mutable_create_time() = ToProtoTime(created);
  *t.mutable_update_time() = ToProtoTime(created + absl::Seconds(rng() % (5 * 86400)));
  // Most tickets of a year are closed; the rest are in the loop.
  static const v1::TicketState kStates[] = {
      v1::TICKET_STATE_CLOSED,           v1::TICKET_STATE_CLOSED,
      v1::TICKET_STATE_CLOSED,           v1::TICKET_STATE_CLOSED,
      v1::TICKET_STATE_CLOSED,           v1::TICKET_STATE_CLOSED,
      v1::TICKET_STATE_CLOSED,           v1::TICKET_STATE_IN_PROGRESS,
      v1::TICKET_STATE_PENDING_CALLBACK, v1::TICKET_STATE_PENDING_REVIEW,
      v1::TICKET_STATE_PENDING_DISPATCH, v1::TICKET_STATE_REJECTED};
  t.set_state(kStates[rng() % 12]);
  t.set_kind(static_cast<v1::TicketKind>(1 + rng() % 5));
  t.set_channel(static_cast<v1::Channel>(1 + rng() % 3));
  t.set_urgency(rng() % 10 == 0 ? v1::URGENCY_URGENT : v1::URGENCY_NORMAL);
  t.set_category_path(Category(static_cast<int>(rng() % 96)));
  t.set_caller_phone(absl::StrFormat("139%08d", static_cast<int>(rng() % kCallers)));
  t.set_cycle(1);
  if (t.state() != v1::TICKET_STATE_PENDING_REVIEW && t.state() != v1::TICKET_STATE_REJECTED &&
      t.state() != v1::TICKET_STATE_PENDING_DISPATCH) {
    // Open tickets of the last weeks mostly on time, some overdue; the old ones long replied.
    const absl::Time deadline = created + absl::Hours(24 * (3 + rng() % 10));
    *t.mutable_deadline() = ToProtoTime(deadline);
    for (int i = 0, orders = 1 + (rng() % 4 == 0); i < orders; ++i) {
      v1::WorkOrder* w = t.add_work_orders();
      w->set_id(absl::StrCat(t.id(), "-W", i + 1));
      w->set_department_id(Department(static_cast<int>(rng() % kDepartments)));
      w->set_role(i == 0 ? v1::WORK_ORDER_ROLE_LEAD : v1::WORK_ORDER_ROLE_ASSIST);
      w->set_cycle(1);
      w->set_state(
          t.state() == v1::TICKET_STATE_IN_PROGRESS
              ? (rng() % 3 == 0 ? v1::WORK_ORDER_STATE_PENDING_SIGN : v1::WORK_ORDER_STATE_SIGNED)
              : v1::WORK_ORDER_STATE_REPLIED);
      *w->mutable_deadline() = t.deadline();
      if (t.state() == v1::TICKET_STATE_IN_PROGRESS && rng() % 4 == 0) {
        t.set_warning_level(v1::WARNING_LEVEL_YELLOW);
      }
    }
  }
  return t;
}

absl::Status Generate(const std::string& path, int tickets) {
  ASSIGN_OR_RETURN(
      std::unique_ptr<RocksStore> db,
      RocksStore::Open(
          {.path = path, .column_families = TicketStore::Families(), .sync_writes = false}));
  TicketStore store(db.get(), [](const v1::WorkOrder&) { return absl::InfiniteFuture(); });
  RETURN_IF_ERROR(store.Init());
  std::mt19937_64 rng(20250101);
  const absl::Time now = absl::Now();
  const absl::Time start = absl::Now();
  for (int n = 1; n <= tickets;) {
    std::vector<TicketChange> changes;
    for (int i = 0; i < 2000 && n <= tickets; ++i, ++n) {
      changes.push_back(TicketChange{v1::Ticket(), Synthetic(n, tickets, now, rng), {}});
    }
    RETURN_IF_ERROR(store.Commit(&changes));
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  // Measured on a store that has settled, not one compacting what it was just given.
  rocksdb::CompactRangeOptions compact;
  for (const std::string& family : TicketStore::Families()) {
    rocksdb::Status s = db->db()->CompactRange(compact, db->Family(family), nullptr, nullptr);
    if (!s.ok()) return FromRocksStatus(s, "compacting");
  }
  std::printf("generated %d tickets in %.1f s (%.0f tickets/s)\n", tickets, seconds,
              tickets / seconds);
  std::ofstream(path + "/GENERATED") << tickets;
  return absl::OkStatus();
}

struct Filter {
  std::string name;
  v1::ListTicketsRequest request;
  std::string token = "supervisor";
};

std::vector<Filter> Filters(absl::Time now, int tickets) {
  std::vector<Filter> out;
  auto add = [&](std::string name, std::function<void(v1::ListTicketsRequest*)> set,
                 std::string token = "supervisor") {
    Filter f{std::move(name), {}, std::move(token)};
    f.request.set_page_size(50);
    set(&f.request);
    out.push_back(std::move(f));
  };
  add("none (create_time desc)", [](auto*) {});
  add("none, update_time", [](auto* r) { r->set_order_by("update_time"); });
  add("none, deadline", [](auto* r) { r->set_order_by("deadline"); });
  add("states [IN_PROGRESS]", [](auto* r) { r->add_states(v1::TICKET_STATE_IN_PROGRESS); });
  add("states [REVIEW, DISPATCH]", [](auto* r) {
    r->add_states(v1::TICKET_STATE_PENDING_REVIEW);
    r->add_states(v1::TICKET_STATE_PENDING_DISPATCH);
  });
  add("department_id", [](auto* r) { r->set_department_id(Department(7)); });
  add(
      "department backlog (as department)",
      [](auto* r) {
        r->add_states(v1::TICKET_STATE_IN_PROGRESS);
        r->add_states(v1::TICKET_STATE_PENDING_REDISPATCH);
        r->set_order_by("deadline");
      },
      "dept");
  add("work_order_states [PENDING_SIGN]",
      [](auto* r) { r->add_work_order_states(v1::WORK_ORDER_STATE_PENDING_SIGN); });
  add("category_prefix", [](auto* r) { r->set_category_prefix("城乡建设/物业管理"); });
  // A caller of the store: the first generated ticket's (the generator's seed is fixed).
  std::mt19937_64 rng(20250101);
  const std::string phone = Synthetic(1, tickets, now, rng).caller_phone();
  add("caller_phone", [phone](auto* r) { r->set_caller_phone(phone); });
  add("kinds", [](auto* r) { r->add_kinds(v1::TICKET_KIND_COMPLAINT); });
  add("channels", [](auto* r) { r->add_channels(v1::Channel(2)); });
  add("urgencies [URGENT]", [](auto* r) { r->add_urgencies(v1::URGENCY_URGENT); });
  add("warning_levels [YELLOW]", [](auto* r) { r->add_warning_levels(v1::WARNING_LEVEL_YELLOW); });
  add("overdue_only", [](auto* r) { r->set_overdue_only(true); });
  add("create_time range (30 days)", [now](auto* r) {
    *r->mutable_create_time_after() = ToProtoTime(now - absl::Hours(24 * 60));
    *r->mutable_create_time_before() = ToProtoTime(now - absl::Hours(24 * 30));
  });
  add("deadline range, by deadline", [now](auto* r) {
    r->set_order_by("deadline");
    *r->mutable_deadline_after() = ToProtoTime(now - absl::Hours(24 * 100));
    *r->mutable_deadline_before() = ToProtoTime(now - absl::Hours(24 * 90));
  });
  return out;
}

int Run() {
  std::string path = absl::GetFlag(FLAGS_store);
  std::unique_ptr<testing::TempDir> temporary;
  if (path.empty()) {
    temporary = std::make_unique<testing::TempDir>();
    path = temporary->Sub("tickets");
  }
  const int tickets = absl::GetFlag(FLAGS_tickets);
  std::string generated;
  std::ifstream(path + "/GENERATED") >> generated;
  if (generated != absl::StrCat(tickets)) {
    std::filesystem::remove_all(path);
    absl::Status made = Generate(path, tickets);
    if (!made.ok()) {
      std::fprintf(stderr, "generating: %s\n", made.ToString().c_str());
      return 1;
    }
  } else {
    std::printf("reusing the store of %d tickets in %s\n", tickets, path.c_str());
  }

  auto db = RocksStore::Open({.path = path, .column_families = TicketStore::Families()});
  auto calendar = WorkingCalendar::LoadDirectory(absl::GetFlag(FLAGS_calendar_dir));
  auto config = LoadTicketConfig(absl::GetFlag(FLAGS_config));
  if (!db.ok() || !calendar.ok() || !config.ok()) {
    std::fprintf(stderr, "cannot start: %s %s %s\n", db.status().ToString().c_str(),
                 calendar.status().ToString().c_str(), config.status().ToString().c_str());
    return 1;
  }
  Clock& clock = *Clock::Real();
  TicketServiceOptions options;
  options.config = *config;
  options.calendar = *calendar;
  options.clock = &clock;
  TicketService service(testing::TokensFor({{"supervisor", "supervisor-bench", "supervisor"},
                                            {"dept", "dept-system", "department", Department(7)}}),
                        db->get(), options);
  if (absl::Status s = service.Init(); !s.ok()) {
    std::fprintf(stderr, "init: %s\n", s.ToString().c_str());
    return 1;
  }
  ServiceHost host{ServiceHostOptions{}};
  host.AddService(&service, TicketService::kName);
  if (!host.Start().ok()) return 1;
  auto stub = v1::TicketService::NewStub(testing::LocalChannel(host.port()));

  auto call = [&](const v1::ListTicketsRequest& r, const std::string& token,
                  v1::ListTicketsResponse* out) {
    const absl::Time start = absl::Now();
    grpc::Status s = stub->ListTickets(testing::ContextWithToken(token).get(), r, out);
    if (!s.ok()) std::fprintf(stderr, "ListTickets: %s\n", s.error_message().c_str());
    return absl::ToDoubleMilliseconds(absl::Now() - start);
  };

  std::printf("\npages of 50, %d calls each (ms)\n", absl::GetFlag(FLAGS_calls));
  std::printf("%-40s %8s %8s %8s %10s\n", "filter", "p50", "p99", "max", "returned");
  double worst_p99 = 0;
  for (const Filter& f : Filters(clock.Now(), tickets)) {
    std::vector<double> ms;
    int returned = 0;
    v1::ListTicketsResponse out;
    call(f.request, f.token, &out);  // Warm the block cache for this index.
    for (int i = 0; i < absl::GetFlag(FLAGS_calls); ++i) {
      out.Clear();
      ms.push_back(call(f.request, f.token, &out));
      returned = out.tickets_size();
    }
    testing::LatencySummary s = testing::Summarise(ms);
    worst_p99 = std::max(worst_p99, s.p99);
    std::printf("%-40s %8.2f %8.2f %8.2f %10d\n", f.name.c_str(), s.p50, s.p99, s.max, returned);
  }

  // 10,000 tickets in pages of 500, against one page of 500.
  std::printf("\npaging through 10,000 tickets in pages of 500\n");
  for (const Filter& f : Filters(clock.Now(), tickets)) {
    if (f.name != "none (create_time desc)" && f.name != "department_id" &&
        f.name != "states [IN_PROGRESS]") {
      continue;
    }
    v1::ListTicketsRequest r = f.request;
    r.set_page_size(500);
    std::vector<double> single;
    for (int i = 0; i < 20; ++i) {
      v1::ListTicketsResponse out;
      single.push_back(call(r, f.token, &out));
    }
    const double one = testing::Summarise(single).p50;
    double total = 0;
    int seen = 0;
    while (seen < 10000) {
      v1::ListTicketsResponse out;
      total += call(r, f.token, &out);
      seen += out.tickets_size();
      if (out.next_page_token().empty()) break;
      r.set_page_token(out.next_page_token());
    }
    std::printf("%-40s one page %.2f ms, %d tickets %.1f ms: %.1f x one page\n", f.name.c_str(),
                one, seen, total, total / one);
  }
  std::printf("\nsummary: %d tickets; worst p99 of a page of 50 over every filter: %.2f ms\n",
              tickets, worst_p99);
  host.Shutdown();
  return 0;
}

}  // namespace
}  // namespace hotline::ticket

int main(int argc, char** argv) {
  hotline::InitProgram(argc, argv, "ticket_list_bench [--tickets=N] [--store=DIR]");
  return hotline::ticket::Run();
}
