package k8s

import (
	"errors"
	"os"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/decompose-dev/decompose/graph"
)

// appPlan is a hand-built plan: a PostgreSQL server in its own pod and an
// app that connects to it over loopback, started with a password and a URL
// the recorder redacted, and a "$(HOME)" that must stay literal.
func appPlan() *graph.Plan {
	return &graph.Plan{
		Components: []graph.Component{
			{Name: "app", Exe: "/opt/app/bin/app", UIDs: []uint32{1000},
				Command: []string{"/opt/app/bin/app", "--db-password=<redacted>", "--db", "postgres://app:<redacted>@127.0.0.1:5432/shop", "$(HOME)", "it's"},
				Members: []graph.Member{{PID: 10, Argv: []string{"/opt/app/bin/app"}, UID: 1000}}},
			{Name: "postgres", Exe: "/usr/lib/postgresql/16/bin/postgres", Command: []string{"/usr/lib/postgresql/16/bin/postgres", "-D", "/var/lib/postgresql/16/main"},
				Listens: []string{"tcp:127.0.0.1:5432"}, Stateful: true, Backing: true, DataDirs: []string{"/var/lib/postgresql/16/main"}},
		},
		Pods: []graph.Pod{
			{Name: "app", Components: []string{"app"}, Workload: "Deployment", RunAsUsers: map[string]uint32{"app": 1000},
				Secrets:    []graph.Secret{{Name: "app-secrets", Component: "app", Keys: 2}},
				ConfigMaps: []graph.ConfigMap{{Name: "app-config", Files: []string{"/etc/app/app.conf", "/etc/app/server.key", "/etc/app/missing.conf"}, Components: []string{"app"}}}},
			{Name: "postgres", Components: []string{"postgres"}, Workload: "StatefulSet", RunAsUsers: map[string]uint32{"postgres": 105},
				Services: []graph.Service{{Name: "postgres", Component: "postgres", Protocol: "TCP", Port: 5432, Listen: "127.0.0.1:5432", Clients: []string{"app"}}},
				Volumes:  []graph.Volume{{Name: "main", Kind: "PersistentVolumeClaim", Path: "/var/lib/postgresql/16/main", Components: []string{"postgres"}}}},
		},
		Couplings: []graph.Coupling{{Kind: graph.KindTCP, Resource: "127.0.0.1:5432", Components: []string{"app", "postgres"}, From: []string{"app"}, CrossesPods: true}},
		Order:     []string{"postgres", "app"},
	}
}

// fakeFS serves config files without touching the disk.
func fakeFS(name string) ([]byte, error) {
	switch name {
	case "/etc/app/app.conf":
		return []byte("db = 127.0.0.1:5432\nother = 127.0.0.1:54321\n"), nil
	case "/etc/app/server.key":
		return []byte("-----BEGIN PRIVATE KEY-----\nsecret\n"), nil
	}
	return nil, &os.PathError{Op: "open", Path: name, Err: errors.New("no such file or directory")}
}

