// What both of the gateway's HTTP faces (the staff consoles and the citizens' portal) do to
// every request and answer whatever the route: refuse what no handler should see (control
// bytes in the path, text that is not UTF-8), answer errors and exceptions in the API's
// shape, and send the same security headers.
#ifndef HOTLINE_SERVICES_GATEWAY_HTTP_HARDENING_H_
#define HOTLINE_SERVICES_GATEWAY_HTTP_HARDENING_H_

#include <httplib.h>

#include <string>

namespace hotline::gateway {

// True (and a 400 naming the part sent) when the request's path or query cannot be let in.
bool RefuseMalformedRequest(const httplib::Request& request, httplib::Response& response);

// The error handler (a JSON body for an unknown /api/ route) and the exception handler (a
// 500 in the API's shape, logged) of `server`.
void InstallErrorHandlers(httplib::Server* server);

// Content-Security-Policy and the other headers every answer carries; /api/ answers are
// never cached by browsers or proxies.
void SetSecurityHeaders(const httplib::Request& request, httplib::Response& response);

// Where the request comes from: the proxy's header `header` when set and well formed (see
// GatewayOptions::client_address_header), else the connection's peer.
std::string ClientAddress(const httplib::Request& request, const std::string& header);

}  // namespace hotline::gateway

#endif  // HOTLINE_SERVICES_GATEWAY_HTTP_HARDENING_H_
