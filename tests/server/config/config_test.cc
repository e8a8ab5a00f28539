// The config file parser: what a good file yields, and each kind of error
// with the position a user is shown.
#include "server/config/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_join.h"
#include "tests/util/status_matchers.h"
#include "tests/util/temp_dir.h"

namespace pprocd {
namespace {

using google::protobuf::Value;

// Every error of `text` as the user sees it, one per line.
std::string Errors(const std::string& text, const std::string& base_dir = "") {
  ServerConfig config;
  std::vector<ConfigError> errors = ParseConfig(text, "pprocd.toml", base_dir, &config);
  return absl::StrJoin(errors, "\n", [](std::string* out, const ConfigError& error) {
    out->append(error.ToString());
  });
}

ServerConfig Parse(const std::string& text, const std::string& base_dir = "") {
  ServerConfig config;
  std::vector<ConfigError> errors = ParseConfig(text, "pprocd.toml", base_dir, &config);
  for (const ConfigError& error : errors) ADD_FAILURE() << error.ToString();
  return config;
}

constexpr char kFullExample[] = R"(# every key
[server]
listen = ["unix:run/pprocd.sock", "tcp:127.0.0.1:0"]
workers = 4
state_dir = "var"
max_queued_items = 1000000
call_window = 16384
max_tasks_per_worker = 0
grace_ms = 5000
max_message_bytes = 16777216
plugins = ["plugins/libmine.so"]

[[callable]]
name = "wc"
description = "Counts lines."
argv = ["wc", "-l"]
working_dir = "."
env = { LANG = "C" }
mode = "per-invocation"
output = "json"
params = [ { name = "path", type = "string", description = "file" },
           { name = "n", type = "integer", default = 10 } ]

[[callable]]
name = "tool"
argv = ["/usr/bin/tool"]
mode = "persistent"
output = "bytes"
)";

TEST(ConfigTest, AGoodFileGivesEveryValue) {
  const ServerConfig config = Parse(kFullExample);
  ASSERT_TRUE(config.listen.has_value());
  EXPECT_EQ(*config.listen, (std::vector<std::string>{"unix:run/pprocd.sock", "tcp:127.0.0.1:0"}));
  EXPECT_EQ(config.workers, 4u);
  EXPECT_EQ(config.state_dir, "var");
  EXPECT_EQ(config.max_queued_items, 1000000u);
  EXPECT_EQ(config.call_window, 16384u);
  EXPECT_EQ(config.max_tasks_per_worker, 0u);
  EXPECT_EQ(config.grace_ms, 5000u);
  EXPECT_EQ(config.max_message_bytes, 16777216u);
  EXPECT_EQ(config.plugins, (std::vector<std::string>{"plugins/libmine.so"}));

  ASSERT_EQ(config.commands.size(), 2u);
  EXPECT_EQ(config.command_lines, (std::vector<int>{13, 24}));
  const CommandSpec& wc = config.commands[0];
  EXPECT_EQ(wc.name, "wc");
  EXPECT_EQ(wc.description, "Counts lines.");
  EXPECT_EQ(wc.argv, (std::vector<std::string>{"wc", "-l"}));
  EXPECT_EQ(wc.working_dir, ".");
  EXPECT_EQ(wc.env, (std::map<std::string, std::string>{{"LANG", "C"}}));
  EXPECT_EQ(wc.mode, CommandSpec::Mode::kPerInvocation);
  EXPECT_EQ(wc.output, CommandSpec::Output::kJson);
  ASSERT_EQ(wc.params.size(), 2u);
  EXPECT_EQ(wc.params[0].name, "path");
  EXPECT_EQ(wc.params[0].type, v1::PARAMETER_TYPE_STRING);
  EXPECT_EQ(wc.params[0].description, "file");
  EXPECT_FALSE(wc.params[0].default_value.has_value()) << "no default: required";
  EXPECT_EQ(wc.params[1].type, v1::PARAMETER_TYPE_INTEGER);
  ASSERT_TRUE(wc.params[1].default_value.has_value());
  EXPECT_EQ(wc.params[1].default_value->number_value(), 10);

  const CommandSpec& tool = config.commands[1];
  EXPECT_EQ(tool.mode, CommandSpec::Mode::kPersistent);
  EXPECT_EQ(tool.output, CommandSpec::Output::kBytes);
  EXPECT_EQ(tool.working_dir, "") << "absent: the server's";
  EXPECT_TRUE(tool.params.empty());
}

TEST(ConfigTest, AbsentKeysStayUnsetSoTheServersDefaultsApply) {
  const ServerConfig config = Parse("[server]\nworkers = 2\n");
  EXPECT_EQ(config.workers, 2u);
  EXPECT_FALSE(config.listen.has_value());
  EXPECT_FALSE(config.state_dir.has_value());
  EXPECT_FALSE(config.call_window.has_value());
  EXPECT_FALSE(config.plugins.has_value());
  EXPECT_TRUE(config.commands.empty());
  EXPECT_FALSE(Parse("").workers.has_value()) << "an empty file is valid";
}

TEST(ConfigTest, ParameterTypesAndDefaultsBecomeJsonValues) {
  const ServerConfig config = Parse(R"(
[[callable]]
name = "f"
argv = ["f"]
[[callable.params]]
name = "options"
type = "struct"
default = { depth = 2, tags = ["a", "b"], ratio = 0.5, deep = { on = true } }
[[callable.params]]
name = "items"
type = "list"
default = [1, "two", [3]]
[[callable.params]]
name = "x"
type = "number"
default = 3
[[callable.params]]
name = "flag"
type = "boolean"
default = false
[[callable.params]]
name = "anything"
)");
  ASSERT_EQ(config.commands.size(), 1u);
  const std::vector<ParamSpec>& params = config.commands[0].params;
  ASSERT_EQ(params.size(), 5u);
  const auto& fields = params[0].default_value->struct_value().fields();
  EXPECT_EQ(fields.at("depth").number_value(), 2);
  EXPECT_EQ(fields.at("tags").list_value().values(1).string_value(), "b");
  EXPECT_EQ(fields.at("ratio").number_value(), 0.5);
  EXPECT_TRUE(fields.at("deep").struct_value().fields().at("on").bool_value());
  const auto& items = params[1].default_value->list_value();
  ASSERT_EQ(items.values_size(), 3);
  EXPECT_EQ(items.values(1).string_value(), "two");
  EXPECT_EQ(items.values(2).list_value().values(0).number_value(), 3);
  EXPECT_EQ(params[2].type, v1::PARAMETER_TYPE_NUMBER);
  EXPECT_EQ(params[2].default_value->number_value(), 3) << "an integer is a number";
  EXPECT_EQ(params[3].default_value->kind_case(), Value::kBoolValue);
  EXPECT_EQ(params[4].type, v1::PARAMETER_TYPE_ANY) << "type defaults to any";
  EXPECT_FALSE(params[4].default_value.has_value());
}

TEST(ConfigTest, RelativePathsResolveAgainstTheFilesDirectory) {
  const ServerConfig config = Parse(R"(
[server]
listen = ["unix:run/p.sock", "unix:///abs/p.sock", "tcp:localhost:0"]
state_dir = "./var"
plugins = ["plugins/a.so", "/opt/b.so"]
[[callable]]
name = "a"
argv = ["a"]
working_dir = "."
[[callable]]
name = "b"
argv = ["b"]
working_dir = "jobs/b"
[[callable]]
name = "c"
argv = ["c"]
working_dir = "/srv"
)",
                                    "/etc/pprocd");
  EXPECT_EQ(*config.listen, (std::vector<std::string>{"unix:/etc/pprocd/run/p.sock",
                                                      "unix:///abs/p.sock", "tcp:localhost:0"}));
  EXPECT_EQ(config.state_dir, "/etc/pprocd/var");
  EXPECT_EQ(*config.plugins, (std::vector<std::string>{"/etc/pprocd/plugins/a.so", "/opt/b.so"}));
  EXPECT_EQ(config.commands[0].working_dir, "/etc/pprocd");
  EXPECT_EQ(config.commands[1].working_dir, "/etc/pprocd/jobs/b");
  EXPECT_EQ(config.commands[2].working_dir, "/srv");
}

