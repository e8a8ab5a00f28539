package pprocd_test

// A fake server, in process, that speaks both forms of items the way the
// contract describes them: the client's side of the packed form is tested
// here without a pprocd.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	pprocd "pprocd.dev/client"
	"pprocd.dev/client/pprocdv1"
)

// fakeFarm runs "echo" (an input "fail" raises, an input "log" writes to
// stdout) and "chat" (Start: sends back its arguments and every message,
// returns how many messages it received), and keeps submitted jobs.
type fakeFarm struct {
	pprocdv1.UnimplementedProcessFarmServiceServer
	mu sync.Mutex
	// The forms of the calls seen, by method: "packed" or "value".
	forms map[string][]string
	jobs  map[string][]json.RawMessage
}

func startFakeFarm(t *testing.T) (*fakeFarm, *pprocd.Client) {
	t.Helper()
	farm := &fakeFarm{forms: map[string][]string{}, jobs: map[string][]json.RawMessage{}}
	listener := bufconn.Listen(1 << 20)
	server := grpc.NewServer()
	pprocdv1.RegisterProcessFarmServiceServer(server, farm)
	go server.Serve(listener)
	t.Cleanup(server.Stop)
	conn, err := grpc.NewClient("passthrough:///fake",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return listener.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return farm, pprocd.NewClient(conn)
}

func (f *fakeFarm) saw(method string, packed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	form := "value"
	if packed {
		form = "packed"
	}
	f.forms[method] = append(f.forms[method], form)
}

// valueJSON is a google.protobuf.Value as JSON.
func valueJSON(v *structpb.Value) json.RawMessage {
	data, err := protojson.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

// jsonValue is JSON as a google.protobuf.Value.
func jsonValue(data json.RawMessage) *structpb.Value {
	var v structpb.Value
	if err := protojson.Unmarshal(data, &v); err != nil {
		panic(err)
	}
	return &v
}

// inputsOf reads one request's inputs in the call's form; a request in the
// other form is INVALID_ARGUMENT, as the server has it.
func inputsOf(packed bool, values []*structpb.Value, block []byte) ([]json.RawMessage, error) {
	if packed && len(values) > 0 || !packed && len(block) > 0 {
		return nil, status.Error(codes.InvalidArgument, "inputs in both forms in one call")
	}
	if !packed {
		out := make([]json.RawMessage, len(values))
		for i, v := range values {
			out[i] = valueJSON(v)
		}
		return out, nil
	}
	if len(block) == 0 {
		return nil, nil
	}
	var out []json.RawMessage
	if err := json.Unmarshal(block, &out); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "packed_inputs: %v", err)
	}
	return out, nil
}

func statsOf(index uint64) *pprocdv1.ItemStats {
	return &pprocdv1.ItemStats{WallUs: 10 + index, CpuUs: 5, MaxRssKib: 100, WorkerPid: 4242, StartUnixUs: 1700000000000000}
}

// echoResults answers inputs from first on: in the packed form successes
// with no output as blocks, the rest as ItemResults.
func echoResults(first uint64, inputs []json.RawMessage, options *pprocdv1.CallOptions) ([]*pprocdv1.ItemResult, []*pprocdv1.ResultBlock) {
	mode := options.GetItemStats()
	if mode == pprocdv1.ItemStatsMode_ITEM_STATS_UNSPECIFIED {
		mode = pprocdv1.ItemStatsMode_ITEM_STATS_PER_ITEM
		if options.GetPacked() {
			mode = pprocdv1.ItemStatsMode_ITEM_STATS_PER_CHUNK
		}
	}
	var results []*pprocdv1.ItemResult
	var blocks []*pprocdv1.ResultBlock
	var open *pprocdv1.ResultBlock
	var values []json.RawMessage
	closeBlock := func() {
		if open != nil {
			open.Values, _ = json.Marshal(values)
			blocks = append(blocks, open)
			open, values = nil, nil
		}
	}
	for i, input := range inputs {
		index := first + uint64(i)
		result := &pprocdv1.ItemResult{Index: index, Last: true, Stats: statsOf(index)}
		switch string(input) {
		case `"fail"`:
			result.Outcome = &pprocdv1.ItemResult_Error{Error: &pprocdv1.ItemError{Kind: pprocdv1.ErrorKind_ERROR_KIND_RAISED, Message: "asked to fail"}}
		case `"log"`:
			result.Outcome = &pprocdv1.ItemResult_Value{Value: jsonValue(input)}
			result.Logs = []*pprocdv1.LogRecord{{Stream: pprocdv1.LogStream_LOG_STREAM_STDOUT, Data: []byte("hi\n")}}
		default:
			if options.GetPacked() {
				if open == nil {
					open = &pprocdv1.ResultBlock{FirstIndex: index}
				}
				open.Count++
				values = append(values, input)
				switch mode {
				case pprocdv1.ItemStatsMode_ITEM_STATS_PER_ITEM:
					open.ItemStats = append(open.ItemStats, statsOf(index))
				case pprocdv1.ItemStatsMode_ITEM_STATS_PER_CHUNK:
					if open.Stats == nil {
						open.Stats = statsOf(index)
					} else {
						open.Stats.WallUs += statsOf(index).WallUs
					}
				}
				continue
			}
			result.Outcome = &pprocdv1.ItemResult_Value{Value: jsonValue(input)}
			if mode == pprocdv1.ItemStatsMode_ITEM_STATS_NONE {
				result.Stats = nil
			}
		}
		closeBlock()
		results = append(results, result)
	}
	closeBlock()
	return results, blocks
}

