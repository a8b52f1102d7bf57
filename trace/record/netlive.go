package record

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/decompose-dev/decompose/trace/ebpf"
)

// netTables is what /proc/net says is open in the recorder's network
// namespace, read once per retirement pass: a connection or socket that is
// no longer there cannot be used again, so its rows may be retired.
type netTables struct {
	tcp  map[string]bool // "src->dst" of live connections, both ways; "listen ip:port"
	udp  map[string]bool // local "ip:port" of open sockets
	unix map[uint64]bool // inodes of open unix sockets
	// socks holds the inodes of every open socket, of any family.
	socks map[uint64]bool
}

// TCP states (include/net/tcp_states.h) of connections on their way out.
const tcpTimeWait, tcpClose = 6, 7

func readNetTables() netTables {
	t := netTables{tcp: map[string]bool{}, udp: map[string]bool{}, unix: map[uint64]bool{}, socks: map[uint64]bool{}}
	for _, f := range []string{"tcp", "tcp6"} {
		b, _ := os.ReadFile(procRoot + "/net/" + f)
		parseInetTable(b, func(local, remote netip.AddrPort, st int, ino uint64) {
			t.socks[ino] = true
			switch {
			case st == tcpListen:
				t.tcp["listen "+local.String()] = true
			case st != tcpTimeWait && st != tcpClose:
				t.tcp[local.String()+"->"+remote.String()] = true
				t.tcp[remote.String()+"->"+local.String()] = true
				// connection aggregates: client address, port 0 (see classifyInet)
				t.tcp[anyPort(local).String()+"->"+remote.String()] = true
				t.tcp[anyPort(remote).String()+"->"+local.String()] = true
			}
		})
	}
	for _, f := range []string{"udp", "udp6"} {
		b, _ := os.ReadFile(procRoot + "/net/" + f)
		parseInetTable(b, func(local, _ netip.AddrPort, _ int, ino uint64) {
			t.udp[local.String()] = true
			t.socks[ino] = true
		})
	}
	b, _ := os.ReadFile(procRoot + "/net/unix")
	parseUnixTable(b, func(ino uint64) {
		t.unix[ino] = true
		t.socks[ino] = true
	})
	return t
}

// anyPort is ap with port 0: the client end of a connection aggregate.
func anyPort(ap netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(ap.Addr(), 0) }

// tcpListeners lists the TCP ports of the recorder's network namespace
// listened on now. Given to the tracer before the recording starts
// (ebpf.Config.Listeners), they let connections to them be counted per
// client address and server endpoint from the first byte (see
// ebpf.KeyGenTCPAggregate). Listeners it cannot see here (other
// namespaces) are learnt when they listen again, and until then the
// ephemeral port range tells the ends apart.
func tcpListeners() []ebpf.Listener {
	ns := uint32(selfNetNS())
	var out []ebpf.Listener
	for _, f := range []string{"tcp", "tcp6"} {
		b, _ := os.ReadFile(procRoot + "/net/" + f)
		parseInetTable(b, func(local, _ netip.AddrPort, st int, _ uint64) {
			if st == tcpListen {
				out = append(out, ebpf.Listener{NetNS: ns, Port: local.Port()})
			}
		})
	}
	return out
}

// noteListeners tells the running tracer about listeners that appeared
// between tcpListeners and the start of the programs.
func noteListeners(tr *ebpf.Tracer) {
	for _, l := range tcpListeners() {
		tr.NoteListener(l.NetNS, l.Port) // best effort: a full map only costs aggregation
	}
}

// parseInetTable calls fn for every well-formed line of /proc/net/tcp,
// tcp6, udp or udp6 and skips the others.
func parseInetTable(b []byte, fn func(local, remote netip.AddrPort, state int, ino uint64)) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || !strings.HasSuffix(f[0], ":") {
			continue // the header, or garbage
		}
		local, ok1 := parseHexAddrPort(f[1])
		remote, ok2 := parseHexAddrPort(f[2])
		st, err1 := strconv.ParseUint(f[3], 16, 8)
		ino, err2 := strconv.ParseUint(f[9], 10, 64)
		if !ok1 || !ok2 || err1 != nil || err2 != nil {
			continue
		}
		fn(local, remote, int(st), ino)
	}
}

// parseHexAddrPort parses "0100007F:1F90" (IPv4) or 32 hex digits and a
// port (IPv6): the address is printed as 32-bit words in host (little
// endian) order, the port as a number.
func parseHexAddrPort(s string) (netip.AddrPort, bool) {
	a, p, ok := strings.Cut(s, ":")
	if !ok || (len(a) != 8 && len(a) != 32) {
		return netip.AddrPort{}, false
	}
	raw, err := hex.DecodeString(a)
	if err != nil {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	for i := 0; i+4 <= len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	var addr netip.Addr
	if len(raw) == 4 {
		addr = netip.AddrFrom4([4]byte(raw))
	} else {
		addr = netip.AddrFrom16([16]byte(raw)).Unmap()
	}
	return netip.AddrPortFrom(addr, uint16(port)), true
}

// parseUnixTable calls fn with the inode of every socket in /proc/net/unix.
func parseUnixTable(b []byte, fn func(ino uint64)) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 7 || !strings.HasSuffix(f[0], ":") {
			continue
		}
		if ino, err := strconv.ParseUint(f[6], 10, 64); err == nil {
			fn(ino)
		}
	}
}

// connGone reports whether a network resource is closed according to t.
func (t netTables) connGone(kind string, listen bool, src, dst string, ino uint64) bool {
	switch kind {
	case "tcp":
		if listen {
			return !t.tcp["listen "+dst]
		}
		return src != "" && dst != "" && !t.tcp[src+"->"+dst]
	case "udp":
		return !t.udpOpen(src) && !t.udpOpen(dst)
	case "unix":
		return ino != 0 && !t.unix[ino]
	}
	return false
}

// udpOpen reports whether a local socket is bound to ap (or to the
// wildcard address on its port).
func (t netTables) udpOpen(s string) bool {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return false
	}
	return t.udp[s] || t.udp[netip.AddrPortFrom(netip.IPv4Unspecified(), ap.Port()).String()] ||
		t.udp[netip.AddrPortFrom(netip.IPv6Unspecified(), ap.Port()).String()]
}

// selfNetNS is the inode of the recorder's network namespace (0 when it
// cannot be read): /proc/net describes only that namespace.
func selfNetNS() uint64 {
	l, err := os.Readlink(procRoot + "/self/ns/net")
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(l, "net:["), "]"), 10, 64)
	return n
}
