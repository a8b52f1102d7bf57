package record

import (
	"bytes"
	"io"
	"os"
	"sort"
	"strconv"
	"syscall"

	"github.com/decompose-dev/decompose/trace"
)

// passwdPath is the user database the recorder names uids from; a variable
// so that tests can point elsewhere. It is read directly (no NSS, no cgo):
// users known only to LDAP or another NSS source stay numbers.
var passwdPath = "/etc/passwd"

// maxPasswdBytes bounds how much of the user database is read.
const maxPasswdBytes = 16 << 20

// maxUsers bounds the uids remembered; a host has a few dozen.
const maxUsers = 65536

// parsePasswd returns the uid -> name map of a passwd(5) file. Lines that
// are not well formed (fewer than three fields, an empty or NIS "+"/"-"
// name, a uid that is not a number) are skipped; for a uid listed twice the
// first line wins, as getpwuid(3) does.
func parsePasswd(b []byte) map[uint32]string {
	names := map[uint32]string{}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		// name:password:uid:gid:gecos:home:shell
		f := bytes.SplitN(line, []byte(":"), 4)
		if len(f) < 3 {
			continue
		}
		name := string(f[0])
		if name == "" || name[0] == '+' || name[0] == '-' || !printable(name) {
			continue
		}
		uid, err := strconv.ParseUint(string(f[2]), 10, 32)
		if err != nil {
			continue
		}
		if _, dup := names[uint32(uid)]; !dup && len(names) < maxUsers {
			names[uint32(uid)] = name
		}
	}
	return names
}

// printable reports whether a user name holds no control characters or
// spaces: such a line is damaged, and the name would reach reports.
func printable(s string) bool {
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}

// userNames names every uid the recording saw. The user database is read
// again whenever it changes, so a user created during the recording is
// named too. Rows are written as soon as a uid is seen (so a recorder that
// is killed leaves them in the trace) and rewritten when a name changes.
type userNames struct {
	path    string
	names   map[uint32]string
	stamp   [3]int64 // size, mtime, inode of the file last read
	seen    map[uint32]bool
	written map[uint32]string
	// fresh: a uid was seen since the last write.
	fresh bool
}

func newUserNames(path string) *userNames {
	return &userNames{path: path, seen: map[uint32]bool{}, written: map[uint32]string{}}
}

// note records that a process ran as uid.
func (u *userNames) note(uid uint32) {
	if u.seen[uid] || len(u.seen) >= maxUsers {
		return
	}
	u.seen[uid] = true
	u.fresh = true
}

// reload reads the user database when it changed since the last read, and
// reports whether it did. A missing or unreadable file names nobody.
func (u *userNames) reload() bool {
	var st syscall.Stat_t
	var stamp [3]int64
	if syscall.Stat(u.path, &st) == nil {
		stamp = [3]int64{st.Size, st.Mtim.Nano(), int64(st.Ino)}
	}
	if u.names != nil && stamp == u.stamp {
		return false
	}
	u.stamp = stamp
	u.names = map[uint32]string{}
	if f, err := os.Open(u.path); err == nil {
		b, _ := io.ReadAll(io.LimitReader(f, maxPasswdBytes))
		f.Close()
		u.names = parsePasswd(b)
	}
	return true
}

// flush writes the names of uids seen since the last flush, and of every
// uid whose name changed when the user database did.
func (u *userNames) flush(w *trace.Writer) {
	if !u.reload() && !u.fresh {
		return
	}
	u.fresh = false
	uids := make([]uint32, 0, len(u.seen))
	for uid := range u.seen {
		uids = append(uids, uid)
	}
	sort.Slice(uids, func(i, j int) bool { return uids[i] < uids[j] })
	for _, uid := range uids {
		name, ok := u.names[uid]
		if !ok {
			continue // the engine says "uid N"; a name once written stays
		}
		if old, done := u.written[uid]; done && old == name {
			continue
		}
		w.PutUser(trace.User{UID: uid, Name: name})
		u.written[uid] = name
	}
}
