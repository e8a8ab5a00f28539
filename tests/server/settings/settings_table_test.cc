// The table of server settings: every row is complete, and what is made
// from it (the command line, the config file's [server] reader, the merge,
// the --check-config summary) behaves as a user of either sees it.
#include "server/settings/settings_table.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "base/log/log_format.h"
#include "server/config/config.h"
#include "server/settings/settings_cli.h"

namespace pprocd {
namespace {

// The error a user sees for `args` on the command line, "" if none.
std::string CommandLineError(CLI::App* app, std::vector<std::string> args) {
  std::vector<char*> argv = {const_cast<char*>("pprocd")};
  for (std::string& arg : args) argv.push_back(arg.data());
  try {
    app->parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& error) {
    return error.what();
  }
  return "";
}

std::string TableCommandLineError(std::vector<std::string> args) {
  ServerSettings settings;
  CLI::App app;
  AddSettingOptions(&app, &settings);
  return CommandLineError(&app, std::move(args));
}

// Every error of the config file `text`, one per line.
std::string FileErrors(const std::string& text) {
  ServerConfig config;
  std::vector<ConfigError> errors = ParseConfig(text, "pprocd.toml", "", &config);
  return absl::StrJoin(errors, "\n", [](std::string* out, const ConfigError& error) {
    out->append(error.ToString());
  });
}

const Setting& Row(const std::string& flag) {
  for (const Setting& setting : ServerSettingsTable()) {
    if (setting.flag == flag) return setting;
  }
  ADD_FAILURE() << "no row " << flag;
  return ServerSettingsTable().front();
}

TEST(SettingsTableTest, EveryRowHasAFlagAKeyAndHelp) {
  // The two settings a config file cannot set: who may connect, and the
  // HTTP listener.
  const std::set<std::string> command_line_only = {"--socket-mode", "--http"};
  std::set<std::string> flags;
  std::set<std::string> keys;
  for (const Setting& setting : ServerSettingsTable()) {
    EXPECT_EQ(setting.flag.rfind("--", 0), 0u) << setting.flag;
    EXPECT_TRUE(flags.insert(setting.flag).second) << "twice: " << setting.flag;
    EXPECT_FALSE(setting.help.empty()) << setting.flag;
    if (command_line_only.count(setting.flag) > 0) {
      EXPECT_TRUE(setting.key.empty()) << setting.flag;
      continue;
    }
    ASSERT_FALSE(setting.key.empty()) << setting.flag;
    EXPECT_TRUE(keys.insert(setting.key).second) << "twice: " << setting.key;
    // The key is the flag's name in snake case (a repeatable flag's key is
    // its plural).
    std::string from_flag = absl::StrReplaceAll(setting.flag.substr(2), {{"-", "_"}});
    EXPECT_TRUE(setting.key == from_flag || setting.key == from_flag + "s") << setting.key;
  }
  EXPECT_EQ(flags.size(), 16u);
}

TEST(SettingsTableTest, EveryLogChoiceIsOneTheLogKnows) {
  for (const std::string& format : Row("--log-format").choices) {
    LogFormat parsed;
    EXPECT_TRUE(ParseLogFormat(format, &parsed)) << format;
  }
  for (const std::string& level : Row("--log-level").choices) {
    LogLevel parsed;
    EXPECT_TRUE(ParseLogLevel(level, &parsed)) << level;
  }
}

TEST(SettingsTableTest, OutOfRangeOnTheCommandLineGivesTheErrorItGaveBefore) {
  // The options as they were written by hand, before the table.
  ServerSettings before;
  CLI::App app;
  app.add_option("--call-window", before.call_window_items)
      ->check(CLI::Range(uint64_t{16}, uint64_t{1} << 30));
  app.add_option("--max-message-bytes", before.max_message_bytes)
      ->check(CLI::Range(uint32_t{4096}, uint32_t{1} << 30));
  app.add_option("--keep-jobs-hours", before.keep_jobs_hours)->check(CLI::Range(1u, 24u * 3650u));
  app.add_option("--max-store-mib", before.max_store_mib)->check(CLI::Range(1u, 1u << 20));
  app.add_option("--log-format", before.log_format)->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", before.log_level)
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--workers", before.workers);
  app.add_option("--grace-ms", before.grace_ms);
  const std::vector<std::vector<std::string>> cases = {
      {"--call-window", "3"},
      {"--call-window", "2000000000"},
      {"--max-message-bytes", "100"},
      {"--max-message-bytes", "5000000000"},
      {"--keep-jobs-hours", "0"},
      {"--max-store-mib", "2000000"},
      {"--log-format", "xml"},
      {"--log-level", "loud"},
      {"--workers", "-1"},
      {"--workers", "5000000000"},
      {"--grace-ms", "soon"},
  };
  for (const std::vector<std::string>& args : cases) {
    const std::string expected = CommandLineError(&app, args);
    EXPECT_FALSE(expected.empty()) << args[0] << " " << args[1];
    EXPECT_EQ(TableCommandLineError(args), expected);
  }
  EXPECT_EQ(TableCommandLineError({"--call-window", "3"}),
            "--call-window: Value 3 not in range 16 to 1073741824");
  EXPECT_EQ(TableCommandLineError({"--socket-mode", "999"}),
            "--socket-mode: an octal mode such as 0600 or 0666");
  EXPECT_EQ(TableCommandLineError({"--call-window", "16", "--socket-mode", "0666"}), "");
}

TEST(SettingsTableTest, OutOfRangeInTheFileNamesTheLineAndTheKey) {
  EXPECT_EQ(FileErrors("[server]\ncall_window = 3\n"),
            "pprocd.toml:2:15: server.call_window must be between 16 and 1073741824, not 3");
  EXPECT_EQ(FileErrors("[server]\nmax_message_bytes = 100\n"),
            "pprocd.toml:2:21: server.max_message_bytes must be between 4096 and 1073741824, "
            "not 100");
  EXPECT_EQ(FileErrors("[server]\nkeep_jobs_hours = 0\n"),
            "pprocd.toml:2:19: server.keep_jobs_hours must be between 1 and 87600, not 0");
  EXPECT_EQ(FileErrors("[server]\nmax_queued_items = -1\n"),
            "pprocd.toml:2:20: server.max_queued_items must be between 0 and "
            "9223372036854775807, not -1");
  EXPECT_EQ(FileErrors("[server]\nstate_dir = \"\"\n"),
            "pprocd.toml:2:13: server.state_dir must not be empty");
  EXPECT_EQ(FileErrors("[server]\nlog_level = \"loud\"\n"),
            "pprocd.toml:2:13: server.log_level must be \"debug\", \"info\", \"warn\" or "
            "\"error\"");
}

TEST(SettingsTableTest, TheFileCannotSetACommandLineOnlySetting) {
  EXPECT_EQ(
      FileErrors("[server]\nhttp = \"127.0.0.1:0\"\n")
          .rfind("pprocd.toml:2:1: unknown key server.http (known: admin_group, call_window,", 0),
      0u);
}

TEST(SettingsTableTest, AFlagOnTheCommandLineOverridesTheFile) {
  ServerConfig file;
  ASSERT_EQ(FileErrors(""), "");
  ASSERT_TRUE(ParseConfig("[server]\nworkers = 3\ngrace_ms = 7\nlisten = [\"tcp:127.0.0.1:0\"]\n",
                          "pprocd.toml", "", &file)
                  .empty());
  ServerSettings settings;
  CLI::App app;
  AddSettingOptions(&app, &settings);
  std::vector<std::string> args = {"pprocd", "--workers", "9"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  MergeFileSettings(
      file, [&app](const Setting& setting) { return GivenOnCommandLine(app, setting); }, &settings);
  EXPECT_EQ(settings.workers, 9u) << "the flag wins";
  EXPECT_EQ(settings.grace_ms, 7u) << "the file sets what no flag gave";
  EXPECT_EQ(settings.listen, std::vector<std::string>{"tcp:127.0.0.1:0"});
  EXPECT_EQ(settings.call_window_items, 16384u) << "neither: the default";
}

TEST(SettingsTableTest, RepeatableFlagsKeepEveryValue) {
  ServerSettings settings;
  CLI::App app;
  AddSettingOptions(&app, &settings);
  std::vector<std::string> args = {"pprocd",  "--listen",      "unix:a", "--listen",
                                   "tcp:b:0", "--plugin",      "x.so",   "--plugin",
                                   "y.so",    "--socket-mode", "0666"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(settings.listen, (std::vector<std::string>{"unix:a", "tcp:b:0"}));
  EXPECT_EQ(settings.plugins, (std::vector<std::string>{"x.so", "y.so"}));
  EXPECT_EQ(settings.socket_mode, 0666u);
}

TEST(SettingsTableTest, TheSummaryNamesTheKeysTheFileSetsInTableOrder) {
  ServerConfig file;
  ASSERT_TRUE(ParseConfig("[server]\nlog_level = \"warn\"\nstate_dir = \"var\"\nworkers = 2\n"
                          "listen = [\"tcp:127.0.0.1:0\"]\n",
                          "pprocd.toml", "", &file)
                  .empty());
  EXPECT_EQ(KeysSet(file),
            (std::vector<std::string>{"listen", "workers", "state_dir", "log_level"}));
  EXPECT_TRUE(KeysSet(ServerConfig()).empty());
}

TEST(SettingsTableTest, HelpShowsEveryFlagWithItsHelp) {
  ServerSettings settings;
  CLI::App app;
  AddSettingOptions(&app, &settings);
  const std::string help = app.help();
  for (const Setting& setting : ServerSettingsTable()) {
    EXPECT_NE(help.find(setting.flag), std::string::npos) << setting.flag;
    EXPECT_NE(help.find(setting.help.substr(0, 20)), std::string::npos) << setting.flag;
  }
  EXPECT_NE(help.find("HOST:PORT"), std::string::npos);
}

}  // namespace
}  // namespace pprocd