func (f *fakeFarm) Map(stream grpc.BidiStreamingServer[pprocdv1.MapRequest, pprocdv1.MapResponse]) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	options := first.GetOptions()
	f.saw("Map", options.GetPacked())
	if first.GetCallable() != "echo" {
		return status.Errorf(codes.NotFound, "no callable %q", first.GetCallable())
	}
	next := uint64(0)
	for request := first; ; {
		inputs, err := inputsOf(options.GetPacked(), request.GetInputs(), request.GetPackedInputs())
		if err != nil {
			return err
		}
		if len(inputs) > 0 {
			results, blocks := echoResults(next, inputs, options)
			next += uint64(len(inputs))
			if err := stream.Send(&pprocdv1.MapResponse{Results: results, Blocks: blocks}); err != nil {
				return err
			}
		}
		if request, err = stream.Recv(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

func (f *fakeFarm) Start(stream grpc.BidiStreamingServer[pprocdv1.StartRequest, pprocdv1.StartResponse]) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	packed := first.GetOptions().GetPacked()
	f.saw("Start", packed)
	send := func(messages []json.RawMessage) error {
		if packed {
			data, _ := json.Marshal(messages)
			return stream.Send(&pprocdv1.StartResponse{PackedMessages: data})
		}
		for _, m := range messages {
			if err := stream.Send(&pprocdv1.StartResponse{Event: &pprocdv1.StartResponse_Message{Message: jsonValue(m)}}); err != nil {
				return err
			}
		}
		return nil
	}
	var arguments json.RawMessage
	if packed {
		if first.GetArguments() != nil {
			return status.Error(codes.InvalidArgument, "arguments in both forms")
		}
		arguments = first.GetPackedArguments()
	} else {
		arguments = valueJSON(first.GetArguments())
	}
	if err := send([]json.RawMessage{arguments}); err != nil {
		return err
	}
	received := 0
	for {
		request, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		var messages []json.RawMessage
		if request.GetMessage() != nil {
			messages = []json.RawMessage{valueJSON(request.GetMessage())}
		}
		more, err := inputsOf(packed, nil, request.GetPackedMessages())
		if err != nil {
			return err
		}
		received += len(messages) + len(more)
		if err := send(append(messages, more...)); err != nil {
			return err
		}
	}
	return stream.Send(&pprocdv1.StartResponse{Event: &pprocdv1.StartResponse_Result{Result: &pprocdv1.ItemResult{
		Seq: uint64(received + 1), Last: true, Outcome: &pprocdv1.ItemResult_Value{Value: structpb.NewNumberValue(float64(received))},
	}}})
}

func (f *fakeFarm) Submit(_ context.Context, request *pprocdv1.SubmitRequest) (*pprocdv1.SubmitResponse, error) {
	f.saw("Submit", request.GetOptions().GetPacked())
	inputs, err := inputsOf(request.GetOptions().GetPacked(), request.GetInputs(), request.GetPackedInputs())
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := fmt.Sprintf("job-%d", len(f.jobs)+1)
	f.jobs[id] = inputs
	return &pprocdv1.SubmitResponse{Job: &pprocdv1.Job{Id: id, Callable: request.GetCallable(), State: pprocdv1.JobState_JOB_STATE_QUEUED}}, nil
}

// Reconnect replays a job as stored: the job running, its results, the
// job succeeded.
func (f *fakeFarm) Reconnect(request *pprocdv1.ReconnectRequest, stream grpc.ServerStreamingServer[pprocdv1.ReconnectResponse]) error {
	f.saw("Reconnect", request.GetPacked())
	for _, id := range request.GetJobs() {
		f.mu.Lock()
		inputs, ok := f.jobs[id]
		f.mu.Unlock()
		if !ok {
			return status.Errorf(codes.NotFound, "no job %q", id)
		}
		job := &pprocdv1.Job{Id: id, Callable: "echo", State: pprocdv1.JobState_JOB_STATE_RUNNING}
		outputs := []*pprocdv1.ReconnectResponse{{JobId: id, Seq: 1, Output: &pprocdv1.ReconnectResponse_Job{Job: job}}}
		seq := uint64(2)
		results, blocks := echoResults(0, inputs, &pprocdv1.CallOptions{Packed: request.GetPacked()})
		for len(results) > 0 || len(blocks) > 0 {
			if len(blocks) == 0 || len(results) > 0 && results[0].GetIndex() < blocks[0].GetFirstIndex() {
				outputs = append(outputs, &pprocdv1.ReconnectResponse{JobId: id, Seq: seq, Output: &pprocdv1.ReconnectResponse_Result{Result: results[0]}})
				results, seq = results[1:], seq+1
				continue
			}
			outputs = append(outputs, &pprocdv1.ReconnectResponse{JobId: id, Seq: seq, Output: &pprocdv1.ReconnectResponse_Block{Block: blocks[0]}})
			blocks, seq = blocks[1:], seq+uint64(blocks[0].GetCount())
		}
		done := &pprocdv1.Job{Id: id, Callable: "echo", State: pprocdv1.JobState_JOB_STATE_SUCCEEDED}
		outputs = append(outputs, &pprocdv1.ReconnectResponse{JobId: id, Seq: seq, Output: &pprocdv1.ReconnectResponse_Job{Job: done}})
		// The first output in the message's own fields, the rest in `more`.
		outputs[0].More = outputs[1:]
		if err := stream.Send(outputs[0]); err != nil {
			return err
		}
	}
	return nil
}

// fakeInputs mix successes, failures and a result with output, so a packed
// response holds blocks and ItemResults beside them.
var fakeInputs = []any{1, "two", []any{3.5, nil}, "fail", map[string]any{"k": true}, "log", "fail", 8, 9, "log"}

// comparable is what both forms must agree on: everything but the stats
// and the block.
type comparable struct {
	Index, Seq uint64
	Last       bool
	Value      any
	Err        string
	Logs       []pprocd.LogRecord
}

func comparableOf(r pprocd.Result) comparable {
	out := comparable{Index: r.Index, Seq: r.Seq, Last: r.Last, Value: r.Value, Logs: r.Logs}
	if r.Err != nil {
		out.Err = r.Err.Error()
	}
	return out
}

func collectMap(t *testing.T, client *pprocd.Client, options *pprocd.Options) []pprocd.Result {
	t.Helper()
	var out []pprocd.Result
	for result, err := range client.Map(context.Background(), "echo", pprocd.Values(fakeInputs), options) {
		var itemErr *pprocd.ItemError
		if err != nil && !errors.As(err, &itemErr) {
			t.Fatal(err)
		}
		out = append(out, result)
	}
	return out
}

// Map gives the same results, in input order, in both forms; the packed
// form is the default and WithValueForm or Options.ValueForm choose the
// Value form.
func TestFakeMapGivesTheSameResultsInBothForms(t *testing.T) {
	farm, client := startFakeFarm(t)
	packed := collectMap(t, client, nil)
	value := collectMap(t, client.WithValueForm(), nil)
	optionValue := collectMap(t, client, &pprocd.Options{ValueForm: true})
	if want := []string{"packed", "value", "value"}; !reflect.DeepEqual(farm.forms["Map"], want) {
		t.Fatalf("forms %v, want %v", farm.forms["Map"], want)
	}
	if len(packed) != len(fakeInputs) {
		t.Fatalf("%d results of %d", len(packed), len(fakeInputs))
	}
	for i := range packed {
		p, v, o := comparableOf(packed[i]), comparableOf(value[i]), comparableOf(optionValue[i])
		if !reflect.DeepEqual(p, v) || !reflect.DeepEqual(v, o) {
			t.Errorf("result %d: packed %+v, value %+v, value by option %+v", i, p, v, o)
		}
		if p.Index != uint64(i) {
			t.Errorf("result %d has index %d", i, p.Index)
		}
	}
	if !errors.Is(packed[3].Err, pprocd.ErrRaised) || packed[3].Stats == nil {
		t.Errorf("a failure keeps its kind and stats: %+v", packed[3])
	}
	// Per-chunk stats by default in the packed form: a success has its
	// block's, not its own.
	// (How inputs split into requests, and so into blocks, depends on
	// timing.)
	if r := packed[1]; r.Stats != nil || r.Block == nil || r.Block.FirstIndex > 1 || r.Block.FirstIndex+uint64(r.Block.Count) <= 1 ||
		r.Block.Stats == nil || r.Block.Stats.WorkerPID != 4242 {
		t.Errorf("a block's success: %+v, block %+v", r, r.Block)
	}
	if r := value[1]; r.Stats == nil || r.Block != nil {
		t.Errorf("a Value form success: %+v", r)
	}
}

// Options.ItemStats asks for per-item stats, or none, in the packed form.
func TestFakeMapItemStats(t *testing.T) {
	_, client := startFakeFarm(t)
	perItem := collectMap(t, client, &pprocd.Options{ItemStats: pprocd.StatsPerItem})
	if r := perItem[7]; r.Stats == nil || r.Stats.Wall != 17000 || r.Block == nil || r.Block.Stats != nil {
		t.Errorf("per item: %+v", r)
	}
	none := collectMap(t, client, &pprocd.Options{ItemStats: pprocd.StatsNone})
	if r := none[7]; r.Stats != nil || r.Block == nil || r.Block.Stats != nil {
		t.Errorf("none: %+v", r)
	}
	if r := none[3]; r.Stats == nil {
		t.Errorf("a failure without its stats: %+v", r)
	}
}

// An input that cannot be sent fails the call before anything is sent, in
// both forms alike, and with a *CallError the call's refusal is too.
func TestFakeMapRefusals(t *testing.T) {
	_, client := startFakeFarm(t)
	for _, c := range []*pprocd.Client{client, client.WithValueForm()} {
		var last error
		for _, err := range c.Map(context.Background(), "echo", pprocd.Values([]any{1, func() {}}), nil) {
			last = err
		}
		if last == nil || last.Error() != "pprocd: cannot send func(): values must be JSON-shaped" {
			t.Errorf("an unsendable input: %v", last)
		}
		for _, err := range c.Map(context.Background(), "nope", pprocd.Values([]any{1}), nil) {
			last = err
		}
		if status.Code(last) != codes.NotFound {
			t.Errorf("an unknown callable: %v", last)
		}
	}
}

// A string that is not UTF-8 fails in both forms: refused before sending
// in the packed form, by gRPC (a *CallError) in the Value form.
func TestFakeMapRefusesStringsThatAreNotUTF8(t *testing.T) {
	_, client := startFakeFarm(t)
	var packedErr, valueErr error
	for _, err := range client.Map(context.Background(), "echo", pprocd.Values([]any{"\xff"}), nil) {
		packedErr = err
	}
	for _, err := range client.WithValueForm().Map(context.Background(), "echo", pprocd.Values([]any{"\xff"}), nil) {
		valueErr = err
	}
	var callErr *pprocd.CallError
	if packedErr == nil || errors.As(packedErr, &callErr) || packedErr.Error() != `pprocd: cannot send string "\xff": not valid UTF-8` {
		t.Errorf("packed form: %v", packedErr)
	}
	if !errors.As(valueErr, &callErr) || callErr.Code() != codes.Internal {
		t.Errorf("Value form: %v", valueErr)
	}
}

// An input is sent as soon as the sender is free, not held back for more:
// a sequence that yields its next input only after the previous one's
// result arrived still runs to the end, in both forms.
func TestFakeMapSendsEachInputWithoutWaitingForMore(t *testing.T) {
	_, client := startFakeFarm(t)
	for _, c := range []*pprocd.Client{client, client.WithValueForm()} {
		answered := make(chan struct{})
		lockstep := func(yield func(any) bool) {
			for i := 0; i < 50; i++ {
				if !yield(i) {
					return
				}
				<-answered
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), eventLimit) // Only a hang reaches it.
		count := 0
		for result, err := range c.Map(ctx, "echo", lockstep, nil) {
			if err != nil || result.Value != float64(count) {
				t.Fatalf("result %d: %+v, %v", count, result, err)
			}
			count++
			answered <- struct{}{}
		}
		cancel()
		if count != 50 {
			t.Errorf("%d results of 50", count)
		}
	}
}

// OpenMap's Send numbers inputs across requests in the packed form.
func TestFakeOpenMapSends(t *testing.T) {
	_, client := startFakeFarm(t)
	call, err := client.OpenMap(context.Background(), "echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	for want, batch := range [][]any{{"a", "b"}, {}, {"c"}} {
		first, err := call.Send(batch...)
		if err != nil || first != []uint64{0, 2, 2}[want] {
			t.Fatalf("Send %v: first %d, %v", batch, first, err)
		}
	}
	call.CloseSend()
	var got []any
	for result, err := range call.Results() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, result.Value)
	}
	if !reflect.DeepEqual(got, []any{"a", "b", "c"}) {
		t.Errorf("results %v", got)
	}
}

