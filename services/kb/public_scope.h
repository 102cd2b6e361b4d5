// The public scope (kb.proto, "Public scope"): what the citizens' portal may ask and what it
// is shown. Kept in one place so that a new internal field has one list to be left off, and
// so the rules can be tested without a server.
#ifndef HOTLINE_SERVICES_KB_PUBLIC_SCOPE_H_
#define HOTLINE_SERVICES_KB_PUBLIC_SCOPE_H_

#include "absl/status/status.h"
#include "hotline/kb/v1/kb.pb.h"

namespace hotline::kb {

// Policy documents, Q&A pairs and service guides; hot topics are agents' reply scripts.
bool IsPublicKind(v1::EntryKind kind);

// Refuses what the scope may not ask (inactive entries, a ticket, a kind that is not public),
// naming the field, and narrows the rest: only public kinds, never logged.
absl::Status NarrowSearchForPublic(v1::SearchRequest* request);
absl::Status NarrowSuggestForPublic(v1::SuggestRequest* request);

// Leave only what citizens may see (the list is in kb.proto, "Public scope").
void ScrubForPublic(v1::Entry* entry);
void ScrubForPublic(v1::SearchHit* hit);

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_PUBLIC_SCOPE_H_