TEST(ConfigTest, AFileOnDiskResolvesAgainstItsOwnDirectory) {
  const ::pprocd::testing::TempDir dir("pprocd-config-test");
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.Path("pprocd.toml");
  std::ofstream(path) << "[server]\nstate_dir = \"state\"\nworkers = 3\n";
  absl::StatusOr<ServerConfig> config = LoadConfig(path);
  ASSERT_OK(config);
  EXPECT_EQ(config->state_dir, dir.Path("state"));
  EXPECT_EQ(config->workers, 3u);
}

TEST(ConfigTest, AMissingFileIsOneErrorNamingIt) {
  absl::StatusOr<ServerConfig> config = LoadConfig("/nonexistent/pprocd.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "/nonexistent/pprocd.toml: cannot open: No such file or directory");
}

TEST(ConfigTest, ASyntaxErrorHasItsLineAndColumn) {
  const std::string errors = Errors("[server]\nworkers = 4\nlisten = [\"unix:a\",\n");
  EXPECT_EQ(errors, "pprocd.toml:3:21: Error while parsing array: encountered end-of-file");
  EXPECT_EQ(Errors("[server]\nworkers = 1\nworkers = 2\n").rfind("pprocd.toml:3:", 0), 0u);
}

// Non-ASCII characters where toml++ 3.3 looks for whitespace: in a
// multi-line string after a line-ending backslash (valid), or where a key
// belongs (an error). Under the sanitizers, toml++ alone reaches code it
// marks unreachable for these.
TEST(ConfigTest, NonAsciiCharactersWhereWhitespaceMayBe) {
  ServerConfig config = Parse(
      "[[callable]]\nname = \"fr\"\nargv = [\"true\"]\n"
      "description = \"\"\"\\\n  \u00e9t\u00e9, \\\n\u00a7 1\"\"\"\n");
  ASSERT_EQ(config.commands.size(), 1u);
  EXPECT_EQ(config.commands[0].description, "\u00e9t\u00e9, \u00a7 1");
  EXPECT_EQ(Errors("workers = 1\n\u00e9 = 2\n").rfind("pprocd.toml:2:1: ", 0), 0u);
  EXPECT_EQ(Errors("[server]\nworkers = 1 \ufefb\n").rfind("pprocd.toml:2:", 0), 0u);
}

TEST(ConfigTest, AWrongTypeNamesTheKeyAtItsValue) {
  EXPECT_EQ(Errors("[server]\nworkers = \"four\"\n"),
            "pprocd.toml:2:11: server.workers must be an integer, not a string");
  EXPECT_EQ(Errors("[server]\nlisten = \"unix:a\"\n"),
            "pprocd.toml:2:10: server.listen must be an array of strings, not a string");
  EXPECT_EQ(Errors("[server]\nplugins = [\"a.so\", 3]\n"),
            "pprocd.toml:2:20: server.plugins[1] must be a string, not an integer");
  EXPECT_EQ(Errors("server = 3\n"), "pprocd.toml:1:10: server must be a table, not an integer");
  EXPECT_EQ(Errors("[[callable]]\nname = 7\nargv = [\"a\"]\n"),
            "pprocd.toml:2:8: callable[0].name must be a string, not an integer");
  EXPECT_EQ(Errors("[[callable]]\nname = \"a\"\nargv = [\"a\"]\nenv = { N = 1 }\n"),
            "pprocd.toml:4:13: callable[0].env.N must be a string, not an integer");
}

TEST(ConfigTest, AValueOutOfRangeSaysTheRange) {
  EXPECT_EQ(Errors("[server]\ncall_window = 3\n"),
            "pprocd.toml:2:15: server.call_window must be between 16 and 1073741824, not 3");
  EXPECT_EQ(Errors("[server]\nworkers = -1\n"),
            "pprocd.toml:2:11: server.workers must be between 0 and 4294967295, not -1");
}

TEST(ConfigTest, TheLogsFormatAndLevelAreTakenOrRefusedNamingTheChoices) {
  const ServerConfig config = Parse("[server]\nlog_format = \"json\"\nlog_level = \"warn\"\n");
  EXPECT_EQ(config.log_format, "json");
  EXPECT_EQ(config.log_level, "warn");
  EXPECT_EQ(
      Errors("[server]\nlog_format = \"xml\"\nlog_level = \"loud\"\n"),
      "pprocd.toml:2:14: server.log_format must be \"text\" or \"json\"\n"
      "pprocd.toml:3:13: server.log_level must be \"debug\", \"info\", \"warn\" or \"error\"");
}

TEST(ConfigTest, UnknownKeysAtEveryLevelAreErrorsNamingThem) {
  const std::string errors = Errors(R"(title = "x"
[server]
wrokers = 4
[[callable]]
name = "a"
argv = ["a"]
timeout = 3
params = [ { name = "p", kind = "string" } ]
)");
  EXPECT_EQ(errors,
            "pprocd.toml:1:1: unknown key title (known: callable, limits, server)\n"
            "pprocd.toml:3:1: unknown key server.wrokers (known: admin_group, call_window, "
            "grace_ms, keep_jobs_hours, listen, log_format, log_level, max_message_bytes, "
            "max_queued_items, max_store_mib, max_tasks_per_worker, plugins, state_dir, "
            "workers)\n"
            "pprocd.toml:7:1: unknown key callable[0].timeout (known: argv, description, env, "
            "mode, name, output, params, python, working_dir)\n"
            "pprocd.toml:8:26: unknown key callable[0].params[0].kind (known: default, "
            "description, name, type)");
}

TEST(ConfigTest, EveryErrorIsReportedInFileOrder) {
  const std::string errors = Errors(R"([server]
workers = "four"
grace_ms = 1.5
[[callable]]
description = "no name"
argv = []
mode = "sometimes"
)");
  EXPECT_EQ(errors,
            "pprocd.toml:2:11: server.workers must be an integer, not a string\n"
            "pprocd.toml:3:12: server.grace_ms must be an integer, not a float\n"
            "pprocd.toml:4:1: callable[0].name is missing: every callable needs a name\n"
            "pprocd.toml:6:8: callable[0].argv must start with a program\n"
            "pprocd.toml:7:8: callable[0].mode must be one of \"per-invocation\", "
            "\"persistent\", not \"sometimes\"");
}

TEST(ConfigTest, ACallableNeedsANameAndAProgram) {
  EXPECT_EQ(Errors("[[callable]]\nname = \"a\"\n"),
            "pprocd.toml:1:1: callable[0].argv is missing: every callable needs a program to "
            "run, e.g. argv = [\"wc\", \"-l\"]");
  EXPECT_EQ(Errors("[[callable]]\nname = \"\"\nargv = [\"a\"]\n"),
            "pprocd.toml:2:8: callable[0].name must not be empty");
  EXPECT_EQ(Errors("[callable]\nname = \"a\"\n"),
            "pprocd.toml:1:1: callable must be an array of tables ([[callable]]), not a table");
}

TEST(ConfigTest, NamesDeclaredTwiceAreErrors) {
  EXPECT_EQ(Errors("[[callable]]\nname = \"a\"\nargv = [\"a\"]\n"
                   "[[callable]]\nname = \"a\"\nargv = [\"b\"]\n"),
            "pprocd.toml:4:1: callable[1]: callable a is declared twice (first on line 1)");
  EXPECT_EQ(Errors("[[callable]]\nname = \"a\"\nargv = [\"a\"]\n"
                   "params = [{ name = \"x\" }, { name = \"x\" }]\n"),
            "pprocd.toml:4:27: callable[0].params[1]: parameter x is declared twice (first on "
            "line 4)");
}

TEST(ConfigTest, AnUnknownChoiceListsTheAcceptedOnes) {
  EXPECT_EQ(Errors("[[callable]]\nname = \"a\"\nargv = [\"a\"]\noutput = \"xml\"\n"),
            "pprocd.toml:4:10: callable[0].output must be one of \"json\", \"bytes\", not \"xml\"");
  EXPECT_EQ(Errors("[[callable]]\nname = \"a\"\nargv = [\"a\"]\n"
                   "params = [{ name = \"x\", type = \"float\" }]\n"),
            "pprocd.toml:4:32: callable[0].params[0].type must be one of \"any\", \"integer\", "
            "\"number\", \"string\", \"boolean\", \"list\", \"struct\", not \"float\"");
}

TEST(ConfigTest, ADefaultMustMatchItsTypeAndBeJson) {
  const std::string head = "[[callable]]\nname = \"a\"\nargv = [\"a\"]\n";
  EXPECT_EQ(Errors(head + "params = [{ name = \"n\", type = \"integer\", default = \"ten\" }]\n"),
            "pprocd.toml:4:53: callable[0].params[0].default must be of type integer (the "
            "parameter's type), not a string");
  EXPECT_EQ(Errors(head + "params = [{ name = \"n\", type = \"integer\", default = 2.5 }]\n"),
            "pprocd.toml:4:53: callable[0].params[0].default must be of type integer (the "
            "parameter's type), not a float");
  EXPECT_EQ(Errors(head + "params = [{ name = \"d\", default = 1979-05-27 }]\n"),
            "pprocd.toml:4:35: callable[0].params[0].default: a date has no JSON value; use a "
            "string");
  EXPECT_EQ(Errors(head + "params = [{ name = \"d\", default = { at = 07:32:00 } }]\n"),
            "pprocd.toml:4:42: callable[0].params[0].default.at: a time has no JSON value; use "
            "a string");
  EXPECT_EQ(Errors(head + "params = [{ name = \"n\", default = 9007199254740993 }]\n"),
            "pprocd.toml:4:35: callable[0].params[0].default: the integer 9007199254740993 is "
            "too large for a JSON number (at most 2^53)");
  EXPECT_EQ(Errors(head + "params = [{ name = \"n\", type = \"number\", default = inf }]\n"),
            "pprocd.toml:4:52: callable[0].params[0].default: inf and nan have no JSON value");
  EXPECT_EQ(Errors(head + "params = [\"n\"]\n"),
            "pprocd.toml:4:11: callable[0].params[0] must be a table such as { name = \"x\", "
            "type = \"string\" }, not a string");
}

TEST(ConfigTest, ABadListenAddressIsReportedAtIt) {
  EXPECT_EQ(Errors("[server]\nlisten = [\"unix:a\", \"tcp:nowhere\"]\n"),
            "pprocd.toml:2:21: server.listen[1]: expected tcp:HOST:PORT (port 0 picks one), got "
            "tcp:nowhere");
  EXPECT_EQ(Errors("[server]\nlisten = []\n"),
            "pprocd.toml:2:10: server.listen must name at least one address");
}

TEST(ConfigTest, AnErrorPrintsWithWhatPositionItHas) {
  EXPECT_EQ((ConfigError{"f.toml", 3, 7, "bad"}).ToString(), "f.toml:3:7: bad");
  EXPECT_EQ((ConfigError{"f.toml", 3, 0, "bad"}).ToString(), "f.toml:3: bad");
  EXPECT_EQ((ConfigError{"f.toml", 0, 0, "bad"}).ToString(), "f.toml: bad");
}

}  // namespace
}  // namespace pprocd
