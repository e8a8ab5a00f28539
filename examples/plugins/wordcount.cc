// An example pprocd plugin doing real work on files:
//   wordcount(path)      -> {"lines": L, "words": W, "bytes": B}, like wc
//   grep(path, pattern)  channel: sends {"line": N, "text": T} for every line
//                        containing `pattern`, returns the number of matches
//   top_words(path, n=10) -> the n most frequent words, [[word, count], ...]
//
// Build: see CMakeLists.txt here; run: pprocd --plugin PATH/libpprocd_wordcount.so
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "pprocd/callable.h"

namespace {

absl::StatusOr<std::ifstream> OpenFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  return file;
}

absl::StatusOr<pprocd::Value> WordCount(const pprocd::Arguments& args) {
  absl::StatusOr<std::ifstream> file = OpenFile(args.String(0));
  if (!file.ok()) return file.status();
  int64_t lines = 0, words = 0, bytes = 0;
  bool in_word = false;
  char buffer[1 << 16];
  while (file->read(buffer, sizeof(buffer)) || file->gcount() > 0) {
    const std::streamsize count = file->gcount();
    bytes += count;
    for (std::streamsize i = 0; i < count; ++i) {
      const unsigned char c = static_cast<unsigned char>(buffer[i]);
      if (c == '\n') ++lines;
      const bool space = std::isspace(c) != 0;
      if (!space && !in_word) ++words;
      in_word = !space;
    }
  }
  return pprocd::Struct({{"lines", pprocd::Number(static_cast<double>(lines))},
                         {"words", pprocd::Number(static_cast<double>(words))},
                         {"bytes", pprocd::Number(static_cast<double>(bytes))}});
}

absl::StatusOr<pprocd::Value> Grep(const pprocd::Arguments& args, pprocd::Channel& channel) {
  absl::StatusOr<std::ifstream> file = OpenFile(args.String(0));
  if (!file.ok()) return file.status();
  const std::string& pattern = args.String(1);
  std::string line;
  int64_t number = 0;
  int64_t matches = 0;
  while (std::getline(*file, line)) {
    ++number;
    if (line.find(pattern) == std::string::npos) continue;
    ++matches;
    absl::Status sent = channel.Send(pprocd::Struct(
        {{"line", pprocd::Number(static_cast<double>(number))}, {"text", pprocd::String(line)}}));
    if (!sent.ok()) return sent;
  }
  return pprocd::Number(static_cast<double>(matches));
}

absl::StatusOr<pprocd::Value> TopWords(const pprocd::Arguments& args) {
  absl::StatusOr<std::ifstream> file = OpenFile(args.String(0));
  if (!file.ok()) return file.status();
  const int64_t n = args.Integer(1);
  if (n < 0) return absl::InvalidArgumentError("top_words: n must be >= 0");
  std::map<std::string, int64_t> counts;
  std::string word;
  while (*file >> word) {
    std::string clean;
    for (char c : word) {
      if (std::isalnum(static_cast<unsigned char>(c))) {
        clean += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
    }
    if (!clean.empty()) ++counts[clean];
  }
  std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (static_cast<int64_t>(sorted.size()) > n) sorted.resize(static_cast<size_t>(n));
  std::vector<pprocd::Value> top;
  for (const auto& [text, count] : sorted) {
    top.push_back(pprocd::List({pprocd::String(text), pprocd::Number(static_cast<double>(count))}));
  }
  return pprocd::List(std::move(top));
}

}  // namespace

PPROCD_PLUGIN(registrar) {
  using pprocd::ParamType;
  // wordcount and top_words never print: the worker need not look for
  // output after each item.
  const pprocd::FunctionTraits quiet{/*writes_no_output=*/true};
  registrar.AddFunction("wordcount", "Counts the lines, words and bytes of a file (like wc).",
                        {pprocd::Required("path", ParamType::kString, "file to read")}, WordCount,
                        quiet);
  registrar.AddChannel("grep",
                       "Channel: sends {line, text} for each line of the file containing the "
                       "pattern; returns the number of matches.",
                       {pprocd::Required("path", ParamType::kString, "file to read"),
                        pprocd::Required("pattern", ParamType::kString, "text to look for")},
                       Grep);
  registrar.AddFunction(
      "top_words", "The n most frequent words of a file, [[word, count], ...].",
      {pprocd::Required("path", ParamType::kString, "file to read"),
       pprocd::Optional("n", ParamType::kInteger, pprocd::Number(10), "how many words")},
      TopWords, quiet);
}
