#include "services/gateway/navigation.h"

#include <tuple>

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
    {"/intake.html", "受理台"},
    {"/dispatch.html", "派单台"},
    {"/department.html", "承办单位工作台"},
    {"/callback.html", "回访台"},
    {"/overview.html", "督办总览"},
    {"/ranking.html", "考核排名"},
    {"/ticket.html", "工单详情"},
    {"/drafts.html", "问答提炼"},
    {"/search.html", "知识库检索"},
    {"/admin.html", "账号与审计"},
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
  for (const Page& page :
       portal ? absl::MakeConstSpan(kPortalPages) : absl::MakeConstSpan(kConsolePages)) {
    absl::StrAppend(&bar, "        <li><a href=\"", page.path, "\"",
                    path == page.path ? " aria-current=\"page\"" : "", ">", page.label,
                    "</a></li>\n");
  }
  absl::StrAppend(&bar, "      </ul>\n    </nav>");
  return bar;
}

std::string PortalHead(absl::string_view /*path*/) {
  return "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "  <link rel=\"stylesheet\" href=\"/app.css\">\n"
         "  <link rel=\"stylesheet\" href=\"/public/portal.css\">\n"
         "  <script src=\"/common.js\"></script>\n"
         "  <script src=\"/public/portal.js\" defer></script>";
}

std::string PortalHeader(absl::string_view path) {
  return absl::StrCat(
      "<a class=\"skip-link\" href=\"#main\">跳到主要内容</a>\n"
      "  <header class=\"site\">\n"
      "    <p class=\"brand\">12345 政务服务便民热线 · 政策问答</p>\n    ",
      NavigationBar(path),
      "\n    <div class=\"display-settings\" role=\"group\" aria-label=\"显示设置\">\n"
      "      <button type=\"button\" id=\"toggle-large-font\" "
      "aria-pressed=\"false\">大字号</button>\n"
      "      <button type=\"button\" id=\"toggle-high-contrast\" aria-pressed=\"false\">高对比度"
      "</button>\n"
      "      <button type=\"button\" id=\"read-aloud\" class=\"secondary\" "
      "title=\"朗读当前焦点或选中的文字（Alt+R）\">朗读</button>\n"
      "    </div>\n"
      "  </header>");
}

void InsertNavigation(absl::string_view path, std::string* page) {
  for (auto [marker, length, make] :
       {std::make_tuple(kNavigationMarker, sizeof(kNavigationMarker) - 1, &NavigationBar),
        std::make_tuple(kPortalHeadMarker, sizeof(kPortalHeadMarker) - 1, &PortalHead),
        std::make_tuple(kPortalHeaderMarker, sizeof(kPortalHeaderMarker) - 1, &PortalHeader)}) {
    const size_t at = page->find(marker);
    if (at != std::string::npos) page->replace(at, length, make(path));
  }
}

void InsertNavigationIntoPages(httplib::Server* server) {
  // In httplib's file handler: it runs before the answer's length is set and before it is
  // compressed. (HEAD skips it, so a HEAD of a page announces the file's own length.)
  server->set_file_request_handler(
      [](const httplib::Request& request, httplib::Response& response) {
        if (absl::EndsWith(request.path, ".html")) InsertNavigation(request.path, &response.body);
      });
}

}  // namespace hotline::gateway
