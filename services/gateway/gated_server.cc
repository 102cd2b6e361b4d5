#include "services/gateway/gated_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <glog/logging.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/thread_priority.h"

namespace hotline::gateway {
namespace {

// Runs each accepted connection's task at once, on the accept loop's thread: the task only
// hands the socket to the watcher, so accepting never waits for a worker.
class InlineQueue : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

int PollMillis(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d) + 1, 60000));
}

// How much of `buffer` the request at its start needs, once its head is complete: 0 while the
// head is still arriving, else the head plus the body it announces (or just the head for a
// chunked body or one too large to buffer, which httplib reads or refuses itself).
size_t WholeRequestBytes(const std::string& buffer, size_t head_end, size_t max_body) {
  const size_t head_bytes = head_end + 4;
  absl::string_view head(buffer.data(), head_end);
  size_t content_length = 0;
  for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    absl::string_view name = absl::StripAsciiWhitespace(line.substr(0, colon));
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) return head_bytes;
    if (absl::EqualsIgnoreCase(name, "Content-Length")) {
      if (!absl::SimpleAtoi(value, &content_length) || content_length > max_body) {
        return head_bytes;  // httplib answers 400 or 413.
      }
    }
  }
  return head_bytes + content_length;
}

}  // namespace

struct GatedServer::Connection {
  int fd = -1;
  std::string buffer;       // Received, not yet consumed by a request.
  size_t scanned = 0;       // Where the search for the end of the head resumes.
  absl::Time deadline;      // Closed if no whole request has arrived by then.
  absl::Time parked_since;  // For choosing whom to close when full.
  bool request_started = false;
  bool peer_closed = false;
  int requests_served = 0;
};

// httplib's view of a connection in a worker: reads come from what the watcher buffered, then
// (for a chunked body) from the socket with a deadline; writes wait for room with a timeout.
class GatedServer::BufferedStream : public httplib::Stream {
 public:
  BufferedStream(Connection& connection, absl::Time read_deadline, absl::Duration write_timeout)
      : c_(connection), read_deadline_(read_deadline), write_timeout_(write_timeout) {}

  bool is_readable() const override {
    return offset_ < c_.buffer.size() || Wait(POLLIN, read_deadline_ - absl::Now());
  }
  bool is_writable() const override { return Wait(POLLOUT, write_timeout_); }

  ssize_t read(char* ptr, size_t size) override {
    if (offset_ < c_.buffer.size()) {
      size_t n = std::min(size, c_.buffer.size() - offset_);
      std::memcpy(ptr, c_.buffer.data() + offset_, n);
      offset_ += n;
      return static_cast<ssize_t>(n);
    }
    for (;;) {
      ssize_t n = ::recv(c_.fd, ptr, size, 0);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
      if (!Wait(POLLIN, read_deadline_ - absl::Now())) return -1;
    }
  }

