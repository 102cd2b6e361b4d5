#include "services/gateway/navigation.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"

namespace hotline::gateway {
namespace {

struct Page {
  const char* path;
  const char* label;
};

// In the order of the loop: take the call, dispatch, handle, call back, supervise; then the
// tools around it.
constexpr Page kConsolePages[] = {
    {"/intake.html", "受理台"},        {"/dispatch.html", "派单台"},
    {"/department.html", "承办单位工作台"}, {"/callback.html", "回访台"},
    {"/overview.html", "督办总览"},     {"/ranking.html", "考核排名"},
    {"/ticket.html", "工单详情"},       {"/drafts.html", "问答提炼"},
    {"/search.html", "知识库检索"},     {"/admin.html", "账号与审计"},
};

// The citizens' portal: look up, ask, follow.
constexpr Page kPortalPages[] = {
    {"/public/index.html", "政策查询"},
    {"/public/request.html", "我要留言"},
    {"/public/track.html", "办理进度"},
};

}  // namespace

std::string NavigationBar(absl::string_view path) {
  const bool portal = absl::StartsWith(path, "/public/");
  std::string bar =
      absl::StrCat("<nav aria-label=\"", portal ? "门户导航" : "主导航", "\">\n      <ul>\n");
  for (const Page& page : portal ? absl::MakeConstSpan(kPortalPages)
                                 : absl::MakeConstSpan(kConsolePages)) {
    absl::StrAppend(&bar, "        <li><a href=\"", page.path, "\"",
                    path == page.path ? " aria-current=\"page\"" : "", ">", page.label,
                    "</a></li>\n");
  }
  absl::StrAppend(&bar, "      </ul>\n    </nav>");
  return bar;
}

void InsertNavigation(absl::string_view path, std::string* page) {
  const size_t at = page->find(kNavigationMarker);
  if (at == std::string::npos) return;
  page->replace(at, sizeof(kNavigationMarker) - 1, NavigationBar(path));
}

}  // namespace hotline::gateway
