package static

import "strings"

// Site kinds: the graph's coupling kinds where one applies, plus exec and
// env.
const (
	kindFile   = "file"
	kindDir    = "dir"
	kindFIFO   = "fifo"
	kindShm    = "shm"
	kindNet    = "net" // before the network is known: becomes tcp, udp or unix
	kindExec   = "exec"
	kindSignal = "signal"
	kindEnv    = "env"
)

// How a sink's resource argument is read.
const (
	argString   = ""           // a string: path, address, program, key
	argVariadic = "variadic"   // the elements of the trailing ...slice (signals)
	argAddr     = "addr"       // a *net.TCPAddr, *UDPAddr, *UnixAddr or net.Addr
	argFD       = "fd"         // a file descriptor: the path of the file it came from
	argURL      = "url"        // a URL: its host:port
	argServer   = "serverAddr" // the Addr field of the *http.Server receiver
	argKill     = "kill"       // no argument: the call sends SIGKILL
	argTemp     = "temp"       // MkdirTemp/CreateTemp(dir, pattern): what they create
)

// sink describes a call that touches a shared resource.
type sink struct {
	kind string
	op   string
	// res lists the source-level indexes (receiver excluded) of the
	// resource arguments.
	res []int
	how string
	// network is the index of the network argument (-1: none); fixed is
	// the network implied by the function itself.
	network int
	fixed   string
	// flags is the index of an open(2)-style flags argument (-1: none).
	flags int
	// mapFlags is the index of mmap's flags argument (-1: none).
	mapFlags int
}

func fileSink(kind, op string, res ...int) sink {
	return sink{kind: kind, op: op, res: res, network: -1, flags: -1, mapFlags: -1}
}

func tempSink(kind, op string) sink {
	s := fileSink(kind, op, 0, 1)
	s.how = argTemp
	return s
}

func netSink(op string, network, addr int, how, fixed string) sink {
	return sink{kind: kindNet, op: op, res: []int{addr}, how: how, network: network, fixed: fixed, flags: -1, mapFlags: -1}
}

func otherSink(kind, op, how string, res ...int) sink {
	return sink{kind: kind, op: op, res: res, how: how, network: -1, flags: -1, mapFlags: -1}
}

// sinks maps a callee's full name (types.Func.FullName) to what it does.
var sinks = func() map[string]sink {
	m := map[string]sink{
		"os.Open":               fileSink(kindFile, "read", 0),
		"os.Create":             fileSink(kindFile, "create", 0),
		"os.ReadFile":           fileSink(kindFile, "read", 0),
		"os.WriteFile":          fileSink(kindFile, "create", 0),
		"os.Truncate":           fileSink(kindFile, "write", 0),
		"os.Remove":             fileSink(kindFile, "remove", 0),
		"os.RemoveAll":          fileSink(kindFile, "remove", 0),
		"os.Rename":             fileSink(kindFile, "rename", 0, 1),
		"os.Link":               fileSink(kindFile, "link", 0, 1),
		"os.Symlink":            fileSink(kindFile, "link", 0, 1),
		"os.Mkdir":              fileSink(kindDir, "mkdir", 0),
		"os.MkdirAll":           fileSink(kindDir, "mkdir", 0),
		"os.MkdirTemp":          tempSink(kindDir, "mkdir"),
		"os.CreateTemp":         tempSink(kindFile, "create"),
		"os.ReadDir":            fileSink(kindDir, "list", 0),
		"os.DirFS":              fileSink(kindDir, "list", 0),
		"io/ioutil.ReadFile":    fileSink(kindFile, "read", 0),
		"io/ioutil.WriteFile":   fileSink(kindFile, "create", 0),
		"io/ioutil.ReadDir":     fileSink(kindDir, "list", 0),
		"io/ioutil.TempFile":    tempSink(kindFile, "create"),
		"io/ioutil.TempDir":     tempSink(kindDir, "mkdir"),
		"path/filepath.Walk":    fileSink(kindDir, "list", 0),
		"path/filepath.WalkDir": fileSink(kindDir, "list", 0),

		"os/exec.Command":        otherSink(kindExec, "exec", argString, 0),
		"os/exec.CommandContext": otherSink(kindExec, "exec", argString, 1),
		"os.StartProcess":        otherSink(kindExec, "exec", argString, 0),
		"syscall.Exec":           otherSink(kindExec, "exec", argString, 0),
		"syscall.ForkExec":       otherSink(kindExec, "exec", argString, 0),
		"syscall.StartProcess":   otherSink(kindExec, "exec", argString, 0),

		"os/signal.Notify":                     otherSink(kindSignal, "notify", argVariadic, 1),
		"os/signal.NotifyContext":              otherSink(kindSignal, "notify", argVariadic, 1),
		"syscall.Kill":                         otherSink(kindSignal, "kill", argString, 1),
		"(*os.Process).Signal":                 otherSink(kindSignal, "kill", argString, 0),
		"(*os.Process).Kill":                   otherSink(kindSignal, "kill", argKill),
		"os.Getenv":                            otherSink(kindEnv, "getenv", argString, 0),
		"os.LookupEnv":                         otherSink(kindEnv, "getenv", argString, 0),
		"(*net/http.Server).ListenAndServe":    netSink("listen", -1, -1, argServer, "tcp"),
		"(*net/http.Server).ListenAndServeTLS": netSink("listen", -1, -1, argServer, "tcp"),
	}
	for _, pkg := range []string{"syscall", "golang.org/x/sys/unix"} {
		open := fileSink(kindFile, "open", 0)
		open.flags = 1
		m[pkg+".Open"] = open
		m[pkg+".Mkfifo"] = fileSink(kindFIFO, "mkfifo", 0)
		m[pkg+".Unlink"] = fileSink(kindFile, "remove", 0)
		m[pkg+".Rename"] = fileSink(kindFile, "rename", 0, 1)
		mmap := otherSink(kindShm, "mmap", argFD, 0)
		mmap.mapFlags = 4
		m[pkg+".Mmap"] = mmap
		m[pkg+".Kill"] = otherSink(kindSignal, "kill", argString, 1)
	}
	openFile := fileSink(kindFile, "open", 0)
	openFile.flags = 1
	m["os.OpenFile"] = openFile
	for name, s := range map[string]sink{
		"net.Listen":                         netSink("listen", 0, 1, argString, ""),
		"net.ListenPacket":                   netSink("listen", 0, 1, argString, ""),
		"net.Dial":                           netSink("dial", 0, 1, argString, ""),
		"net.DialTimeout":                    netSink("dial", 0, 1, argString, ""),
		"(*net.Dialer).Dial":                 netSink("dial", 0, 1, argString, ""),
		"(*net.Dialer).DialContext":          netSink("dial", 1, 2, argString, ""),
		"(*net.ListenConfig).Listen":         netSink("listen", 1, 2, argString, ""),
		"(*net.ListenConfig).ListenPacket":   netSink("listen", 1, 2, argString, ""),
		"net.ListenTCP":                      netSink("listen", 0, 1, argAddr, "tcp"),
		"net.ListenUDP":                      netSink("listen", 0, 1, argAddr, "udp"),
		"net.ListenMulticastUDP":             netSink("listen", 0, 2, argAddr, "udp"),
		"net.ListenUnix":                     netSink("listen", 0, 1, argAddr, "unix"),
		"net.ListenUnixgram":                 netSink("listen", 0, 1, argAddr, "unix"),
		"net.DialTCP":                        netSink("dial", 0, 2, argAddr, "tcp"),
		"net.DialUDP":                        netSink("dial", 0, 2, argAddr, "udp"),
		"net.DialUnix":                       netSink("dial", 0, 2, argAddr, "unix"),
		"(net.PacketConn).WriteTo":           netSink("send", -1, 1, argAddr, "udp"),
		"(*net.UDPConn).WriteTo":             netSink("send", -1, 1, argAddr, "udp"),
		"(*net.UDPConn).WriteToUDP":          netSink("send", -1, 1, argAddr, "udp"),
		"(*net.UDPConn).WriteToUDPAddrPort":  netSink("send", -1, 1, argString, "udp"),
		"net/http.ListenAndServe":            netSink("listen", -1, 0, argString, "tcp"),
		"net/http.ListenAndServeTLS":         netSink("listen", -1, 0, argString, "tcp"),
		"net/http.Get":                       netSink("dial", -1, 0, argURL, "tcp"),
		"net/http.Head":                      netSink("dial", -1, 0, argURL, "tcp"),
		"net/http.Post":                      netSink("dial", -1, 0, argURL, "tcp"),
		"net/http.PostForm":                  netSink("dial", -1, 0, argURL, "tcp"),
		"(*net/http.Client).Get":             netSink("dial", -1, 0, argURL, "tcp"),
		"(*net/http.Client).Head":            netSink("dial", -1, 0, argURL, "tcp"),
		"(*net/http.Client).Post":            netSink("dial", -1, 0, argURL, "tcp"),
		"(*net/http.Client).PostForm":        netSink("dial", -1, 0, argURL, "tcp"),
		"net/http.NewRequest":                netSink("dial", -1, 1, argURL, "tcp"),
		"net/http.NewRequestWithContext":     netSink("dial", -1, 2, argURL, "tcp"),
		"net/rpc.Dial":                       netSink("dial", 0, 1, argString, ""),
		"net/rpc.DialHTTP":                   netSink("dial", 0, 1, argString, ""),
		"google.golang.org/grpc.Dial":        netSink("dial", -1, 0, argString, "tcp"),
		"google.golang.org/grpc.DialContext": netSink("dial", -1, 1, argString, "tcp"),
		"google.golang.org/grpc.NewClient":   netSink("dial", -1, 0, argString, "tcp"),
	} {
		m[name] = s
	}
	return m
}()

