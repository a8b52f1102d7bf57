package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The kernel's own list of unix sockets, read over NETLINK_SOCK_DIAG (the
// source of `ss -x`), cross-checks the pairs the BPF side recorded: for
// every socket a recorded process holds, the kernel names the inode of the
// socket at the other end (crosscheck.go). Only the recorder's network
// namespace is listed.

// unixDiag is one unix socket as sock_diag describes it.
type unixDiag struct {
	Ino   uint32
	Type  uint8 // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET
	State uint8 // TCP_ESTABLISHED, TCP_LISTEN, ...
	// Peer is the inode of the socket at the other end, 0 when none.
	Peer uint32
	// Name is the bound name, "@name" in the abstract namespace, "" when
	// unbound.
	Name string
	// VFSDev and VFSIno name the socket file of a socket bound to a path.
	VFSDev, VFSIno uint32
}

// Constants of linux/unix_diag.h and linux/sock_diag.h that x/sys/unix
// does not export.
const (
	udiagShowName     = 0x01
	udiagShowVFS      = 0x02
	udiagShowPeer     = 0x04
	unixDiagAttrName  = 0
	unixDiagAttrVFS   = 1
	unixDiagAttrPeer  = 2
	sizeofUnixDiagReq = 24
	sizeofUnixDiagMsg = 16
	nlaTypeMask       = 0x3fff // without NLA_F_NESTED and NLA_F_NET_BYTEORDER
	// maxDiagSockets bounds the table of one dump.
	maxDiagSockets = 1 << 20
	// dumpRetries is how often a dump the kernel interrupted (sockets
	// came or went while it was read) is tried again.
	dumpRetries = 3
)

// errDiagMessage marks a netlink reply the parser could not use.
var errDiagMessage = errors.New("malformed sock_diag message")

// dumpUnixSockets lists every unix socket of the recorder's network
// namespace, by inode. A dump the kernel reports as interrupted is tried
// again; the last one is returned all the same, since a cross-check can
// live with a socket that came or went meanwhile.
func dumpUnixSockets() (map[uint32]unixDiag, error) {
	var out map[uint32]unixDiag
	for try := 0; try < dumpRetries; try++ {
		table, intr, err := dumpUnixOnce(uint32(try + 1))
		if err != nil {
			return nil, err
		}
		out = table
		if !intr {
			break
		}
	}
	return out, nil
}

func dumpUnixOnce(seq uint32) (map[uint32]unixDiag, bool, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, false, fmt.Errorf("sock_diag: open netlink socket: %w", err)
	}
	defer unix.Close(fd)
	// a kernel that never answers must not hang the recorder
	tv := unix.Timeval{Sec: 5}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, false, fmt.Errorf("sock_diag: set receive timeout: %w", err)
	}
	kernel := &unix.SockaddrNetlink{Family: unix.AF_NETLINK}
	if err := unix.Sendto(fd, unixDiagRequest(seq), 0, kernel); err != nil {
		return nil, false, fmt.Errorf("sock_diag: send unix dump request: %w", err)
	}
	out := map[uint32]unixDiag{}
	intr := false
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(fd, buf, unix.MSG_TRUNC)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, false, fmt.Errorf("sock_diag: read unix dump: %w", err)
		}
		if n > len(buf) {
			return nil, false, fmt.Errorf("sock_diag: read unix dump: %w: reply of %d bytes", errDiagMessage, n)
		}
		done, i, err := parseUnixDiag(buf[:n], seq, func(d unixDiag) {
			if len(out) < maxDiagSockets {
				out[d.Ino] = d
			}
		})
		if err != nil {
			return nil, false, fmt.Errorf("sock_diag: read unix dump: %w", err)
		}
		intr = intr || i
		if done {
			return out, intr, nil
		}
	}
}

// unixDiagRequest is a netlink message asking for every unix socket with
// its name, socket file and peer.
func unixDiagRequest(seq uint32) []byte {
	b := make([]byte, unix.NLMSG_HDRLEN+sizeofUnixDiagReq)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(b[8:], seq)
	// struct unix_diag_req: family, protocol, pad, states, ino, show, cookie
	r := b[unix.NLMSG_HDRLEN:]
	r[0] = unix.AF_UNIX
	ne.PutUint32(r[4:], 0xffffffff) // every state
	ne.PutUint32(r[12:], udiagShowName|udiagShowVFS|udiagShowPeer)
	return b
}

