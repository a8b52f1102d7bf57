package bench

import "unsafe"

// unsafePointer is the address of b's first byte for raw syscalls; b must
// stay reachable (the package-level buffers do).
func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }
