// Which consoles each role works in: the page a user lands on after login and the pages the
// navigation offers. One table, here, so that the pages never show a link to a console the
// services would refuse (the services still decide every call).
#ifndef HOTLINE_SERVICES_GATEWAY_ROLES_H_
#define HOTLINE_SERVICES_GATEWAY_ROLES_H_

#include <string>

#include "hotline/ticket/v1/ticket.pb.h"

namespace hotline::gateway {

// The body of GET/POST /api/session for the caller:
//   {"role": "agent", "principal": "...", "display_name": "...", "department_id": "",
//    "supervisor": false,
//    "landing": "/intake.html", "pages": ["/intake.html", "/ticket.html", "/search.html"]}
// `display_name`: the person's name from their account (empty for token logins).
std::string SessionBody(const ticket::v1::CallerIdentity& caller,
                        const std::string& display_name = "");

}  // namespace hotline::gateway

#endif  // HOTLINE_SERVICES_GATEWAY_ROLES_H_
