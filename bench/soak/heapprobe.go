package main

// The server's heap as its allocator sees it. pprocd links tcmalloc, which
// keeps the pages it freed and returns them to the kernel slowly, so VmRSS
// after a load is the high-water mark of the heap, not what is still
// allocated. With gdb installed, the probe attaches to the idle server for
// a moment, reads tcmalloc's counters through its C API
// (MallocExtension_GetNumericProperty) and asks it to release its free pages
// (MallocExtension_ReleaseFreeMemory): VmRSS read after that is comparable
// from one sample to the next, and the allocated bytes tell a leak from
// retained free memory.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// heapProbe is one probe's reading. ok is false when it could not be read.
type heapProbe struct {
	ok             bool
	allocatedBytes int64 // generic.current_allocated_bytes: live objects
	freeBytes      int64 // in the page heap and the caches: free but still mapped
	unmappedBytes  int64 // released to the kernel (tcmalloc.pageheap_unmapped_bytes)
	releasedRSSKiB int64 // VmRSS of the server after the release
	err            string
}

var heapProperties = []string{
	"generic.current_allocated_bytes",
	"tcmalloc.pageheap_unmapped_bytes",
	"tcmalloc.pageheap_free_bytes",
	"tcmalloc.central_cache_free_bytes",
	"tcmalloc.transfer_cache_free_bytes",
	"tcmalloc.thread_cache_free_bytes",
}

// heapProbeUsable says whether pid links tcmalloc and gdb is on the PATH
// (mode "auto"); "on" and "off" force the answer.
func heapProbeUsable(mode string, pid int) (bool, string) {
	switch mode {
	case "off":
		return false, "off (--heap-probe off)"
	case "on", "auto":
	default:
		return false, fmt.Sprintf("unknown --heap-probe %q (auto, on, off)", mode)
	}
	if _, err := exec.LookPath("gdb"); err != nil {
		return mode == "on", "gdb not found"
	}
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil || !strings.Contains(string(maps), "libtcmalloc") {
		return mode == "on", "the server does not link tcmalloc"
	}
	return true, "tcmalloc counters read by gdb, free pages released"
}

// probeHeap attaches gdb to pid, reads tcmalloc's counters (before the
// release) and releases its free page-heap memory (the per-thread and
// central caches stay). The server is stopped for the time gdb is attached
// (a second or two): call it only while the server is idle.
func probeHeap(ctx context.Context, pid int) heapProbe {
	// --readnever: the exported symbols are enough, and reading the
	// server's debug information would keep it stopped for seconds.
	args := []string{"-p", fmt.Sprint(pid), "-batch", "-nx", "--readnever",
		"-ex", "set $soak_v = (unsigned long *) malloc(8)"}
	for _, p := range heapProperties {
		args = append(args,
			"-ex", fmt.Sprintf(`call (int) MallocExtension_GetNumericProperty("%s", $soak_v)`, p),
			"-ex", fmt.Sprintf(`printf "soak %s %%lu\n", *$soak_v`, p))
	}
	args = append(args, "-ex", "call (void) free($soak_v)",
		"-ex", "call (void) MallocExtension_ReleaseFreeMemory()")
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "gdb", args...).CombinedOutput()
	h := heapProbe{}
	values := map[string]int64{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "soak" {
			if v, perr := strconv.ParseInt(f[2], 10, 64); perr == nil {
				values[f[1]] = v
			}
		}
	}
	if len(values) != len(heapProperties) {
		h.err = fmt.Sprintf("gdb: %v; %d of %d counters read", err, len(values), len(heapProperties))
		return h
	}
	h.ok = true
	h.allocatedBytes = values["generic.current_allocated_bytes"]
	h.unmappedBytes = values["tcmalloc.pageheap_unmapped_bytes"]
	for _, p := range heapProperties[2:] {
		h.freeBytes += values[p]
	}
	h.releasedRSSKiB, _ = rssAndThreads(pid)
	return h
}

func (h heapProbe) line() string {
	if !h.ok {
		return "heap probe failed: " + h.err
	}
	return fmt.Sprintf("allocated %s MiB, free %s MiB, returned to the kernel earlier %s MiB; server RSS %s MiB once free pages released",
		mibBytes(h.allocatedBytes), mibBytes(h.freeBytes), mibBytes(h.unmappedBytes), mib(h.releasedRSSKiB))
}

func mibBytes(b int64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }
