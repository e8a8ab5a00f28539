#include "base/process_title.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace pprocd {
namespace {

// The saved area. [area_start, area_start + args_size) held argv's
// strings, through the NUL of the last one; [area_start, area_start +
// area_size) also the environment strings right after them. Written once,
// before any thread, by SaveProcessTitleArea().
char* area_start = nullptr;
size_t args_size = 0;
size_t area_size = 0;
// Every environment string MoveEnvironmentToHeap() copied, whether or not
// `environ` still points at it (unsetenv drops entries from `environ`): the
// copies live as long as the process, and are reachable from here.
char** environment_copies = nullptr;

// The end (its NUL) of the run of strings of `strings` (`count` of them,
// or up to a null pointer when count < 0) that follows `end` without a gap.
char* ExtendContiguous(char* end, char** strings, long count) {
  for (long i = 0; (count < 0 || i < count) && strings[i] != nullptr && strings[i] == end + 1;
       ++i) {
    end = strings[i] + std::strlen(strings[i]);
  }
  return end;
}

// Replaces `environ` with copies of its strings on the heap; false (and
// `environ` unchanged) when memory runs out. The copies live as long as
// the process.
bool MoveEnvironmentToHeap() {
  size_t count = 0;
  while (environ[count] != nullptr) ++count;
  char** copy = static_cast<char**>(std::calloc(count + 1, sizeof(char*)));
  char** kept = static_cast<char**>(std::calloc(count + 1, sizeof(char*)));
  if (copy == nullptr || kept == nullptr) {
    std::free(copy);
    std::free(kept);
    return false;
  }
  for (size_t i = 0; i < count; ++i) {
    copy[i] = strdup(environ[i]);
    if (copy[i] == nullptr) {
      for (size_t j = 0; j < i; ++j) std::free(copy[j]);
      std::free(copy);
      std::free(kept);
      return false;
    }
    kept[i] = copy[i];
  }
  environment_copies = kept;
  environ = copy;
  return true;
}

}  // namespace

void SaveProcessTitleArea(int argc, char** argv) {
  if (area_start != nullptr || argc <= 0 || argv == nullptr || argv[0] == nullptr) return;
  char* const start = argv[0];
  char* end = ExtendContiguous(start + std::strlen(start), argv + 1, argc - 1);
  const size_t args = static_cast<size_t>(end + 1 - start);
  // The environment's strings join the area only once `environ` no longer
  // points into it.
  char** const original_environment = environ;
  if (original_environment != nullptr && original_environment[0] == end + 1) {
    char* const environment_end = ExtendContiguous(end, original_environment, -1);
    if (MoveEnvironmentToHeap()) end = environment_end;
  }
  area_start = start;
  args_size = args;
  area_size = static_cast<size_t>(end + 1 - start);
}

void SetProcessTitle(const char* title) {
  ::prctl(PR_SET_NAME, title);
  if (area_start == nullptr) return;
  size_t length = std::strlen(title);
  if (length < args_size) {
    // Within argv's own strings: the rest of them is zeroed, and the
    // environment that follows is left alone.
    std::memcpy(area_start, title, length);
    std::memset(area_start + length, 0, args_size - length);
    return;
  }
  // Into the environment's strings: the kernel then shows the command line
  // up to the first NUL (argv's last byte is no longer one).
  if (length > area_size - 1) length = area_size - 1;
  std::memcpy(area_start, title, length);
  area_start[length] = '\0';
}

}  // namespace pprocd
