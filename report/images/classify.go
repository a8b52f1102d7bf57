package images

import (
	"bytes"
	"debug/elf"
	"path"
	"regexp"
	"strings"

	"github.com/decompose-dev/decompose/report/k8s"
	"github.com/decompose-dev/decompose/trace"
)

// Class says what a file is to a component, and so where it goes.
type Class string

// The classes. Only executable, library, script, system and content files
// are baked into an image; the others come from the platform (ConfigMaps,
// volumes, the container runtime) or, for secrets, from a person.
const (
	Executable Class = "executable" // a program a process of the component ran
	Library    Class = "library"    // a shared object or the dynamic loader
	Script     Class = "script"     // a script file and its interpreter's input
	System     Class = "system"     // a read-only operating-system file (zoneinfo, nsswitch.conf, passwd)
	Content    Class = "content"    // a read-only application file that is not configuration
	Config     Class = "config"     // read-only configuration: a ConfigMap
	Data       Class = "data"       // persistent data: a volume
	Scratch    Class = "scratch"    // runtime state, spools, temporary files, sockets, FIFOs: an emptyDir
	Log        Class = "log"        // a log: an emptyDir, or a volume to keep it
	Device     Class = "device"     // a device file: the container runtime provides /dev
	Runtime    Class = "runtime"    // provided by the container runtime (/proc, /sys, /etc/hosts, resolv.conf)
	Secret     Class = "secret"     // looks secret: never baked, listed for a person
)

// Baked reports whether files of class c go into the image.
func (c Class) Baked() bool {
	switch c {
	case Executable, Library, Script, System, Content:
		return true
	}
	return false
}

// observed is what the recording saw one component do with one path.
type observed struct {
	Path string
	Kind trace.ResourceKind
	// Wrote: the component changed it (or, for a directory, its entries);
	// OthersWrote: another process of the traces did; Churn: entries of
	// its directory were created, renamed or removed (a spool's files).
	Wrote, OthersWrote, Churn bool
	Opens, Reads              int64
	// Who names the processes, e.g. "shop-web (pid 123)".
	Who []string
}

// facts are what the plan says about the component.
type facts struct {
	dataDirs []string
	// config lists the config files the plan gives it: its own and those of
	// its pod's ConfigMaps.
	config map[string]bool
}

// runtimeFiles are provided by the container runtime, never by an image.
var runtimeFiles = map[string]bool{"/etc/hosts": true, "/etc/resolv.conf": true, "/etc/hostname": true, "/etc/mtab": true}

// systemFiles are single read-only OS files an image takes from the host.
// /etc/passwd and /etc/group are copied whole: a program may look up any
// user (nginx's master looks up its workers' user), and they hold no
// secret (/etc/shadow does, and is classified secret).
var systemFiles = map[string]bool{"/etc/ld.so.cache": true, "/etc/ld.so.preload": true, "/etc/localtime": true,
	"/etc/timezone": true, "/etc/nsswitch.conf": true, "/etc/passwd": true, "/etc/group": true, "/etc/host.conf": true,
	"/etc/gai.conf": true, "/etc/mime.types": true, "/etc/os-release": true, "/etc/services": true, "/etc/protocols": true,
	"/etc/debian_version": true, "/etc/environment": true, "/etc/login.defs": true}

// systemPrefixes hold operating-system files (packages install them).
var systemPrefixes = []string{"/usr/", "/lib/", "/lib32/", "/lib64/", "/libx32/", "/bin/", "/sbin/", "/etc/ssl/",
	"/etc/ca-certificates/", "/etc/alternatives/", "/etc/ld.so.conf.d/", "/etc/terminfo/", "/var/lib/dpkg/"}

func isSystem(p string) bool {
	if systemFiles[p] {
		return true
	}
	for _, pre := range systemPrefixes {
		if strings.HasPrefix(p, pre) && !strings.HasPrefix(p, "/usr/local/etc/") {
			return true
		}
	}
	return false
}

// identityFiles are exempt from the secret-looking name test ("passwd").
var identityFiles = map[string]bool{"/etc/passwd": true, "/etc/group": true}

var (
	logName    = regexp.MustCompile(`\.(log|out|err)(\.[0-9]+)?(\.gz)?$`)
	configName = regexp.MustCompile(`\.(conf|cfg|cnf|ini|ya?ml|json|toml|properties|xml|env|rc)$|(^|/)(etc|conf|config)/`)
	libName    = regexp.MustCompile(`\.so(\.[0-9]+)*$`)
	stateName  = regexp.MustCompile(`\.(pid|sock|socket|lock|lck)$`)
)

