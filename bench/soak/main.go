// Command soak holds many concurrent streams open against a pprocd server
// it starts itself, for a long time, and reports errors (there must be
// none), the server's RSS and open descriptors before, during and after the
// load (after must be flat: within a small margin of before), and the items
// per second. See bench/RESULTS.md, "Soak".
//
// Phases: start the server and wait for its workers, --settle with no client
// connected (fresh sample); connect --conns connections; warm up under the full load (--warmup); wait until no call is open, then
// --settle (before sample); the load for --duration, sampled every
// --sample-every (min / max / last); wait until no call is open, then
// --settle (after sample); close the connections, --settle again (the
// clients-gone sample); stop the server.
//
// Exit status: 0 when there was no error and after is flat; 1 otherwise; 2
// when the benchmark could not run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	pprocd "pprocd.dev/client"
)

type flags struct {
	pprocd      string
	listen      string
	workers     int
	duration    time.Duration
	warmup      time.Duration
	settle      time.Duration
	sampleEvery time.Duration
	streams     int
	conns       int
	maxItems    int
	mix         string
	callTimeout time.Duration
	rssPct      float64
	rssMiB      float64
	fdMargin    int
	keep        bool
	heapProbe   string
}

func parseFlags() flags {
	var f flags
	flag.StringVar(&f.pprocd, "pprocd", os.Getenv("PPROCD_BIN"), "server binary (default $PPROCD_BIN)")
	flag.StringVar(&f.listen, "listen", "tcp:127.0.0.1:0", "the server's --listen (tcp:HOST:0 or unix:PATH)")
	flag.IntVar(&f.workers, "workers", 0, "the server's --workers (0: its default, one per CPU)")
	flag.DurationVar(&f.duration, "duration", 10*time.Minute, "how long the measured load runs")
	flag.DurationVar(&f.warmup, "warmup", 0, "full load before the 'before' sample (default: duration/20, 5s..30s)")
	flag.DurationVar(&f.settle, "settle", 5*time.Second, "idle time before the before, after and clients-gone samples")
	flag.DurationVar(&f.sampleEvery, "sample-every", 10*time.Second, "sampling period during the load")
	flag.IntVar(&f.streams, "streams", 1000, "concurrent streams (each keeps one call open at a time)")
	flag.IntVar(&f.conns, "conns", 8, "client connections the streams are spread over")
	flag.IntVar(&f.maxItems, "items", 8, "items per Map/Queue call and messages per Start: 1..items")
	flag.StringVar(&f.mix, "mix", "map=35,queue=35,start=15,echo=15", "share of each kind of call")
	flag.DurationVar(&f.callTimeout, "call-timeout", 2*time.Minute, "deadline of each call (a call past it is an error)")
	flag.Float64Var(&f.rssPct, "rss-margin-pct", 10, "flat: after RSS at most this many % above before ...")
	flag.Float64Var(&f.rssMiB, "rss-margin-mib", 8, "... or this many MiB, whichever is larger")
	flag.IntVar(&f.fdMargin, "fd-margin", 2, "flat: after descriptors at most this many above before")
	flag.BoolVar(&f.keep, "keep", false, "keep the temp dir (server log, state dir)")
	flag.StringVar(&f.heapProbe, "heap-probe", "auto", "read tcmalloc's counters with gdb and release its free pages at the idle samples: auto (if gdb and tcmalloc), on, off")
	flag.Parse()
	if f.warmup == 0 {
		f.warmup = min(max(f.duration/20, 5*time.Second), 30*time.Second)
	}
	return f
}

func parseMix(text string) ([numKinds]int, error) {
	var mix [numKinds]int
	total := 0
	for _, part := range strings.Split(text, ",") {
		name, weight, ok := strings.Cut(strings.TrimSpace(part), "=")
		w, err := strconv.Atoi(weight)
		if !ok || err != nil || w < 0 {
			return mix, fmt.Errorf("--mix: expected kind=weight, got %q", part)
		}
		found := false
		for k, n := range kindNames {
			if n == name {
				mix[k], found = w, true
			}
		}
		if !found {
			return mix, fmt.Errorf("--mix: unknown kind %q (map, queue, start, echo)", name)
		}
		total += w
	}
	if total == 0 {
		return mix, fmt.Errorf("--mix: every weight is 0")
	}
	return mix, nil
}

