package main

// The server under test: started from a binary, ready once it printed
// "pprocd ready on ADDRESS", stopped with SIGTERM (SIGKILL after a grace
// period). It runs in its own process group, and dies with this program
// (PDEATHSIG), so nothing it started outlives the benchmark.

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type server struct {
	cmd     *exec.Cmd
	pid     int
	address string // as printed on the ready line: tcp:127.0.0.1:PORT or unix:PATH
	logPath string
	exited  chan struct{}
}

// startServer starts binary listening on listen with state in dir and waits
// (up to timeout) for its ready line.
func startServer(binary, listen, dir string, workers int, timeout time.Duration) (*server, error) {
	args := []string{"--listen", listen, "--state-dir", filepath.Join(dir, "state")}
	if workers > 0 {
		args = append(args, "--workers", fmt.Sprint(workers))
	}
	logPath := filepath.Join(dir, "pprocd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, args...)
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	s := &server{cmd: cmd, pid: cmd.Process.Pid, logPath: logPath, exited: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		// Every line goes to the log; the first ready line is the address.
		scanner := bufio.NewScanner(stdout)
		found := false
		for scanner.Scan() {
			line := scanner.Text()
			fmt.Fprintln(logFile, line)
			if rest, ok := strings.CutPrefix(line, "pprocd ready on "); ok && !found {
				found = true
				ready <- strings.Fields(rest)[0]
			}
		}
		_, _ = io.Copy(logFile, stdout)
	}()
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	select {
	case s.address = <-ready:
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("pprocd exited before it was ready (%v); log %s:\n%s", cmd.ProcessState, logPath, tail(logPath))
	case <-time.After(timeout):
		s.stop(5 * time.Second)
		return nil, fmt.Errorf("pprocd not ready after %v; log %s:\n%s", timeout, logPath, tail(logPath))
	}
}

// stop sends SIGTERM, waits up to grace, then kills the server and its
// process group. It reports what had to be forced.
func (s *server) stop(grace time.Duration) []string {
	var notes []string
	kids := descendants(s.pid)
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(grace):
		notes = append(notes, fmt.Sprintf("server ignored SIGTERM for %v: SIGKILL", grace))
		_ = syscall.Kill(-s.pid, syscall.SIGKILL)
		<-s.exited
	}
	if !s.cmd.ProcessState.Success() {
		notes = append(notes, fmt.Sprintf("server exit: %v", s.cmd.ProcessState))
	}
	// Its template and workers must go with it.
	deadline := time.Now().Add(2 * time.Second)
	for {
		var left []int
		for _, p := range kids {
			if alive(p) {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			notes = append(notes, fmt.Sprintf("processes left behind by the server: %v (killed)", left))
			for _, p := range left {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return notes
}

// alive: the process exists and is not a zombie.
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	rest := string(data)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	fields := strings.Fields(rest)
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

func tail(path string) string {
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}
