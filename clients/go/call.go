package pprocd

import (
	"context"
	"errors"
	"io"
	"iter"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"pprocd.dev/client/pprocdv1"
)

// Inputs per request, and about the most bytes of inputs per request: in
// the Value form, and in the packed form (where an item costs the server
// far less, so a request may hold more).
const (
	batchItems       = 512
	packedBatchItems = 4096
	batchBytes       = 1 << 20
)

// Call is one open Map or Queue call: inputs go out with Send, results come
// back with Recv (or Results), in input order for Map and as they complete
// for Queue. One goroutine may send (Send, Cancel, CloseSend) while another
// receives.
type Call struct {
	client   *Client
	method   string
	callable string
	stream   callStream
	abort    context.CancelFunc
	// The packed form: inputs as JSON arrays, results in blocks.
	packed bool

	sendMu sync.Mutex
	sent   uint64

	pending []Result
}

// callStream is what Map and Queue streams have in common. A request holds
// Value-form inputs or packed ones (a JSON array), not both.
type callStream interface {
	send(callable string, options *pprocdv1.CallOptions, inputs []*structpb.Value, packed []byte, cancel []uint64) error
	recv() ([]*pprocdv1.ItemResult, []*pprocdv1.ResultBlock, error)
	closeSend() error
}

type mapStream struct {
	grpc.BidiStreamingClient[pprocdv1.MapRequest, pprocdv1.MapResponse]
}

func (s mapStream) send(callable string, options *pprocdv1.CallOptions, inputs []*structpb.Value, packed []byte, cancel []uint64) error {
	return s.Send(&pprocdv1.MapRequest{Callable: callable, Options: options, Inputs: inputs, PackedInputs: packed, CancelIndices: cancel})
}

func (s mapStream) recv() ([]*pprocdv1.ItemResult, []*pprocdv1.ResultBlock, error) {
	response, err := s.Recv()
	return response.GetResults(), response.GetBlocks(), err
}

func (s mapStream) closeSend() error { return s.CloseSend() }

type queueStream struct {
	grpc.BidiStreamingClient[pprocdv1.QueueRequest, pprocdv1.QueueResponse]
}

func (s queueStream) send(callable string, options *pprocdv1.CallOptions, inputs []*structpb.Value, packed []byte, cancel []uint64) error {
	return s.Send(&pprocdv1.QueueRequest{Callable: callable, Options: options, Inputs: inputs, PackedInputs: packed, CancelIndices: cancel})
}

func (s queueStream) recv() ([]*pprocdv1.ItemResult, []*pprocdv1.ResultBlock, error) {
	response, err := s.Recv()
	return response.GetResults(), response.GetBlocks(), err
}

func (s queueStream) closeSend() error { return s.CloseSend() }

// OpenMap opens a Map call of callable: results in input order, each as
// soon as it and every earlier one are done. Cancelling ctx (or Abort) ends
// the call and kills its running items.
func (c *Client) OpenMap(ctx context.Context, callable string, options *Options) (*Call, error) {
	return c.open(ctx, "Map", callable, options)
}

// OpenQueue opens a Queue call of callable: results as they complete, each
// naming its input's Index.
func (c *Client) OpenQueue(ctx context.Context, callable string, options *Options) (*Call, error) {
	return c.open(ctx, "Queue", callable, options)
}

func (c *Client) open(ctx context.Context, method, callable string, options *Options) (*Call, error) {
	ctx, abort := context.WithCancel(ctx)
	call := &Call{client: c, method: method, callable: callable, abort: abort, packed: c.packed(options)}
	var err error
	if method == "Map" {
		var stream grpc.BidiStreamingClient[pprocdv1.MapRequest, pprocdv1.MapResponse]
		stream, err = c.stub.Map(ctx)
		call.stream = mapStream{stream}
	} else {
		var stream grpc.BidiStreamingClient[pprocdv1.QueueRequest, pprocdv1.QueueResponse]
		stream, err = c.stub.Queue(ctx)
		call.stream = queueStream{stream}
	}
	if err == nil {
		err = call.stream.send(callable, options.proto(call.packed), nil, nil, nil)
	}
	if err != nil {
		abort()
		return nil, c.callError(method, err)
	}
	return call, nil
}

// Send adds inputs to the call, in one request; each input is one
// invocation (see ToValue for the values accepted; for a callable with
// several parameters a list spreads over them and a map names them). It
// returns the index of the first. After the call ended it returns io.EOF:
// Recv gives the reason.
func (call *Call) Send(inputs ...any) (uint64, error) {
	if call.packed {
		packed, err := appendJSONArray(nil, inputs)
		if err != nil {
			return 0, err
		}
		return call.sendPacked(packed, len(inputs))
	}
	values := make([]*structpb.Value, len(inputs))
	for i, input := range inputs {
		value, err := ToValue(input)
		if err != nil {
			return 0, err
		}
		values[i] = value
	}
	return call.sendValues(values)
}

