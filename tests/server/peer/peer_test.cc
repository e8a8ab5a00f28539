// UnixListener and PeerRegistry with a real grpc::Server in this process: a
// tiny Echo handler answers with what the registry says about its caller.
// Connections made by forked children (handed back to this process) give
// every connection a caller pid of its own, so a mixed-up identity shows.
#include <grp.h>
#include <grpcpp/create_channel_posix.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pprocd/v1/service.grpc.pb.h"
#include "server/peer/peer_registry.h"
#include "server/peer/unix_listener.h"
#include "tests/util/status_matchers.h"
#include "tests/util/temp_dir.h"
#include "tests/util/wait_for.h"

namespace pprocd {
namespace {

using ::pprocd::testing::StatusIs;

constexpr uid_t kNobody = 65534;

// Echo answers {known, uid, gid, pid, peer, inode} about its caller; inode
// identifies the server's end of the connection.
class WhoService final : public v1::ProcessFarmService::CallbackService {
 public:
  explicit WhoService(const PeerRegistry* registry) : registry_(registry) {}
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const v1::EchoRequest* /*request*/,
                                 v1::EchoResponse* response) override {
    const CallerIdentity caller = registry_->Identify(*context);
    auto& fields = *response->mutable_value()->mutable_struct_value()->mutable_fields();
    fields["known"].set_bool_value(caller.known);
    fields["uid"].set_number_value(caller.uid);
    fields["gid"].set_number_value(caller.gid);
    fields["pid"].set_number_value(caller.pid);
    fields["peer"].set_string_value(context->peer());
    struct stat info {};
    const std::optional<int> fd = PeerRegistry::PeerFd(context->peer());
    if (fd.has_value() && fstat(*fd, &info) == 0) {
      fields["inode"].set_number_value(static_cast<double>(info.st_ino));
    }
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const PeerRegistry* const registry_;
};

struct Who {
  bool ok = false;
  bool known = false;
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
  std::string peer;
  ino_t inode = 0;
};

Who Ask(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::ProcessFarmService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::EchoResponse response;
  Who who;
  who.ok = stub->Echo(&context, {}, &response).ok();
  const auto& fields = response.value().struct_value().fields();
  const auto number = [&fields](const char* key) {
    const auto found = fields.find(key);
    return found == fields.end() ? 0.0 : found->second.number_value();
  };
  who.known = fields.count("known") > 0 && fields.at("known").bool_value();
  who.uid = static_cast<uid_t>(number("uid"));
  who.gid = static_cast<gid_t>(number("gid"));
  who.pid = static_cast<pid_t>(number("pid"));
  who.inode = static_cast<ino_t>(number("inode"));
  if (fields.count("peer") > 0) who.peer = fields.at("peer").string_value();
  return who;
}

// A channel of its own (a new connection), not one shared by target.
std::shared_ptr<grpc::Channel> OwnChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

// A connection to `path` made by a forked child (as user and group `as`
// when given), handed back to this process.
struct ChildConnection {
  int fd = -1;  // Owned by the caller.
  pid_t pid = -1;
};

ChildConnection ConnectFromChild(const std::string& path, std::optional<uid_t> as = {}) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls: the parent has threads.
    if (as.has_value() && (setgroups(0, nullptr) != 0 || setresgid(*as, *as, *as) != 0 ||
                           setresuid(*as, *as, *as) != 0)) {
      _exit(2);
    }
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      _exit(3);
    }
    char byte = 0;
    iovec data{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &fd, sizeof(int));
    _exit(sendmsg(pair[1], &message, 0) == 1 ? 0 : 4);
  }
  close(pair[1]);
  ChildConnection connection;
  if (pid > 0) {
    char byte = 0;
    iovec data{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    if (recvmsg(pair[0], &message, MSG_CMSG_CLOEXEC) == 1) {
      const cmsghdr* header = CMSG_FIRSTHDR(&message);
      if (header != nullptr && header->cmsg_type == SCM_RIGHTS) {
        std::memcpy(&connection.fd, CMSG_DATA(header), sizeof(int));
      }
    }
    waitpid(pid, nullptr, 0);
    connection.pid = pid;
  }
  close(pair[0]);
  return connection;
}

// Asks over a connection a child made; the server must name that child.
Who AskFromChild(const std::string& path, std::optional<uid_t> as = {}) {
  const ChildConnection connection = ConnectFromChild(path, as);
  if (connection.fd < 0) return {};
  Who who = Ask(grpc::CreateInsecureChannelFromFd("child", connection.fd));
  if (who.pid != connection.pid) who.ok = false;
  return who;
}

// True once this process's descriptor `fd` no longer is the socket `inode`.
bool WaitClosed(int fd, ino_t inode) {
  return testing::WaitFor(
      [&] {
        struct stat info {};
        return fstat(fd, &info) != 0 || info.st_ino != inode;
      },
      absl::Seconds(10), absl::Milliseconds(1));
}

class UnixListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    path_ = dir_.Path("s.sock");
    ASSERT_OK_AND_ASSIGN(listener_, UnixListener::Bind(path_, &registry_));
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &tcp_port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_OK(listener_->Start(server_.get()));
  }
  void TearDown() override {
    if (listener_ != nullptr) listener_->Stop();
    if (server_ != nullptr) server_->Shutdown();
  }

  PeerRegistry registry_;
  WhoService service_{&registry_};
  ::pprocd::testing::TempDir dir_{"pprocd-peer"};
  std::string path_;
  int tcp_port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<UnixListener> listener_;
};

TEST(PeerRegistryTest, KnowsOnlyRecordedDescriptorPeers) {
  PeerRegistry registry;
  registry.Record(7, {100, 1000, 1001, ""});
  ASSERT_TRUE(registry.Lookup("fd:7").has_value());
  EXPECT_EQ(registry.Lookup("fd:7")->pid, 100);
  EXPECT_EQ(registry.Lookup("fd:7")->uid, 1000u);
  EXPECT_EQ(registry.Lookup("fd:7")->gid, 1001u);
  registry.Record(7, {200, 0, 0, ""});  // The number reused by a new connection.
  EXPECT_EQ(registry.Lookup("fd:7")->pid, 200);
  for (const char* peer : {"fd:8", "fd:", "fd:-1", "fd:7x", "ipv4:127.0.0.1:7", "ipv6:[::1]:7",
                           "unix:", "unix:/run/x.sock", ""}) {
    EXPECT_FALSE(registry.Lookup(peer).has_value()) << peer;
  }
  registry.Forget(7);
  EXPECT_FALSE(registry.Lookup("fd:7").has_value());
}

