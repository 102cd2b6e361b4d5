// The page tokens of every service that pages (the knowledge base's Search and ListGaps, the
// ticket service's ListTickets and ListEvents, the metrics service's ListOverdue). Their parsers
// live inside the rpc handlers, so the services run in process (RocksDB in a temporary
// directory, a manual clock, calls over gRPC's in-process channel) over a little data made at
// start-up, and each input is a token presented to one rpc. The first byte picks the rpc, the
// second how the token is made: the bytes as they are, the bytes as the token's decoded text, a
// genuine token with the bytes spliced into its decoded text, or the genuine token unchanged.
// Checked:
//   - at start-up, for every rpc: page 1 and the page its token gives are the first two items
//     of one page twice as long (the service's own token round-trips);
//   - any token is answered OK or INVALID_ARGUMENT, never another failure or a crash, with at
//     most a page of items; the genuine token gives the same second page every time;
//   - a next_page_token the service hands out, whatever token led there, is accepted in turn.
#include <grpcpp/grpcpp.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/auth.h"
#include "common/clock.h"
#include "common/rocks_store.h"
#include "common/service_host.h"
#include "hotline/kb/v1/kb.grpc.pb.h"
#include "hotline/metrics/v1/metrics.grpc.pb.h"
#include "hotline/ticket/v1/ticket.grpc.pb.h"
#include "services/kb/kb_service.h"
#include "services/metrics/aggregates.h"
#include "services/metrics/metrics_service.h"
#include "services/ticket/ticket_service.h"
#include "services/ticket/working_calendar.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

namespace kbv1 = hotline::kb::v1;
namespace tv1 = hotline::ticket::v1;
namespace mv1 = hotline::metrics::v1;
using hotline::fuzz::SetupFailed;
using hotline::fuzz::SourcePath;

std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + token);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return context;
}

void MustOk(const grpc::Status& status, const std::string& what) {
  if (!status.ok()) SetupFailed(what + ": " + status.error_message());
}

// One paged rpc: asks for a page of `page_size` after `token`, and lists the page's items.
struct Endpoint {
  const char* name;
  // Whether the token is web-safe base64 of its text (ListEvents' is the text itself).
  bool base64;
  std::function<grpc::Status(const std::string& token, int page_size,
                             std::vector<std::string>* items, std::string* next)>
      call;
  std::string genuine;      // The next_page_token of page 1.
  std::string genuine_raw;  // Its decoded text.
  std::vector<std::string> second_page;
};

struct World {
  std::string directory;
  hotline::ManualClock clock{
      absl::FromCivil(absl::CivilHour(2024, 10, 14, 9), hotline::ticket::ShanghaiTimeZone())};
  std::shared_ptr<const hotline::TokenRegistry> tokens;
  std::unique_ptr<hotline::RocksStore> kb_db, ticket_db, metrics_db;
  std::unique_ptr<hotline::kb::KnowledgeBaseService> kb;
  std::unique_ptr<hotline::ticket::TicketService> tickets;
  std::unique_ptr<hotline::metrics::Aggregates> aggregates;
  std::unique_ptr<hotline::metrics::MetricsService> metrics;
  std::unique_ptr<hotline::ServiceHost> host;
  std::unique_ptr<kbv1::KnowledgeBaseService::Stub> kb_stub;
  std::unique_ptr<tv1::TicketService::Stub> ticket_stub;
  std::unique_ptr<mv1::MetricsService::Stub> metrics_stub;
  std::string first_ticket;
  std::vector<Endpoint> endpoints;
};

std::unique_ptr<hotline::RocksStore> OpenStore(const std::string& path,
                                               std::vector<std::string> families) {
  auto db = hotline::RocksStore::Open(
      {.path = path, .column_families = std::move(families), .sync_writes = false});
  if (!db.ok()) SetupFailed(db.status().ToString());
  return std::move(*db);
}

