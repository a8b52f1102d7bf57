package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/decompose-dev/decompose/fixtures/legacyshop"
	"github.com/decompose-dev/decompose/fixtures/synth"
	"github.com/decompose-dev/decompose/fixtures/truth"
	"github.com/decompose-dev/decompose/report/k8s"
	"github.com/decompose-dev/decompose/trace"
)

// TestManifestsRunUnderPodman is the end-to-end proof of the manifests:
// legacyshop is installed and started once to learn its real command
// lines, a trace of that install is synthesized from the ground truth with
// those command lines, and `decompose manifests` drafts Kubernetes objects
// from it. Each container gets an image made with `podman import` of a
// tiny root filesystem (busybox and the binaries its command names), the
// pods run under `podman kube play` on one podman network where each pod
// carries its Services' names as network aliases (podman ignores Service
// objects), and shop-load drives orders through the exposed front end.
// Passing means every pod served: the front end answered, orders crossed
// into shop-db's PersistentVolumeClaim over the network, the FIFO, pipe,
// shared memory, UDP and signal couplings inside the pods worked.
func TestManifestsRunUnderPodman(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: runs podman")
	}
	podmanReady(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	inst := newShopInstall(t, ctx)
	tracePath := recordInstall(t, ctx, inst)
	out := t.TempDir()
	if code, _, errOut := decompose(t, "manifests", "-f", "k8s", "-o", out, "--config-content", tracePath); code != 0 {
		t.Fatalf("manifests: exit %d: %s", code, errOut)
	}
	pods := readPods(t, out)
	suffix := fmt.Sprintf("%d", time.Now().UnixNano()%1e9)
	network := "decompose-e2e-" + suffix
	mustPodman(t, "network", "create", network)
	t.Cleanup(func() { podman("network", "rm", "-f", network) })
	for _, p := range pods {
		buildImages(t, inst, p)
	}
	for _, p := range pods {
		play(t, out, p, network)
	}
	web := podIP(t, "shop-web")
	url := fmt.Sprintf("http://%s:%d", web, inst.Ports.Web)
	waitHTTP(t, url+"/")
	load := exec.CommandContext(ctx, filepath.Join(inst.BinDir, legacyshop.LoadDriver), "-url", url, "-orders", "40", "-timeout", "60s")
	if b, err := load.CombinedOutput(); err != nil {
		t.Fatalf("shop-load through the decomposed app: %v: %s\n%s", err, b, podLogs())
	}
	checkPods(t, inst, kubePlayName)
}

// podmanReady skips without root or podman, and points podman at a
// configuration that uses runc (crun fails on these machines).
func podmanReady(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run podman with a bridge network")
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("podman is not installed (scripts/test.sh installs it)")
	}
	conf := filepath.Join(t.TempDir(), "containers.conf")
	text := "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n[engine]\nruntime = \"runc\"\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CONTAINERS_CONF", conf)
}

