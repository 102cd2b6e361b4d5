// The metrics' counters and the figures made of them, each declared once.
//
// Counters (Field) are what the store keeps per (Shanghai day, department, category, channel).
// Each has a stable id, and stored rows name their counters by id (aggregates.cc), so adding a
// counter never changes how an existing row reads. Every counter also states its kind here;
// nothing is classified by where its id falls.
//
// Figures are the Rate and average fields of hotline.metrics.v1.Figures, declared in Rates()
// and Averages() from counters. The service's answers, the property test's reference count
// (which counts the counters its own way), hotlinectl and the dashboard (served as
// /metrics_vocabulary.js) all take them from here.
//
// Adding a rate of existing counters: its field in metrics.proto and its row in Rates().
// Adding a counter: the next id in Field and its row in kFieldSpecs, the items it counts in
// ticket_facts.cc (Contributions) and in the reference count (metrics_reference_count.cc).
#ifndef HOTLINE_SERVICES_METRICS_FIGURES_H_
#define HOTLINE_SERVICES_METRICS_FIGURES_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "hotline/metrics/v1/metrics.pb.h"

namespace hotline::metrics {

// The counters kept per (day, department, category, channel). Each is attributed to the day
// of the instant named in its comment, so a period's figure is the sum over its days. The
// numbers are stored: never renumber or reuse one.
enum Field : int {
  // On-time completion, by the cycle's deadline as extended.
  kOnTime = 0,          // replied on or before the deadline
  kLate = 1,            // replied after it
  kLapsed = 2,          // ended without a reply after the deadline had passed (closure)
  kOpenByDeadline = 3,  // still open: counts once the deadline has passed (time-dependent)
  // Timely signing, by the signing deadline.
  kSignTimely = 4,
  kSignLate = 5,
  kSignLapsed = 6,  // cancelled unsigned after the signing deadline had passed
  kSignOpen = 7,    // still awaiting signature: counts once the deadline has passed
  // Return rate, by dispatch time.
  kDispatched = 8,
  kReturned = 9,  // the return was accepted (re-routed or withdrawn)
  // By reply time.
  kReplied = 10,
  kReopened = 11,
  kHandlingMicros = 12,  // working microseconds from the start of the cycle to the reply
  // By callback time.
  kCallbackGood = 13,         // satisfied or basically satisfied
  kCallbackRated = 14,        // satisfied, basically satisfied or dissatisfied
  kCallbackUnreachable = 15,  // unreachable or declined
  // Backlog changes (+1 entering, -1 leaving), by the time of the change. The backlog at an
  // instant is the sum of the changes before it.
  kBacklogAwaitingSign = 16,
  kBacklogInProgress = 17,
  kBacklogExtensionRequested = 18,
  kBacklogReturnRequested = 19,
  kBacklogAwaitingCallback = 20,
  kBacklogYellow = 21,
  kBacklogRed = 22,
  // First-contact resolution (直接办结率), by creation time, counted for no department (the
  // hotline itself answers; department "" in the stored rows).
  kIntake = 23,            // tickets created (受理)
  kAnsweredDirectly = 24,  // of them, answered on the spot at creation
  // Signing time, by signing time.
  kSigned = 25,         // work orders signed
  kSigningMicros = 26,  // elapsed microseconds from dispatch to signing
};

enum class FieldKind {
  kCount,           // items of the window
  kOpenByDeadline,  // items that count once their deadline is before "now"
  kBacklogChange,   // changes summed up to an instant
};

struct FieldSpec {
  Field field;
  const char* name;  // For messages and the store's checks.
  FieldKind kind;
};

inline constexpr FieldSpec kFieldSpecs[] = {
    {kOnTime, "on_time", FieldKind::kCount},
    {kLate, "late", FieldKind::kCount},
    {kLapsed, "lapsed", FieldKind::kCount},
    {kOpenByDeadline, "open_by_deadline", FieldKind::kOpenByDeadline},
    {kSignTimely, "sign_timely", FieldKind::kCount},
    {kSignLate, "sign_late", FieldKind::kCount},
    {kSignLapsed, "sign_lapsed", FieldKind::kCount},
    {kSignOpen, "sign_open", FieldKind::kOpenByDeadline},
    {kDispatched, "dispatched", FieldKind::kCount},
    {kReturned, "returned", FieldKind::kCount},
    {kReplied, "replied", FieldKind::kCount},
    {kReopened, "reopened", FieldKind::kCount},
    {kHandlingMicros, "handling_micros", FieldKind::kCount},
    {kCallbackGood, "callback_good", FieldKind::kCount},
    {kCallbackRated, "callback_rated", FieldKind::kCount},
    {kCallbackUnreachable, "callback_unreachable", FieldKind::kCount},
    {kBacklogAwaitingSign, "backlog_awaiting_sign", FieldKind::kBacklogChange},
    {kBacklogInProgress, "backlog_in_progress", FieldKind::kBacklogChange},
    {kBacklogExtensionRequested, "backlog_extension_requested", FieldKind::kBacklogChange},
    {kBacklogReturnRequested, "backlog_return_requested", FieldKind::kBacklogChange},
    {kBacklogAwaitingCallback, "backlog_awaiting_callback", FieldKind::kBacklogChange},
    {kBacklogYellow, "backlog_yellow", FieldKind::kBacklogChange},
    {kBacklogRed, "backlog_red", FieldKind::kBacklogChange},
    {kIntake, "intake", FieldKind::kCount},
    {kAnsweredDirectly, "answered_directly", FieldKind::kCount},
    {kSigned, "signed", FieldKind::kCount},
    {kSigningMicros, "signing_micros", FieldKind::kCount},
};

namespace figures_internal {
constexpr int FieldCount() {
  int highest = -1;
  for (const FieldSpec& s : kFieldSpecs) highest = s.field > highest ? s.field : highest;
  return highest + 1;
}
// Every id below the count has exactly one row, at its own position.
constexpr bool RowsAreByField() {
  int i = 0;
  for (const FieldSpec& s : kFieldSpecs) {
    if (s.field != i++) return false;
  }
  return true;
}
constexpr size_t CountOfKind(FieldKind kind) {
  size_t n = 0;
  for (const FieldSpec& s : kFieldSpecs) n += s.kind == kind ? 1 : 0;
  return n;
}
}  // namespace figures_internal

constexpr int kFieldCount = figures_internal::FieldCount();
static_assert(figures_internal::RowsAreByField(),
              "kFieldSpecs must list every Field once, in the order of their ids");
using Counters = std::array<int64_t, kFieldCount>;

constexpr FieldKind KindOf(int field) { return kFieldSpecs[field].kind; }
constexpr bool IsBacklogField(int field) { return KindOf(field) == FieldKind::kBacklogChange; }
// Counts that depend on "now": an open item counts once its deadline has passed.
constexpr bool IsOpenField(int field) { return KindOf(field) == FieldKind::kOpenByDeadline; }

constexpr size_t kBacklogFieldCount = figures_internal::CountOfKind(FieldKind::kBacklogChange);
// The backlog fields, in id order.
constexpr std::array<Field, kBacklogFieldCount> BacklogFields() {
  std::array<Field, kBacklogFieldCount> out{};
  size_t n = 0;
  for (const FieldSpec& s : kFieldSpecs) {
    if (s.kind == FieldKind::kBacklogChange) out[n++] = s.field;
  }
  return out;
}
inline constexpr std::array<Field, kBacklogFieldCount> kBacklogFields = BacklogFields();

// A hotline.metrics.v1.Rate of Figures: numerator and denominator are sums of counters.
struct RateSpec {
  const char* field;  // The Figures field: "on_time_completion_rate".
  const char* label;  // How supervisors call it: 按期办结率.
  std::vector<Field> numerator;
  std::vector<Field> denominator;
  // What the two parts are, for hotlinectl's summary: "按期答复 / 期限已到或已答复的工作单".
  const char* definition;
  // The dashboard: element ids start with `key` ("on-time-rate"); the parts' words ("" shows
  // the bare numbers); a primary rate has a larger tile.
  const char* key;
  const char* numerator_label;
  const char* denominator_label;
  bool primary;
  // Items of the same kind the rate leaves out, shown beside it (callbacks nobody answered).
  int excluded = -1;  // A Field, or -1.
  const char* excluded_label = "";
};

// An average of Figures (a message with count, total_*, has_average and average_*): the total
// counter (microseconds) over the count counter, in hours.
struct AverageSpec {
  const char* field;  // The Figures field: "average_handling_time".
  const char* label;  // 平均办理时长.
  Field total_micros;
  Field count;
  const char* unit;  // "工作小时" or "小时".
  const char* key;   // The dashboard's element ids: "handling-hours", "handling-count".
};

inline const std::vector<RateSpec>& Rates() {
  static const auto* const kRates = new std::vector<RateSpec>{
      {"on_time_completion_rate",
       "按期办结率",
       {kOnTime},
       {kOnTime, kLate, kLapsed, kOpenByDeadline},
       "按期答复 / 期限已到或已答复的工作单",
       "on-time",
       "按期",
       "应办结",
       /*primary=*/true},
      {"callback_satisfaction_rate",
       "回访满意率",
       {kCallbackGood},
       {kCallbackRated},
       "满意+基本满意 / 已评价回访",
       "satisfaction",
       "满意",
       "有效回访",
       /*primary=*/true,
       kCallbackUnreachable,
       "未接通或拒评"},
      {"completion_rate",
       "办结率",
       {kOnTime, kLate},
       {kOnTime, kLate, kLapsed, kOpenByDeadline},
       "已答复 / 期限已到或已答复的工作单",
       "completion",
       "",
       "",
       false},
      {"timely_signing_rate",
       "及时签收率",
       {kSignTimely},
       {kSignTimely, kSignLate, kSignLapsed, kSignOpen},
       "按时签收 / 应签收",
       "signing",
       "",
       "",
       false},
      {"return_rate",
       "退单率",
       {kReturned},
       {kDispatched},
       "退单改派 / 派出工作单",
       "return",
       "",
       "",
       false},
      {"reopen_rate", "重办率", {kReopened}, {kReplied}, "重办 / 已答复", "reopen", "", "", false},
      {"first_contact_resolution_rate",
       "直接办结率",
       {kAnsweredDirectly},
       {kIntake},
       "当场答复 / 受理工单",
       "first-contact",
       "",
       "",
       false},
  };
  return *kRates;
}

inline const std::vector<AverageSpec>& Averages() {
  static const auto* const kAverages = new std::vector<AverageSpec>{
      {"average_handling_time", "平均办理时长", kHandlingMicros, kReplied, "工作小时", "handling"},
      {"average_signing_time", "平均签收用时", kSigningMicros, kSigned, "小时", "signing-time"},
  };
  return *kAverages;
}

v1::Rate MakeRate(int64_t numerator, int64_t denominator);

// The figures of summed counters: every declared rate and average, the backlog at `as_of`,
// and the callbacks left out of the satisfaction rate.
v1::Figures FiguresFromCounters(const Counters& counters, absl::Time as_of);

// The dashboard's script defining HOTLINE_METRICS_VOCABULARY: the rates and averages, in order,
// with their labels and element keys.
std::string VocabularyScript();

}  // namespace hotline::metrics

#endif  // HOTLINE_SERVICES_METRICS_FIGURES_H_
