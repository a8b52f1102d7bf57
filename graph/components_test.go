package graph

import (
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/decompose-dev/decompose/trace"
)

// components returns the plan's components by name.
func components(p *Plan) map[string]Component {
	m := map[string]Component{}
	for _, c := range p.Components {
		m[c.Name] = c
	}
	return m
}

// couple makes every named process read one shared config file, so that
// they all count as coupled.
func couple(b *tb, names ...string) {
	f := b.file("/etc/app/shared.conf")
	for _, n := range names {
		b.access(n, f, trace.Access{Opens: 1, Reads: 1})
	}
}

func TestComponentGrouping(t *testing.T) {
	b := newTB("h")
	b.proc("init", "/bin/sh", "/opt/app/start.sh")
	b.child("nginx", "init", "/usr/sbin/nginx", 0)
	b.child("w1", "nginx", "/usr/sbin/nginx", 0)
	b.child("w2", "nginx", "/usr/sbin/nginx", 0)
	b.child("cron", "init", "/usr/sbin/cron", 0, "-f")
	b.child("job", "cron", "/bin/sh", 5e6, "/etc/cron.hourly/rotate.sh")
	b.child("mv", "job", "/usr/bin/mv", 2e6, "a", "b")
	b.child("job2", "cron", "/bin/sh", 5e6, "/etc/cron.hourly/rotate.sh")
	b.child("py", "init", "/usr/bin/python3", 0, "-u", "/opt/app/sync.py")
	b.child("dec", "init", "/usr/local/bin/decompose", 0, "record", "-o", "x")
	couple(b, "w1", "mv", "job2", "py", "dec")
	p := analyze(t, b)
	got := components(p)
	want := map[string]int{"nginx": 3, "rotate.sh": 3, "sync.py": 1}
	if len(got) != len(want) {
		t.Fatalf("components = %v, want %v", names(got), want)
	}
	for n, procs := range want {
		if got[n].Processes != procs {
			t.Errorf("%s has %d processes, want %d", n, got[n].Processes, procs)
		}
	}
	if got["sync.py"].Script != "/opt/app/sync.py" || got["sync.py"].Exe != "/usr/bin/python3" {
		t.Errorf("sync.py = %+v", got["sync.py"])
	}
	sort.Strings(p.Excluded.ShareNothing)
	if p.Excluded.Recorder != 1 || len(p.Excluded.ShareNothing) != 2 {
		t.Errorf("excluded = %+v, want the recorder and {cron, start.sh}", p.Excluded)
	}
}

func TestSameBaseNameDisambiguated(t *testing.T) {
	b := newTB("h")
	b.proc("a", "/opt/a/server")
	b.proc("b", "/opt/b/server")
	couple(b, "a", "b")
	got := components(analyze(t, b))
	if _, ok := got["server"]; !ok {
		t.Fatalf("components = %v", names(got))
	}
	if _, ok := got["server-2"]; !ok {
		t.Fatalf("components = %v", names(got))
	}
}

func TestIgnore(t *testing.T) {
	b := newTB("h")
	b.proc("a", "/usr/bin/alpha")
	b.proc("b", "/usr/bin/beta")
	b.proc("c", "/usr/sbin/sshd")
	couple(b, "a", "b", "c")
	p, err := Analyze([]*trace.Trace{&b.t}, Options{Ignore: regexp.MustCompile(`^sshd$`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := components(p)["sshd"]; ok || len(p.Excluded.Ignored) != 1 {
		t.Fatalf("sshd not ignored: %v, excluded %+v", names(components(p)), p.Excluded)
	}
	if len(p.Couplings) != 1 || len(p.Couplings[0].Components) != 2 {
		t.Fatalf("couplings = %+v", p.Couplings)
	}
}

func names(m map[string]Component) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestIgnoredClientMakesServerExposed: ignoring the load generator that
// drove a front end leaves the front end reached from outside.
func TestIgnoredClientMakesServerExposed(t *testing.T) {
	b := newTB("h")
	b.proc("web", "/opt/shop/bin/web")
	b.proc("load", "/opt/shop/bin/load")
	c := b.resource("c", trace.Resource{Kind: trace.KindTCP, Src: "127.0.0.1:40000", Dst: "127.0.0.1:8080"})
	b.access("load", c, trace.Access{Connects: 1, WriteBytes: 10})
	b.access("web", c, trace.Access{Accepts: 1, ReadBytes: 10})
	p, err := Analyze([]*trace.Trace{&b.t}, Options{Ignore: regexp.MustCompile(`^load$`)})
	if err != nil {
		t.Fatal(err)
	}
	if web, ok := components(p)["web"]; !ok || !web.Exposed {
		t.Fatalf("web = %+v, want an exposed component", components(p))
	}
}

func TestIdentity(t *testing.T) {
	cases := []struct {
		exe  string
		argv []string
		name string
	}{
		{"/bin/busybox", []string{"/bin/cat", "/run/app.pid"}, "cat"},
		{"/bin/busybox", []string{"sh", "/opt/app/rotate.sh"}, "rotate.sh"},
		{"/usr/bin/bash", []string{"bash", "/dev/fd/3"}, "bash"},
		{"/usr/bin/python3", []string{"python3", "-m", "http.server"}, "http.server"},
		{"/usr/bin/java", []string{"java", "-Xmx1g", "-jar", "/opt/app/app.jar"}, "app.jar"},
		{"/bin/sh", []string{"sh", "-c", "echo hi"}, "sh"},
		{"/usr/sbin/nginx", []string{"nginx: worker process"}, "nginx"},
		{"/usr/sbin/nginx", []string{"nginx: master process nginx -c /etc/nginx/nginx.conf"}, "nginx"},
		{"/usr/bin/redis-check-rdb", []string{"redis-server", "*:6379"}, "redis-server"},
		{"/usr/bin/redis-check-rdb", []string{"/usr/bin/redis-server *:6379"}, "redis-server"},
		{"/usr/lib/postgresql/15/bin/postgres", []string{"postgres: checkpointer"}, "postgres"},
		{"/usr/bin/python3.11", []string{"python3", "/opt/app/sync.py"}, "sync.py"},
	}
	for _, c := range cases {
		_, name, _ := identity(&trace.Process{Exe: c.exe, Argv: c.argv})
		if name != c.name {
			t.Errorf("identity(%s %q) = %q, want %q", c.exe, c.argv, name, c.name)
		}
	}
}

func TestOwnConfigFiles(t *testing.T) {
	b := newTB("h")
	b.proc("db", "/opt/x/db", "-config", "/etc/x/db.conf")
	b.proc("web", "/opt/x/web", "--config=/etc/x/web.yaml")
	f := b.file("/etc/x/shared.conf")
	b.access("db", f, trace.Access{Opens: 1, Reads: 1})
	b.access("web", f, trace.Access{Opens: 1, Reads: 1})
	own := b.file("/etc/x/extra.ini")
	b.access("web", own, trace.Access{Opens: 1, Reads: 1})
	got := components(analyze(t, b))
	if strings.Join(got["db"].ConfigFiles, ",") != "/etc/x/db.conf" {
		t.Errorf("db config files = %v", got["db"].ConfigFiles)
	}
	if strings.Join(got["web"].ConfigFiles, ",") != "/etc/x/extra.ini,/etc/x/web.yaml" {
		t.Errorf("web config files = %v", got["web"].ConfigFiles)
	}
}