// Start exchanges messages in either form with the same values.
func TestFakeStartInBothForms(t *testing.T) {
	farm, client := startFakeFarm(t)
	for _, c := range []*pprocd.Client{client, client.WithValueForm()} {
		ch, err := c.Start(context.Background(), "chat", map[string]any{"n": 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []any
		for _, message := range []any{"x", []int{1, 2}} {
			if err := ch.Send(message); err != nil {
				t.Fatal(err)
			}
		}
		ch.CloseSend()
		for {
			message, err := ch.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, message)
		}
		if want := []any{map[string]any{"n": 1.0}, "x", []any{1.0, 2.0}}; !reflect.DeepEqual(got, want) {
			t.Errorf("messages %v, want %v", got, want)
		}
		result, err := ch.Result()
		if err != nil || result.Value != 2.0 {
			t.Errorf("result %+v, %v", result, err)
		}
		if err := ch.Send(func() {}); err == nil {
			t.Error("an unsendable message was accepted")
		}
	}
	if want := []string{"packed", "value"}; !reflect.DeepEqual(farm.forms["Start"], want) {
		t.Errorf("forms %v, want %v", farm.forms["Start"], want)
	}
}

// Submit and Reconnect in both forms: the same outputs, a block's results
// numbered seq, seq+1, ...
func TestFakeJobsInBothForms(t *testing.T) {
	farm, client := startFakeFarm(t)
	var forms [][]comparable
	var seqs [][]uint64
	for _, c := range []*pprocd.Client{client, client.WithValueForm()} {
		job, err := c.Submit(context.Background(), "echo", fakeInputs, nil)
		if err != nil {
			t.Fatal(err)
		}
		var results []comparable
		var seq []uint64
		for output, err := range c.Reconnect(context.Background(), []string{job.ID}, nil) {
			if err != nil {
				t.Fatal(err)
			}
			seq = append(seq, output.Seq)
			if output.Result != nil {
				results = append(results, comparableOf(*output.Result))
			}
		}
		forms = append(forms, results)
		seqs = append(seqs, seq)
	}
	if len(forms[0]) != len(fakeInputs) || !reflect.DeepEqual(forms[0], forms[1]) {
		t.Errorf("packed %+v\nvalue %+v", forms[0], forms[1])
	}
	if !reflect.DeepEqual(seqs[0], seqs[1]) || len(seqs[0]) != len(fakeInputs)+2 || seqs[0][len(seqs[0])-1] != uint64(len(fakeInputs)+2) {
		t.Errorf("seqs %v and %v", seqs[0], seqs[1])
	}
	if want := []string{"packed", "value"}; !reflect.DeepEqual(farm.forms["Submit"], want) || !reflect.DeepEqual(farm.forms["Reconnect"], want) {
		t.Errorf("forms %v", farm.forms)
	}
	// A job's Value form on a packed client, by option.
	job, _ := client.Submit(context.Background(), "echo", []any{1}, &pprocd.SubmitOptions{Options: pprocd.Options{ValueForm: true}})
	for range client.Reconnect(context.Background(), []string{job.ID}, &pprocd.ReconnectOptions{ValueForm: true}) {
	}
	if want := []string{"packed", "value", "value"}; !reflect.DeepEqual(farm.forms["Submit"], want) || !reflect.DeepEqual(farm.forms["Reconnect"], want) {
		t.Errorf("forms by option %v", farm.forms)
	}
}
