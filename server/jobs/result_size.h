// Results too large to send. A job's output is replayed by Reconnect, one
// output per message at least, so a result whose message would exceed the
// largest message the server sends could never be delivered, and every
// output after it would be stuck behind it. Such a result is stored, and
// replayed, as a failed result of the same item instead.
//
// Pure functions; any thread.
#ifndef PPROCD_SERVER_JOBS_RESULT_SIZE_H_
#define PPROCD_SERVER_JOBS_RESULT_SIZE_H_

#include <cstdint>

#include "pprocd/v1/item.pb.h"

namespace pprocd {

// The largest serialized ItemResult that one Reconnect message of at most
// `max_message_bytes` carries (what the message adds around it: the job's
// id, the seq, the field's tag and length), and that the job store takes.
uint64_t MaxSendableResultBytes(uint64_t max_message_bytes);

// The failed result that stands for `result`, whose serialization takes
// `size` bytes: the same index, seq, last and stats; the error
// ERROR_KIND_RAISED "result of SIZE bytes exceeds the largest message the
// server sends (MAX bytes)"; and its logs, cut (middle out, counted in
// dropped_bytes) so that the whole fits in MaxSendableResultBytes().
v1::ItemResult TooLargeResult(const v1::ItemResult& result, uint64_t size,
                              uint64_t max_message_bytes);

}  // namespace pprocd

#endif  // PPROCD_SERVER_JOBS_RESULT_SIZE_H_
