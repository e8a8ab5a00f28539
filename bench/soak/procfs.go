package main

// What the server holds, read from /proc: VmRSS of the server process and
// of its whole tree (the template and the workers are its descendants), and
// the server's open descriptors.

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// sample is one reading. A negative field could not be read.
type sample struct {
	serverRSSKiB int64 // the server process alone
	treeRSSKiB   int64 // the server, the template and every worker
	procs        int   // processes in the tree, the server included
	serverFDs    int   // entries of /proc/SERVER/fd
	threads      int   // threads of the server process
}

// readSample reads the server pid's tree now.
func readSample(pid int) sample {
	s := sample{serverRSSKiB: -1, treeRSSKiB: 0, serverFDs: -1, threads: -1}
	s.serverRSSKiB, s.threads = rssAndThreads(pid)
	tree := append([]int{pid}, descendants(pid)...)
	for _, p := range tree {
		rss, _ := rssAndThreads(p)
		if rss >= 0 {
			s.treeRSSKiB += rss
			s.procs++
		}
	}
	if entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		s.serverFDs = len(entries)
	}
	return s
}

// rssAndThreads returns VmRSS (KiB) and Threads of /proc/PID/status, -1 for
// what it could not read (the process is gone, or a zombie).
func rssAndThreads(pid int) (int64, int) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1, -1
	}
	var rss int64 = -1
	threads := -1
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "VmRSS:":
			rss, _ = strconv.ParseInt(fields[1], 10, 64)
		case "Threads:":
			threads, _ = strconv.Atoi(fields[1])
		}
	}
	return rss, threads
}

// descendants lists every process below pid, from the parent pids of
// /proc/*/stat.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		rest := string(data)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) < 2 {
			continue
		}
		ppid, err := strconv.Atoi(fields[1])
		if err != nil {
			continue
		}
		children[ppid] = append(children[ppid], p)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// series keeps the min, max and last of the samples taken during the load.
type series struct {
	n                  int
	min, max, last     sample
	minCalls, maxCalls int64 // calls open, client side
}

func (s *series) add(x sample, open int64) {
	if s.n == 0 {
		s.min, s.max, s.minCalls, s.maxCalls = x, x, open, open
	}
	s.n++
	s.last = x
	s.min.serverRSSKiB = min(s.min.serverRSSKiB, x.serverRSSKiB)
	s.min.treeRSSKiB = min(s.min.treeRSSKiB, x.treeRSSKiB)
	s.min.serverFDs = min(s.min.serverFDs, x.serverFDs)
	s.min.threads = min(s.min.threads, x.threads)
	s.min.procs = min(s.min.procs, x.procs)
	s.max.serverRSSKiB = max(s.max.serverRSSKiB, x.serverRSSKiB)
	s.max.treeRSSKiB = max(s.max.treeRSSKiB, x.treeRSSKiB)
	s.max.serverFDs = max(s.max.serverFDs, x.serverFDs)
	s.max.threads = max(s.max.threads, x.threads)
	s.max.procs = max(s.max.procs, x.procs)
	s.minCalls = min(s.minCalls, open)
	s.maxCalls = max(s.maxCalls, open)
}

func mib(kib int64) string { return fmt.Sprintf("%.1f", float64(kib)/1024) }