  ssize_t write(const char* ptr, size_t size) override {
    size_t sent = 0;
    while (sent < size) {
      ssize_t n = ::send(c_.fd, ptr + sent, size - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && Wait(POLLOUT, write_timeout_)) {
        continue;
      }
      return -1;
    }
    return static_cast<ssize_t>(sent);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address;
    socklen_t length = sizeof(address);
    if (getpeername(c_.fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      Describe(address, ip, port);
    }
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address;
    socklen_t length = sizeof(address);
    if (getsockname(c_.fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      Describe(address, ip, port);
    }
  }
  socket_t socket() const override { return c_.fd; }

  // Bytes after the request just answered (a pipelined next request) stay for the next one.
  void KeepUnread() {
    c_.buffer.erase(0, offset_);
    c_.scanned = 0;
    offset_ = 0;
  }

 private:
  bool Wait(short events, absl::Duration timeout) const {
    pollfd p{c_.fd, events, 0};
    int n;
    do {
      n = ::poll(&p, 1, PollMillis(timeout));
    } while (n < 0 && errno == EINTR);
    return n > 0 && (p.revents & events) && !(p.revents & (POLLERR | POLLNVAL)) &&
           !((events & POLLOUT) && (p.revents & POLLHUP));
  }

  static void Describe(const sockaddr_storage& address, std::string& ip, int& port) {
    char text[INET6_ADDRSTRLEN] = {0};
    if (address.ss_family == AF_INET) {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
      inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
      port = ntohs(v4->sin_port);
    } else if (address.ss_family == AF_INET6) {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
      inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
      port = ntohs(v6->sin6_port);
    }
    ip = text;
  }

  Connection& c_;
  size_t offset_ = 0;
  absl::Time read_deadline_;
  absl::Duration write_timeout_;
};

GatedServer::GatedServer(GatedServerOptions options) : options_(options) {
  new_task_queue = [] { return new InlineQueue(); };
  // httplib writes an answer's head and body separately; with Nagle's algorithm the body
  // then waits for the client's delayed ACK of the head (40 ms on Linux) on every kept-alive
  // connection. Accepted sockets inherit the option from the listening one.
  set_tcp_nodelay(true);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  PCHECK(epoll_fd_ >= 0 && wake_fd_ >= 0) << "epoll/eventfd";
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = wake_fd_;
  PCHECK(epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event) == 0);
  workers_ = std::make_unique<WorkerPool>("http", std::max(1, options_.worker_threads));
  watcher_ = std::thread([this] { WatchLoop(); });
}

GatedServer::~GatedServer() {
  StopGate();
  close(epoll_fd_);
  close(wake_fd_);
}

void GatedServer::WidenBacklog(int backlog) {
  // listen() on a listening socket only changes its backlog.
  if (svr_sock_ != INVALID_SOCKET) ::listen(svr_sock_, backlog);
}

void GatedServer::StopGate() {
  if (stopping_.exchange(true)) return;
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
  if (watcher_.joinable()) watcher_.join();
  // Requests already handed over are answered (with Connection: close) before the join.
  workers_.reset();
}

bool GatedServer::process_and_close_socket(socket_t sock) {
  int flags = fcntl(sock, F_GETFL, 0);
  fcntl(sock, F_SETFL, flags | O_NONBLOCK);
  auto connection = std::make_unique<Connection>();
  connection->fd = sock;
  open_connections_.fetch_add(1);
  Park(std::move(connection), /*fresh=*/true);
  return true;
}

void GatedServer::Park(std::unique_ptr<Connection> connection, bool fresh) {
  if (stopping_.load()) return Close(std::move(connection), "");
  {
    absl::MutexLock lock(&mu_);
    incoming_.emplace_back(std::move(connection), fresh);
  }
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
}

void GatedServer::Close(std::unique_ptr<Connection> connection, absl::string_view last_words) {
  if (!last_words.empty()) {
    (void)!::send(connection->fd, last_words.data(), last_words.size(), MSG_NOSIGNAL);
  }
  ::shutdown(connection->fd, SHUT_RDWR);
  ::close(connection->fd);
  open_connections_.fetch_sub(1);
}

void GatedServer::CloseWatched(int fd, absl::string_view last_words) {
  auto it = watched_.find(fd);
  if (it == watched_.end()) return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  std::unique_ptr<Connection> connection = std::move(it->second);
  watched_.erase(it);
  Close(std::move(connection), last_words);
}

void GatedServer::TakeIncoming(absl::Time now) {
  std::vector<std::pair<std::unique_ptr<Connection>, bool>> batch;
  {
    absl::MutexLock lock(&mu_);
    batch.swap(incoming_);
  }
  for (auto& [connection, fresh] : batch) {
    if (fresh && open_connections_.load() > options_.max_connections) {
      // Full: the connection that has waited longest without sending a request makes room.
      auto oldest = watched_.end();
      for (auto it = watched_.begin(); it != watched_.end(); ++it) {
        if (oldest == watched_.end() || it->second->parked_since < oldest->second->parked_since) {
          oldest = it;
        }
      }
      if (oldest == watched_.end()) {
        Close(std::move(connection),
              "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        continue;
      }
      CloseWatched(oldest->first, "");
    }
    connection->parked_since = now;
    connection->request_started = !connection->buffer.empty();
    connection->deadline = now + (fresh || connection->request_started ? options_.request_timeout
                                                                       : options_.idle_timeout);
    const int fd = connection->fd;
    watched_[fd] = std::move(connection);
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.fd = fd;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
      CloseWatched(fd, "");
      continue;
    }
    // A pipelined request may already be whole in what the last one left behind.
    if (!watched_[fd]->buffer.empty()) Examine(fd);
  }
}

bool GatedServer::ReadAvailable(Connection& c) {
  char chunk[16 * 1024];
  for (;;) {
    ssize_t n = ::recv(c.fd, chunk, sizeof(chunk), 0);
    if (n > 0) {
      if (!c.request_started) {
        c.request_started = true;
        c.deadline = absl::Now() + options_.request_timeout;
      }
      c.buffer.append(chunk, static_cast<size_t>(n));
      if (c.buffer.size() > options_.max_head_bytes + options_.max_body_bytes + 4) break;
      continue;
    }
    if (n == 0) {
      // Half-closed: a request already sent whole is still answered.
      c.peer_closed = true;
      return !c.buffer.empty();
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    return false;
  }
  return true;
}

void GatedServer::HandOver(int fd) {
  auto it = watched_.find(fd);
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  std::unique_ptr<Connection> connection = std::move(it->second);
  watched_.erase(it);
  workers_->Schedule([this, c = connection.release()] {
    LowerThisThreadsPriority(options_.niceness);
    Serve(std::unique_ptr<Connection>(c));
  });
}

void GatedServer::Examine(int fd) {
  constexpr char kTooLarge[] =
      "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n"
      "Content-Length: 0\r\n\r\n";
  auto it = watched_.find(fd);
  if (it == watched_.end()) return;
  Connection& c = *it->second;
  if (!ReadAvailable(c)) return CloseWatched(fd, "");
  // Browsers may send a stray CRLF after a body; it is not a request.
  size_t begin = c.buffer.find_first_not_of("\r\n");
  if (begin == std::string::npos) {
    c.buffer.clear();
    c.scanned = 0;
  } else if (begin > 0) {
    c.buffer.erase(0, begin);
    c.scanned = 0;
  }
  size_t head_end = c.buffer.empty() ? std::string::npos : c.buffer.find("\r\n\r\n", c.scanned);
  if (head_end == std::string::npos) {
    c.scanned = c.buffer.size() >= 3 ? c.buffer.size() - 3 : 0;
    if (c.buffer.size() > options_.max_head_bytes) return CloseWatched(fd, kTooLarge);
    // The client has gone before sending a whole request: nothing more will come.
    if (c.peer_closed) return CloseWatched(fd, "");
    return;
  }
  if (head_end > options_.max_head_bytes) return CloseWatched(fd, kTooLarge);
  if (c.buffer.size() >= WholeRequestBytes(c.buffer, head_end, options_.max_body_bytes)) {
    return HandOver(fd);
  }
  if (c.peer_closed) CloseWatched(fd, "");
}

void GatedServer::WatchLoop() {
  LowerThisThreadsPriority(options_.niceness);
  constexpr char kTimeout[] =
      "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
  std::vector<epoll_event> events(256);
  while (!stopping_.load()) {
    absl::Time now = absl::Now();
    TakeIncoming(now);
    absl::Time next = now + absl::Seconds(1);
    std::vector<int> expired;
    for (const auto& [fd, c] : watched_) {
      if (c->deadline <= now) {
        expired.push_back(fd);
      } else {
        next = std::min(next, c->deadline);
      }
    }
    for (int fd : expired) {
      CloseWatched(fd, watched_[fd]->request_started ? absl::string_view(kTimeout) : "");
    }
    int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                       PollMillis(next - absl::Now()));
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t count;
        (void)!::read(wake_fd_, &count, sizeof(count));
        continue;
      }
      Examine(fd);
    }
  }
  TakeIncoming(absl::Now());
  std::vector<int> all;
  for (const auto& [fd, c] : watched_) all.push_back(fd);
  for (int fd : all) CloseWatched(fd, "");
}

void GatedServer::Serve(std::unique_ptr<Connection> connection) {
  // Keep-alive is capped so that one client's connection is recycled now and then.
  const bool close_after = stopping_.load() || connection->requests_served >= 99;
  bool connection_closed = false;
  bool ok;
  {
    BufferedStream stream(*connection, absl::Now() + options_.request_timeout,
                          options_.write_timeout);
    ok = process_request(stream, close_after, connection_closed, nullptr);
    stream.KeepUnread();
  }
  ++connection->requests_served;
  if (!ok || connection_closed || close_after || connection->peer_closed || stopping_.load()) {
    return Close(std::move(connection), "");
  }
  Park(std::move(connection), /*fresh=*/false);
}

}  // namespace hotline::gateway
