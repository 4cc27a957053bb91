// scripts/build-runsc.sh adds this file to runsc's main package (gvisor.dev/gvisor/runsc).
//
// A sentry started by `runsc restore` (a create from a golden snapshot, a resume) decodes the
// sandbox's saved kernel state, and that leaves several MiB of garbage on its Go heap: about
// 4.5 MiB for an idle sandbox, 11 % of its memory (BENCHMARKS.md). Go keeps freed heap pages
// mapped for reuse, up to about twice the live heap, and an idle sentry allocates too little to
// start a collection, so each restored sandbox kept that memory for its whole life. Here the
// sentry collects and returns its free heap pages to the host three times in its first half
// minute, by when a restore has ended; after that, Go's own pacing applies.
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
var trimAfter = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second}

func init() {
	// runsc starts the sentry under this name (runsc/sandbox/sandbox.go, createSandboxProcess).
	if len(os.Args) == 0 || os.Args[0] != "runsc-sandbox" {
		return
	}
	start := time.Now()
	go func() {
		for _, at := range trimAfter {
			time.Sleep(time.Until(start.Add(at)))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			debug.FreeOSMemory()
			runtime.ReadMemStats(&after)
			// test/engine/runsc-build.test.ts reads this line.
			log.Infof("Sentry heap trim at %v: returned %d KiB of free heap to the host, %d KiB in use", at, (after.HeapReleased-before.HeapReleased)/1024, after.HeapInuse/1024)
		}
	}()
}
