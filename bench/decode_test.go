package bench

import (
	"encoding/binary"
	"testing"

	"github.com/decompose-dev/decompose/trace/ebpf"
)

// Kernel record types (trace/ebpf/bpf/types.h).
const (
	recExec = 1
	recFile = 4
	recFork = 2
)

// record is a zeroed kernel record of type typ, larger than any record
// (file records are about 4.8 KiB, exec records about 6.5 KiB, whatever the
// path and argv they carry).
func record(typ uint32) []byte {
	b := make([]byte, 8192)
	binary.LittleEndian.PutUint32(b, typ)
	binary.LittleEndian.PutUint32(b[4:], 4242) // tgid
	return b
}

// BenchmarkDecode measures the recorder's user-space decoding of one ring
// buffer record (ebpf.Decode, as ReadEvent calls it for every record):
//
//	go test -run '^$' -bench Decode -benchmem ./bench/
func BenchmarkDecode(b *testing.B) {
	for _, c := range []struct {
		name string
		typ  uint32
	}{{"file", recFile}, {"exec", recExec}, {"fork", recFork}} {
		rec := record(c.typ)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ebpf.Decode(rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDecodeSmoke keeps BenchmarkDecode's records decodable.
func TestDecodeSmoke(t *testing.T) {
	for _, typ := range []uint32{recFile, recExec, recFork} {
		if _, err := ebpf.Decode(record(typ)); err != nil {
			t.Errorf("type %d: %v", typ, err)
		}
	}
}
