package pprocd_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	pprocd "pprocd.dev/client"
)

// BinaryEnv names the pprocd binary the tests start (ctest sets it).
const binaryEnv = "PPROCD_BINARY"

// Bounds for waits on events that happen at once on a healthy machine; only
// a hang reaches them.
const (
	startupLimit = 60 * time.Second
	eventLimit   = 60 * time.Second
)

// server is a pprocd process serving a UNIX socket in a test's temporary
// directory until the test ends. Nothing it starts outlives the tests: it
// runs in a process group of its own, which stop kills whole, and the
// kernel kills it when the OS thread that started it ends (Pdeathsig; the
// Go runtime keeps its threads while the test binary runs).
type server struct {
	address string
	stderr  string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// startServer starts $PPROCD_BINARY with workers pooled workers, or skips
// the test, saying why, when the variable is not set.
func startServer(t testing.TB, workers int) *server {
	t.Helper()
	binary := os.Getenv(binaryEnv)
	if binary == "" {
		t.Skipf("$%s is not set: point it at a built pprocd (ctest sets it; e.g. build/server/pprocd)", binaryEnv)
	}
	dir := t.TempDir()
	s := &server{
		address: "unix:" + filepath.Join(dir, "run", "pprocd.sock"),
		stderr:  filepath.Join(dir, "stderr.log"),
		exited:  make(chan struct{}),
	}
	stderr, err := os.Create(s.stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	s.cmd = exec.Command(binary, "--listen", s.address, "--workers", fmt.Sprint(workers),
		"--state-dir", filepath.Join(dir, "var"))
	s.cmd.Stderr = stderr
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", binary, err)
	}
	ready := make(chan bool, 1)
	go func() {
		lines := bufio.NewScanner(stdout)
		announced := false
		for lines.Scan() {
			if !announced && strings.Contains(lines.Text(), "pprocd ready on") {
				announced = true
				ready <- true
			}
		}
		if !announced {
			ready <- false
		}
		s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() { s.stop() })
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("pprocd exited before it was ready; stderr:\n%s", s.stderrText())
		}
	case <-time.After(startupLimit):
		t.Fatalf("pprocd did not become ready; stderr:\n%s", s.stderrText())
	}
	return s
}

func (s *server) stop() {
	// Then whatever is left of its group (the template of a killed server).
	defer syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// alive reports whether the server still runs.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

func (s *server) stderrText() string {
	data, _ := os.ReadFile(s.stderr)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

func (s *server) dial(t testing.TB) *pprocd.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startupLimit)
	defer cancel()
	client, err := pprocd.Dial(ctx, s.address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}