void StartServices(World& w) {
  // Under $TMPDIR (scripts/fuzz.sh points it into the build directory): a crash leaves the
  // directory behind.
  std::string pattern =
      (std::filesystem::temp_directory_path() / "hotline-fuzz-page-tokens-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) SetupFailed("mkdtemp failed in " + pattern);
  w.directory = pattern;
  std::string token_file;
  for (const char* role : {"agent", "reviewer", "supervisor", "editor"}) {
    token_file += absl::StrCat(hotline::HashToken(role), " ", role, "-fuzz ", role, "\n");
  }
  w.tokens = *hotline::TokenRegistry::Parse(token_file);

  auto calendar =
      hotline::ticket::WorkingCalendar::LoadDirectory(hotline::fuzz::SharedDataPath("holiday-cn"));
  if (!calendar.ok()) SetupFailed(calendar.status().ToString());
  auto config = hotline::ticket::LoadTicketConfig(SourcePath("deploy/config/ticket.textproto"));
  if (!config.ok()) SetupFailed(config.status().ToString());

  hotline::kb::AnalyzerOptions analyzer_options;
  analyzer_options.extra_dict_paths = {SourcePath("services/kb/text/data/domain_dict.txt")};
  analyzer_options.stopwords_path = SourcePath("services/kb/text/data/stopwords.txt");
  auto analyzer = hotline::kb::Analyzer::Create(analyzer_options);
  if (!analyzer.ok()) SetupFailed(analyzer.status().ToString());
  hotline::kb::KnowledgeBaseServiceOptions kb_options;
  kb_options.analyzer = std::shared_ptr<const hotline::kb::Analyzer>(std::move(*analyzer));
  kb_options.synonyms_path = SourcePath("services/kb/engine/data/synonyms.txt");
  kb_options.clock = &w.clock;
  kb_options.worker_threads = 2;
  w.kb_db = OpenStore(w.directory + "/kb", hotline::kb::KnowledgeBaseService::Families());
  w.kb = std::make_unique<hotline::kb::KnowledgeBaseService>(w.tokens, w.kb_db.get(), kb_options);
  if (absl::Status s = w.kb->Init(); !s.ok()) SetupFailed(s.ToString());

  hotline::ticket::TicketServiceOptions ticket_options;
  ticket_options.config = *config;
  ticket_options.calendar = *calendar;
  ticket_options.clock = &w.clock;
  ticket_options.worker_threads = 2;
  w.ticket_db = OpenStore(w.directory + "/tickets", hotline::ticket::TicketStore::Families());
  w.tickets =
      std::make_unique<hotline::ticket::TicketService>(w.tokens, w.ticket_db.get(), ticket_options);
  if (absl::Status s = w.tickets->Init(); !s.ok()) SetupFailed(s.ToString());

  w.metrics_db = OpenStore(w.directory + "/metrics", hotline::metrics::Aggregates::Families());
  w.aggregates = std::make_unique<hotline::metrics::Aggregates>(w.metrics_db.get(), *calendar);
  if (absl::Status s = w.aggregates->Load(); !s.ok()) SetupFailed(s.ToString());
  hotline::metrics::MetricsServiceOptions metrics_options;
  metrics_options.clock = &w.clock;
  metrics_options.worker_threads = 2;
  for (const auto& d : config->departments()) metrics_options.department_names[d.id()] = d.name();
  w.metrics = std::make_unique<hotline::metrics::MetricsService>(w.tokens, w.aggregates.get(),
                                                                 nullptr, metrics_options);

  // Hosted as every server hosts them (ServiceHost installs the interceptor that turns an
  // unparsable request into INVALID_ARGUMENT); its port stays unused, calls go in process.
  hotline::ServiceHostOptions host_options;
  host_options.shutdown_grace = absl::Seconds(2);
  w.host = std::make_unique<hotline::ServiceHost>(host_options);
  w.host->AddService(w.kb.get(), hotline::kb::KnowledgeBaseService::kName);
  w.host->AddService(w.tickets.get(), hotline::ticket::TicketService::kName);
  w.host->AddService(w.metrics.get(), hotline::metrics::MetricsService::kName);
  if (absl::Status s = w.host->Start(); !s.ok()) SetupFailed(s.ToString());
  std::shared_ptr<grpc::Channel> channel =
      w.host->server()->InProcessChannel(grpc::ChannelArguments());
  w.kb_stub = kbv1::KnowledgeBaseService::NewStub(channel);
  w.ticket_stub = tv1::TicketService::NewStub(channel);
  w.metrics_stub = mv1::MetricsService::NewStub(channel);
}

// Invented entries and tickets, enough for a second page of every list.
void AddData(World& w) {
  const char* const kTitles[] = {"长沙市职工住院医疗待遇办法", "长沙市城乡居民住院报销规定",
                                 "长沙市异地住院备案实施细则"};
  for (int i = 0; i < 3; ++i) {
    kbv1::UpsertEntryRequest r;
    kbv1::Entry* e = r.mutable_entry();
    e->set_id(absl::StrCat("fuzz-policy-", i));
    e->set_kind(kbv1::ENTRY_KIND_POLICY_DOCUMENT);
    e->set_title(kTitles[i]);
    e->set_region("湖南/长沙");
    e->set_category_path("社会保障/医疗保险");
    e->mutable_policy_document()->set_doc_number(absl::StrCat("长医保发〔2024〕", i + 1, "号"));
    e->mutable_policy_document()->add_issuing_agencies("长沙市医疗保障局");
    e->mutable_policy_document()->set_publish_date("2024-03-01");
    r.mutable_raw_content()->set_format(kbv1::CONTENT_FORMAT_PLAIN_TEXT);
    r.mutable_raw_content()->set_text(
        "第一条 参保人员住院发生的医疗费用，按本办法报销。\n"
        "第二条 住院起付标准以上的费用由统筹基金支付百分之八十。\n"
        "第三条 异地住院应当先备案。");
    kbv1::UpsertEntryResponse out;
    MustOk(w.kb_stub->UpsertEntry(As("editor").get(), r, &out), "UpsertEntry");
  }
  // Searches that find nothing become the knowledge base's gaps.
  for (const char* query : {"火星基地建设补贴", "量子通信专项资金申领", "月球车年检"}) {
    kbv1::SearchRequest r;
    r.set_query(query);
    kbv1::SearchResponse out;
    MustOk(w.kb_stub->Search(As("agent").get(), r, &out), "Search for a gap");
  }

  for (int i = 0; i < 3; ++i) {
    tv1::CreateTicketRequest create;
    create.set_request_id(absl::StrCat("fuzz-create-", i));
    create.mutable_ticket()->set_kind(tv1::TICKET_KIND_COMPLAINT);
    create.mutable_ticket()->set_channel(tv1::CHANNEL_HOTLINE);
    create.mutable_ticket()->set_content(absl::StrCat("小区停水第", i + 1, "天，无人处理"));
    tv1::Ticket t;
    MustOk(w.ticket_stub->CreateTicket(As("agent").get(), create, &t), "CreateTicket");
    if (i == 0) w.first_ticket = t.id();
    tv1::ConfirmTicketRequest confirm;
    confirm.set_ticket_id(t.id());
    confirm.set_expected_version(t.version());
    MustOk(w.ticket_stub->ConfirmTicket(As("reviewer").get(), confirm, &t), "ConfirmTicket");
    tv1::DispatchTicketRequest dispatch;
    dispatch.set_ticket_id(t.id());
    dispatch.set_expected_version(t.version());
    dispatch.mutable_lead()->set_department_id("water");
    dispatch.mutable_lead()->mutable_time_limit()->set_hours(2);
    MustOk(w.ticket_stub->DispatchTicket(As("reviewer").get(), dispatch, &t), "DispatchTicket");
  }
  // Past the deadlines: every work order carries a red card, and the metrics hear of it.
  w.clock.Advance(absl::Hours(3));
  if (!w.tickets->RunDueWarnings().ok()) SetupFailed("RunDueWarnings failed");
  std::vector<tv1::TicketEvent> events;
  absl::Status scanned = w.tickets->store().ScanAllEvents(0, [&](const tv1::TicketEvent& e) {
    events.push_back(e);
    return true;
  });
  if (!scanned.ok()) SetupFailed(scanned.ToString());
  if (absl::Status s = w.aggregates->Apply(events); !s.ok()) SetupFailed(s.ToString());
}

using Call =
    std::function<grpc::Status(const std::string&, int, std::vector<std::string>*, std::string*)>;

void AddEndpoint(World& w, const char* name, bool base64, Call call) {
  Endpoint e;
  e.name = name;
  e.base64 = base64;
  e.call = std::move(call);
  w.endpoints.push_back(std::move(e));
}

void DefineEndpoints(World& w) {
  AddEndpoint(w, "kb.Search", true,
              [&w](const std::string& token, int page_size, std::vector<std::string>* items,
                   std::string* next) {
                kbv1::SearchRequest r;
                r.set_query("住院报销");
                r.set_page_size(page_size);
                r.set_page_token(token);
                r.set_exclude_from_statistics(true);  // No state across inputs.
                kbv1::SearchResponse out;
                grpc::Status s = w.kb_stub->Search(As("agent").get(), r, &out);
                for (const auto& h : out.hits()) {
                  items->push_back(absl::StrCat(h.entry_id(), "#", h.passage_label()));
                }
                *next = out.next_page_token();
                return s;
              });
  AddEndpoint(w, "kb.ListGaps", true,
              [&w](const std::string& token, int page_size, std::vector<std::string>* items,
                   std::string* next) {
                kbv1::ListGapsRequest r;
                r.set_page_size(page_size);
                r.set_page_token(token);
                kbv1::ListGapsResponse out;
                grpc::Status s = w.kb_stub->ListGaps(As("editor").get(), r, &out);
                for (const auto& g : out.gaps()) items->push_back(g.id());
                *next = out.next_page_token();
                return s;
              });
  AddEndpoint(w, "ticket.ListTickets", true,
              [&w](const std::string& token, int page_size, std::vector<std::string>* items,
                   std::string* next) {
                tv1::ListTicketsRequest r;
                r.set_page_size(page_size);
                r.set_page_token(token);
                tv1::ListTicketsResponse out;
                grpc::Status s = w.ticket_stub->ListTickets(As("supervisor").get(), r, &out);
                for (const auto& t : out.tickets()) items->push_back(t.id());
                *next = out.next_page_token();
                return s;
              });
  AddEndpoint(w, "ticket.ListEvents", false,
              [&w](const std::string& token, int page_size, std::vector<std::string>* items,
                   std::string* next) {
                tv1::ListEventsRequest r;
                r.set_ticket_id(w.first_ticket);
                r.set_page_size(page_size);
                r.set_page_token(token);
                tv1::ListEventsResponse out;
                grpc::Status s = w.ticket_stub->ListEvents(As("supervisor").get(), r, &out);
                for (const auto& e : out.events()) {
                  items->push_back(absl::StrCat(e.sequence()));
                }
                *next = out.next_page_token();
                return s;
              });
  AddEndpoint(w, "metrics.ListOverdue", true,
              [&w](const std::string& token, int page_size, std::vector<std::string>* items,
                   std::string* next) {
                mv1::ListOverdueRequest r;
                r.set_page_size(page_size);
                r.set_page_token(token);
                mv1::ListOverdueResponse out;
                grpc::Status s = w.metrics_stub->ListOverdue(As("supervisor").get(), r, &out);
                for (const auto& o : out.items()) items->push_back(o.work_order_id());
                *next = out.next_page_token();
                return s;
              });
}

// Page 1, the page its token gives, and one page twice as long, which must agree.
void LearnGenuineTokens(World& w) {
  for (Endpoint& e : w.endpoints) {
    std::vector<std::string> first, both;
    std::string next, ignored;
    // The knowledge base notes gaps on a worker: wait until they are all in.
    for (int attempt = 0;; ++attempt) {
      first.clear();
      MustOk(e.call("", 1, &first, &e.genuine), absl::StrCat(e.name, " page 1"));
      if (!e.genuine.empty()) break;
      if (attempt == 200) SetupFailed(absl::StrCat(e.name, ": no second page to page to"));
      absl::SleepFor(absl::Milliseconds(50));
    }
    MustOk(e.call(e.genuine, 1, &e.second_page, &next), absl::StrCat(e.name, " page 2"));
    MustOk(e.call("", 2, &both, &ignored), absl::StrCat(e.name, " double page"));
    std::vector<std::string> paged = first;
    paged.insert(paged.end(), e.second_page.begin(), e.second_page.end());
    // Not a set-up problem: the service's own token does not round-trip.
    FUZZ_CHECK(paged == both) << e.name << ": pages 1 and 2 are [" << absl::StrJoin(paged, ", ")
                              << "], one page of two is [" << absl::StrJoin(both, ", ") << "]";
    if (e.base64) {
      FUZZ_CHECK(absl::WebSafeBase64Unescape(e.genuine, &e.genuine_raw))
          << e.name << ": its own token '" << e.genuine << "' is not base64";
    } else {
      e.genuine_raw = e.genuine;
    }
  }
}

World* world = nullptr;

// An orderly end when libFuzzer exits normally: the server first, so that no call is in flight
// while the services and their stores go, then the temporary directory.
void ShutDown() {
  const std::string directory = world->directory;
  world->host->Shutdown();
  delete world;
  world = nullptr;
  std::error_code ignored;
  std::filesystem::remove_all(directory, ignored);
}

World& SharedWorld() {
  if (world == nullptr) {
    world = new World();
    StartServices(*world);
    std::atexit(ShutDown);
    AddData(*world);
    DefineEndpoints(*world);
    LearnGenuineTokens(*world);
  }
  return *world;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  SharedWorld();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = SharedWorld();
  hotline::fuzz::ByteReader in(data, size);
  Endpoint& e = w.endpoints[in.Byte() % w.endpoints.size()];
  const int mode = in.Byte() % 4;
  std::string token;
  switch (mode) {
    case 0:
      token = in.Rest();
      break;
    case 1: {
      const std::string raw = in.Rest();
      token = e.base64 ? absl::WebSafeBase64Escape(raw) : raw;
      break;
    }
    case 2: {
      // A forgery close to the real thing: the genuine text with a stretch replaced.
      std::string raw = e.genuine_raw;
      const size_t at = in.Byte() % (raw.size() + 1);
      const size_t cut = std::min<size_t>(in.Byte() % 24, raw.size() - at);
      raw.replace(at, cut, in.Rest());
      token = e.base64 ? absl::WebSafeBase64Escape(raw) : raw;
      break;
    }
    default:
      token = e.genuine;
      break;
  }

  std::vector<std::string> items;
  std::string next;
  const grpc::Status status = e.call(token, 1, &items, &next);
  FUZZ_CHECK(status.ok() || status.error_code() == grpc::StatusCode::INVALID_ARGUMENT)
      << e.name << ": token '" << absl::CEscape(token) << "' answered with code "
      << status.error_code() << ": " << status.error_message();
  if (!status.ok()) {
    FUZZ_CHECK(status.error_message().find("page_token") != std::string::npos)
        << e.name << ": refused without naming page_token: " << status.error_message();
    return 0;
  }
  FUZZ_CHECK(items.size() <= 1) << e.name << ": " << items.size() << " items on a page of 1";
  if (mode == 3) {
    FUZZ_CHECK(items == e.second_page)
        << e.name << ": its own token gave [" << absl::StrJoin(items, ", ") << "], before ["
        << absl::StrJoin(e.second_page, ", ") << "]";
  }
  if (!next.empty()) {
    std::vector<std::string> after;
    std::string ignored;
    const grpc::Status followed = e.call(next, 1, &after, &ignored);
    FUZZ_CHECK(followed.ok()) << e.name << ": its own next_page_token '" << absl::CEscape(next)
                              << "' (after token '" << absl::CEscape(token)
                              << "') was refused: " << followed.error_message();
  }
  return 0;
}