TEST_F(UnixListenerTest, SocketFileIsOwnerOnly) {
  struct stat info {};
  ASSERT_EQ(stat(path_.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST_F(UnixListenerTest, HandlerSeesTheCallersCredentials) {
  const Who who = Ask(OwnChannel("unix:" + path_));
  ASSERT_TRUE(who.ok);
  EXPECT_TRUE(who.known);
  EXPECT_EQ(who.uid, getuid());
  EXPECT_EQ(who.gid, getgid());
  EXPECT_EQ(who.pid, getpid());
  EXPECT_TRUE(absl::StartsWith(who.peer, "fd:")) << who.peer;
}

TEST_F(UnixListenerTest, TcpCallerIsUnknown) {
  const Who who = Ask(OwnChannel(absl::StrCat("127.0.0.1:", tcp_port_)));
  ASSERT_TRUE(who.ok);
  EXPECT_FALSE(who.known);
  EXPECT_TRUE(absl::StartsWith(who.peer, "ipv4:")) << who.peer;
}

TEST_F(UnixListenerTest, SequentialConnectionsReusingDescriptorsKeepTheirOwnIdentity) {
  std::set<std::string> peers;
  for (int i = 0; i < 200; ++i) {
    const Who who = AskFromChild(path_);
    ASSERT_TRUE(who.ok) << "connection " << i << " was answered for another caller";
    EXPECT_TRUE(who.known);
    EXPECT_EQ(who.uid, getuid());
    peers.insert(who.peer);
    // The channel is gone: let the server close its end, so the next
    // connection may get the same number.
    ASSERT_TRUE(WaitClosed(*PeerRegistry::PeerFd(who.peer), who.inode)) << who.peer;
  }
  EXPECT_LT(peers.size(), 200u) << "no descriptor number was ever reused";
}

TEST_F(UnixListenerTest, ConcurrentConnectionsKeepTheirOwnIdentity) {
  std::atomic<int> answered{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        const Who who = AskFromChild(path_);
        ++(who.ok && who.known && who.uid == getuid() ? answered : wrong);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(answered.load(), 200);
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(UnixListenerTest, CallerOfAnotherUserIsSeenAsThatUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a client as another user";
  // Let the other user reach the socket.
  ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
  ASSERT_EQ(chmod(path_.c_str(), 0666), 0);
  const Who who = AskFromChild(path_, kNobody);
  ASSERT_TRUE(who.ok);
  EXPECT_TRUE(who.known);
  EXPECT_EQ(who.uid, kNobody);
  EXPECT_EQ(who.gid, kNobody);
  // And the next caller on a reused descriptor is root again.
  const Who root = AskFromChild(path_);
  ASSERT_TRUE(root.ok);
  EXPECT_EQ(root.uid, 0u);
}

TEST_F(UnixListenerTest, StopRemovesTheSocketAndKeepsOpenConnections) {
  const std::shared_ptr<grpc::Channel> open = OwnChannel("unix:" + path_);
  ASSERT_TRUE(Ask(open).ok);
  listener_->Stop();
  EXPECT_NE(access(path_.c_str(), F_OK), 0) << "socket left behind";
  const Who again = Ask(open);
  EXPECT_TRUE(again.ok);
  EXPECT_EQ(again.pid, getpid());
  listener_->Stop();  // Idempotent.
}

TEST_F(UnixListenerTest, BindRefusesAnAddressInUse) {
  PeerRegistry other;
  absl::StatusOr<std::unique_ptr<UnixListener>> second = UnixListener::Bind(path_, &other);
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kAlreadyExists));
  // The first listener still serves.
  EXPECT_TRUE(Ask(OwnChannel("unix:" + path_)).known);
}

// The path may lead elsewhere by the time the listener stops: what is there
// then is not its socket, and stays.
TEST_F(UnixListenerTest, StopLeavesAFileThatIsNoLongerItsSocket) {
  ASSERT_EQ(rename(path_.c_str(), dir_.Path("moved.sock").c_str()), 0);
  { std::ofstream(path_) << "someone else's\n"; }
  listener_->Stop();
  struct stat info;
  EXPECT_EQ(lstat(path_.c_str(), &info), 0) << "another file was removed";
  EXPECT_TRUE(S_ISREG(info.st_mode));
  unlink(dir_.Path("moved.sock").c_str());
}

// The socket is born with its mode, whatever the process's umask, and
// keeps it in a directory whose default ACL would narrow it.
TEST_F(UnixListenerTest, BindGivesTheSocketItsModeWhateverTheUmaskOrDefaultAcl) {
  const std::string dir = dir_.Path("acl");
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  // A default ACL of user::rwx group::--- other::---
  struct Entry {
    uint16_t tag, perm;
    uint32_t id;
  };
  struct {
    uint32_t version = 2;
    Entry entries[3] = {{0x01, 7, ~0u}, {0x04, 0, ~0u}, {0x20, 0, ~0u}};
  } acl;
  const bool with_acl =
      setxattr(dir.c_str(), "system.posix_acl_default", &acl, sizeof(acl), 0) == 0;
  const mode_t before = umask(0);
  BindOptions options;
  options.mode = 0666;
  absl::StatusOr<std::unique_ptr<UnixListener>> listener =
      UnixListener::Bind(dir + "/s.sock", &registry_, options);
  EXPECT_EQ(umask(before), 0u) << "Bind changed the process's umask";
  ASSERT_OK(listener);
  struct stat info;
  ASSERT_EQ(lstat((dir + "/s.sock").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0666u) << (with_acl ? "with" : "without") << " a default ACL";
  (*listener)->Stop();
  EXPECT_NE(access((dir + "/s.sock").c_str(), F_OK), 0);
  rmdir(dir.c_str());
}

// As a user, the socket is made with their rights: theirs, and only where
// they may write.
TEST_F(UnixListenerTest, BindAsAUserMakesTheirSocketOnlyWhereTheyMayWrite) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  absl::StatusOr<FsIdentity> nobody = FsIdentity::OfUser(kNobody);
  ASSERT_OK(nobody);
  BindOptions options;
  options.as = *nobody;
  ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
  absl::StatusOr<std::unique_ptr<UnixListener>> refused =
      UnixListener::Bind(dir_.Path("not-theirs.sock"), &registry_, options);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_NE(access(dir_.Path("not-theirs.sock").c_str(), F_OK), 0);

  const std::string theirs = dir_.Path("theirs");
  ASSERT_EQ(mkdir(theirs.c_str(), 0755), 0);
  ASSERT_EQ(chown(theirs.c_str(), kNobody, kNobody), 0);
  absl::StatusOr<std::unique_ptr<UnixListener>> listener =
      UnixListener::Bind(theirs + "/s.sock", &registry_, options);
  ASSERT_OK(listener);
  struct stat info;
  ASSERT_EQ(lstat((theirs + "/s.sock").c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, kNobody);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  (*listener)->Stop();
  EXPECT_NE(access((theirs + "/s.sock").c_str(), F_OK), 0);
  rmdir(theirs.c_str());
}

TEST_F(UnixListenerTest, AdoptsAnInheritedSocketAndLeavesItsFile) {
  const std::string path = dir_.Path("adopted.sock");
  UniqueFd listening(socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(bind(listening.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(listening.get(), 16), 0);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<UnixListener> adopted,
                       UnixListener::Adopt(std::move(listening), &registry_));
  EXPECT_EQ(adopted->path(), path);
  ASSERT_OK(adopted->Start(server_.get()));
  const Who who = AskFromChild(path);
  EXPECT_TRUE(who.ok && who.known);
  adopted->Stop();
  EXPECT_EQ(access(path.c_str(), F_OK), 0) << "the adopted socket's file is not ours to remove";
  unlink(path.c_str());
}

TEST(UnixListenerAdoptTest, RefusesASocketThatDoesNotListen) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd other(pair[1]);
  PeerRegistry registry;
  EXPECT_THAT(UnixListener::Adopt(UniqueFd(pair[0]), &registry),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace pprocd
