// Blocks of results (v1::ResultBlock) as a job stores and replays them.
//
// A job's call runs in the packed form: its successful results come from
// the workers as blocks, and each block is stored as one output (kBlock)
// that takes one seq per item. Reconnect gives a block to a packed reader
// as it is (or its tail, when after_seq falls inside it), and to a reader
// of the Value form as one ItemResult per item, exactly as a call of the
// Value form would have stored them.
//
// Pure functions; any thread.
#ifndef PPROCD_SERVER_JOBS_JOB_BLOCKS_H_
#define PPROCD_SERVER_JOBS_JOB_BLOCKS_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pprocd/v1/item.pb.h"
#include "server/jobs/job_record.h"

namespace pprocd {

// Appends the outputs that store `block` to `*outputs`, in index order,
// taking block.count() seqs in all: the block itself as one kBlock output
// when its serialization fits in MaxSendableResultBytes(max_message_bytes);
// otherwise the block cut into parts that fit (the first keeps the block's
// totals, `stats`), and each item too large to fit alone as the failed
// kResult TooLargeResult() makes of it. A block that is not a JSON array
// of block.count() values (a faulty worker) is stored as that many failed
// results (ERROR_KIND_CRASHED). Returns how many of its items were stored
// as failures.
uint64_t AppendBlockOutputs(v1::ResultBlock block, uint64_t max_message_bytes,
                            std::vector<NewOutput>* outputs);

// The items of `block` from the `skip`-th on, as a block (first_index +
// skip, ...), their item_stats with them. The block's totals (`stats`)
// stay with its first item: a tail (skip > 0) has none. DATA_LOSS if the
// block is not a JSON array of count values; INVALID_ARGUMENT if skip is
// not below count.
absl::StatusOr<v1::ResultBlock> BlockTail(const v1::ResultBlock& block, uint32_t skip);

// Appends items [skip, skip + max_items) of `block` (fewer at its end) to
// `*results` as the Value form has them: index, value, last, the item's
// stats when the block has item_stats. An item whose ItemResult would not
// fit in one message of max_message_bytes comes as TooLargeResult().
// DATA_LOSS if the block or a value cannot be read.
absl::Status AppendBlockItems(const v1::ResultBlock& block, uint32_t skip, uint32_t max_items,
                              uint64_t max_message_bytes, std::vector<v1::ItemResult>* results);

}  // namespace pprocd

#endif  // PPROCD_SERVER_JOBS_JOB_BLOCKS_H_
