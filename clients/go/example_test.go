package pprocd_test

import (
	"context"
	"fmt"
	"log"

	pprocd "pprocd.dev/client"
)

// Map of a callable whose second input crashes its worker: that input
// fails alone.
func Example() {
	ctx := context.Background()
	client, err := pprocd.Dial(ctx, "") // $PPROCD_ADDRESS, else the per-user socket
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	for result, err := range client.Map(ctx, "chaos", pprocd.Values([]string{"ok", "crash", "ok"}), nil) {
		if err != nil { // a failed input is an *pprocd.ItemError; errors.Is(err, pprocd.ErrCrashed)
			fmt.Println(result.Index, err)
			continue
		}
		fmt.Println(result.Index, result.Value)
	}
}

// A two-way channel to one invocation of the channel callable countdown.
func ExampleClient_Start() {
	ctx := context.Background()
	client, err := pprocd.Dial(ctx, "")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ch, err := client.Start(ctx, "countdown", nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	ch.Send(3)
	reply, err := ch.Recv() // 2
	fmt.Println(reply, err)
	ch.CloseSend()
	result, err := ch.Result()
	fmt.Println(result.Value, err)
}

// A background job, then every output it stored.
func ExampleClient_Submit() {
	ctx := context.Background()
	client, err := pprocd.Dial(ctx, "")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	job, err := client.Submit(ctx, "square", []any{1, 2, 3}, &pprocd.SubmitOptions{Name: "nightly", Ordered: true})
	if err != nil {
		log.Fatal(err)
	}
	for output, err := range client.Reconnect(ctx, []string{job.ID}, nil) {
		if err != nil {
			log.Fatal(err)
		}
		if output.Result != nil {
			fmt.Println(output.Result.Index, output.Result.Value)
		} else {
			fmt.Println(output.Job.State)
		}
	}
}