// TestSecretsNeverLeaveAndAddressesMove: redacted argv values become
// Secret stubs referenced through the environment, config content is
// copied only when asked and never for a key file, loopback addresses of a
// Service in another pod are rewritten exactly, and "$" from the trace is
// escaped so the kubelet expands nothing.
func TestSecretsNeverLeaveAndAddressesMove(t *testing.T) {
	files := mustFiles(t, appPlan(), Options{ConfigContent: true, ReadFile: fakeFS})
	objs := validateFiles(t, files)
	for _, f := range files {
		if strings.Contains(string(f.Data), "secret\n") || strings.Contains(string(f.Data), "PRIVATE KEY") {
			t.Fatalf("%s holds the key file's content", f.Name)
		}
	}
	app := objs["app.yaml"]
	secret := app[0].(*corev1.Secret)
	if len(secret.StringData) != 2 || secret.StringData["db-password"] != PlaceholderValue || secret.StringData["url-password"] != PlaceholderValue {
		t.Errorf("secret stub: %v", secret.StringData)
	}
	ctr := app[1].(*appsv1.Deployment).Spec.Template.Spec.Containers[0]
	wantArgs := []string{"--db-password=$(DECOMPOSE_SECRET_APP_SECRETS_DB_PASSWORD)", "--db", "postgres://app:$(DECOMPOSE_SECRET_APP_SECRETS_URL_PASSWORD)@postgres:5432/shop", "$$(HOME)", "it's"}
	if strings.Join(ctr.Args, " ") != strings.Join(wantArgs, " ") {
		t.Errorf("args\n got %q\nwant %q", ctr.Args, wantArgs)
	}
	if ctr.Env[0].ValueFrom == nil || ctr.Env[0].ValueFrom.SecretKeyRef.Name != "app-secrets" {
		t.Errorf("the secret does not come from the stub: %+v", ctr.Env[0])
	}
	if sc := ctr.SecurityContext; sc == nil || *sc.RunAsUser != 1000 || !*sc.RunAsNonRoot {
		t.Errorf("security context %+v, want the observed uid 1000", sc)
	}
	cm := objs["configmaps.yaml"][0].(*corev1.ConfigMap)
	if cm.Data["app.conf"] != "db = postgres:5432\nother = 127.0.0.1:54321\n" || cm.Data["server.key"] != "" || cm.Data["missing.conf"] != "" {
		t.Errorf("config content: %q", cm.Data)
	}
	if ev := cm.Annotations[AnnotationEvidence]; !strings.Contains(ev, "never copied") || !strings.Contains(ev, "not readable here") {
		t.Errorf("the ConfigMap does not say why content is missing: %s", ev)
	}
	without := mustFiles(t, appPlan(), Options{ReadFile: fakeFS})
	if strings.Contains(string(without[0].Data), "postgres:5432") {
		t.Error("config content copied without --config-content")
	}
}

// TestWellKnownImage: a PostgreSQL server gets the official image, its
// password from a Secret stub and its data where the VM kept it.
func TestWellKnownImage(t *testing.T) {
	objs := validateFiles(t, mustFiles(t, appPlan(), Options{}))
	pg := objs["postgres.yaml"]
	var sts *appsv1.StatefulSet
	for _, o := range pg {
		if x, ok := o.(*appsv1.StatefulSet); ok {
			sts = x
		}
	}
	ctr := sts.Spec.Template.Spec.Containers[0]
	if ctr.Image != "docker.io/library/postgres:17" || len(ctr.Command) != 0 {
		t.Fatalf("postgres container: image %s command %q", ctr.Image, ctr.Command)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range ctr.Env {
		env[e.Name] = e
	}
	if env["PGDATA"].Value != "/var/lib/postgresql/16/main" || env["POSTGRES_PASSWORD"].ValueFrom == nil {
		t.Errorf("postgres env: %+v", ctr.Env)
	}
	if !strings.Contains(sts.Annotations[ImageAnnotationPrefix+"postgres"], "official PostgreSQL image") {
		t.Errorf("no note on the official image: %v", sts.Annotations)
	}
}

func TestApplyRewritesWholeAddressesOnly(t *testing.T) {
	rws := []rewrite{{from: "127.0.0.1:80", to: "web:80"}}
	for in, want := range map[string]string{
		"127.0.0.1:80":              "web:80",
		"x=127.0.0.1:80,y":          "x=web:80,y",
		"127.0.0.1:8080":            "127.0.0.1:8080",
		"10.127.0.0.1:80":           "10.127.0.0.1:80",
		"127.0.0.1:80 127.0.0.1:80": "web:80 web:80",
	} {
		if got, _ := applyRewrites(in, rws); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

func TestScheduleFromRuns(t *testing.T) {
	argv := []string{"/bin/sh", "/opt/job.sh"}
	c := &graph.Component{Command: argv}
	for i := int64(0); i < 4; i++ {
		c.Members = append(c.Members, graph.Member{Argv: argv, StartNS: i * 30e9, ExitNS: i*30e9 + 1e6})
	}
	if period, once := schedule(c); period != 30 || once {
		t.Errorf("four runs 30s apart: period %d once %v", period, once)
	}
	c.Members[3].ExitNS = 0
	if period, once := schedule(c); period != 0 || once {
		t.Errorf("a run that never exited is a daemon: period %d once %v", period, once)
	}
}
