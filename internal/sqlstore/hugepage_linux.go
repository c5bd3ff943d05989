package sqlstore

import (
	"syscall"
	"unsafe"
)

// adviseHuge asks the kernel to back the whole 2 MiB pages inside s's
// memory with transparent huge pages when it first touches them. A load
// reserves one slice for every entity of a kind — 240 MB for a million
// associates — and fills it once; on a virtual machine taking a fault for
// each of its 4 KiB pages costs more than filling it. It is advice:
// failure changes nothing but speed, and slices under 4 MiB are left
// alone.
func adviseHuge[T any](s []T) {
	const huge = 2 << 20
	n := uintptr(len(s)) * unsafe.Sizeof(*new(T))
	if n < 2*huge {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(s))
	start := (uintptr(p) + huge - 1) &^ (huge - 1)
	end := (uintptr(p) + n) &^ (huge - 1)
	if end <= start {
		return
	}
	const madvHugepage = 14
	b := unsafe.Slice((*byte)(unsafe.Add(p, start-uintptr(p))), end-start)
	_ = syscall.Madvise(b, madvHugepage)
}
