package pprocd_test

import (
	"context"
	"testing"

	pprocd "pprocd.dev/client"
)

// Options.ItemStats on a real server, in both forms: which results carry
// their own Stats, and which their block's.
func TestItemStatsModes(t *testing.T) {
	srv := startServer(t, 2)
	client := srv.dial(t)
	for _, c := range []struct {
		name      string
		client    *pprocd.Client
		mode      pprocd.ItemStatsMode
		own       bool // Every result has its own Stats.
		blockwide bool // Every result has its block's Stats.
	}{
		{"packed default", client, pprocd.StatsDefault, false, true},
		{"packed per item", client, pprocd.StatsPerItem, true, false},
		{"packed per chunk", client, pprocd.StatsPerChunk, false, true},
		{"packed none", client, pprocd.StatsNone, false, false},
		{"value default", client.WithValueForm(), pprocd.StatsDefault, true, false},
		{"value per item", client.WithValueForm(), pprocd.StatsPerItem, true, false},
		{"value none", client.WithValueForm(), pprocd.StatsNone, false, false},
		{"value per chunk", client.WithValueForm(), pprocd.StatsPerChunk, true, false},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), eventLimit)
		count := 0
		for result, err := range c.client.Map(ctx, "echo", pprocd.Values([]int{1, 2, 3, 4, 5}), &pprocd.Options{ItemStats: c.mode}) {
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			count++
			own := result.Stats != nil && result.Stats.WorkerPID > 0
			blockwide := result.Block != nil && result.Block.Stats != nil && result.Block.Stats.WorkerPID > 0
			if own != c.own || blockwide != c.blockwide {
				t.Errorf("%s: result %d: own stats %+v, block %+v", c.name, result.Index, result.Stats, result.Block)
			}
		}
		cancel()
		if count != 5 {
			t.Errorf("%s: %d results", c.name, count)
		}
	}
}