// parseUnixDiag parses one read of a sock_diag unix dump and calls fn for
// every socket in it. Messages of another sequence number are skipped.
// done is true at the end of the dump; intr when the kernel flagged the
// dump as interrupted. Malformed bytes give an error, never a panic.
func parseUnixDiag(b []byte, seq uint32, fn func(unixDiag)) (done, intr bool, err error) {
	ne := binary.NativeEndian
	for len(b) > 0 {
		if len(b) < unix.NLMSG_HDRLEN {
			return false, intr, fmt.Errorf("%w: %d bytes left, short of a header", errDiagMessage, len(b))
		}
		l := uint64(ne.Uint32(b[0:]))
		typ, flags, mseq := ne.Uint16(b[4:]), ne.Uint16(b[6:]), ne.Uint32(b[8:])
		if l < unix.NLMSG_HDRLEN || l > uint64(len(b)) {
			return false, intr, fmt.Errorf("%w: message length %d with %d bytes left", errDiagMessage, l, len(b))
		}
		body := b[unix.NLMSG_HDRLEN:l]
		b = b[min(align4(l), uint64(len(b))):]
		if mseq != seq {
			continue
		}
		intr = intr || flags&unix.NLM_F_DUMP_INTR != 0
		switch typ {
		case unix.NLMSG_DONE:
			return true, intr, nil
		case unix.NLMSG_ERROR:
			if len(body) < 4 {
				return false, intr, fmt.Errorf("%w: short error message", errDiagMessage)
			}
			if errno := int32(ne.Uint32(body)); errno != 0 {
				return false, intr, fmt.Errorf("kernel refused the dump: %w", syscall.Errno(-errno))
			}
		case unix.SOCK_DIAG_BY_FAMILY:
			d, err := parseUnixDiagMsg(body)
			if err != nil {
				return false, intr, err
			}
			fn(d)
		}
	}
	return false, intr, nil
}

func align4(n uint64) uint64 { return (n + 3) &^ 3 }

// parseUnixDiagMsg parses a struct unix_diag_msg and its attributes.
// Unknown attributes are skipped.
func parseUnixDiagMsg(b []byte) (unixDiag, error) {
	var d unixDiag
	if len(b) < sizeofUnixDiagMsg {
		return d, fmt.Errorf("%w: socket record of %d bytes", errDiagMessage, len(b))
	}
	if b[0] != unix.AF_UNIX {
		return d, fmt.Errorf("%w: socket family %d, want AF_UNIX", errDiagMessage, b[0])
	}
	ne := binary.NativeEndian
	d.Type, d.State, d.Ino = b[1], b[2], ne.Uint32(b[4:])
	attrs := b[sizeofUnixDiagMsg:]
	for len(attrs) > 0 {
		if len(attrs) < 4 {
			return d, fmt.Errorf("%w: socket %d: %d bytes left, short of an attribute", errDiagMessage, d.Ino, len(attrs))
		}
		l := int(ne.Uint16(attrs[0:]))
		typ := ne.Uint16(attrs[2:]) & nlaTypeMask
		if l < 4 || l > len(attrs) {
			return d, fmt.Errorf("%w: socket %d: attribute length %d with %d bytes left", errDiagMessage, d.Ino, l, len(attrs))
		}
		val := attrs[4:l]
		switch typ {
		case unixDiagAttrName:
			d.Name = unixDiagName(val)
		case unixDiagAttrVFS:
			if len(val) < 8 {
				return d, fmt.Errorf("%w: socket %d: short file attribute", errDiagMessage, d.Ino)
			}
			d.VFSIno, d.VFSDev = ne.Uint32(val[0:]), ne.Uint32(val[4:])
		case unixDiagAttrPeer:
			if len(val) < 4 {
				return d, fmt.Errorf("%w: socket %d: short peer attribute", errDiagMessage, d.Ino)
			}
			d.Peer = ne.Uint32(val)
		}
		attrs = attrs[min(int(align4(uint64(l))), len(attrs)):]
	}
	return d, nil
}

// unixDiagName renders a sun_path as the recorder names unix sockets: a
// path up to its first NUL, or "@" and the abstract name.
func unixDiagName(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if b[0] == 0 {
		return "@" + strings.TrimRight(string(b[1:]), "\x00")
	}
	s := string(b)
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return s
}
