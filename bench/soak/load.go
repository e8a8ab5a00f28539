package main

// The load: each of N goroutines keeps one call open at a time and opens the
// next as soon as the previous one ended, until its phase is over. A call is
// a Map or Queue of a few small items (echo or square), a Start channel
// (accumulate: a few numbers in, their sum back) or a unary Echo. Every
// result is checked; every non-OK status and every wrong result is an error.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/status"

	pprocd "pprocd.dev/client"
)

// Call kinds, in the order of the --mix flag.
const (
	kindMap = iota
	kindQueue
	kindStart
	kindEcho
	numKinds
)

var kindNames = [numKinds]string{"map", "queue", "start", "echo"}

// loadConfig is what every stream of a phase shares.
type loadConfig struct {
	clients     []*pprocd.Client
	streams     int
	mix         [numKinds]int // weights
	maxItems    int           // items per Map/Queue call and messages per Start: 1..maxItems
	callTimeout time.Duration
}

// phaseStats counts one phase's calls. Safe for concurrent use.
type phaseStats struct {
	calls    [numKinds]atomic.Uint64 // calls that ended OK with every result right
	items    [numKinds]atomic.Uint64 // inputs (Map/Queue) or messages (Start) of those calls
	failed   [numKinds]atomic.Uint64 // calls with at least one error
	inFlight atomic.Int64            // calls open now

	mu      sync.Mutex
	byCause map[string]uint64 // "map: DeadlineExceeded", "queue: wrong result", ...
	first   []string          // the first few error messages, whole
}

func newPhaseStats() *phaseStats { return &phaseStats{byCause: map[string]uint64{}} }

const keptMessages = 10

func (s *phaseStats) fail(kind int, cause string, err error) {
	s.failed[kind].Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byCause[kindNames[kind]+": "+cause]++
	if len(s.first) < keptMessages {
		s.first = append(s.first, fmt.Sprintf("%s: %s: %v", kindNames[kind], cause, err))
	}
}

func (s *phaseStats) totalCalls() (ok, failed uint64) {
	for k := 0; k < numKinds; k++ {
		ok += s.calls[k].Load()
		failed += s.failed[k].Load()
	}
	return ok, failed
}

// workerItems counts the invocations that ran on workers: Map/Queue inputs
// and Start channels (one invocation each; Echo touches no worker).
func (s *phaseStats) workerItems() uint64 {
	return s.items[kindMap].Load() + s.items[kindQueue].Load() + s.calls[kindStart].Load()
}

// causes lists the errors of every phase given by cause, with their counts.
func causes(phases ...*phaseStats) []string {
	counts := map[string]uint64{}
	for _, s := range phases {
		s.mu.Lock()
		for cause, n := range s.byCause {
			counts[cause] += n
		}
		s.mu.Unlock()
	}
	var out []string
	for cause, n := range counts {
		out = append(out, fmt.Sprintf("%s ×%d", cause, n))
	}
	sort.Strings(out)
	return out
}

// runLoad runs cfg.streams streams until deadline (a call open at the
// deadline is finished, bounded by the call timeout) or until ctx ends.
func runLoad(ctx context.Context, cfg loadConfig, deadline time.Time, stats *phaseStats, seed int64) {
	var wg sync.WaitGroup
	for i := 0; i < cfg.streams; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed + int64(i)))
			client := cfg.clients[i%len(cfg.clients)]
			for time.Now().Before(deadline) && ctx.Err() == nil {
				kind := pickKind(rng, cfg.mix)
				stats.inFlight.Add(1)
				callCtx, cancel := context.WithTimeout(ctx, cfg.callTimeout)
				items, cause, err := runCall(callCtx, client, kind, rng, cfg.maxItems)
				cancel()
				stats.inFlight.Add(-1)
				if err != nil {
					if ctx.Err() != nil {
						return // Interrupted: not the server's error.
					}
					stats.fail(kind, cause, err)
					continue
				}
				stats.calls[kind].Add(1)
				stats.items[kind].Add(uint64(items))
			}
		}(i)
	}
	wg.Wait()
}

func pickKind(rng *rand.Rand, mix [numKinds]int) int {
	total := 0
	for _, w := range mix {
		total += w
	}
	r := rng.Intn(total)
	for k, w := range mix {
		if r < w {
			return k
		}
		r -= w
	}
	return numKinds - 1
}

// runCall makes one call of kind and checks it. It returns the inputs or
// messages sent, or a short cause ("status Unavailable", "wrong result")
// and the error.
func runCall(ctx context.Context, client *pprocd.Client, kind int, rng *rand.Rand, maxItems int) (int, string, error) {
	n := 1 + rng.Intn(maxItems)
	switch kind {
	case kindMap, kindQueue:
		return runMapOrQueue(ctx, client, kind, rng, n)
	case kindStart:
		return runStart(ctx, client, rng, n)
	default:
		return runEcho(ctx, client, rng)
	}
}

// input is one Map/Queue input and the result it must give.
type input struct {
	value any
	want  any
}

