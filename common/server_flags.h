// Flags shared by every server binary. Each can also come from the environment as
// HOTLINE_<FLAG_NAME>, e.g. HOTLINE_TOKEN_FILE (see program.h).
#ifndef HOTLINE_COMMON_SERVER_FLAGS_H_
#define HOTLINE_COMMON_SERVER_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/time/time.h"

ABSL_DECLARE_FLAG(std::string, listen);
ABSL_DECLARE_FLAG(std::string, port_file);
ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, tls_key);
ABSL_DECLARE_FLAG(int, max_request_bytes);
ABSL_DECLARE_FLAG(absl::Duration, shutdown_grace);
ABSL_DECLARE_FLAG(std::string, token_file);
ABSL_DECLARE_FLAG(std::string, credential_key_file);
ABSL_DECLARE_FLAG(std::string, data_dir);

#endif  // HOTLINE_COMMON_SERVER_FLAGS_H_
