// The consoles' navigation bar, written once: every page has the marker kNavigationMarker
// where the bar goes, and the gateway puts the bar there as it serves the page, with the
// page's own link marked aria-current. Which links a person sees is the pages' business
// (common.js hides those their role cannot use); this is the whole list. The citizens'
// portal's pages (under /public/) get the portal's own bar the same way.
#ifndef HOTLINE_SERVICES_GATEWAY_NAVIGATION_H_
#define HOTLINE_SERVICES_GATEWAY_NAVIGATION_H_

#include <string>

#include "absl/strings/string_view.h"

namespace hotline::gateway {

inline constexpr char kNavigationMarker[] = "<!-- navigation -->";

// The bar for the page at `path` (e.g. "/dispatch.html", or "/public/track.html" for the
// portal's).
std::string NavigationBar(absl::string_view path);

// Replaces the marker in `page` with the bar for `path`. A page without the marker is left
// as it is.
void InsertNavigation(absl::string_view path, std::string* page);

}  // namespace hotline::gateway

#endif  // HOTLINE_SERVICES_GATEWAY_NAVIGATION_H_
