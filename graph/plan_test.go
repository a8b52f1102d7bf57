package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/decompose-dev/decompose/trace"
)

// webApp is a small application: an exposed front end talking to an app
// server over a unix socket, the app using postgres over loopback TCP, and a
// stats collector sharing memory with the front end.
func webApp() *tb {
	b := newTB("vm1")
	b.proc("nginx", "/usr/sbin/nginx")
	b.proc("app", "/opt/shop/bin/app")
	b.proc("pg", "/usr/lib/postgresql/15/bin/postgres", "-D", "/var/lib/postgresql/15/main")
	b.proc("stats", "/opt/shop/bin/stats")
	l := b.resource("l80", trace.Resource{Kind: trace.KindTCP, Dst: "0.0.0.0:80", Listen: true})
	b.access("nginx", l, trace.Access{Listens: 1})
	ext := b.resource("ext", trace.Resource{Kind: trace.KindTCP, Src: "203.0.113.9:50000", Dst: "10.0.0.1:80"})
	b.access("nginx", ext, trace.Access{Accepts: 1, ReadBytes: 500, WriteBytes: 5000})
	u := b.resource("u", trace.Resource{Kind: trace.KindUnix, Path: "/run/shop/app.sock"})
	b.access("nginx", u, trace.Access{Connects: 1, WriteBytes: 500})
	b.access("app", u, trace.Access{Accepts: 1, ReadBytes: 500})
	c := b.resource("c", trace.Resource{Kind: trace.KindTCP, Src: "127.0.0.1:41000", Dst: "127.0.0.1:5432"})
	b.access("app", c, trace.Access{Connects: 1, WriteBytes: 100, ReadBytes: 9000})
	b.access("pg", c, trace.Access{Accepts: 1, ReadBytes: 100, WriteBytes: 9000})
	data := b.file("/var/lib/postgresql/15/main/base/1/1259")
	b.access("pg", data, trace.Access{OpensWrite: 1, Writes: 10, WriteBytes: 81920})
	shm := b.file("/dev/shm/shop-stats")
	b.access("stats", shm, trace.Access{OpensWrite: 1, SharedMaps: 1, Writes: 1})
	b.access("nginx", shm, trace.Access{Opens: 1, SharedMaps: 1})
	return b
}

func podWith(p *Plan, comp string) Pod {
	for _, pod := range p.Pods {
		for _, c := range pod.Components {
			if c == comp {
				return pod
			}
		}
	}
	return Pod{}
}

func TestPlanDerivation(t *testing.T) {
	p := analyze(t, webApp())
	if len(p.Pods) != 2 {
		t.Fatalf("pods = %+v, want web and postgres", p.Pods)
	}
	db := podWith(p, "postgres")
	if db.Workload != "StatefulSet" || len(db.Volumes) != 1 || db.Volumes[0].Kind != "PersistentVolumeClaim" {
		t.Fatalf("postgres pod = %+v", db)
	}
	if len(db.Services) != 1 || db.Services[0].Port != 5432 || db.Services[0].Exposed || db.Services[0].Clients[0] != "app" {
		t.Fatalf("postgres services = %+v", db.Services)
	}
	web := podWith(p, "nginx")
	if web.Name != "nginx" || len(web.Components) != 3 || web.Workload != "Deployment" {
		t.Fatalf("web pod = %+v", web)
	}
	if len(web.Services) != 1 || !web.Services[0].Exposed || web.Services[0].Port != 80 {
		t.Fatalf("web services = %+v", web.Services)
	}
	var shmVolume bool
	for _, v := range web.Volumes {
		shmVolume = shmVolume || (v.Path == "/dev/shm" && v.Medium == "Memory")
	}
	if !shmVolume {
		t.Fatalf("web volumes = %+v, want a Memory emptyDir at /dev/shm", web.Volumes)
	}
	if strings.Join(p.Order, ",") != "postgres,nginx" {
		t.Fatalf("order = %v, want the database first", p.Order)
	}
	if p.Quality.CouplingsCut != 1 || p.Quality.HiddenCrossing != 0 {
		t.Fatalf("quality = %+v", p.Quality)
	}
	for _, c := range p.Couplings {
		if c.Kind == KindTCP && (!c.CrossesPods || c.Remedy == "" || c.Distance != SeparatePods) {
			t.Fatalf("tcp to postgres = %+v", c)
		}
	}
}

