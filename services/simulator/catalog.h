// The demo's repertoire: matters citizens report to a city's 12345 hotline (set in 长沙市, like
// the demo knowledge base), with the department that handles each, the department a
// dispatcher might send it to by mistake, and what a department replies. Fictional content,
// written for the demo.
#ifndef HOTLINE_SERVICES_SIMULATOR_CATALOG_H_
#define HOTLINE_SERVICES_SIMULATOR_CATALOG_H_

#include <vector>

#include "hotline/ticket/v1/ticket.pb.h"

namespace hotline::simulator {

struct Matter {
  // The lead department (主办), an id of deploy/config/ticket.textproto.
  const char* department;
  // An assisting department (协办) it sometimes needs, or nullptr.
  const char* assist;
  // A department a dispatcher plausibly picks by mistake, which returns it (退单), or nullptr;
  // with the reason it gives.
  const char* misrouted_to;
  const char* return_reason;
  ticket::v1::TicketKind kind;
  ticket::v1::Urgency urgency;
  const char* category;
  // The caller's words; "{地点}" is replaced by a place in a district.
  const char* content;
  // The department's answer to the citizen.
  const char* reply;
  // For unresolved matters (办不成事), the working days the dispatcher gives; 0 otherwise.
  int unresolved_working_days;
  // Whether callers usually ask for confidentiality (reports).
  bool confidential;
};

// A matter outside the government's remit, rejected at review with `reason`.
struct OutOfRemit {
  const char* content;
  const char* reason;
};

struct District {
  const char* name;
  const char* code;  // 行政区划代码.
  std::vector<const char*> places;
};

const std::vector<Matter>& Matters();
const std::vector<OutOfRemit>& OutOfRemitMatters();
const std::vector<District>& Districts();
// Surnames for callers' names ("王女士").
const std::vector<const char*>& Surnames();

}  // namespace hotline::simulator

#endif  // HOTLINE_SERVICES_SIMULATOR_CATALOG_H_
