package main

// The machine, CPU time, the verdict and the printed report (text for a
// terminal, and a markdown table to paste into bench/RESULTS.md).

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	pprocd "pprocd.dev/client"
)

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

type report struct {
	flags   flags
	started time.Time
	machine string
	address string
	workers uint32

	fresh, before, after, gone sample
	// With the heap probe: tcmalloc's counters at the idle samples, and
	// VmRSS once its free pages were released.
	heapProbe                                  bool
	heapMode                                   string
	freshHeap, beforeHeap, afterHeap, goneHeap heapProbe

	during     series
	warm, main *phaseStats
	elapsed    time.Duration
	cpu        cpuDelta

	lastStatus, finalStatus *pprocd.Status
	maxCallsActive          uint32
	maxQueued               uint64
	statusErrors            int
	emptyStatuses           int // GetStatus answers with no worker configured
	stopNotes               []string
}

// cpuTimes: CPU seconds of the server alone, of its tree, of this program,
// and the machine's busy and total ticks (from /proc/stat).
type cpuTimes struct {
	server, tree, self float64
	busy, total, steal float64
}

type cpuDelta struct {
	server, tree, self float64 // CPU seconds
	otherPct, stealPct float64 // of the machine's CPU time
}

func readCPU(pid int) cpuTimes {
	var t cpuTimes
	t.server = procCPU(pid)
	t.tree = t.server
	for _, p := range descendants(pid) {
		t.tree += procCPU(p)
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		t.self = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	}
	t.busy, t.total, t.steal = machineTicks()
	return t
}

func (t cpuTimes) since(t0 cpuTimes) cpuDelta {
	d := cpuDelta{server: t.server - t0.server, tree: t.tree - t0.tree, self: t.self - t0.self}
	if total := t.total - t0.total; total > 0 {
		own := (d.tree + d.self) * clockTicks
		d.otherPct = max(0, 100*((t.busy-t0.busy)-own)/total)
		d.stealPct = 100 * (t.steal - t0.steal) / total
	}
	return d
}

// procCPU: utime + stime of pid in seconds (0 if it is gone).
func procCPU(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	rest := string(data)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	fields := strings.Fields(rest) // fields[0] is field 3 (state)
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / clockTicks
}

// machineTicks: busy, total and steal ticks of all CPUs.
func machineTicks() (busy, total, steal float64) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, 0, 0
	}
	v := make([]float64, 8)
	for i := range v {
		v[i], _ = strconv.ParseFloat(fields[i+1], 64)
	}
	// user nice system idle iowait irq softirq steal
	busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
	return busy, busy + v[3] + v[4], v[7]
}

func describeMachine() string {
	model := "unknown"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := "?"
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(data))
	}
	mem := "?"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(data), "\n")
		if f := strings.Fields(line); len(f) >= 2 {
			if kib, err := strconv.ParseFloat(f[1], 64); err == nil {
				mem = fmt.Sprintf("%.1f GiB", kib/1024/1024)
			}
		}
	}
	return fmt.Sprintf("%s, nproc %d, %s RAM, Linux %s %s", model, runtime.NumCPU(), mem, kernel, runtime.GOARCH)
}

func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// --- the verdict ---

func (r *report) errors() uint64 {
	_, warm := r.warm.totalCalls()
	_, main := r.main.totalCalls()
	return warm + main + uint64(r.statusErrors)
}

// rssFlat: after is within the margin of before.
func (r *report) rssFlat(before, after int64) bool {
	margin := max(float64(before)*r.flags.rssPct/100, r.flags.rssMiB*1024)
	return float64(after-before) <= margin
}

// probed: the heap probe read the before and after samples, so RSS is
// judged once tcmalloc's free pages were released.
func (r *report) probed() bool { return r.beforeHeap.ok && r.afterHeap.ok }

// judgedRSS: the server's VmRSS and the tree's at s, with the server's free
// heap pages released when the probe could do it.
func (r *report) judgedRSS(s sample, h heapProbe) (server, tree int64) {
	if !r.probed() {
		return s.serverRSSKiB, s.treeRSSKiB
	}
	return h.releasedRSSKiB, s.treeRSSKiB - s.serverRSSKiB + h.releasedRSSKiB
}

