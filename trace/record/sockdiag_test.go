package record

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// nlMsg builds one netlink message of type typ with sequence seq.
func nlMsg(typ, flags uint16, seq uint32, body []byte) []byte {
	ne := binary.NativeEndian
	b := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(body)+3)
	ne.PutUint32(b[0:], uint32(unix.NLMSG_HDRLEN+len(body)))
	ne.PutUint16(b[4:], typ)
	ne.PutUint16(b[6:], flags)
	ne.PutUint32(b[8:], seq)
	b = append(b, body...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// nlAttr builds one attribute, padded.
func nlAttr(typ uint16, val []byte) []byte {
	b := make([]byte, 4, 4+len(val)+3)
	binary.NativeEndian.PutUint16(b[0:], uint16(4+len(val)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func u32(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.NativeEndian.AppendUint32(b, x)
	}
	return b
}

// diagMsg builds a unix_diag_msg of socket ino with attributes.
func diagMsg(ino uint32, attrs ...[]byte) []byte {
	b := []byte{unix.AF_UNIX, syscall.SOCK_STREAM, 1, 0}
	b = append(b, u32(ino, 0, 0)...)
	for _, a := range attrs {
		b = append(b, a...)
	}
	return b
}

func TestParseUnixDiag(t *testing.T) {
	const seq = 7
	sock := nlMsg(unix.SOCK_DIAG_BY_FAMILY, 0, seq, diagMsg(42,
		nlAttr(unixDiagAttrName, []byte("/run/app.sock")),
		nlAttr(unixDiagAttrVFS, u32(1234, 0x803)),
		nlAttr(unixDiagAttrPeer, u32(43)),
		nlAttr(9, []byte{1, 2, 3}))) // unknown: skipped
	abstract := nlMsg(unix.SOCK_DIAG_BY_FAMILY, 0, seq, diagMsg(43, nlAttr(unixDiagAttrName, []byte("\x00bus\x00")), nlAttr(unixDiagAttrPeer, u32(42))))
	other := nlMsg(unix.SOCK_DIAG_BY_FAMILY, 0, seq+1, diagMsg(99))
	done := nlMsg(unix.NLMSG_DONE, 0, seq, u32(0))
	intr := nlMsg(unix.SOCK_DIAG_BY_FAMILY, unix.NLM_F_DUMP_INTR, seq, diagMsg(44))

	var got []unixDiag
	fin, wasIntr, err := parseUnixDiag(concat(sock, other, abstract, done), seq, func(d unixDiag) { got = append(got, d) })
	if err != nil || !fin || wasIntr {
		t.Fatalf("done %v intr %v err %v", fin, wasIntr, err)
	}
	want := []unixDiag{
		{Ino: 42, Type: syscall.SOCK_STREAM, State: 1, Peer: 43, Name: "/run/app.sock", VFSIno: 1234, VFSDev: 0x803},
		{Ino: 43, Type: syscall.SOCK_STREAM, State: 1, Peer: 42, Name: "@bus"},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if fin, wasIntr, err := parseUnixDiag(intr, seq, func(unixDiag) {}); fin || !wasIntr || err != nil {
		t.Errorf("interrupted dump: done %v intr %v err %v", fin, wasIntr, err)
	}
	eperm := int32(syscall.EPERM)
	if _, _, err := parseUnixDiag(nlMsg(unix.NLMSG_ERROR, 0, seq, u32(uint32(-eperm))), seq, func(unixDiag) {}); !errors.Is(err, syscall.EPERM) {
		t.Errorf("error message: %v, want EPERM", err)
	}
	if fin, _, err := parseUnixDiag(nlMsg(unix.NLMSG_ERROR, 0, seq, u32(0)), seq, func(unixDiag) {}); fin || err != nil {
		t.Errorf("an acknowledgement is no error: %v %v", fin, err)
	}

	bad := map[string][]byte{
		"short header":          sock[:10],
		"length beyond the end": sock[:len(sock)-4],
		"length below a header": func() []byte { b := clone(sock); binary.NativeEndian.PutUint32(b, 8); return b }(),
		"short socket record":   nlMsg(unix.SOCK_DIAG_BY_FAMILY, 0, seq, []byte{unix.AF_UNIX, 1, 1}),
		"wrong family":          nlMsg(unix.SOCK_DIAG_BY_FAMILY, 0, seq, append([]byte{unix.AF_INET}, diagMsg(1)[1:]...)),
		"attribute too long":    nlMsg(unix.SOCK_DIAG_BY_FAMILY, 0, seq, append(diagMsg(1), 0xff, 0, 0, 0)),
		"attribute below 4":     nlMsg(unix.SOCK_DIAG_BY_FAMILY, 0, seq, append(diagMsg(1), 2, 0, 0, 0)),
		"attribute cut short":   nlMsg(unix.SOCK_DIAG_BY_FAMILY, 0, seq, append(diagMsg(1), 8, 0)),
		"short peer":            nlMsg(unix.SOCK_DIAG_BY_FAMILY, 0, seq, diagMsg(1, nlAttr(unixDiagAttrPeer, []byte{1, 2}))),
		"short vfs":             nlMsg(unix.SOCK_DIAG_BY_FAMILY, 0, seq, diagMsg(1, nlAttr(unixDiagAttrVFS, u32(1)))),
		"short error":           nlMsg(unix.NLMSG_ERROR, 0, seq, []byte{1}),
	}
	for name, b := range bad {
		if _, _, err := parseUnixDiag(b, seq, func(unixDiag) {}); !errors.Is(err, errDiagMessage) {
			t.Errorf("%s: err %v, want a malformed-message error", name, err)
		}
	}
}

func concat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

func FuzzParseUnixDiag(f *testing.F) {
	f.Add(nlMsg(unix.SOCK_DIAG_BY_FAMILY, 0, 1, diagMsg(42, nlAttr(unixDiagAttrName, []byte("/x")), nlAttr(unixDiagAttrPeer, u32(43)))))
	f.Add(nlMsg(unix.NLMSG_DONE, 0, 1, u32(0)))
	f.Add(nlMsg(unix.NLMSG_ERROR, 0, 1, u32(1)))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		done, _, err := parseUnixDiag(b, 1, func(unixDiag) { n++ })
		if done && err != nil {
			t.Errorf("done with an error: %v", err)
		}
		if n > len(b)/(unix.NLMSG_HDRLEN+sizeofUnixDiagMsg) {
			t.Errorf("%d sockets from %d bytes", n, len(b))
		}
	})
}

// sockIno is the inode of the socket behind fd.
func sockIno(t *testing.T, fd int) uint32 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return uint32(st.Ino)
}

// TestDumpUnixSockets asks the kernel for the unix sockets of a socketpair
// and of a connection to a bound path, and checks peers and names.
func TestDumpUnixSockets(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	path := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	inoOf := func(x any) uint32 {
		f, err := x.(interface{ File() (*os.File, error) }).File()
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		return sockIno(t, int(f.Fd()))
	}
	a, b := sockIno(t, fds[0]), sockIno(t, fds[1])
	lis, cli, acc := inoOf(l), inoOf(c), inoOf(srv)

	table, err := dumpUnixSockets()
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	for _, p := range [][2]uint32{{a, b}, {b, a}, {cli, acc}, {acc, cli}} {
		if d, ok := table[p[0]]; !ok || d.Peer != p[1] {
			t.Errorf("socket %d: want peer %d, got %+v (listed %v)", p[0], p[1], d, ok)
		}
	}
	var st unix.Stat_t
	unix.Stat(path, &st)
	if d := table[lis]; d.Name != path || d.Peer != 0 || d.VFSIno != uint32(st.Ino) || d.State != 10 {
		t.Errorf("listener: want name %s, no peer, file inode %d, state LISTEN; got %+v", path, st.Ino, d)
	}
	if d := table[acc]; d.Name != path {
		t.Errorf("accepted socket: want the listener's name %s, got %+v", path, d)
	}
}
