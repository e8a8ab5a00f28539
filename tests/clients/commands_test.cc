#include "pproc/commands.h"

#include "gtest/gtest.h"

namespace pprocd::pproc {
namespace {

TEST(FormatCallableTest, ShowsParametersTypesDefaultsAndDescription) {
  v1::Callable callable;
  callable.set_name("fib");
  callable.set_description("Fibonacci number.\nSlowly, on purpose.");
  v1::Parameter* n = callable.add_parameters();
  n->set_name("n");
  n->set_type(v1::PARAMETER_TYPE_INTEGER);
  n->set_required(true);
  v1::Parameter* base = callable.add_parameters();
  base->set_name("base");
  base->set_type(v1::PARAMETER_TYPE_NUMBER);
  base->mutable_default_value()->set_number_value(10);
  v1::Parameter* any = callable.add_parameters();
  any->set_name("tag");
  any->set_type(v1::PARAMETER_TYPE_ANY);
  any->mutable_default_value()->set_string_value("x");
  EXPECT_EQ(FormatCallable(callable),
            "fib(n:integer, base:number=10, tag:any=\"x\") — Fibonacci "
            "number.");
}

TEST(FormatCallableTest, MarksChannelCallablesAndOmitsEmptyDescription) {
  v1::Callable callable;
  callable.set_name("chat");
  callable.set_kind(v1::CALLABLE_KIND_CHANNEL);
  EXPECT_EQ(FormatCallable(callable), "chat() [channel]");
}

TEST(FormatStatusTest, PrintsEveryFieldInOrderZerosIncluded) {
  v1::GetStatusResponse status;
  status.set_workers_idle(2);
  status.set_items_completed(12345678901234);
  std::string text = FormatStatus(status);
  EXPECT_EQ(text.substr(0, text.find("items_queued")),
            "workers_idle: 2\nworkers_busy: 0\nworkers_starting: 0\n");
  EXPECT_NE(text.find("\nitems_completed: 12345678901234\n"), std::string::npos);
  EXPECT_NE(text.find("\nworkers_configured: 0\n"), std::string::npos);
}

}  // namespace
}  // namespace pprocd::pproc
