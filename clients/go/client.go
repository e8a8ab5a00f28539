// Package pprocd is the Go client of pprocd, a local process farm served
// over gRPC: Map (results in input order), Queue (results as they
// complete), Start (a two-way channel to one invocation) and background
// jobs (Submit, Reconnect, ...), with values as JSON-shaped Go values,
// sent and received in bulk as JSON arrays (the packed form; see
// Client.WithValueForm and Options.ValueForm for the Value form, one
// google.protobuf.Value per item).
//
//	client, err := pprocd.Dial(ctx, "") // $PPROCD_ADDRESS, else the per-user socket
//	...
//	for result, err := range client.Map(ctx, "square", pprocd.Values([]int{1, 2, 3}), nil) {
//		...
//	}
//
// A failed input is data: its Result carries an *ItemError (errors.Is it
// with ErrRaised, ErrCrashed, ErrTimedOut, ...) and the other inputs go on.
// A call the server refuses is a *CallError with its gRPC status.
package pprocd

import (
	"context"
	"fmt"
	"iter"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"

	"pprocd.dev/client/pprocdv1"
)

// MaxMessageBytes is the largest message the client accepts by default, the
// server's default --max-message-bytes.
const MaxMessageBytes = 16 << 20

// Client is a connection to one pprocd server. It is safe for concurrent
// use; Close it when done.
type Client struct {
	conn   *grpc.ClientConn
	stub   pprocdv1.ProcessFarmServiceClient
	target string
	// What an UNAVAILABLE error adds (Located.NoServerHint).
	noServerHint string
	// Calls use the Value form unless an Options says otherwise.
	valueForm bool
}

// Dial connects to the server at address (see LocateServer: "" means
// $PPROCD_ADDRESS, else the per-user socket, else the system socket) and
// waits until the connection is ready, or fails: with no server there, the
// error is a *CallError that errors.Is ErrUnavailable and names each address
// tried and how to start a server. ctx bounds the wait. Extra options go to grpc.NewClient.
func Dial(ctx context.Context, address string, options ...grpc.DialOption) (*Client, error) {
	located, err := LocateServer(address)
	if err != nil {
		return nil, err
	}
	target := located.Target
	all := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes)),
	}, options...)
	conn, err := grpc.NewClient(target, all...)
	if err != nil {
		return nil, fmt.Errorf("pprocd: %s: %w", target, err)
	}
	client := &Client{conn: conn, stub: pprocdv1.NewProcessFarmServiceClient(conn), target: target,
		noServerHint: located.NoServerHint}
	conn.Connect()
	for {
		state := conn.GetState()
		switch state {
		case connectivity.Ready:
			return client, nil
		case connectivity.TransientFailure, connectivity.Shutdown:
			conn.Close()
			return nil, unavailable(located)
		}
		if !conn.WaitForStateChange(ctx, state) {
			conn.Close()
			return nil, fmt.Errorf("pprocd: connecting to %s: %w", target, ctx.Err())
		}
	}
}

// NewClient makes a Client of a connection the caller made and closes.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{stub: pprocdv1.NewProcessFarmServiceClient(conn)}
}

// Close ends the connection (of a Client from Dial).
func (c *Client) Close() error {
	if c.conn == nil {
		return nil
	}
	return c.conn.Close()
}

// WithValueForm returns a Client on the same connection whose calls (Map,
// Queue, Start, Submit, Reconnect) send and read the Value form, one
// google.protobuf.Value per item, as a Client did before the packed form:
// for a server that predates it, or to compare. Closing either Client
// closes the connection.
func (c *Client) WithValueForm() *Client {
	copied := *c
	copied.valueForm = true
	return &copied
}

// packed reports whether a call with options uses the packed form.
func (c *Client) packed(options *Options) bool {
	return !c.valueForm && (options == nil || !options.ValueForm)
}

// Target is the gRPC target the client connected to.
func (c *Client) Target() string { return c.target }

// Stub is the generated gRPC client, for what the wrapper does not cover.
func (c *Client) Stub() pprocdv1.ProcessFarmServiceClient { return c.stub }

// ListCallables describes every registered callable and its parameters.
func (c *Client) ListCallables(ctx context.Context) ([]Callable, error) {
	response, err := c.stub.ListCallables(ctx, &pprocdv1.ListCallablesRequest{})
	if err != nil {
		return nil, c.callError("ListCallables", err)
	}
	out := make([]Callable, 0, len(response.GetCallables()))
	for _, callable := range response.GetCallables() {
		out = append(out, callableFrom(callable))
	}
	return out, nil
}

// Status returns the pool and queue counters (GetStatus).
func (c *Client) Status(ctx context.Context) (*Status, error) {
	response, err := c.stub.GetStatus(ctx, &pprocdv1.GetStatusRequest{})
	if err != nil {
		return nil, c.callError("GetStatus", err)
	}
	return statusFrom(response), nil
}

// Echo returns value as the server received it, without touching a worker.
func (c *Client) Echo(ctx context.Context, value any) (any, error) {
	converted, err := ToValue(value)
	if err != nil {
		return nil, err
	}
	response, err := c.stub.Echo(ctx, &pprocdv1.EchoRequest{Value: converted})
	if err != nil {
		return nil, c.callError("Echo", err)
	}
	return FromValue(response.GetValue()), nil
}

// Values adapts a slice of any element type to the inputs of Map and Queue.
func Values[T any](inputs []T) iter.Seq[any] {
	return func(yield func(any) bool) {
		for _, input := range inputs {
			if !yield(input) {
				return
			}
		}
	}
}
