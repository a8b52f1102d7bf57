package ebpf

import (
	"encoding/binary"
	"testing"
)

func TestDecodeRejectsMalformed(t *testing.T) {
	for _, b := range [][]byte{nil, {1}, {1, 0, 0, 0}, {99, 0, 0, 0, 1, 2}, {evFile, 0, 0, 0, 1}} {
		if ev, err := Decode(b); err == nil {
			t.Errorf("Decode(%v) = %v, want an error", b, ev)
		}
	}
}

func TestJoinPath(t *testing.T) {
	buf := make([]int8, 64)
	n := copy(bytesOf(buf), "f.txt\x00dir\x00tmp\x00")
	if got := joinPath(buf, uint32(n)); got != "/tmp/dir/f.txt" {
		t.Errorf("joinPath = %q", got)
	}
	if got := joinPath(buf, 0); got != "/" {
		t.Errorf("joinPath(empty) = %q", got)
	}
}

func FuzzDecode(f *testing.F) {
	for _, typ := range []uint32{evExec, evFork, evFile, evPathOp, evSignal, evShmAt} {
		b := make([]byte, 16)
		binary.LittleEndian.PutUint32(b, typ)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) { Decode(b) })
}
