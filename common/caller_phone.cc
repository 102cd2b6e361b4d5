#include "common/caller_phone.h"

#include "absl/strings/ascii.h"

namespace hotline {

std::string MaskPhone(const std::string& phone) {
  std::string out = phone;
  int digits = 0;
  for (char c : phone) digits += absl::ascii_isdigit(static_cast<unsigned char>(c));
  int seen = 0;
  for (char& c : out) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) continue;
    ++seen;
    if (digits < 8 || (seen > 3 && seen <= digits - 4)) c = '*';
  }
  return out;
}

}  // namespace hotline