// Open flags (Linux values, the same in syscall and x/sys/unix).
const (
	oAccMode  = 0x3
	oWronly   = 0x1
	oRdwr     = 0x2
	oCreat    = 0x40
	oTrunc    = 0x200
	oAppend   = 0x400
	mapShared = 0x1
)

// openOp names what an open with flags does to the file.
func openOp(flags int64) string {
	switch {
	case flags&oAppend != 0:
		return "append"
	case flags&(oCreat|oTrunc) != 0:
		return "create"
	case flags&oAccMode == oRdwr:
		return "readwrite"
	case flags&oAccMode == oWronly:
		return "write"
	}
	return "read"
}

// writes reports whether op changes the resource (or the directory holding it).
func writes(op string) bool {
	switch op {
	case "write", "create", "append", "readwrite", "remove", "rename", "link", "mkfifo", "open":
		return true
	}
	return false
}

// Flag constructors, by full name: the index of the flag-name argument,
// of the default value and, for the ...Var forms, of the destination.
type flagFunc struct{ name, def, dest int }

var flagFuncs = func() map[string]flagFunc {
	m := map[string]flagFunc{}
	kinds := []string{"String", "Int", "Int64", "Int32", "Uint", "Uint64", "Uint32", "Uint16"}
	for _, t := range kinds {
		for _, recv := range []string{"flag.", "(*flag.FlagSet).", "github.com/spf13/pflag.", "(*github.com/spf13/pflag.FlagSet)."} {
			m[recv+t] = flagFunc{name: 0, def: 1, dest: -1}
			m[recv+t+"Var"] = flagFunc{name: 1, def: 2, dest: 0}
			if strings.Contains(recv, "pflag") {
				m[recv+t+"P"] = flagFunc{name: 0, def: 2, dest: -1}
				m[recv+t+"VarP"] = flagFunc{name: 1, def: 3, dest: 0}
			}
		}
	}
	return m
}()
