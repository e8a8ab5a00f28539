// The command-line options of the server's settings, made from their table
// (settings_table.h): each with its help, its range or choices and, where
// the row asks, its default shown by --help.
#ifndef PPROCD_SERVER_SETTINGS_SETTINGS_CLI_H_
#define PPROCD_SERVER_SETTINGS_SETTINGS_CLI_H_

#include "CLI/CLI.hpp"
#include "server/settings/server_settings.h"
#include "server/settings/settings_table.h"

namespace pprocd {

// Adds one option per row of ServerSettingsTable() to `app`, in table
// order, each parsing into its field of `*settings` (which must outlive
// the parse).
void AddSettingOptions(CLI::App* app, ServerSettings* settings);

// Whether the flag of `setting` was given on the command line `app` parsed.
bool GivenOnCommandLine(const CLI::App& app, const Setting& setting);

}  // namespace pprocd

#endif  // PPROCD_SERVER_SETTINGS_SETTINGS_CLI_H_