func makeInputs(rng *rand.Rand, n int) (callable string, inputs []input) {
	square := rng.Intn(2) == 0
	callable = "echo"
	if square {
		callable = "square"
	}
	inputs = make([]input, n)
	for i := range inputs {
		x := rng.Intn(2001) - 1000
		switch {
		case square:
			inputs[i] = input{x, float64(x * x)}
		case rng.Intn(4) == 0:
			s := fmt.Sprintf("item-%d", x)
			inputs[i] = input{s, s}
		default:
			inputs[i] = input{x, float64(x)}
		}
	}
	return callable, inputs
}

// cause names an error for the counts: its gRPC status code if it has one.
func cause(err error) string {
	if st, ok := status.FromError(err); ok {
		return "status " + st.Code().String()
	}
	var itemErr *pprocd.ItemError
	if errors.As(err, &itemErr) {
		return "item " + itemErr.Kind.String()
	}
	return "error"
}

const wrongResult = "wrong result"

// runMapOrQueue: one Map or Queue call of n inputs.
func runMapOrQueue(ctx context.Context, client *pprocd.Client, kind int, rng *rand.Rand, n int) (int, string, error) {
	callable, inputs := makeInputs(rng, n)
	var call *pprocd.Call
	var err error
	if kind == kindMap {
		call, err = client.OpenMap(ctx, callable, nil)
	} else {
		call, err = client.OpenQueue(ctx, callable, nil)
	}
	if err != nil {
		return 0, cause(err), err
	}
	defer call.Abort()
	// The inputs go out in one request, or in two.
	values := make([]any, n)
	for i, in := range inputs {
		values[i] = in.value
	}
	split := n
	if n > 1 && rng.Intn(2) == 0 {
		split = 1 + rng.Intn(n-1)
	}
	for _, part := range [][]any{values[:split], values[split:]} {
		if len(part) == 0 {
			continue
		}
		if _, err := call.Send(part...); err != nil {
			if errors.Is(err, io.EOF) {
				break // The call ended: Recv says why.
			}
			return 0, cause(err), err
		}
	}
	if err := call.CloseSend(); err != nil {
		return 0, cause(err), err
	}
	seen := make([]bool, n)
	got := 0
	for {
		result, err := call.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, cause(err), err
		}
		if result.Err != nil {
			return 0, cause(result.Err), result.Err
		}
		i := result.Index
		switch {
		case i >= uint64(n) || seen[i]:
			return 0, wrongResult, fmt.Errorf("%s: result for index %d (of %d inputs) twice or out of range", callable, i, n)
		case kind == kindMap && i != uint64(got):
			return 0, wrongResult, fmt.Errorf("Map %s: result %d has index %d", callable, got, i)
		case !result.Last || result.Seq != 0:
			return 0, wrongResult, fmt.Errorf("%s: input %d: result seq %d last %v, want one result", callable, i, result.Seq, result.Last)
		case !reflect.DeepEqual(result.Value, inputs[i].want):
			return 0, wrongResult, fmt.Errorf("%s(%v) = %v, want %v", callable, inputs[i].value, result.Value, inputs[i].want)
		}
		seen[i] = true
		got++
	}
	if got != n {
		return 0, wrongResult, fmt.Errorf("%s: %d results for %d inputs", callable, got, n)
	}
	return n, "", nil
}

// runStart: a Start channel of accumulate, n numbers in, their sum back.
func runStart(ctx context.Context, client *pprocd.Client, rng *rand.Rand, n int) (int, string, error) {
	ch, err := client.Start(ctx, "accumulate", nil, nil)
	if err != nil {
		return 0, cause(err), err
	}
	defer ch.Cancel()
	sum := 0
	for i := 0; i < n; i++ {
		x := rng.Intn(2001) - 1000
		sum += x
		if err := ch.Send(x); err != nil {
			if errors.Is(err, io.EOF) {
				break // Ended early: Result says why.
			}
			return 0, cause(err), err
		}
	}
	if err := ch.CloseSend(); err != nil {
		return 0, cause(err), err
	}
	result, err := ch.Result()
	if err != nil {
		return 0, cause(err), err
	}
	if !reflect.DeepEqual(result.Value, float64(sum)) {
		return 0, wrongResult, fmt.Errorf("accumulate of %d numbers = %v, want %d", n, result.Value, sum)
	}
	return n, "", nil
}

// runEcho: one unary Echo of a small value.
func runEcho(ctx context.Context, client *pprocd.Client, rng *rand.Rand) (int, string, error) {
	x := rng.Intn(2001) - 1000
	value := map[string]any{"n": float64(x), "s": strings.Repeat("e", 1+rng.Intn(16))}
	got, err := client.Echo(ctx, value)
	if err != nil {
		return 0, cause(err), err
	}
	if !reflect.DeepEqual(got, value) {
		return 0, wrongResult, fmt.Errorf("Echo(%v) = %v", value, got)
	}
	return 1, "", nil
}
