// The listing indexes of ListTickets, and the walks that answer its pages from them, so that a
// page costs about its own size whatever the store holds.
//
// Every ticket has one key per (dimension, order) in the store's index family:
//   l/<dimension>\x01<order>/<sort key>/<ticket id>
// Dimensions: "a" (every ticket), "s<NN>" (its state), "w<NN>" (the state of each active
// work order of the current cycle), "o" (one of them is open: the candidates of overdue),
// "g<NN>" (its warning level, when yellow or red), "c<path>" (its category path and each
// ancestor, by whole segments), "p<phone>" (its caller's number), "d<department>" (each
// department with an active current-cycle work order on it) and, within each such department,
// "d<department>\x02" followed by the ticket's state, that work order's state, or "o". Orders: "c"
// create_time, "u" update_time, "d" deadline (20 nines without one). Sort keys are fixed width, so
// the keys' order is the (sort key, id) order ListTickets promises, and a page token's position is
// a place in it.
//
// A page walks, from the token's position, the index of the request's most selective exact
// filter: the department (with the states, else the work-order states, else overdue, when
// given), else the caller phone, else work-order states, else warning levels (yellow or red
// only), else overdue, else states, else category, else every ticket; a filter of several
// values walks one index per value, merged. A create_time or deadline range on the order's own
// field bounds the walk. Each ticket walked is read from the same snapshot as the index, and the
// request's other filters are applied to it. Those left (kinds, channels, urgencies, the
// filters of lower rank above, a range on another field than the order) cost the tickets
// walked past: nothing when they are common, up to the walk's budget when they are
// rare. Then the page comes back short, with a token to go on from where the walk stopped,
// as the API allows.
#ifndef HOTLINE_SERVICES_TICKET_TICKET_LISTING_H_
#define HOTLINE_SERVICES_TICKET_TICKET_LISTING_H_

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hotline/ticket/v1/ticket.pb.h"

namespace hotline::ticket {

class TicketStore;

// Bumped when the keys' layout changes: the store rebuilds the listing keys on start.
inline constexpr char kListingLayout[] = "3";
// The prefix of every listing key, for that rebuild.
inline constexpr char kListingKeyPrefix[] = "l/";

// The listing keys a ticket should have.
std::vector<std::string> ListingKeys(const v1::Ticket& ticket);

// A ticket's sort key for `order_field` ("create_time", "update_time" or "deadline").
std::string ListingSortKey(const v1::Ticket& ticket, absl::string_view order_field);

struct ListingWalk {
  std::vector<std::string> prefixes;  // One sorted run each; merged.
  bool descending = false;
  std::string lower;  // Sort-key bounds: lower inclusive, upper exclusive; empty: none.
  std::string upper;
};

// The walk for a request already validated (order_field one of the three).
ListingWalk PlanListing(const v1::ListTicketsRequest& request, absl::string_view order_field,
                        bool descending);

struct ListingPage {
  std::vector<v1::Ticket> tickets;
  // "<sort key>/<ticket id>" to continue after; empty when the walk reached the end.
  std::string resume_after;
};

// Walks `walk` after the position `after` ("<sort key>/<ticket id>", empty: from the start),
// keeping the tickets `matches` accepts, until `page_size` are kept or `budget` tickets were
// walked past. Reads one snapshot and takes no lock.
absl::StatusOr<ListingPage> WalkListing(const TicketStore& store, const ListingWalk& walk,
                                        const std::string& after, size_t page_size, size_t budget,
                                        const std::function<bool(const v1::Ticket&)>& matches);

}  // namespace hotline::ticket

#endif  // HOTLINE_SERVICES_TICKET_TICKET_LISTING_H_