func main() { os.Exit(run()) }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run() int {
	f := parseFlags()
	mix, err := parseMix(f.mix)
	if err != nil {
		logf("%v", err)
		return 2
	}
	if f.pprocd == "" || f.streams <= 0 || f.conns <= 0 || f.maxItems <= 0 {
		logf("needs --pprocd (or $PPROCD_BIN), and --streams, --conns and --items above 0")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dir, err := os.MkdirTemp("", "pprocd-soak.")
	if err != nil {
		logf("%v", err)
		return 2
	}
	if f.keep {
		defer logf("kept %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	binary, _ := filepath.Abs(f.pprocd)
	srv, err := startServer(binary, f.listen, dir, f.workers, 60*time.Second)
	if err != nil {
		logf("%v", err)
		return 2
	}
	var stopNotes []string
	stopped := false
	stopServer := func() {
		if !stopped {
			stopped = true
			stopNotes = srv.stop(15 * time.Second)
		}
	}
	defer stopServer()
	logf("server pid %d on %s (log %s)", srv.pid, srv.address, srv.logPath)

	r := &report{flags: f, started: time.Now(), machine: describeMachine(), address: srv.address}
	code := soak(ctx, f, mix, srv, r)
	if code == 2 {
		return 2
	}
	stopServer()
	r.stopNotes = stopNotes
	r.print(os.Stdout)
	if ctx.Err() != nil {
		logf("interrupted")
		return 2
	}
	if !r.passed() {
		return 1
	}
	return 0
}

// soak runs the phases against srv and fills r. It returns 2 when it could
// not run.
func soak(ctx context.Context, f flags, mix [numKinds]int, srv *server, r *report) int {
	// Fresh: a server whose workers are ready, that has served nothing
	// (but the GetStatus calls of a probe client, gone again).
	probeCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	probe, err := pprocd.Dial(probeCtx, srv.address)
	cancel()
	if err != nil {
		logf("connecting to %s: %v", srv.address, err)
		return 2
	}
	err = waitWorkers(ctx, probe, r)
	probe.Close()
	if err != nil {
		logf("%v", err)
		return 2
	}
	if sleepCtx(ctx, f.settle) != nil {
		return 2
	}
	r.heapProbe, r.heapMode = heapProbeUsable(f.heapProbe, srv.pid)
	logf("heap probe: %s", r.heapMode)
	r.fresh, r.freshHeap = idleSample(ctx, srv.pid, r.heapProbe, "fresh")

	clients := make([]*pprocd.Client, 0, f.conns)
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for i := 0; i < f.conns; i++ {
		dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		c, err := pprocd.Dial(dialCtx, srv.address)
		cancel()
		if err != nil {
			logf("connecting to %s: %v", srv.address, err)
			return 2
		}
		clients = append(clients, c)
	}

	cfg := loadConfig{clients: clients, streams: f.streams, mix: mix, maxItems: f.maxItems, callTimeout: f.callTimeout}
	logf("warm-up: %d streams for %v", f.streams, f.warmup)
	r.warm = newPhaseStats()
	runLoad(ctx, cfg, time.Now().Add(f.warmup), r.warm, 1)
	if ctx.Err() != nil {
		return 2
	}
	if err := settle(ctx, clients[0], f.settle, r); err != nil {
		logf("%v", err)
		return 2
	}
	r.before, r.beforeHeap = idleSample(ctx, srv.pid, r.heapProbe, "before")

	logf("load: %d streams over %d connections for %v", f.streams, f.conns, f.duration)
	r.main = newPhaseStats()
	cpu0 := readCPU(srv.pid)
	start := time.Now()
	done := make(chan struct{})
	go func() {
		runLoad(ctx, cfg, start.Add(f.duration), r.main, 1_000_000)
		close(done)
	}()
	ticker := time.NewTicker(f.sampleEvery)
	for running := true; running; {
		select {
		case <-done:
			running = false
		case now := <-ticker.C:
			if now.After(start.Add(f.duration - f.sampleEvery/10)) {
				continue // The load is winding down: not a sample of it.
			}
			s := readSample(srv.pid)
			open := r.main.inFlight.Load()
			r.during.add(s, open)
			serverCalls := "?"
			statusCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
			st, err := clients[0].Status(statusCtx)
			cancel()
			switch {
			case err != nil:
				r.statusErrors++
				logf("GetStatus: %v", err)
			case st.WorkersConfigured == 0:
				// The server's answer when its scheduler did not fill the
				// status in time.
				r.emptyStatuses++
				serverCalls = "empty status"
			default:
				r.maxCallsActive = max(r.maxCallsActive, st.CallsActive)
				r.maxQueued = max(r.maxQueued, st.ItemsQueued)
				serverCalls = fmt.Sprint(st.CallsActive)
			}
			ok, failed := r.main.totalCalls()
			logf("t=%3.0fs %s; calls open %d (server: %s); ok %d, errors %d",
				time.Since(start).Seconds(), s.line(), open, serverCalls, ok, failed)
		}
	}
	ticker.Stop()
	r.elapsed = time.Since(start)
	r.cpu = readCPU(srv.pid).since(cpu0)
	if ctx.Err() != nil {
		return 2
	}

	if err := settle(ctx, clients[0], f.settle, r); err != nil {
		logf("%v", err)
		return 2
	}
	r.after, r.afterHeap = idleSample(ctx, srv.pid, r.heapProbe, "after")
	if st, err := clients[0].Status(ctx); err == nil {
		r.finalStatus = st
	}

	for _, c := range clients {
		c.Close()
	}
	clients = nil
	if sleepCtx(ctx, f.settle) != nil {
		return 2
	}
	r.gone, r.goneHeap = idleSample(ctx, srv.pid, r.heapProbe, "clients gone")
	return 0
}

// idleSample reads the idle server, then (with probe) its heap.
func idleSample(ctx context.Context, pid int, probe bool, name string) (sample, heapProbe) {
	s := readSample(pid)
	logf("%s: %s", name, s.line())
	if !probe {
		return s, heapProbe{}
	}
	h := probeHeap(ctx, pid)
	logf("%s: %s", name, h.line())
	return s, h
}

// sleepCtx sleeps for d, or until ctx ends (then returns its error).
func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// waitWorkers waits until every configured worker is idle, and notes how
// many there are.
func waitWorkers(ctx context.Context, c *pprocd.Client, r *report) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := c.Status(ctx)
		if err != nil {
			return fmt.Errorf("GetStatus: %w", err)
		}
		if st.WorkersStarting == 0 && st.WorkersIdle == st.WorkersConfigured && st.WorkersConfigured > 0 {
			r.workers = st.WorkersConfigured
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("workers not idle after 60 s: %+v", *st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// settle waits until the server has no call open and its workers are idle,
// then for d more.
func settle(ctx context.Context, c *pprocd.Client, d time.Duration, r *report) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := c.Status(ctx)
		if err != nil {
			return fmt.Errorf("GetStatus: %w", err)
		}
		r.lastStatus = st
		if st.CallsActive == 0 && st.ItemsQueued == 0 && st.ItemsRunning == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("calls still open 60 s after the load stopped: %+v", *st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return sleepCtx(ctx, d)
}

func (s sample) line() string {
	return fmt.Sprintf("server RSS %s MiB, tree RSS %s MiB (%d processes), server fds %d, threads %d",
		mib(s.serverRSSKiB), mib(s.treeRSSKiB), s.procs, s.serverFDs, s.threads)
}
