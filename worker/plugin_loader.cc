#include "worker/plugin_loader.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/unique_fd.h"

namespace pprocd {
namespace {

v1::ParameterType ToProtoType(ParamType type) {
  switch (type) {
    case ParamType::kInteger:
      return v1::PARAMETER_TYPE_INTEGER;
    case ParamType::kNumber:
      return v1::PARAMETER_TYPE_NUMBER;
    case ParamType::kString:
      return v1::PARAMETER_TYPE_STRING;
    case ParamType::kBoolean:
      return v1::PARAMETER_TYPE_BOOLEAN;
    case ParamType::kList:
      return v1::PARAMETER_TYPE_LIST;
    case ParamType::kStruct:
      return v1::PARAMETER_TYPE_STRUCT;
    case ParamType::kAny:
      break;
  }
  return v1::PARAMETER_TYPE_ANY;
}

std::vector<ParamSpec> ToSpecs(std::vector<Param> params) {
  std::vector<ParamSpec> specs;
  for (Param& param : params) {
    specs.push_back(ParamSpec{std::move(param.name), ToProtoType(param.type),
                              std::move(param.default_value), std::move(param.description)});
  }
  return specs;
}

// Adds what a plugin registers to a Registry; remembers the first error.
class RegistryRegistrar : public Registrar {
 public:
  RegistryRegistrar(Registry* registry, std::string origin)
      : registry_(registry), origin_(std::move(origin)) {}

  void AddFunction(std::string name, std::string description, std::vector<Param> params,
                   Function body) override {
    AddFunction(std::move(name), std::move(description), std::move(params), std::move(body),
                FunctionTraits{});
  }

  void AddFunction(std::string name, std::string description, std::vector<Param> params,
                   Function body, FunctionTraits traits) override {
    CallableDef def;
    def.writes_output = !traits.writes_no_output;
    def.name = std::move(name);
    def.description = std::move(description);
    def.kind = v1::CALLABLE_KIND_FUNCTION;
    def.params = ToSpecs(std::move(params));
    if (body) {
      def.body = [body = std::move(body)](const BoundArgs& args) { return body(Arguments(args)); };
    }
    Add(std::move(def));
  }

  void AddChannel(std::string name, std::string description, std::vector<Param> params,
                  ChannelFunction body) override {
    CallableDef def;
    def.name = std::move(name);
    def.description = std::move(description);
    def.kind = v1::CALLABLE_KIND_CHANNEL;
    def.params = ToSpecs(std::move(params));
    if (body) {
      def.channel_body = [body = std::move(body)](const BoundArgs& args, Channel& channel) {
        return body(Arguments(args), channel);
      };
    }
    Add(std::move(def));
  }

  const absl::Status& status() const { return status_; }
  int added() const { return added_; }

 private:
  void Add(CallableDef def) {
    def.origin = origin_;
    absl::Status added = registry_->Add(std::move(def));
    if (added.ok()) {
      ++added_;
    } else if (status_.ok()) {
      status_ = added;
    }
  }

  Registry* registry_;
  std::string origin_;
  absl::Status status_;
  int added_ = 0;
};

absl::Status Failed(const std::string& path, absl::string_view reason) {
  return absl::FailedPreconditionError(absl::StrCat("plugin ", path, ": ", reason));
}

// dlopen + registration, in this process.
absl::Status LoadHere(const std::string& path, Registry* registry) {
  // RTLD_NODELETE: callables stay valid for the life of the process.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) return Failed(path, absl::StrCat("cannot load: ", ::dlerror()));
  using RegisterFn = void (*)(Registrar&);
  auto* register_fn = reinterpret_cast<RegisterFn>(::dlsym(handle, PPROCD_PLUGIN_SYMBOL));
  if (register_fn == nullptr) {
    return Failed(path, absl::StrCat("no function ", PPROCD_PLUGIN_SYMBOL,
                                     " (define it with PPROCD_PLUGIN from pprocd/callable.h)"));
  }
  RegistryRegistrar registrar(registry, path);
  register_fn(registrar);
  if (!registrar.status().ok()) return Failed(path, registrar.status().message());
  if (registrar.added() == 0) return Failed(path, "registers no callable");
  return absl::OkStatus();
}

// Loads the plugin in a child process against a copy of the registry; the
// answer is the child's error message, or why it died.
absl::Status Probe(const std::string& path, const Registry& registry) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return absl::OkStatus();  // Load it directly.
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) return absl::OkStatus();
  if (pid == 0) {
    read_end.Reset();
    Registry scratch = registry;
    const absl::Status status = LoadHere(path, &scratch);
    const std::string message(status.message());
    if (!message.empty() && ::write(write_end.get(), message.data(), message.size()) < 0) {
      std::_Exit(2);
    }
    std::_Exit(status.ok() ? 0 : 1);
  }
  write_end.Reset();
  std::string message;
  char buffer[1024];
  ssize_t n;
  while ((n = ::read(read_end.get(), buffer, sizeof(buffer))) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    message.append(buffer, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    const int signal_number = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(signal_number);
    return Failed(path, absl::StrCat("crashed while loading (",
                                     abbrev != nullptr ? absl::StrCat("SIG", abbrev)
                                                       : absl::StrCat("signal ", signal_number),
                                     ")"));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    return absl::FailedPreconditionError(
        message.empty() ? absl::StrCat("plugin ", path, ": exited with status ",
                                       WEXITSTATUS(status), " while loading")
                        : message);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status LoadPlugin(const std::string& path, Registry* registry) {
  const absl::Status probed = Probe(path, *registry);
  if (!probed.ok()) return probed;
  return LoadHere(path, registry);
}

absl::Status LoadPluginInThisProcess(const std::string& path, Registry* registry) {
  return LoadHere(path, registry);
}

}  // namespace pprocd
