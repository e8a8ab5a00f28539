// Original file: pprocd/v1/item.proto

/**
 * Which resource figures (ItemStats) a call's results carry.
 */
export const ItemStatsMode = {
  /**
   * The default: ITEM_STATS_PER_ITEM in the Value form (every ItemResult
   * has its stats, as always); ITEM_STATS_PER_CHUNK in the packed form.
   */
  ITEM_STATS_UNSPECIFIED: 'ITEM_STATS_UNSPECIFIED',
  /**
   * Every item's own figures (ItemResult.stats; ResultBlock.item_stats).
   */
  ITEM_STATS_PER_ITEM: 'ITEM_STATS_PER_ITEM',
  /**
   * One summary per ResultBlock (ResultBlock.stats); failed items keep
   * their own.
   */
  ITEM_STATS_PER_CHUNK: 'ITEM_STATS_PER_CHUNK',
  /**
   * Failed items only.
   */
  ITEM_STATS_NONE: 'ITEM_STATS_NONE',
} as const;

/**
 * Which resource figures (ItemStats) a call's results carry.
 */
export type ItemStatsMode =
  /**
   * The default: ITEM_STATS_PER_ITEM in the Value form (every ItemResult
   * has its stats, as always); ITEM_STATS_PER_CHUNK in the packed form.
   */
  | 'ITEM_STATS_UNSPECIFIED'
  | 0
  /**
   * Every item's own figures (ItemResult.stats; ResultBlock.item_stats).
   */
  | 'ITEM_STATS_PER_ITEM'
  | 1
  /**
   * One summary per ResultBlock (ResultBlock.stats); failed items keep
   * their own.
   */
  | 'ITEM_STATS_PER_CHUNK'
  | 2
  /**
   * Failed items only.
   */
  | 'ITEM_STATS_NONE'
  | 3

/**
 * Which resource figures (ItemStats) a call's results carry.
 */
export type ItemStatsMode__Output = typeof ItemStatsMode[keyof typeof ItemStatsMode]
