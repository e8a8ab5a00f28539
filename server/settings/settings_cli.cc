#include "server/settings/settings_cli.h"

#include <string>
#include <type_traits>
#include <vector>

namespace pprocd {
namespace {

// --socket-mode: up to four octal digits.
std::string CheckOctalMode(const std::string& text) {
  const bool octal =
      !text.empty() && text.size() <= 4 && text.find_first_not_of("01234567") == std::string::npos;
  return octal ? std::string() : std::string("an octal mode such as 0600 or 0666");
}

template <typename T>
CLI::Option* AddOption(CLI::App* app, const Setting& setting, T* into) {
  if constexpr (std::is_same_v<T, uint32_t>) {
    if (setting.form == Setting::Form::kOctalMode) {
      return app
          ->add_option_function<std::string>(
              setting.flag,
              [into](const std::string& text) {
                *into = static_cast<T>(std::stoul(text, nullptr, 8));
              },
              setting.help)
          ->check(CheckOctalMode);
    }
  }
  CLI::Option* option = app->add_option(setting.flag, *into, setting.help);
  if constexpr (std::is_same_v<T, std::vector<std::string>>) option->take_all();
  if (setting.show_default) option->capture_default_str();
  if constexpr (std::is_integral_v<T>) {
    if (setting.HasNarrowRange()) {
      option->check(CLI::Range(static_cast<T>(setting.min), static_cast<T>(setting.max)));
    }
  }
  if (!setting.choices.empty()) option->check(CLI::IsMember(setting.choices));
  if (!setting.type_name.empty()) option->type_name(setting.type_name);
  return option;
}

}  // namespace

void AddSettingOptions(CLI::App* app, ServerSettings* settings) {
  for (const Setting& setting : ServerSettingsTable()) {
    std::visit([&](const auto& field) { AddOption(app, setting, &(settings->*field.value)); },
               setting.field);
  }
}

bool GivenOnCommandLine(const CLI::App& app, const Setting& setting) {
  return app.count(setting.flag) > 0;
}

}  // namespace pprocd