func isLog(p string) bool {
	return logName.MatchString(p) || strings.Contains(p, "/log/") || strings.Contains(p, "/logs/")
}

// Directory names that tell runtime state from persistent data. The
// nearest one to the file decides, so an application installed under a
// prefix (/tmp/x/var/lib/app/db) is judged like one installed at /.
var (
	ephemeralSegments = map[string]bool{"tmp": true, "run": true, "spool": true, "cache": true, "lock": true, "shm": true}
	dataSegments      = map[string]bool{"lib": true, "data": true, "db": true, "srv": true, "home": true, "opt": true, "mnt": true}
)

func isEphemeral(p string) bool {
	segs := strings.Split(path.Dir(p), "/")
	for i := len(segs) - 1; i >= 0; i-- {
		switch {
		case ephemeralSegments[segs[i]]:
			return true
		case dataSegments[segs[i]]:
			return false
		}
	}
	return false
}

func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// classify decides the class of one observed path, with the reason. It
// reads the file on the host (when there) to tell libraries, programs,
// scripts and private keys by their content.
func classify(o observed, f facts, h hostFS) (Class, string) {
	p := o.Path
	switch {
	case o.Kind == trace.KindFIFO:
		return Scratch, "a FIFO: made at start in a shared emptyDir"
	case o.Kind == trace.KindUnix:
		return Scratch, "a unix socket: its server makes it at start"
	case under(p, "/proc") || under(p, "/sys") || runtimeFiles[p]:
		return Runtime, "the container runtime provides it"
	case under(p, "/dev/shm"):
		return Scratch, "shared memory: an emptyDir with medium Memory"
	case under(p, "/dev"):
		return Device, "a device: the container runtime provides /dev (add a device mount when it is not a standard one)"
	case !identityFiles[p] && k8s.LooksSecret(p, nil):
		return Secret, "its name looks secret: never baked in; make it a Secret by hand"
	}
	for _, d := range f.dataDirs {
		if under(p, d) {
			return Data, "in the data directory " + d + ": a volume, never baked in"
		}
	}
	if o.Wrote || o.OthersWrote || o.Churn {
		return classifyWritten(o)
	}
	return classifyRead(o, f, h)
}

// classifyWritten places a file or directory some process changed.
func classifyWritten(o observed) (Class, string) {
	who := "written during the recording"
	switch {
	case o.Wrote:
	case o.OthersWrote:
		who = "written by another component during the recording"
	default:
		who = "in a directory whose entries came and went during the recording"
	}
	p := o.Path
	if o.Kind == trace.KindDir {
		p += "/." // judge a directory by its own name too
	}
	switch {
	case isLog(p):
		return Log, who + ", a log: an emptyDir (or a volume to keep it)"
	case isEphemeral(p) || stateName.MatchString(o.Path):
		return Scratch, who + ", runtime state: an emptyDir"
	}
	return Data, who + " and kept: a volume, never baked in"
}

// classifyRead places a path only read.
func classifyRead(o observed, f facts, h hostFS) (Class, string) {
	p := o.Path
	if isLog(p) {
		return Log, "a log: an emptyDir (or a volume to keep it)"
	}
	if isSystem(p) {
		if e, _ := h.readELF(p); e != nil || libName.MatchString(p) {
			return Library, "loaded from a library directory"
		}
		return System, "a read-only operating-system file"
	}
	if libName.MatchString(p) {
		return Library, "a shared object the program loaded"
	}
	if f.config[p] || configName.MatchString(p) {
		if head, err := h.head(p, 1<<20); err == nil && k8s.LooksSecret(p, head) {
			return Secret, "holds a private key: never baked in; make it a Secret by hand"
		}
		if f.config[p] {
			return Config, "configuration the plan names: a ConfigMap, not baked in"
		}
		return Config, "read-only configuration: a ConfigMap, not baked in"
	}
	if isEphemeral(p) || stateName.MatchString(p) {
		return Scratch, "runtime state (written before the recording began): an emptyDir"
	}
	if o.Kind == trace.KindDir {
		return Content, "a directory the program lists: created empty"
	}
	head, _ := h.head(p, 64<<10)
	switch {
	case k8s.LooksSecret(p, head):
		return Secret, "holds a private key: never baked in; make it a Secret by hand"
	case bytes.HasPrefix(head, []byte("#!")):
		return Script, "a script the program reads"
	case bytes.HasPrefix(head, []byte(elf.ELFMAG)):
		return Library, "an ELF object the program loaded"
	}
	return Content, "a read-only application file that is not configuration"
}
