package pprocd_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pprocd "pprocd.dev/client"
)

func TestResolveAddress(t *testing.T) {
	t.Setenv(pprocd.AddressEnv, "")
	runtime := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", runtime)
	for address, want := range map[string]string{
		"":                          "unix:" + runtime + "/pprocd/pprocd.sock",
		"unix:run/x.sock":           "unix:run/x.sock",
		"unix:///var/run/p.sock":    "unix:///var/run/p.sock",
		"run/pprocd.sock":           "unix:run/pprocd.sock",
		"p.sock":                    "unix:p.sock",
		"tcp:127.0.0.1:7000":        "127.0.0.1:7000",
		"localhost:7000":            "localhost:7000",
		"dns:///example.test:443":   "dns:///example.test:443",
		"unix-abstract:pprocd-test": "unix-abstract:pprocd-test",
	} {
		got, err := pprocd.ResolveAddress(address)
		if err != nil || got != want {
			t.Errorf("ResolveAddress(%q) = %q, %v; want %q", address, got, err, want)
		}
	}
	for _, bad := range []string{"unix:", "unix://relative", "tcp:nohost", "host:port", ":7000", "host:70000", "dns:"} {
		if got, err := pprocd.ResolveAddress(bad); err == nil {
			t.Errorf("ResolveAddress(%q) = %q, want an error", bad, got)
		}
	}
	t.Setenv(pprocd.AddressEnv, "tcp:127.0.0.1:9")
	if got, _ := pprocd.ResolveAddress(""); got != "127.0.0.1:9" {
		t.Errorf("with $%s set: %q", pprocd.AddressEnv, got)
	}
}

type point struct {
	X   int    `json:"x"`
	Y   int    `json:"y"`
	Tag string `json:"tag,omitempty"`
}

func TestValuesRoundTrip(t *testing.T) {
	var nilSlice []int
	for _, c := range []struct {
		in   any
		want any
	}{
		{nil, nil},
		{true, true},
		{7, 7.0},
		{uint8(3), 3.0},
		{-2.5, -2.5},
		{float32(0.5), 0.5},
		{"héllo", "héllo"},
		{[]int{1, 2}, []any{1.0, 2.0}},
		{[2]string{"a", "b"}, []any{"a", "b"}},
		{nilSlice, nil},
		{map[string]int{"a": 1}, map[string]any{"a": 1.0}},
		{[]any{1, "x", nil, []any{true}}, []any{1.0, "x", nil, []any{true}}},
		{point{X: 1, Y: 2}, map[string]any{"x": 1.0, "y": 2.0}},
		{&point{X: 3}, map[string]any{"x": 3.0, "y": 0.0}},
	} {
		value, err := pprocd.ToValue(c.in)
		if err != nil {
			t.Errorf("ToValue(%#v): %v", c.in, err)
			continue
		}
		if got := pprocd.FromValue(value); !reflect.DeepEqual(got, c.want) {
			t.Errorf("FromValue(ToValue(%#v)) = %#v, want %#v", c.in, got, c.want)
		}
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), map[int]int{1: 2}, make(chan int), func() {}} {
		if _, err := pprocd.ToValue(bad); err == nil {
			t.Errorf("ToValue(%T) gave no error", bad)
		}
	}
	var p point
	if err := pprocd.Decode(map[string]any{"x": 4.0, "y": 5.0, "tag": "t"}, &p); err != nil || p != (point{4, 5, "t"}) {
		t.Errorf("Decode: %+v, %v", p, err)
	}
}

