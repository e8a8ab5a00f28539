// C++ plugins through a real pprocd: the example plugin's callables in Map,
// Queue and Start, and plugins that stop the server at start with a reason.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"

namespace pprocd::testing {
namespace {

using google::protobuf::Value;

class PluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = ServerProcess::Start({.extra_args = {"--plugin", WORDCOUNT_PLUGIN}}, &error);
    ASSERT_NE(server_, nullptr) << error;
    stub_ = server_->NewStub();
    text_path_ = server_->dir() + "/poem.txt";
    std::ofstream(text_path_) << "the cat sat\non the mat\nthe end\n";
  }
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::ProcessFarmService::Stub> stub_;
  std::string text_path_;
};

TEST_F(PluginTest, ListCallablesShowsThePluginsCallablesWithTheirOrigin) {
  grpc::ClientContext context;
  v1::ListCallablesResponse response;
  ASSERT_OK(stub_->ListCallables(&context, {}, &response));
  std::map<std::string, v1::Callable> by_name;
  for (const auto& callable : response.callables()) by_name[callable.name()] = callable;
  ASSERT_TRUE(by_name.count("wordcount"));
  EXPECT_EQ(by_name["wordcount"].origin(), WORDCOUNT_PLUGIN);
  EXPECT_EQ(by_name["wordcount"].parameters(0).name(), "path");
  EXPECT_EQ(by_name["wordcount"].parameters(0).type(), v1::PARAMETER_TYPE_STRING);
  EXPECT_EQ(by_name["grep"].kind(), v1::CALLABLE_KIND_CHANNEL);
  EXPECT_EQ(by_name["top_words"].parameters(1).default_value().number_value(), 10);
  EXPECT_TRUE(by_name.count("echo")) << "built-ins stay";
}

TEST_F(PluginTest, MapRunsThePluginOnFiles) {
  const std::string missing = server_->dir() + "/missing.txt";
  ItemsOutcome outcome = RunItems(stub_.get(), true, "wordcount", {Str(text_path_), Str(missing)});
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 2u);
  const auto& fields = outcome.results[0].value().struct_value().fields();
  EXPECT_EQ(fields.at("lines").number_value(), 3);
  EXPECT_EQ(fields.at("words").number_value(), 8);
  EXPECT_EQ(fields.at("bytes").number_value(), 31);  // 12 + 11 + 8, as wc -c
  EXPECT_EQ(outcome.results[1].error().kind(), v1::ERROR_KIND_RAISED);
  EXPECT_NE(outcome.results[1].error().message().find("cannot open"), std::string::npos);

  ItemsOutcome top = RunItems(stub_.get(), true, "top_words", {List({Str(text_path_), Num(1)})});
  ASSERT_OK(top.status);
  const auto& first = top.results[0].value().list_value().values(0).list_value();
  EXPECT_EQ(first.values(0).string_value(), "the");
  EXPECT_EQ(first.values(1).number_value(), 3);
}

TEST_F(PluginTest, ThePluginsChannelCallableStreamsOverStartAndQueue) {
  grpc::ClientContext context;
  auto stream = stub_->Start(&context);
  v1::StartRequest first;
  first.set_callable("grep");
  *first.mutable_arguments() = List({Str(text_path_), Str("the")});
  ASSERT_TRUE(stream->Write(first));
  stream->WritesDone();
  std::vector<Value> messages;
  v1::StartResponse response;
  double matches = -1;
  while (stream->Read(&response)) {
    if (response.has_message()) messages.push_back(response.message());
    if (response.has_result()) matches = response.result().value().number_value();
  }
  ASSERT_OK(stream->Finish());
  EXPECT_EQ(matches, 3);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[1].struct_value().fields().at("line").number_value(), 2);
  EXPECT_EQ(messages[1].struct_value().fields().at("text").string_value(), "on the mat");

  ItemsOutcome queued = RunItems(stub_.get(), false, "grep", {List({Str(text_path_), Str("cat")})});
  ASSERT_OK(queued.status);
  ASSERT_EQ(queued.results.size(), 2u);  // one match, then the count
  EXPECT_FALSE(queued.results[0].last());
  EXPECT_TRUE(queued.results[1].last());
}

// Starts pprocd with one plugin; it must exit 1 at once with `expected` in
// its message.
void ExpectRefusedAtStart(const std::string& plugin, const std::string& expected) {
  const std::string dir = MakeTempDir();
  const CommandRun run = RunCommand(std::string(PPROCD_BINARY_PATH) + " --listen unix:" + dir +
                                    "/s.sock --state-dir " + dir + "/var --plugin " + plugin);
  RemoveTree(dir);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("plugin " + plugin + ": "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find(expected), std::string::npos) << run.output;
}

TEST(BadPluginTest, APluginThatCannotLoadStopsTheServerNamingItAndTheReason) {
  ExpectRefusedAtStart("/nonexistent/libnothing.so", "cannot load");
  ExpectRefusedAtStart(BAD_PLUGIN_DUPLICATE, "callable echo is registered twice");
  ExpectRefusedAtStart(BAD_PLUGIN_CRASH, "crashed while loading (SIGSEGV)");
  ExpectRefusedAtStart(BAD_PLUGIN_NO_SYMBOL, "no function pprocd_plugin_register_v1");
  ExpectRefusedAtStart(BAD_PLUGIN_EMPTY, "registers no callable");
}

}  // namespace
}  // namespace pprocd::testing
