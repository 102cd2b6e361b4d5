#include "common/redis_client.h"

#include <gtest/gtest.h>

#include "tests/support/redis_server.h"
#include "tests/support/test_util.h"

namespace hotline {
namespace {

RedisOptions OptionsFor(const testing::RedisServer& server) {
  RedisOptions options = *ParseRedisAddress(server.address());
  options.connect_timeout = absl::Milliseconds(200);
  options.command_timeout = absl::Milliseconds(500);
  return options;
}

TEST(ParseRedisAddressTest, AcceptsHostPortOnly) {
  auto options = ParseRedisAddress("127.0.0.1:6380");
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->host, "127.0.0.1");
  EXPECT_EQ(options->port, 6380);
  EXPECT_FALSE(ParseRedisAddress("localhost").ok());
  EXPECT_FALSE(ParseRedisAddress("localhost:0").ok());
  EXPECT_FALSE(ParseRedisAddress(":6379").ok());
}

TEST(RedisClientTest, CommandsAndErrorReplies) {
  testing::TempDir dir;
  testing::RedisServer server(dir.path());
  ASSERT_TRUE(server.Start().ok());
  RedisClient client(OptionsFor(server));

  auto set = client.Command({"SET", "key", std::string("va\0lue", 6)});
  ASSERT_TRUE(set.ok()) << set.status();
  auto get = client.Command({"GET", "key"});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(std::string((*get)->str, (*get)->len), std::string("va\0lue", 6));

  auto wrong = client.Command({"INCR", "key"});
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  // An error reply does not break the connection.
  EXPECT_TRUE(client.Command({"PING"}).ok());
}

TEST(RedisClientTest, RecoversAfterTheServerRestarts) {
  testing::TempDir dir;
  testing::RedisServer server(dir.path());
  ASSERT_TRUE(server.Start().ok());
  RedisClient client(OptionsFor(server));
  ASSERT_TRUE(client.Command({"SET", "before", "1"}).ok());

  server.Kill();
  auto while_down = client.Command({"GET", "before"});
  EXPECT_EQ(while_down.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(client.connected());

  ASSERT_TRUE(server.Start().ok());  // Same port, same directory, AOF replayed.
  absl::StatusOr<RedisReplyPtr> after;
  ASSERT_TRUE(testing::WaitFor([&] {
    after = client.Command({"GET", "before"});
    return after.ok();
  })) << after.status();
  EXPECT_TRUE(client.connected());
  EXPECT_EQ(std::string((*after)->str, (*after)->len), "1");
}

}  // namespace
}  // namespace hotline
