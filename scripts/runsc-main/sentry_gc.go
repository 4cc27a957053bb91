// scripts/build-runsc.sh adds this file to runsc's main package (gvisor.dev/gvisor/runsc). It
// sets the Go garbage collector of the sentry around the sentry's start:
//
//   - No collection in the first second, unless the heap reaches startHeapLimit. A sentry's
//     start (a boot, or `runsc restore` decoding a golden snapshot or a paused sandbox) allocates
//     a few MiB, most of it garbage at once, and the collections Go ran while the heap grew from
//     nothing were a fifth of a restore: 132-135 ms against 162-173 ms without them, p50 of 8
//     (BENCHMARKS.md, seventeenth round).
//   - Then the free heap goes back to the host: 1 s, 5 s and 30 s after the start the sentry
//     collects and returns its free pages. Go keeps freed pages mapped for reuse, up to about
//     twice the live heap, and an idle sentry allocates too little to start a collection, so each
//     restored sandbox used to keep 3-4 MiB of that garbage for its whole life. After the third,
//     Go's own pacing applies.
//
// Only the sentry: the gofer's memory grew when it did the same (it has nothing to give back).
package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"gvisor.dev/gvisor/pkg/log"
)

// trimAfter are the moments, counted from the sentry's start, at which it returns free heap.
// The first also ends the start's pause of the collector.
var trimAfter = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second}

// startHeapLimit bounds the heap while the collector is paused: a sentry that gets there in its
// first second is collected as Go's memory limit does (runtime/debug.SetMemoryLimit). A start
// allocates a tenth of it (about 5 MiB measured for an idle sandbox).
const startHeapLimit = 64 << 20

func init() {
	// runsc starts the sentry under this name (runsc/sandbox/sandbox.go, createSandboxProcess).
	if len(os.Args) == 0 || os.Args[0] != "runsc-sandbox" {
		return
	}
	start := time.Now()
	gcPercent := debug.SetGCPercent(-1)
	memoryLimit := debug.SetMemoryLimit(startHeapLimit)
	go func() {
		for i, at := range trimAfter {
			time.Sleep(time.Until(start.Add(at)))
			if i == 0 {
				debug.SetGCPercent(gcPercent)
				debug.SetMemoryLimit(memoryLimit)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			debug.FreeOSMemory()
			runtime.ReadMemStats(&after)
			// test/engine/runsc-build.test.ts reads this line.
			log.Infof("Sentry heap trim at %v: %d collections before it, returned %d KiB of free heap to the host, %d KiB in use", at, before.NumGC, (after.HeapReleased-before.HeapReleased)/1024, after.HeapInuse/1024)
		}
	}()
}
