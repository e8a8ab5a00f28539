// Original file: pprocd/v1/item.proto

import type { ItemStats as _pprocd_v1_ItemStats, ItemStats__Output as _pprocd_v1_ItemStats__Output } from '../../pprocd/v1/ItemStats';
import type { Long } from '@grpc/proto-loader';

/**
 * Consecutive successful results of a packed call in one encoded block:
 * items first_index, first_index + 1, ..., each with seq 0 and last set, no
 * logs (an item that wrote output comes as an ItemResult instead).
 * 
 * Why JSON: it is what google.protobuf.Value holds (both forms carry the
 * same values), every client language decodes a JSON array in one call of
 * compiled code (orjson or json in Python, JSON.parse in Node,
 * encoding/json in Go, simdjson in C++: 5 to 70 ns per small element,
 * against about 2 us to build one google.protobuf.Value in Python), and the
 * server splits an array into chunks by scanning it, without building
 * anything per item. MessagePack or pickle would add a library to every
 * client, or serve one language only.
 */
export interface ResultBlock {
  'firstIndex'?: (number | string | Long);
  /**
   * How many items the block holds.
   */
  'count'?: (number);
  /**
   * Their return values: a JSON array (RFC 8259, UTF-8) of `count` values.
   * Numbers are printed as doubles, NaN and infinities as the strings
   * "NaN", "Infinity" and "-Infinity" (as protobuf's JSON mapping does).
   */
  'values'?: (Buffer | Uint8Array | string);
  /**
   * ITEM_STATS_PER_CHUNK: the block's totals: wall_us and cpu_us summed,
   * the largest max_rss_kib, the worker_pid and start_unix_us of its first
   * item.
   */
  'stats'?: (_pprocd_v1_ItemStats | null);
  /**
   * ITEM_STATS_PER_ITEM: each item's own figures, in order.
   */
  'itemStats'?: (_pprocd_v1_ItemStats)[];
}

/**
 * Consecutive successful results of a packed call in one encoded block:
 * items first_index, first_index + 1, ..., each with seq 0 and last set, no
 * logs (an item that wrote output comes as an ItemResult instead).
 * 
 * Why JSON: it is what google.protobuf.Value holds (both forms carry the
 * same values), every client language decodes a JSON array in one call of
 * compiled code (orjson or json in Python, JSON.parse in Node,
 * encoding/json in Go, simdjson in C++: 5 to 70 ns per small element,
 * against about 2 us to build one google.protobuf.Value in Python), and the
 * server splits an array into chunks by scanning it, without building
 * anything per item. MessagePack or pickle would add a library to every
 * client, or serve one language only.
 */
export interface ResultBlock__Output {
  'firstIndex': (number);
  /**
   * How many items the block holds.
   */
  'count': (number);
  /**
   * Their return values: a JSON array (RFC 8259, UTF-8) of `count` values.
   * Numbers are printed as doubles, NaN and infinities as the strings
   * "NaN", "Infinity" and "-Infinity" (as protobuf's JSON mapping does).
   */
  'values': (Buffer);
  /**
   * ITEM_STATS_PER_CHUNK: the block's totals: wall_us and cpu_us summed,
   * the largest max_rss_kib, the worker_pid and start_unix_us of its first
   * item.
   */
  'stats': (_pprocd_v1_ItemStats__Output | null);
  /**
   * ITEM_STATS_PER_ITEM: each item's own figures, in order.
   */
  'itemStats': (_pprocd_v1_ItemStats__Output)[];
}
