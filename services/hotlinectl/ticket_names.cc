#include "services/hotlinectl/ticket_names.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "hotline/ticket/v1/ticket.pb.h"
#include "services/hotlinectl/client_util.h"
#include "services/ticket/transitions.h"

namespace hotline::cli::ticket_names {

namespace api = ::hotline::ticket::v1;

constexpr EnumName kTicketStateNames[] = {
    {api::TICKET_STATE_PENDING_REVIEW, "pending-review", "待审核"},
    {api::TICKET_STATE_PENDING_DISPATCH, "pending-dispatch", "待派单"},
    {api::TICKET_STATE_IN_PROGRESS, "in-progress", "办理中"},
    {api::TICKET_STATE_PENDING_REDISPATCH, "pending-redispatch", "待改派"},
    {api::TICKET_STATE_PENDING_CALLBACK, "pending-callback", "待回访"},
    {api::TICKET_STATE_CLOSED, "closed", "已办结"},
    {api::TICKET_STATE_REJECTED, "rejected", "不予受理"},
    {api::TICKET_STATE_MERGED, "merged", "已并单"},
};
constexpr EnumName kKindNames[] = {
    {api::TICKET_KIND_CONSULTATION, "consultation", "咨询"},
    {api::TICKET_KIND_HELP_REQUEST, "help-request", "求助"},
    {api::TICKET_KIND_SUGGESTION, "suggestion", "建议"},
    {api::TICKET_KIND_COMPLAINT, "complaint", "投诉"},
    {api::TICKET_KIND_REPORT, "report", "举报"},
    {api::TICKET_KIND_UNRESOLVED_MATTER, "unresolved-matter", "办不成事"},
};
constexpr EnumName kChannelNames[] = {
    {api::CHANNEL_HOTLINE, "hotline", "12345热线"},
    {api::CHANNEL_MAYOR_MAILBOX, "mayor-mailbox", "市长信箱"},
    {api::CHANNEL_SERVICE_WINDOW, "service-window", "服务窗口"},
    {api::CHANNEL_WEB, "web", "网站"},
};
constexpr EnumName kUrgencyNames[] = {
    {api::URGENCY_NORMAL, "normal", "一般"},
    {api::URGENCY_URGENT, "urgent", "紧急"},
    {api::URGENCY_EMERGENCY, "emergency", "特急"},
};
constexpr EnumName kWarningNames[] = {
    {api::WARNING_LEVEL_NONE, "none", "无预警"},
    {api::WARNING_LEVEL_YELLOW, "yellow", "黄牌"},
    {api::WARNING_LEVEL_RED, "red", "红牌"},
};
constexpr EnumName kWorkOrderRoleNames[] = {
    {api::WORK_ORDER_ROLE_LEAD, "lead", "主办"},
    {api::WORK_ORDER_ROLE_ASSIST, "assist", "协办"},
};
constexpr EnumName kWorkOrderStateNames[] = {
    {api::WORK_ORDER_STATE_PENDING_SIGN, "pending-sign", "待签收"},
    {api::WORK_ORDER_STATE_SIGNED, "signed", "已签收"},
    {api::WORK_ORDER_STATE_RETURNED, "returned", "已退单"},
    {api::WORK_ORDER_STATE_REDISPATCHED, "redispatched", "已改派"},
    {api::WORK_ORDER_STATE_REPLIED, "replied", "已答复"},
    {api::WORK_ORDER_STATE_CANCELLED, "cancelled", "已撤销"},
};
constexpr EnumName kExtensionStateNames[] = {
    {api::EXTENSION_STATE_NONE, "none", "未申请"},
    {api::EXTENSION_STATE_REQUESTED, "requested", "待审批"},
    {api::EXTENSION_STATE_APPROVED, "approved", "已同意"},
    {api::EXTENSION_STATE_REFUSED, "refused", "未同意"},
    {api::EXTENSION_STATE_WITHDRAWN, "withdrawn", "已撤回"},
};
constexpr EnumName kCallbackResultNames[] = {
    {api::CALLBACK_RESULT_SATISFIED, "satisfied", "满意"},
    {api::CALLBACK_RESULT_BASICALLY_SATISFIED, "basically-satisfied", "基本满意"},
    {api::CALLBACK_RESULT_DISSATISFIED, "dissatisfied", "不满意"},
    {api::CALLBACK_RESULT_UNREACHABLE, "unreachable", "未接通"},
    {api::CALLBACK_RESULT_DECLINED, "declined", "拒评"},
};
constexpr EnumName kRoleNames[] = {
    {api::ROLE_AGENT, "agent", "话务员"},
    {api::ROLE_REVIEWER, "reviewer", "审核派单员"},
    {api::ROLE_DEPARTMENT, "department", "承办单位"},
    {api::ROLE_SUPERVISOR, "supervisor", "督办"},
    {api::ROLE_EDITOR, "editor", "知识库编辑"},
    {api::ROLE_ADMIN, "admin", "管理员"},
    {api::ROLE_SYSTEM, "system", "系统"},
};
// The event names and labels are the service's table's (services/ticket/transitions.h).
absl::Span<const EnumName> EventTypeNames() {
  static const auto* const names = [] {
    auto* out = new std::vector<EnumName>;
    for (const ::hotline::ticket::EventSpec& e : ::hotline::ticket::Events())
      out->push_back({e.type, e.name, e.label});
    return out;
  }();
  return *names;
}

const EnumTable kTicketStates{"TICKET_STATE_", kTicketStateNames};
const EnumTable kKinds{"TICKET_KIND_", kKindNames};
const EnumTable kChannels{"CHANNEL_", kChannelNames};
const EnumTable kUrgencies{"URGENCY_", kUrgencyNames};
const EnumTable kWarnings{"WARNING_LEVEL_", kWarningNames};
const EnumTable kWorkOrderRoles{"WORK_ORDER_ROLE_", kWorkOrderRoleNames};
const EnumTable kWorkOrderStates{"WORK_ORDER_STATE_", kWorkOrderStateNames};
const EnumTable kExtensionStates{"EXTENSION_STATE_", kExtensionStateNames};
const EnumTable kCallbackResults{"CALLBACK_RESULT_", kCallbackResultNames};
const EnumTable kRoles{"ROLE_", kRoleNames};
const EnumTable kEventTypes{"EVENT_TYPE_", EventTypeNames()};

namespace {

const EnumFlag kEnumFlags[] = {
    {"kind", &kKinds},         {"channel", &kChannels},
    {"urgency", &kUrgencies},  {"result", &kCallbackResults},
    {"state", &kTicketStates}, {"work_order_state", &kWorkOrderStates},
    {"warning", &kWarnings},
};

}  // namespace

absl::Span<const EnumFlag> EnumFlags() { return kEnumFlags; }

namespace {

const EnumName* FindEnum(const EnumTable& table, int value) {
  for (const EnumName& e : table.names) {
    if (e.value == value) return &e;
  }
  return nullptr;
}

}  // namespace

// "complaint"; "-" when unset.
std::string Name(const EnumTable& table, int value) {
  if (value == 0) return "-";
  const EnumName* e = FindEnum(table, value);
  return e != nullptr ? e->name : absl::StrCat("?", value);  // Newer server than this client.
}

// "投诉 complaint"; "-" when unset.
std::string Show(const EnumTable& table, int value) {
  const EnumName* e = FindEnum(table, value);
  return e != nullptr ? absl::StrCat(e->label, " ", e->name) : Name(table, value);
}

std::string ValueNames(const EnumTable& table) {
  return absl::StrJoin(table.names, ", ",
                       [](std::string* out, const EnumName& e) { out->append(e.name); });
}

// Accepts the lowercase name (with '-' or '_'), the Chinese term, or the proto name.
absl::StatusOr<int> ParseEnum(const EnumTable& table, absl::string_view flag,
                              absl::string_view text) {
  absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  std::string key = absl::AsciiStrToLower(trimmed);
  std::replace(key.begin(), key.end(), '_', '-');
  std::string prefix = absl::AsciiStrToLower(table.proto_prefix);
  std::replace(prefix.begin(), prefix.end(), '_', '-');
  absl::string_view short_key = key;
  absl::ConsumePrefix(&short_key, prefix);
  for (const EnumName& e : table.names) {
    if (short_key == e.name || trimmed == e.label) return e.value;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": unknown value '", text, "'; valid: ", ValueNames(table)));
}

// The value of a single-valued enum flag; 0 (UNSPECIFIED) when empty.
absl::StatusOr<int> ParseEnumFlag(const EnumTable& table, absl::string_view flag,
                                  const std::string& value) {
  if (value.empty()) return 0;
  if (absl::StrContains(value, ',')) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": give one value, not a list"));
  }
  return ParseEnum(table, flag, value);
}

// Appends every value of a list flag (repeated or comma-separated).
absl::Status AddEnums(const EnumTable& table, absl::string_view flag, const std::string& value,
                      google::protobuf::RepeatedField<int>* out) {
  for (const std::string& item : SplitList(value)) {
    ASSIGN_OR_RETURN(int parsed, ParseEnum(table, flag, item));
    out->Add(parsed);
  }
  return absl::OkStatus();
}

}  // namespace hotline::cli::ticket_names
