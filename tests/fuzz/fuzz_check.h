// What the fuzz targets share: FUZZ_CHECK, an assertion that is a finding
// when it fails (libFuzzer reports the abort and saves the input).
#ifndef PPROCD_TESTS_FUZZ_FUZZ_CHECK_H_
#define PPROCD_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

// Aborts with `what` when `condition` is false.
#define FUZZ_CHECK(condition, what)                                          \
  do {                                                                       \
    if (!(condition)) {                                                      \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s: %s\n", #condition, what); \
      std::abort();                                                          \
    }                                                                        \
  } while (false)

#endif  // PPROCD_TESTS_FUZZ_FUZZ_CHECK_H_
