package pprocd_test

import (
	"context"
	"iter"
	"os"
	"syscall"
	"testing"
	"time"

	pprocd "pprocd.dev/client"
)

// BenchmarkMapEcho runs one Map of b.N `echo` items (go test -bench
// MapEcho -benchtime 1000000x) on a server with two workers, in each form,
// and reports items/s and the client's CPU time per item.
func BenchmarkMapEcho(b *testing.B) {
	srv := startServer(b, 2)
	client := srv.dial(b)
	for _, form := range []struct {
		name   string
		client *pprocd.Client
	}{{"packed", client}, {"value", client.WithValueForm()}} {
		b.Run(form.name, func(b *testing.B) { mapEcho(b, form.client) })
	}
}

// counting yields 0, 1, ..., n-1.
func counting(n int) iter.Seq[any] {
	return func(yield func(any) bool) {
		for i := 0; i < n; i++ {
			if !yield(i) {
				return
			}
		}
	}
}

func mapEcho(b *testing.B, client *pprocd.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	before := cpuTime(b)
	b.ResetTimer()
	start := time.Now()
	next := uint64(0)
	for result, err := range client.Map(ctx, "echo", counting(b.N), nil) {
		if err != nil {
			b.Fatal(err)
		}
		if result.Index != next || result.Value != float64(next) {
			b.Fatalf("result %d: index %d value %v", next, result.Index, result.Value)
		}
		next++
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if next != uint64(b.N) {
		b.Fatalf("%d results of %d", next, b.N)
	}
	cpu := cpuTime(b) - before
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "items/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/1000, "client-cpu-us/item")
}

// cpuTime is the user and system time of this process so far.
func cpuTime(b *testing.B) time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		b.Fatal(os.NewSyscallError("getrusage", err))
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}
