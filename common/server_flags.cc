#include "common/server_flags.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0",
          "host:port to serve gRPC on; port 0 picks a free port (see --port_file)");
ABSL_FLAG(std::string, port_file, "",
          "if set, the bound port is written to this file once the server is serving");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain; enables TLS together with --tls_key");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls_cert");
ABSL_FLAG(int, max_request_bytes, 4 << 20,
          "largest request message accepted; larger ones get RESOURCE_EXHAUSTED");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "how long in-flight calls may run after SIGTERM before they are cancelled");
ABSL_FLAG(std::string, token_file, "",
          "bearer-token file: 'sha256-hex principal role [department_id]' a line (required)");
ABSL_FLAG(std::string, credential_key_file, "",
          "file with the identity service's public key (hex); people signed in on the web are "
          "then accepted by the credentials it signs (common/credentials.h)");
ABSL_FLAG(std::string, data_dir, "", "directory of this service's RocksDB database (required)");