func (call *Call) sendValues(values []*structpb.Value) (uint64, error) {
	call.sendMu.Lock()
	defer call.sendMu.Unlock()
	first := call.sent
	if err := call.stream.send("", nil, values, nil, nil); err != nil {
		return first, call.sendError(err)
	}
	call.sent += uint64(len(values))
	return first, nil
}

// sendPacked sends count inputs as one JSON array.
func (call *Call) sendPacked(packed []byte, count int) (uint64, error) {
	call.sendMu.Lock()
	defer call.sendMu.Unlock()
	first := call.sent
	if err := call.stream.send("", nil, nil, packed, nil); err != nil {
		return first, call.sendError(err)
	}
	call.sent += uint64(count)
	return first, nil
}

// Cancel cancels inputs of the call by index: a queued one is dropped, a
// running one has its worker killed; each still gives its result, failed
// with ErrCancelled. Indices already finished are ignored.
func (call *Call) Cancel(indices ...uint64) error {
	call.sendMu.Lock()
	defer call.sendMu.Unlock()
	return call.sendError(call.stream.send("", nil, nil, nil, indices))
}

// CloseSend ends the input: the call ends once every input has its results.
func (call *Call) CloseSend() error {
	call.sendMu.Lock()
	defer call.sendMu.Unlock()
	return call.sendError(call.stream.closeSend())
}

func (call *Call) sendError(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	return call.client.callError(call.method, err)
}

// Abort ends the call at once: its running items are killed.
func (call *Call) Abort() { call.abort() }

// Recv returns the next result. A failed input is a Result whose Err is its
// *ItemError (Recv's own error stays nil). Recv returns io.EOF once the
// call has ended and every result was received, or the call's error (a
// *CallError) when it failed as a whole.
func (call *Call) Recv() (Result, error) {
	for len(call.pending) == 0 {
		items, blocks, err := call.stream.recv()
		if errors.Is(err, io.EOF) {
			call.abort()
			return Result{}, io.EOF
		}
		if err != nil {
			call.abort()
			return Result{}, call.client.callError(call.method, err)
		}
		if call.pending, err = mergeResults(call.callable, items, blocks); err != nil {
			call.abort()
			return Result{}, malformed(call.method, err)
		}
	}
	next := call.pending[0]
	call.pending[0] = Result{} // Let the value go with the caller.
	call.pending = call.pending[1:]
	return next, nil
}

// Results yields every result still to come, as Recv returns them: a
// failed input as its Result and that Result's Err; a failed call as a zero
// Result and the call's error, last. Breaking out of the loop aborts the
// call.
func (call *Call) Results() iter.Seq2[Result, error] {
	return func(yield func(Result, error) bool) {
		defer call.abort()
		for {
			result, err := call.Recv()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(Result{}, err)
				return
			}
			if !yield(result, result.Err) {
				return
			}
		}
	}
}

// Map runs callable over inputs, streamed to the server as they are
// produced, and yields the results in input order: for each, the Result and
// its Err (nil, or the input's *ItemError; the inputs after a failed one go
// on). A call the server refuses ends the sequence with a zero Result and a
// *CallError. Breaking out of the loop cancels the call and kills its
// running items. options may be nil.
//
// A channel callable (continuous Map) gives every result of one input, by
// Seq, before the next input's; its final one has Last set.
func (c *Client) Map(ctx context.Context, callable string, inputs iter.Seq[any], options *Options) iter.Seq2[Result, error] {
	return c.run(ctx, "Map", callable, inputs, options)
}

// Queue is Map with results as they complete, each naming its input's
// Index.
func (c *Client) Queue(ctx context.Context, callable string, inputs iter.Seq[any], options *Options) iter.Seq2[Result, error] {
	return c.run(ctx, "Queue", callable, inputs, options)
}

