package ebpf

import (
	"encoding/binary"
	"reflect"
	"slices"
	"testing"

	"github.com/cilium/ebpf/btf"
)

func TestDecodeRejectsMalformed(t *testing.T) {
	for _, b := range [][]byte{nil, {1}, {1, 0, 0, 0}, {99, 0, 0, 0, 1, 2}, {evFile, 0, 0, 0, 1},
		append([]byte{6, 0, 0, 0}, make([]byte, 60)...), // the retired signal record
	} {
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
	for _, typ := range []uint32{evExec, evFork, evFile, evPathOp, evShmAt, 6 /* retired: signal */} {
		b := make([]byte, 16)
		binary.LittleEndian.PutUint32(b, typ)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) { Decode(b) })
}

// TestRecordLayouts checks that every Go record type has the size and the
// field offsets of its C struct, as the BTF of the object says: records are
// copied byte for byte into them.
func TestRecordLayouts(t *testing.T) {
	spec, err := loadDecompose()
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{
		"exec_ev": decomposeExecEv{}, "file_ev": decomposeFileEv{}, "pathop_ev": decomposePathopEv{},
		"shmat_ev": decomposeShmatEv{}, "task_ev": decomposeTaskEv{},
		"io_key": decomposeIoKey{}, "io_val": decomposeIoVal{}, "sig_key": decomposeSigKey{}, "sig_val": decomposeSigVal{},
	} {
		var st *btf.Struct
		if err := spec.Types.TypeByName(name, &st); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		typ := reflect.TypeOf(v)
		if typ.Size() != uintptr(st.Size) {
			t.Errorf("%s: Go size %d, C size %d", name, typ.Size(), st.Size)
		}
		var offs []uint32
		for i := range typ.NumField() {
			if f := typ.Field(i); f.Name != "_" {
				offs = append(offs, uint32(f.Offset))
			}
		}
		var want []uint32
		for _, m := range st.Members {
			want = append(want, m.Offset.Bytes())
		}
		if !slices.Equal(offs, want) {
			t.Errorf("%s: Go field offsets %v, C %v", name, offs, want)
		}
	}
}
