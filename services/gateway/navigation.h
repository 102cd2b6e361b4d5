// The consoles' navigation bar, written once: every page has the marker kNavigationMarker
// where the bar goes, and the gateway puts the bar there as it serves the page, with the
// page's own link marked aria-current. Which links a person sees is the pages' business
// (common.js hides those their role cannot use); this is the whole list. The citizens'
// portal's pages (under /public/) get the portal's own bar the same way.
#ifndef HOTLINE_SERVICES_GATEWAY_NAVIGATION_H_
#define HOTLINE_SERVICES_GATEWAY_NAVIGATION_H_

#include <httplib.h>

#include <string>

#include "absl/strings/string_view.h"

namespace hotline::gateway {

inline constexpr char kNavigationMarker[] = "<!-- navigation -->";
// The citizens' portal's pages have one marker in their <head> for what every page loads
// (viewport, stylesheets, scripts), and one for their whole header: the skip link, the title,
// the bar and the display settings are the same on every page.
inline constexpr char kPortalHeadMarker[] = "<!-- portal head -->";
inline constexpr char kPortalHeaderMarker[] = "<!-- portal header -->";

// The bar for the page at `path` (e.g. "/dispatch.html", or "/public/track.html" for the
// portal's).
std::string NavigationBar(absl::string_view path);

// What every portal page loads, for its <head> (the same for every path).
std::string PortalHead(absl::string_view path);
// The portal's header for the page at `path` (under /public/).
std::string PortalHeader(absl::string_view path);

// Replaces the marker in `page` with the bar for `path`, and the portal's markers with its
// head and header. A page without a marker is left as it is.
void InsertNavigation(absl::string_view path, std::string* page);

// Has `server` put the bar into every .html page it serves from its mount points.
void InsertNavigationIntoPages(httplib::Server* server);

}  // namespace hotline::gateway

#endif  // HOTLINE_SERVICES_GATEWAY_NAVIGATION_H_