// TestTwoHostsJoin records the same connection from both ends on two hosts:
// the client's host sees only the client, the server's host only the server.
func TestTwoHostsJoin(t *testing.T) {
	web := newTB("web1")
	web.proc("app", "/opt/shop/bin/app")
	c := web.resource("c", trace.Resource{Kind: trace.KindTCP, Src: "10.0.0.1:41000", Dst: "10.0.0.2:5432"})
	web.access("app", c, trace.Access{Connects: 1, WriteBytes: 100, ReadBytes: 9000})
	db := newTB("db1")
	db.proc("pg", "/usr/lib/postgresql/15/bin/postgres")
	c2 := db.resource("c", trace.Resource{Kind: trace.KindTCP, Src: "10.0.0.1:41000", Dst: "10.0.0.2:5432"})
	db.access("pg", c2, trace.Access{Accepts: 1, ReadBytes: 100, WriteBytes: 9000})
	p := analyze(t, web, db)
	got := only(t, p)
	if got.Kind != KindTCP || strings.Join(got.Components, ",") != "app,postgres" || got.Bytes != 9100 {
		t.Fatalf("joined coupling = %+v", got)
	}
	if strings.Join(got.Evidence.Hosts, ",") != "db1,web1" || got.Distance != SeparatePods || !got.CrossesPods {
		t.Fatalf("joined coupling evidence = %+v", got)
	}
	if strings.Join(p.Hosts, ",") != "web1,db1" {
		t.Fatalf("hosts = %v", p.Hosts)
	}
	if components(p)["postgres"].Exposed {
		t.Fatal("postgres marked exposed although its client was traced on the other host")
	}
}

func TestMoveRefusesSplittingSameContainer(t *testing.T) {
	p := analyze(t, webApp())
	err := p.Move("stats", "")
	if !errors.Is(err, ErrSameContainer) || !strings.Contains(err.Error(), "/dev/shm/shop-stats") {
		t.Fatalf("Move(stats) = %v, want a same-container refusal naming the segment", err)
	}
	if len(p.Pods) != 2 {
		t.Fatal("a refused move changed the plan")
	}
}

func TestMoveMergeSplitDiff(t *testing.T) {
	p := analyze(t, webApp())
	orig := p.Clone()
	if err := p.Move("app", ""); err != nil {
		t.Fatal(err)
	}
	if len(p.Pods) != 3 || podWith(p, "app").Name != "app" {
		t.Fatalf("pods after move = %+v", p.Pods)
	}
	var unixCrosses bool
	for _, c := range p.Couplings {
		unixCrosses = unixCrosses || (c.Kind == KindUnix && c.CrossesPods && c.Remedy != "")
	}
	if !unixCrosses || p.Quality.HiddenCrossing != 1 || len(p.Warnings) == 0 {
		t.Fatalf("after moving app the unix socket should cross pods with a remedy and a warning: %+v", p.Warnings)
	}
	if d := Diff(orig, p); len(d) != 1 || d[0] != "app: nginx -> app" {
		t.Fatalf("diff = %v", d)
	}
	if err := p.Merge("nginx", "app"); err != nil {
		t.Fatal(err)
	}
	if len(Diff(orig, p)) != 0 {
		t.Fatalf("merge back should restore the original: %v", Diff(orig, p))
	}
	name, err := p.Split([]string{"app"})
	if err != nil || name != "app" {
		t.Fatalf("split = %q, %v", name, err)
	}
}

func TestReadPlan(t *testing.T) {
	p := analyze(t, webApp())
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(p); err != nil {
		t.Fatal(err)
	}
	back, err := ReadPlan(bytes.NewReader(buf.Bytes()), "plan.json")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(p)
	b, _ := json.Marshal(back)
	if !bytes.Equal(a, b) {
		t.Fatal("a saved plan does not read back identically")
	}
	bad := strings.Replace(buf.String(), `"components":["app","nginx","stats"]`, `"components":["app","nginx","stats","ghost"]`, 1)
	for _, c := range []struct{ in, want string }{
		{"{", "not a plan in JSON"},
		{"{}", "no components"},
		{bad, `unknown component "ghost"`},
	} {
		if _, err := ReadPlan(strings.NewReader(c.in), "x.json"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadPlan(%.30q) = %v, want %q", c.in, err, c.want)
		}
	}
}

// TestResolutionKnob: services free to live apart (cross-host TCP between
// plain programs) are grouped by Louvain at a low resolution and kept
// apart at a high one.
func TestResolutionKnob(t *testing.T) {
	b := newTB("h")
	for _, n := range []string{"a", "b", "c", "d"} {
		b.proc(n, "/opt/x/"+n)
	}
	link := func(from, to, src, dst string, bytes int64) {
		r := b.resource(src, trace.Resource{Kind: trace.KindTCP, Src: src, Dst: dst})
		b.access(from, r, trace.Access{Connects: 1, WriteBytes: bytes})
		b.access(to, r, trace.Access{Accepts: 1, ReadBytes: bytes})
	}
	link("a", "b", "10.0.0.1:1", "10.0.0.2:80", 1e6)
	link("c", "d", "10.0.0.3:1", "10.0.0.4:80", 1e6)
	link("b", "c", "10.0.0.2:2", "10.0.0.3:80", 10)
	pods := func(res float64) int {
		p, err := Analyze([]*trace.Trace{&b.t}, Options{Resolution: res})
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Pods)
	}
	if n := pods(0.5); n != 2 {
		t.Errorf("resolution 0.5: %d pods, want 2 (a+b, c+d)", n)
	}
	if n := pods(0); n != 4 {
		t.Errorf("default resolution: %d pods, want 4 (network-only neighbours apart)", n)
	}
	if n := pods(50); n != 4 {
		t.Errorf("resolution 50: %d pods, want 4", n)
	}
}
