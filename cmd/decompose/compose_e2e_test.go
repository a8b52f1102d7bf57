package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/decompose-dev/decompose/fixtures/legacyshop"
	"github.com/decompose-dev/decompose/report/compose"
)

// TestComposeRunsUnderPodmanCompose is the sibling of
// TestManifestsRunUnderPodman for the compose drafts: the same install,
// trace and images, but the application is started by Debian's
// podman-compose (1.0.3) from the file `decompose manifests -f compose`
// writes for it, and shop-load drives orders through the front end.
// Passing means every pod served: the front end answered, orders crossed
// into shop-db's volume over the project network by service name, and
// inside the pods the unix socket, FIFO, spool, shared log, pipe, shared
// memory (/status reads it) and log rotation worked through shared volumes.
// What 1.0.3 cannot give a pod is lost, and said: the header names the
// rewritten loopback addresses and the lost signals (rotate-logs.sh's
// SIGHUP to shop-cache), and shop-app's metrics, sent from a socket bound
// to 127.0.0.1, never reach shop-metrics, which the test requires too.
func TestComposeRunsUnderPodmanCompose(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: runs podman-compose")
	}
	podmanReady(t)
	if _, err := exec.LookPath("podman-compose"); err != nil {
		t.Skip("podman-compose is not installed (scripts/test.sh installs it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	inst := newShopInstall(t, ctx)
	tracePath := recordInstall(t, ctx, inst)
	kube, dir := t.TempDir(), filepath.Join(t.TempDir(), "compose")
	for _, d := range []struct{ format, dir string }{{"k8s", kube}, {"compose", dir}} {
		if code, _, errOut := decompose(t, "manifests", "-f", d.format, "-o", d.dir, "--config-content", tracePath); code != 0 {
			t.Fatalf("manifests -f %s: exit %d: %s", d.format, code, errOut)
		}
	}
	file := filepath.Join(dir, compose.PodmanCompose10File)
	services := composeServices(t, file)
	requireNotes(t, file, inst.Ports.Metrics)
	for _, p := range readPods(t, kube) {
		buildImages(t, inst, p)
	}
	project := fmt.Sprintf("decompose-e2e-%d", time.Now().UnixNano()%1e9)
	name := func(_, container string) string { return project + "_" + container + "_1" }
	t.Cleanup(func() { composeDown(dir, file, project) })
	if out, err := podmanCompose(ctx, dir, "-p", project, "-f", file, "up", "-d"); err != nil {
		t.Fatalf("podman-compose up: %v\n%s", err, out)
	}
	requireRunning(t, project, services)
	url := fmt.Sprintf("http://%s:%d", containerIP(t, name("shop-web", "shop-web")), inst.Ports.Web)
	waitHTTP(t, url+"/")
	// shop-load places, reads back and waits for 40 orders, then for
	// /status to count them. The count comes from shop-app's UDP datagrams
	// to shop-metrics, sent from a socket shop-app binds to 127.0.0.1 in its
	// code: without a shared loopback they cannot arrive, whatever address
	// the file gives, so the run must end on exactly that, and nothing else.
	load := exec.CommandContext(ctx, filepath.Join(inst.BinDir, legacyshop.LoadDriver), "-url", url, "-orders", "40", "-timeout", "15s")
	b, err := load.CombinedOutput()
	if want := "shop-load: timeout: 0 orders still spooled, /status counts 0 orders (want >= 40)"; err == nil || strings.TrimSpace(string(b)) != want {
		t.Fatalf("shop-load through the decomposed app: %v: %s\nwant it to fail only on the lost metrics: %s\n%s", err, b, want, podLogs())
	}
	checkPods(t, inst, name)
}

// composeServices reads the service names of a compose file, strictly.
func composeServices(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var p compose.Project
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var out []string
	for s := range p.Services {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// requireNotes fails unless the header of the 1.0.3 file says what it
// changed and what is lost there.
func requireNotes(t *testing.T, file string, metricsPort int) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# NOTE: pod shop-cache (rotate-logs-sh, shop-cache): its containers share no network, process or System V IPC namespace here: signals between them are lost",
		"# NOTE: pod shop-web (",
		fmt.Sprintf("loopback addresses rewritten (a program that binds its own end to 127.0.0.1 in code still cannot reach them): 127.0.0.1:%d -> shop-metrics:%[1]d (UDP)", metricsPort),
	} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("%s does not say %q:\n%s", file, want, data)
		}
	}
}

// requireRunning fails unless every service has a container that runs
// (or, for a job like rotate-logs.sh, ran and exited 0 before its restart):
// podman-compose 1.0.3 exits 0 even when `podman run` fails, and then no
// container exists.
func requireRunning(t *testing.T, project string, services []string) {
	t.Helper()
	for _, s := range services {
		n := project + "_" + s + "_1"
		st, err := podman("inspect", n, "--format", "{{.State.Status}} {{.State.ExitCode}}")
		if err != nil || (!strings.HasPrefix(st, "running ") && st != "exited 0") {
			t.Errorf("service %s: container %s is %q (%v), want running (or exited 0)", s, n, st, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// podmanCompose runs podman-compose in dir and returns its combined output.
func podmanCompose(ctx context.Context, dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "podman-compose", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// composeDown removes everything the project made, also when `up` failed
// half-way: podman-compose 1.0.3's down removes the containers and, with
// -v, the volumes, but never the network, so what is left is removed by
// the project's label and name.
func composeDown(dir, file, project string) {
	podmanCompose(context.Background(), dir, "-p", project, "-f", file, "down", "-v")
	label := "label=io.podman.compose.project=" + project
	if ids, _ := podman("ps", "-a", "-q", "--filter", label); ids != "" {
		podman(append([]string{"rm", "-f"}, strings.Fields(ids)...)...)
	}
	if vols, _ := podman("volume", "ls", "-q", "--filter", label); vols != "" {
		podman(append([]string{"volume", "rm", "-f"}, strings.Fields(vols)...)...)
	}
	podman("network", "rm", "-f", project+"_"+compose.NetworkName)
}
