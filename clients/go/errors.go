package pprocd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"pprocd.dev/client/pprocdv1"
)

// ErrorKind says why one item failed.
type ErrorKind int

// The kinds of item failure (pprocd.v1.ErrorKind).
const (
	KindUnspecified     ErrorKind = ErrorKind(pprocdv1.ErrorKind_ERROR_KIND_UNSPECIFIED)
	KindRaised          ErrorKind = ErrorKind(pprocdv1.ErrorKind_ERROR_KIND_RAISED)
	KindCrashed         ErrorKind = ErrorKind(pprocdv1.ErrorKind_ERROR_KIND_CRASHED)
	KindTimedOut        ErrorKind = ErrorKind(pprocdv1.ErrorKind_ERROR_KIND_TIMED_OUT)
	KindCancelled       ErrorKind = ErrorKind(pprocdv1.ErrorKind_ERROR_KIND_CANCELLED)
	KindInvalidArgument ErrorKind = ErrorKind(pprocdv1.ErrorKind_ERROR_KIND_INVALID_ARGUMENT)
	KindMemoryLimit     ErrorKind = ErrorKind(pprocdv1.ErrorKind_ERROR_KIND_MEMORY_LIMIT)
	KindCPULimit        ErrorKind = ErrorKind(pprocdv1.ErrorKind_ERROR_KIND_CPU_LIMIT)
)

// String returns the kind's name without its prefix: "RAISED", "CRASHED", ...
func (k ErrorKind) String() string {
	name := pprocdv1.ErrorKind(k).String()
	return strings.TrimPrefix(name, "ERROR_KIND_")
}

// Sentinels for the kinds of item failure: errors.Is(err, pprocd.ErrCrashed)
// holds for an *ItemError of that kind.
var (
	ErrRaised          = errors.New("pprocd: item raised")
	ErrCrashed         = errors.New("pprocd: item crashed")
	ErrTimedOut        = errors.New("pprocd: item timed out")
	ErrCancelled       = errors.New("pprocd: item cancelled")
	ErrInvalidArgument = errors.New("pprocd: item arguments invalid")
	ErrMemoryLimit     = errors.New("pprocd: item past its memory limit")
	ErrCPULimit        = errors.New("pprocd: item past its CPU limit")
)

// ErrUnavailable matches (errors.Is) a *CallError whose code is Unavailable:
// no server answered at the address.
var ErrUnavailable = errors.New("pprocd: server unavailable")

var kindSentinels = map[ErrorKind]error{
	KindRaised:          ErrRaised,
	KindCrashed:         ErrCrashed,
	KindTimedOut:        ErrTimedOut,
	KindCancelled:       ErrCancelled,
	KindInvalidArgument: ErrInvalidArgument,
	KindMemoryLimit:     ErrMemoryLimit,
	KindCPULimit:        ErrCPULimit,
}

// ItemError is the failure of one input: per-item failure is data, so the
// other inputs, the call and the pool go on.
type ItemError struct {
	Kind ErrorKind
	// The server's reason.
	Message string
	// For a crash by signal: its name, e.g. "SIGSEGV".
	Signal string
	// For a crash by exit: the exit status.
	ExitCode int
	// The last lines the worker wrote to stderr before it failed.
	StderrTail string
	// The callable and the input's position in its call.
	Callable string
	Index    uint64
}

func (e *ItemError) Error() string {
	var b strings.Builder
	where := e.Callable
	if where == "" {
		where = "item"
	}
	fmt.Fprintf(&b, "pprocd: %s (input %d) %s", where, e.Index, strings.ToLower(strings.ReplaceAll(e.Kind.String(), "_", " ")))
	if e.Signal != "" {
		fmt.Fprintf(&b, " by %s", e.Signal)
	} else if e.Kind == KindCrashed && e.ExitCode != 0 {
		fmt.Fprintf(&b, " with exit status %d", e.ExitCode)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if tail := strings.TrimRight(e.StderrTail, "\n"); tail != "" {
		b.WriteString("\nstderr:\n" + tail)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrCrashed) (and the other kind sentinels) hold.
func (e *ItemError) Is(target error) bool {
	sentinel, ok := kindSentinels[e.Kind]
	return ok && target == sentinel
}

func itemErrorFrom(callable string, index uint64, pb *pprocdv1.ItemError) *ItemError {
	return &ItemError{
		Kind:       ErrorKind(pb.GetKind()),
		Message:    pb.GetMessage(),
		Signal:     pb.GetSignal(),
		ExitCode:   int(pb.GetExitCode()),
		StderrTail: pb.GetStderrTail(),
		Callable:   callable,
		Index:      index,
	}
}

// CallError is a call the server refused or could not serve: an unknown
// callable (codes.NotFound), arguments or options that do not bind
// (codes.InvalidArgument, naming inputs[N] or the option), too many queued
// items (codes.ResourceExhausted), no server (codes.Unavailable), ...
// status.Code(err) and status.FromError(err) see its status.
type CallError struct {
	// The RPC, e.g. "Map".
	Method string
	// The server (when there is one) and how to start it, for Unavailable.
	Hint   string
	Status *status.Status
}

func (e *CallError) Error() string {
	text := fmt.Sprintf("pprocd: %s: %s: %s", e.Method, e.Status.Code(), e.Status.Message())
	if e.Hint != "" {
		text += " (" + e.Hint + ")"
	}
	return text
}

// Code is the gRPC status code.
func (e *CallError) Code() codes.Code { return e.Status.Code() }

// GRPCStatus lets status.FromError and status.Code read the status.
func (e *CallError) GRPCStatus() *status.Status { return e.Status }

// Is makes errors.Is(err, ErrUnavailable) hold when no server answered,
// and errors.Is(err, context.Canceled) or context.DeadlineExceeded when the
// call ended for its context.
func (e *CallError) Is(target error) bool {
	switch target {
	case ErrUnavailable:
		return e.Status.Code() == codes.Unavailable
	case context.Canceled:
		return e.Status.Code() == codes.Canceled
	case context.DeadlineExceeded:
		return e.Status.Code() == codes.DeadlineExceeded
	}
	return false
}

// callError wraps an RPC's error; errors that are not gRPC statuses (a
// context's) pass unchanged.
func (c *Client) callError(method string, err error) error {
	if err == nil {
		return nil
	}
	var already *CallError
	if errors.As(err, &already) {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	out := &CallError{Method: method, Status: st}
	if st.Code() == codes.Unavailable {
		out.Hint = fmt.Sprintf("no pprocd at %s: %s", c.target, c.noServerHint)
	}
	return out
}

func unavailable(located Located) error {
	return &CallError{
		Method: "Dial",
		Hint:   fmt.Sprintf("no pprocd at %s: %s", located.Target, located.NoServerHint),
		Status: status.New(codes.Unavailable, "cannot connect"),
	}
}

// malformed is the error of a call whose response the client cannot read:
// a packed block that is not the JSON array it announces.
func malformed(method string, err error) error {
	return &CallError{Method: method, Status: status.New(codes.Internal, "malformed response: "+err.Error())}
}