func TestItemErrorsMatchTheirKindsSentinel(t *testing.T) {
	kinds := map[pprocd.ErrorKind]error{
		pprocd.KindRaised: pprocd.ErrRaised, pprocd.KindCrashed: pprocd.ErrCrashed,
		pprocd.KindTimedOut: pprocd.ErrTimedOut, pprocd.KindCancelled: pprocd.ErrCancelled,
		pprocd.KindInvalidArgument: pprocd.ErrInvalidArgument, pprocd.KindMemoryLimit: pprocd.ErrMemoryLimit,
		pprocd.KindCPULimit: pprocd.ErrCPULimit,
	}
	for kind, sentinel := range kinds {
		err := fmt.Errorf("wrapped: %w", &pprocd.ItemError{Kind: kind, Callable: "chaos", Index: 2})
		for other, otherSentinel := range kinds {
			if got := errors.Is(err, otherSentinel); got != (other == kind) {
				t.Errorf("errors.Is(%s error, %v) = %v", kind, otherSentinel, got)
			}
		}
		if !errors.Is(err, sentinel) {
			t.Errorf("%s: not its sentinel", kind)
		}
	}
	crash := &pprocd.ItemError{Kind: pprocd.KindCrashed, Signal: "SIGSEGV", Callable: "chaos", Index: 1,
		Message: "worker died", StderrTail: "chaos: crashing\n"}
	if want := "pprocd: chaos (input 1) crashed by SIGSEGV: worker died\nstderr:\nchaos: crashing"; crash.Error() != want {
		t.Errorf("Error() = %q, want %q", crash.Error(), want)
	}
	if pprocd.KindTimedOut.String() != "TIMED_OUT" {
		t.Errorf("KindTimedOut.String() = %q", pprocd.KindTimedOut.String())
	}
}

func TestThePerUserSocketWithoutXdgRuntimeDirIsInAPrivateTmpDir(t *testing.T) {
	want := fmt.Sprintf("/tmp/pprocd-%d/pprocd.sock", os.Geteuid())
	t.Setenv("XDG_RUNTIME_DIR", "")
	if got := pprocd.UserSocketPath(); got != want {
		t.Errorf("UserSocketPath() = %q, want %q", got, want)
	}
	t.Setenv("XDG_RUNTIME_DIR", "relative/dir") // ignored, as XDG says
	if got := pprocd.UserSocketPath(); got != want {
		t.Errorf("UserSocketPath() with a relative XDG_RUNTIME_DIR = %q, want %q", got, want)
	}
}

func TestAnExistingPerUserSocketIsUsed(t *testing.T) {
	t.Setenv(pprocd.AddressEnv, "")
	runtime := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", runtime)
	socket := filepath.Join(runtime, "pprocd", "pprocd.sock")
	if err := os.Mkdir(filepath.Dir(socket), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mknod(socket, syscall.S_IFSOCK|0o600, 0); err != nil {
		t.Fatal(err)
	}
	located, err := pprocd.LocateServer("")
	if err != nil || located.Target != "unix:"+socket {
		t.Errorf("LocateServer(\"\") = %+v, %v; want the target unix:%s", located, err, socket)
	}
}

func TestDialWithoutAnAddressNamesEverySocketTriedAndHowToStartOne(t *testing.T) {
	t.Setenv(pprocd.AddressEnv, "")
	runtime := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", runtime)
	_, err := pprocd.Dial(context.Background(), "")
	if !errors.Is(err, pprocd.ErrUnavailable) {
		t.Fatalf("Dial to no server: %v, want ErrUnavailable", err)
	}
	text := err.Error()
	user := strings.Index(text, "unix:"+runtime+"/pprocd/pprocd.sock (the per-user socket)")
	system := strings.Index(text, "unix:/run/pprocd/pprocd.sock (the system socket)")
	if user < 0 || system < user {
		t.Errorf("the error does not name the per-user, then the system socket: %s", text)
	}
	if !strings.Contains(text, "$PPROCD_ADDRESS") || !strings.Contains(text, "start one with `pprocd` or scripts/run") {
		t.Errorf("the error does not say how to start a server: %s", text)
	}
}

func TestDialWithoutAServerIsUnavailable(t *testing.T) {
	address := "unix:" + filepath.Join(t.TempDir(), "nobody.sock")
	_, err := pprocd.Dial(context.Background(), address)
	if !errors.Is(err, pprocd.ErrUnavailable) {
		t.Fatalf("Dial to no server: %v, want ErrUnavailable", err)
	}
	if status.Code(err) != codes.Unavailable {
		t.Errorf("status.Code = %s", status.Code(err))
	}
	var callErr *pprocd.CallError
	if !errors.As(err, &callErr) || callErr.Hint == "" {
		t.Errorf("no hint in %v", err)
	}
	if want := "`pprocd --listen " + address + "` or scripts/run --listen " + address; !strings.Contains(err.Error(), want) {
		t.Errorf("%v does not say %q", err, want)
	}
}