func (r *report) flat() (ok bool, why []string) {
	ok = true
	check := func(cond bool, format string, args ...any) {
		if !cond {
			ok = false
			why = append(why, fmt.Sprintf(format, args...))
		}
	}
	kind := "RSS"
	if r.probed() {
		kind = "RSS (free heap pages released)"
	}
	bServer, bTree := r.judgedRSS(r.before, r.beforeHeap)
	aServer, aTree := r.judgedRSS(r.after, r.afterHeap)
	check(r.rssFlat(bServer, aServer), "server %s grew from %s to %s MiB", kind, mib(bServer), mib(aServer))
	check(r.rssFlat(bTree, aTree), "tree %s grew from %s to %s MiB", kind, mib(bTree), mib(aTree))
	if r.probed() {
		check(r.rssFlat(r.beforeHeap.allocatedBytes/1024, r.afterHeap.allocatedBytes/1024),
			"allocated heap grew from %s to %s MiB", mibBytes(r.beforeHeap.allocatedBytes), mibBytes(r.afterHeap.allocatedBytes))
	}
	check(r.after.serverFDs <= r.before.serverFDs+r.flags.fdMargin,
		"server descriptors grew from %d to %d", r.before.serverFDs, r.after.serverFDs)
	check(r.gone.serverFDs <= r.fresh.serverFDs+r.flags.fdMargin,
		"server descriptors with the clients gone: %d, fresh %d", r.gone.serverFDs, r.fresh.serverFDs)
	check(r.after.procs == r.before.procs,
		"processes in the server's tree: %d before, %d after", r.before.procs, r.after.procs)
	return ok, why
}

func (r *report) passed() bool {
	ok, _ := r.flat()
	return ok && r.errors() == 0 && len(r.stopNotes) == 0
}

// --- printing ---

