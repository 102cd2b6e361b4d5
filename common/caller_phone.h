// How a caller's phone number is shown where it must not be read in full (departments, the
// consoles' lists): the first 3 and the last 4 digits, the rest as '*' ("138****5678");
// numbers of fewer than 8 digits entirely masked.
#ifndef HOTLINE_COMMON_CALLER_PHONE_H_
#define HOTLINE_COMMON_CALLER_PHONE_H_

#include <string>

namespace hotline {

std::string MaskPhone(const std::string& phone);

}  // namespace hotline

#endif  // HOTLINE_COMMON_CALLER_PHONE_H_
