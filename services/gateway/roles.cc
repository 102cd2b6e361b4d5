#include "services/gateway/roles.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "services/gateway/api_helpers.h"

namespace hotline::gateway {
namespace {

namespace tv1 = ::hotline::ticket::v1;

struct RolePages {
  tv1::Role role;
  const char* name;
  // The landing page first.
  std::vector<const char*> pages;
};

const std::vector<RolePages>& Table() {
  static const auto* table = new std::vector<RolePages>{
      {tv1::ROLE_AGENT, "agent", {"/intake.html", "/ticket.html", "/search.html"}},
      {tv1::ROLE_REVIEWER, "reviewer", {"/dispatch.html", "/ticket.html", "/search.html"}},
      {tv1::ROLE_SUPERVISOR,
       "supervisor",
       {"/overview.html", "/ranking.html", "/ticket.html", "/search.html"}},
      {tv1::ROLE_CALLBACK, "callback", {"/callback.html", "/ticket.html", "/search.html"}},
      {tv1::ROLE_DEPARTMENT, "department", {"/department.html", "/search.html"}},
      {tv1::ROLE_ADMIN,
       "admin",
       {"/overview.html", "/ranking.html", "/intake.html", "/dispatch.html", "/callback.html",
        "/admin.html", "/drafts.html", "/ticket.html", "/search.html"}},
      {tv1::ROLE_EDITOR, "editor", {"/drafts.html", "/search.html"}},
  };
  return *table;
}

}  // namespace

std::string SessionBody(const tv1::CallerIdentity& caller, const std::string& display_name) {
  nlohmann::json pages = nlohmann::json::array();
  std::string name = "unknown";
  for (const RolePages& r : Table()) {
    if (r.role != caller.role()) continue;
    name = r.name;
    for (const char* page : r.pages) pages.push_back(page);
  }
  if (pages.empty()) pages.push_back("/search.html");
  return ToJsonText(nlohmann::json{
      {"role", name},
      {"principal", caller.principal()},
      {"display_name", display_name.empty() ? caller.principal() : display_name},
      {"department_id", caller.department_id()},
      {"supervisor", caller.role() == tv1::ROLE_SUPERVISOR || caller.role() == tv1::ROLE_ADMIN},
      {"landing", pages.front()},
      {"pages", pages}});
}

}  // namespace hotline::gateway