func (r *report) print(w io.Writer) {
	f := r.flags
	mainOK, mainFailed := r.main.totalCalls()
	warmOK, warmFailed := r.warm.totalCalls()
	secs := r.elapsed.Seconds()
	items := r.main.workerItems()
	flat, why := r.flat()

	fmt.Fprintf(w, "## Soak: %d streams, %v, %s\n\n", f.streams, f.duration, r.address)
	fmt.Fprintf(w, "- Date: %s\n", r.started.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "- Machine: %s; load average at the end %s\n", r.machine, loadAvg())
	fmt.Fprintf(w, "- During the load, processes other than the server and this client used %.0f%% of the machine's CPU time (the hypervisor stole %.0f%%)\n", r.cpu.otherPct, r.cpu.stealPct)
	fmt.Fprintf(w, "- Server: %d workers, --listen %s; client: %d streams over %d connections, each keeps one call open and opens the next when it ends; mix %s; 1..%d items (or Start messages) per call; call deadline %v\n",
		r.workers, f.listen, f.streams, f.conns, f.mix, f.maxItems, f.callTimeout)
	fmt.Fprintf(w, "- Phases: fresh; connect; warm-up %v at full load, settle %v, before; load %v sampled every %v; settle, after; clients disconnect, settle, clients gone\n\n",
		f.warmup, f.settle, f.duration, f.sampleEvery)

	fmt.Fprintf(w, "| sample | server RSS (MiB) | server + template + workers RSS (MiB) | processes | server fds | server threads |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|\n")
	row := func(name string, s sample) {
		fmt.Fprintf(w, "| %s | %s | %s | %d | %d | %d |\n", name, mib(s.serverRSSKiB), mib(s.treeRSSKiB), s.procs, s.serverFDs, s.threads)
	}
	row("fresh (workers ready, nothing served, no client)", r.fresh)
	row("before (after the warm-up, idle)", r.before)
	d := r.during
	fmt.Fprintf(w, "| during, min / max / last of %d samples | %s / %s / %s | %s / %s / %s | %d / %d / %d | %d / %d / %d | %d / %d / %d |\n", d.n,
		mib(d.min.serverRSSKiB), mib(d.max.serverRSSKiB), mib(d.last.serverRSSKiB),
		mib(d.min.treeRSSKiB), mib(d.max.treeRSSKiB), mib(d.last.treeRSSKiB),
		d.min.procs, d.max.procs, d.last.procs,
		d.min.serverFDs, d.max.serverFDs, d.last.serverFDs,
		d.min.threads, d.max.threads, d.last.threads)
	row("after (load stopped, idle)", r.after)
	row("clients gone", r.gone)
	fmt.Fprintln(w)
	if r.heapProbe {
		fmt.Fprintf(w, "Heap probe (%s), right after the sample of the same name:\n\n", r.heapMode)
		fmt.Fprintf(w, "| sample | allocated (MiB) | free: page heap and caches (MiB) | returned to the kernel earlier (MiB) | server RSS once free pages released (MiB) |\n|---|---|---|---|---|\n")
		for _, p := range []struct {
			name string
			h    heapProbe
		}{{"fresh", r.freshHeap}, {"before", r.beforeHeap}, {"after", r.afterHeap}, {"clients gone", r.goneHeap}} {
			if !p.h.ok {
				fmt.Fprintf(w, "| %s | probe failed: %s | | | |\n", p.name, p.h.err)
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", p.name, mibBytes(p.h.allocatedBytes), mibBytes(p.h.freeBytes),
				mibBytes(p.h.unmappedBytes), mib(p.h.releasedRSSKiB))
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "| load (%.0f s) | calls OK | errors | items | calls/s |\n|---|---|---|---|---|\n", secs)
	for k := 0; k < numKinds; k++ {
		unit := "inputs"
		switch k {
		case kindStart:
			unit = "messages"
		case kindEcho:
			unit = "—"
		}
		itemsText := unit
		if unit != "—" {
			itemsText = fmt.Sprintf("%d %s", r.main.items[k].Load(), unit)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %s | %.0f |\n", kindNames[k], r.main.calls[k].Load(), r.main.failed[k].Load(), itemsText, float64(r.main.calls[k].Load())/secs)
	}
	fmt.Fprintf(w, "| all | %d | %d | | %.0f |\n\n", mainOK, mainFailed, float64(mainOK)/secs)

	fmt.Fprintf(w, "- **Errors: %d** (load %d, warm-up %d of %d calls, GetStatus while sampling %d)", r.errors(), mainFailed, warmFailed, warmOK+warmFailed, r.statusErrors)
	if causes := causes(r.warm, r.main); len(causes) > 0 {
		fmt.Fprintf(w, ": %s", strings.Join(causes, ", "))
	}
	fmt.Fprintln(w)
	for _, m := range append(r.warm.first, r.main.first...) {
		fmt.Fprintf(w, "  - %s\n", m)
	}
	fmt.Fprintf(w, "- **Items/s: %.0f** (invocations on workers: Map/Queue inputs and Start channels, %d in %.0f s); calls/s %.0f\n", float64(items)/secs, items, secs, float64(mainOK)/secs)
	fmt.Fprintf(w, "- Concurrency: client-side calls open at the samples %d..%d; server GetStatus calls_active up to %d, items_queued up to %d\n",
		d.minCalls, d.maxCalls, r.maxCallsActive, r.maxQueued)
	if r.emptyStatuses > 0 {
		fmt.Fprintf(w, "- **GetStatus answered an empty status (no worker configured) at %d of %d samples**: the server's scheduler did not answer it in time\n",
			r.emptyStatuses, d.n)
	}
	fmt.Fprintf(w, "- CPU during the load: server %.0f s, server + template + workers %.0f s, client %.0f s (%d cores × %.0f s = %.0f s)\n",
		r.cpu.server, r.cpu.tree, r.cpu.self, runtime.NumCPU(), secs, float64(runtime.NumCPU())*secs)
	if st := r.finalStatus; st != nil {
		fmt.Fprintf(w, "- Server counters at the end: items completed %d, failed %d, crashed %d; workers respawned %d, recycled %d\n",
			st.ItemsCompleted, st.ItemsFailed, st.ItemsCrashed, st.WorkersRespawned, st.WorkersRecycled)
	}
	basis := "RSS"
	if r.probed() {
		basis = "RSS once tcmalloc released its free pages, and allocated heap,"
	}
	margin := fmt.Sprintf("%s within max(%.0f%%, %.0f MiB) of before, fds within %d of before (and of fresh once the clients are gone), same processes",
		basis, f.rssPct, f.rssMiB, f.fdMargin)
	fmt.Fprintf(w, "- RSS as read, after − before: server %+.1f MiB, tree %+.1f MiB\n",
		float64(r.after.serverRSSKiB-r.before.serverRSSKiB)/1024, float64(r.after.treeRSSKiB-r.before.treeRSSKiB)/1024)
	if flat {
		fmt.Fprintf(w, "- **Flat: yes** (%s)\n", margin)
	} else {
		fmt.Fprintf(w, "- **Flat: NO**: %s (%s)\n", strings.Join(why, "; "), margin)
	}
	for _, n := range r.stopNotes {
		fmt.Fprintf(w, "- **Stop: %s**\n", n)
	}
	verdict := "PASS"
	if !r.passed() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "- Verdict: **%s**\n\n", verdict)
	fmt.Fprintf(w, "BENCH ok=%d errors=%d items_per_sec=%.0f calls_per_sec=%.0f seconds=%.0f streams=%d flat=%d "+
		"rss_before_kib=%d rss_after_kib=%d tree_rss_before_kib=%d tree_rss_after_kib=%d fds_before=%d fds_after=%d fds_max=%d rss_max_kib=%d tree_rss_max_kib=%d "+
		"heap_probe=%d alloc_before_bytes=%d alloc_after_bytes=%d released_rss_before_kib=%d released_rss_after_kib=%d\n",
		b2i(r.passed()), r.errors(), float64(items)/secs, float64(mainOK)/secs, secs, f.streams, b2i(flat),
		r.before.serverRSSKiB, r.after.serverRSSKiB, r.before.treeRSSKiB, r.after.treeRSSKiB,
		r.before.serverFDs, r.after.serverFDs, d.max.serverFDs, d.max.serverRSSKiB, d.max.treeRSSKiB,
		b2i(r.probed()), r.beforeHeap.allocatedBytes, r.afterHeap.allocatedBytes, r.beforeHeap.releasedRSSKiB, r.afterHeap.releasedRSSKiB)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