func (c *Client) run(ctx context.Context, method, callable string, inputs iter.Seq[any], options *Options) iter.Seq2[Result, error] {
	return func(yield func(Result, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		call, err := c.open(ctx, method, callable, options)
		if err != nil {
			yield(Result{}, err)
			return
		}
		var feedErr error
		fed := make(chan struct{})
		go func() {
			defer close(fed)
			if err := call.feed(ctx, inputs); err != nil {
				feedErr = err
				cancel()
			}
		}()
		defer call.abort()
		for {
			result, err := call.Recv()
			if errors.Is(err, io.EOF) {
				return // Every input was sent and answered.
			}
			if err != nil {
				if ctx.Err() != nil {
					<-fed // It stops at once once ctx is done.
				}
				select {
				case <-fed:
					if feedErr != nil {
						err = feedErr
					}
				default:
				}
				yield(Result{}, err)
				return
			}
			if !yield(result, result.Err) {
				return
			}
		}
	}
}

// feed sends every input of the sequence, batched: whatever inputs are
// ready go in one request, so a slow producer's inputs are not held back.
// It returns the first input that cannot be sent, or the call's error.
func (call *Call) feed(ctx context.Context, inputs iter.Seq[any]) error {
	var err error
	if call.packed {
		err = call.feedPacked(ctx, inputs)
	} else {
		err = call.feedValues(ctx, inputs)
	}
	if err != nil || ctx.Err() != nil {
		return err
	}
	if err := call.CloseSend(); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// feedValues feeds the Value form: a producer converts inputs, the sender
// takes every one ready.
func (call *Call) feedValues(ctx context.Context, inputs iter.Seq[any]) error {
	ready := make(chan *structpb.Value, batchItems)
	var produceErr error
	go func() {
		defer close(ready)
		for input := range inputs {
			value, err := ToValue(input)
			if err != nil {
				produceErr = err
				return
			}
			select {
			case ready <- value:
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		var value *structpb.Value
		var ok bool
		select {
		case value, ok = <-ready:
		case <-ctx.Done():
			return nil
		}
		if !ok {
			break
		}
		batch := []*structpb.Value{value}
		size := proto.Size(value)
	drain:
		for len(batch) < batchItems && size < batchBytes {
			select {
			case value, ok := <-ready:
				if !ok {
					break drain
				}
				batch = append(batch, value)
				size += proto.Size(value)
			default:
				break drain
			}
		}
		if _, err := call.sendValues(batch); err != nil {
			if errors.Is(err, io.EOF) {
				return nil // The call ended; Recv has its reason.
			}
			return err
		}
	}
	return produceErr // Read after ready closed.
}

// packedInputs is the inputs a producer has encoded and the sender has
// not taken yet: a JSON array without its closing bracket.
type packedInputs struct {
	mu    sync.Mutex
	data  []byte
	count int
	// The producer is done: every input was encoded, or err.
	done bool
	err  error

	ready chan struct{} // Inputs became ready, or the producer is done.
	taken chan struct{} // The sender took inputs.
}

// feedPacked feeds the packed form: a producer encodes each input into the
// pending JSON array as the sequence yields it; the sender sends whatever
// is pending whenever it is free, so inputs never wait for a batch to fill.
// The producer waits while a full batch is pending.
func (call *Call) feedPacked(ctx context.Context, inputs iter.Seq[any]) error {
	pending := &packedInputs{ready: make(chan struct{}, 1), taken: make(chan struct{}, 1)}
	signal := func(c chan struct{}) {
		select {
		case c <- struct{}{}:
		default:
		}
	}
	go func() {
		defer signal(pending.ready)
		for input := range inputs {
			pending.mu.Lock()
			if pending.count == 0 {
				pending.data = append(pending.data[:0], '[')
			} else {
				pending.data = append(pending.data, ',')
			}
			before := len(pending.data)
			var err error
			pending.data, err = appendJSON(pending.data, input)
			if err != nil {
				pending.data = pending.data[:before-1]
				pending.err, pending.done = err, true
				pending.mu.Unlock()
				return
			}
			pending.count++
			first := pending.count == 1
			full := pending.count >= packedBatchItems || len(pending.data) >= batchBytes
			pending.mu.Unlock()
			if first {
				signal(pending.ready)
			}
			for full {
				select {
				case <-pending.taken:
				case <-ctx.Done():
					return
				}
				pending.mu.Lock()
				full = pending.count >= packedBatchItems || len(pending.data) >= batchBytes
				pending.mu.Unlock()
			}
		}
		pending.mu.Lock()
		pending.done = true
		pending.mu.Unlock()
	}()
	for {
		select {
		case <-pending.ready:
		case <-ctx.Done():
			return nil
		}
		pending.mu.Lock()
		data, count, done, err := pending.data, pending.count, pending.done, pending.err
		if count > 0 {
			// The next array gets a buffer of its own: the request may
			// still hold this one after Send returns.
			pending.data = make([]byte, 0, len(data)+len(data)/4)
			pending.count = 0
		}
		pending.mu.Unlock()
		signal(pending.taken)
		if count > 0 {
			if _, err := call.sendPacked(append(data, ']'), count); err != nil {
				if errors.Is(err, io.EOF) {
					return nil // The call ended; Recv has its reason.
				}
				return err
			}
		}
		if done {
			return err // Nothing more comes once the producer is done.
		}
	}
}