// recordInstall stands in for `decompose record` until the recorder lands:
// it starts the install to read each program's real command line from
// /proc, stops it, and synthesizes the trace of that install from the
// ground truth, with those command lines, and with rotate-logs.sh seen as
// the job it is (one short run per second).
func recordInstall(t *testing.T, ctx context.Context, inst *legacyshop.Install) string {
	t.Helper()
	app, err := inst.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	procs, err := app.Processes()
	if stopErr := app.Stop(); err != nil || stopErr != nil {
		t.Fatalf("read the processes of the install: %v, stop: %v", err, stopErr)
	}
	argv := map[string][]string{}
	for _, p := range procs {
		if len(p.Args) > 0 && strings.HasPrefix(p.Args[0], inst.AppBin) {
			argv[filepath.Base(p.Args[0])] = p.Args
		}
	}
	var g truth.GroundTruth
	if err := json.Unmarshal([]byte(inst.Expand(string(legacyshop.ExpectedJSON()))), &g); err != nil {
		t.Fatal(err)
	}
	tr, err := synth.Build(&g, synth.Options{BinDir: inst.AppBin, HostIP: "10.0.0.10", Hostname: "legacy-vm", Rounds: 5})
	if err != nil {
		t.Fatal(err)
	}
	patchProcesses(t, tr, argv, inst.RotateScript)
	path := filepath.Join(t.TempDir(), "install.trace")
	if err := synth.Write(tr, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// patchProcesses gives the synthesized processes their real argv, and
// makes rotate-logs.sh a job: three runs a second apart, each exiting.
func patchProcesses(t *testing.T, tr *trace.Trace, argv map[string][]string, rotate string) {
	t.Helper()
	var runs []trace.Process
	for i := range tr.Processes {
		p := &tr.Processes[i]
		if a, ok := argv[filepath.Base(p.Exe)]; ok {
			p.Argv = a
		}
		if len(p.Argv) == 2 && p.Argv[1] == rotate {
			p.ExitNS = p.StartNS + 5e6
			for n := int64(1); n <= 2; n++ {
				run := *p
				run.ID, run.PID = trace.ProcessID(len(tr.Processes)+len(runs)+1), p.PID+int32(5000+n)
				run.StartNS, run.ExitNS, run.Snapshot = p.StartNS+n*1e9, p.StartNS+n*1e9+5e6, false
				runs = append(runs, run)
			}
		}
	}
	if len(runs) != 2 || len(argv) < 8 {
		t.Fatalf("patching the trace: %d extra runs of rotate-logs.sh, real argv of %d programs", len(runs), len(argv))
	}
	tr.Processes = append(tr.Processes, runs...)
	if end := tr.Processes[len(tr.Processes)-1].ExitNS; end > tr.Host.EndNS {
		tr.Host.EndNS = end
	}
}

// readPods decodes the drafted workloads, pod by pod.
func readPods(t *testing.T, dir string) []*k8s.Pod {
	t.Helper()
	kust, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var pods []*k8s.Pod
	for _, name := range regexp.MustCompile(`(?m)^- (shop-\S+)\.yaml$`).FindAllStringSubmatch(string(kust), -1) {
		p := &k8s.Pod{Name: name[1]}
		for _, o := range decodeFile(t, filepath.Join(dir, name[0][2:])) {
			switch x := o.(type) {
			case *appsv1.Deployment:
				p.Deployment = x
			case *appsv1.StatefulSet:
				p.StatefulSet = x
			case *corev1.Service:
				p.Services = append(p.Services, x)
			}
		}
		pods = append(pods, p)
	}
	if len(pods) != 3 {
		t.Fatalf("want 3 pods in %s, got %d", kust, len(pods))
	}
	return pods
}

func decodeFile(t *testing.T, path string) []runtime.Object {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []runtime.Object
	for _, doc := range strings.Split(string(data), "\n---\n") {
		o, _, err := scheme.Codecs.UniversalDeserializer().Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, o)
	}
	return out
}

// podman runs podman and returns its combined output.
func podman(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var b bytes.Buffer
	cmd := exec.CommandContext(ctx, "podman", args...)
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	return strings.TrimSpace(b.String()), err
}

func mustPodman(t *testing.T, args ...string) string {
	t.Helper()
	out, err := podman(args...)
	if err != nil {
		t.Fatalf("podman %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(45 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the front end never answered %s: %v\n%s", url, err, podLogs())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// podLogs collects what the containers said, for failure messages.
func podLogs() string {
	names, _ := podman("ps", "-a", "--format", "{{.Names}} {{.Status}}")
	var b strings.Builder
	b.WriteString(names + "\n")
	for _, line := range strings.Split(names, "\n") {
		name, _, _ := strings.Cut(line, " ")
		if strings.Contains(name, "shop-") {
			logs, _ := podman("logs", "--tail", "5", name)
			fmt.Fprintf(&b, "--- %s\n%s\n", name, logs)
		}
	}
	return b.String()
}
