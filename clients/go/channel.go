package pprocd

import (
	"context"
	"errors"
	"io"
	"sync"

	"google.golang.org/grpc"

	"pprocd.dev/client/pprocdv1"
)

// Channel is one invocation started with Start and its two-way channel
// (pprocess's start()): Send gives the callable's receive() a value,
// CloseSend ends that input, Recv returns each value the callable sends,
// Result its outcome. One goroutine may send while another receives.
type Channel struct {
	client   *Client
	callable string
	stream   grpc.BidiStreamingClient[pprocdv1.StartRequest, pprocdv1.StartResponse]
	abort    context.CancelFunc
	// The packed form: arguments and messages as JSON.
	packed bool
	sendMu sync.Mutex
	recvMu sync.Mutex
	// Messages received and not yet returned by Recv; recvMu guards it.
	queued []any

	// mu guards what recvMu's holder stores for Logs.
	mu     sync.Mutex
	result *Result
	err    error
	logs   []LogRecord
}

// Start runs callable once with arguments (one value: for a callable with
// several parameters a list spreads over them and a map names them; nil
// gives every parameter its default) and opens its channel. options may be
// nil; their Timeout bounds the whole invocation. An unknown callable or
// arguments that do not bind come back as a *CallError from Recv or Result.
// Cancelling ctx (or Cancel) kills the invocation.
func (c *Client) Start(ctx context.Context, callable string, arguments any, options *Options) (*Channel, error) {
	packed := c.packed(options)
	request := &pprocdv1.StartRequest{Callable: callable, Options: options.proto(packed)}
	var err error
	if packed {
		request.PackedArguments, err = appendJSON(nil, arguments)
	} else {
		request.Arguments, err = ToValue(arguments)
	}
	if err != nil {
		return nil, err
	}
	ctx, abort := context.WithCancel(ctx)
	stream, err := c.stub.Start(ctx)
	if err == nil {
		err = stream.Send(request)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		abort()
		return nil, c.callError("Start", err)
	}
	return &Channel{client: c, callable: callable, stream: stream, abort: abort, packed: packed}, nil
}

// Send sends one value to the callable's channel. After the invocation
// ended it returns io.EOF (Recv or Result give the outcome).
func (ch *Channel) Send(message any) error {
	request := &pprocdv1.StartRequest{}
	var err error
	if ch.packed {
		request.PackedMessages, err = appendJSONArray(nil, []any{message})
	} else {
		request.Message, err = ToValue(message)
	}
	if err != nil {
		return err
	}
	ch.sendMu.Lock()
	defer ch.sendMu.Unlock()
	if err := ch.stream.Send(request); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return ch.client.callError("Start", err)
	}
	return nil
}

// CloseSend ends the channel's input (a half-close): the callable's
// receive() sees the end.
func (ch *Channel) CloseSend() error {
	ch.sendMu.Lock()
	defer ch.sendMu.Unlock()
	return ch.stream.CloseSend()
}

// Cancel kills the invocation; Recv and Result then return a *CallError
// with codes.Canceled.
func (ch *Channel) Cancel() { ch.abort() }

// Recv returns the next value the callable sent. Once it has finished and
// every value was received, Recv returns io.EOF if it succeeded, its
// *ItemError if it failed, or the call's *CallError.
func (ch *Channel) Recv() (any, error) {
	ch.recvMu.Lock()
	defer ch.recvMu.Unlock()
	for len(ch.queued) == 0 && ch.result == nil && ch.err == nil {
		response, err := ch.stream.Recv()
		if err != nil {
			ch.abort()
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF // The server always ends with a result.
			} else {
				err = ch.client.callError("Start", err)
			}
			ch.err = err
			break
		}
		ch.mu.Lock()
		ch.logs = append(ch.logs, logsFrom(response.GetLogs())...)
		ch.mu.Unlock()
		if packed := response.GetPackedMessages(); len(packed) > 0 {
			messages, err := decodeValues(packed, -1)
			if err != nil {
				ch.abort()
				ch.err = malformed("Start", err)
				break
			}
			ch.queued = messages
		}
		switch event := response.GetEvent().(type) {
		case *pprocdv1.StartResponse_Message:
			ch.queued = append(ch.queued, FromValue(event.Message))
		case *pprocdv1.StartResponse_Result:
			result := resultFrom(ch.callable, event.Result)
			ch.mu.Lock()
			ch.result = &result
			ch.mu.Unlock()
			// The result is the last response: read the call's status, then
			// release the stream.
			_, _ = ch.stream.Recv()
			ch.abort()
		}
	}
	if len(ch.queued) > 0 {
		message := ch.queued[0]
		ch.queued[0] = nil
		ch.queued = ch.queued[1:]
		return message, nil
	}
	if ch.err != nil {
		return nil, ch.err
	}
	if ch.result.Err != nil {
		return nil, ch.result.Err
	}
	return nil, io.EOF
}

// Result waits for the invocation to end and returns its final result (the
// return value in Value; Seq counts the values it sent before) and its
// error: the *ItemError of a failed invocation, or the call's *CallError.
// Values sent but not yet received are discarded.
func (ch *Channel) Result() (Result, error) {
	for {
		_, err := ch.Recv()
		if err == nil {
			continue
		}
		ch.recvMu.Lock()
		defer ch.recvMu.Unlock()
		if ch.result != nil {
			return *ch.result, ch.result.Err
		}
		return Result{}, ch.err
	}
}

// Logs returns what the callable wrote to stdout and stderr so far, as
// received with its messages and result.
func (ch *Channel) Logs() []LogRecord {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.result != nil {
		return append(append([]LogRecord(nil), ch.logs...), ch.result.Logs...)
	}
	return append([]LogRecord(nil), ch.logs...)
}
