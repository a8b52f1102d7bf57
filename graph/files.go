package graph

import (
	"path"
	"regexp"
	"strings"
)

// platformPrefixes are paths a base image provides. Processes that read the
// same libc or /etc/hosts are not coupled, so these never form couplings.
var platformPrefixes = []string{
	"/lib/", "/lib32/", "/lib64/", "/usr/lib/", "/usr/lib32/", "/usr/lib64/", "/usr/libexec/",
	"/usr/local/lib/", "/usr/share/", "/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/", "/usr/local/bin/",
	"/proc/", "/sys/", "/dev/pts/", "/etc/ssl/", "/etc/ca-certificates/", "/etc/alternatives/",
	"/etc/ld.so.conf.d/", "/var/lib/dpkg/", "/etc/pam.d/", "/etc/security/", "/etc/default/", "/etc/terminfo/",
	"/etc/selinux/", "/etc/profile.d/", "/var/cache/ldconfig/", "/usr/local/share/",
}

// platformFiles are single files a base image provides.
var platformFiles = map[string]bool{
	"/": true, "/etc/ld.so.cache": true, "/etc/ld.so.preload": true, "/etc/localtime": true, "/etc/timezone": true,
	"/etc/nsswitch.conf": true, "/etc/passwd": true, "/etc/group": true, "/etc/shadow": true,
	"/etc/hosts": true, "/etc/host.conf": true, "/etc/resolv.conf": true, "/etc/gai.conf": true,
	"/etc/mime.types": true, "/etc/os-release": true, "/etc/hostname": true, "/etc/services": true,
	"/etc/protocols": true, "/dev/null": true, "/dev/zero": true, "/dev/full": true, "/dev/random": true,
	"/dev/urandom": true, "/dev/tty": true, "/dev/ptmx": true, "/dev/console": true,
	"/tmp": true, "/var/tmp": true, "/dev/shm": true, "/dev": true, "/etc": true, "/usr": true,
	"/etc/locale.alias": true, "/etc/locale.conf": true, "/etc/inputrc": true, "/etc/login.defs": true,
	"/etc/environment": true, "/etc/profile": true, "/etc/bash.bashrc": true, "/etc/mtab": true,
	"/etc/machine-id": true, "/etc/networks": true, "/etc/shells": true, "/etc/ethertypes": true,
}

// IsPlatformFile reports whether p is provided by the base image (libraries,
// /etc/hosts, /proc, ...): such files couple nothing.
func IsPlatformFile(p string) bool { return isPlatformFile(p) }

// isPlatformFile reports whether p is provided by the base image.
func isPlatformFile(p string) bool {
	if platformFiles[p] {
		return true
	}
	for _, pre := range platformPrefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

// logName matches log files by name.
var logName = regexp.MustCompile(`\.(log|out|err)(\.[0-9]+)?(\.gz)?$`)

// isLog reports whether p looks like a log file: logs are not data.
func isLog(p string) bool {
	return logName.MatchString(p) || strings.Contains(p, "/log/") || strings.Contains(p, "/logs/")
}

// ephemeralSegments name directories of runtime state, scratch and spools;
// dataSegments name directories of persistent data.
var (
	ephemeralSegments = map[string]bool{"tmp": true, "run": true, "spool": true, "cache": true, "lock": true, "shm": true, "dev": true, "proc": true}
	dataSegments      = map[string]bool{"lib": true, "data": true, "db": true, "srv": true, "home": true, "opt": true, "mnt": true}
)

// isEphemeral reports whether a written file at p is runtime state rather
// than persistent data. The nearest telling directory name decides, so that
// an application installed under a prefix (/tmp/t1/var/lib/app/db/x) is
// judged like one installed at / (/var/lib/app/db/x: data).
func isEphemeral(p string) bool {
	// The segments of the directory, last first, without splitting it
	// into a new slice: the engine asks this of every written file.
	d := path.Dir(p)
	for {
		i := strings.LastIndexByte(d, '/')
		switch seg := d[i+1:]; {
		case ephemeralSegments[seg]:
			return true
		case dataSegments[seg]:
			return false
		}
		if i < 0 {
			return false
		}
		d = d[:i]
	}
}

// parentDir returns the directory holding p.
func parentDir(p string) string { return path.Dir(p) }

// configName matches configuration files by name.
var configName = regexp.MustCompile(`\.(conf|cfg|cnf|ini|ya?ml|json|toml|properties|xml|env|rc)$|(^|/)(etc|conf|config)/`)

// isConfigFile reports whether p looks like a configuration file.
func isConfigFile(p string) bool {
	return configName.MatchString(p) && !isLog(p)
}
