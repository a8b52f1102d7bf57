package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretsNeverLeaveTheHost records programs started with passwords and
// tokens on their command lines, then checks that no output of decompose
// (the trace, analyze --json, every report, the manifests, the image
// drafts) holds one of them (issue 9).
func TestSecretsNeverLeaveTheHost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("recording needs root; CI runs as root")
	}
	secrets := []string{"hunter2pw", "s3cretTok", "pgPassW0rd", "awsSecretKey9", "urlPass77"}
	dir := t.TempDir()
	shared := filepath.Join(dir, "shared.log")
	// Two scripts (two components) share a file, so both reach the plan;
	// each is started with secrets in argv.
	a, b := filepath.Join(dir, "a.sh"), filepath.Join(dir, "b.sh")
	os.WriteFile(a, []byte("echo a >> "+shared+"\nsleep 0.5\n"), 0o755)
	os.WriteFile(b, []byte("sleep 0.2\ncat "+shared+" > /dev/null\necho b >> "+shared+"\n"), 0o755)
	script := "sh " + a + " --password=hunter2pw --api-token s3cretTok PGPASSWORD=pgPassW0rd & " +
		"sh " + b + " AWS_SECRET_ACCESS_KEY=awsSecretKey9 https://bob:urlPass77@db.example:5432/x; wait"
	out := filepath.Join(dir, "s.trace")
	if code, _, errOut := decompose(t, "record", "-o", out, "--", "sh", "-c", script); code != 0 {
		t.Fatalf("record: exit %d: %s", code, errOut)
	}
	outputs := map[string]string{}
	trace, _ := os.ReadFile(out)
	outputs["trace file"] = string(trace)
	for _, args := range [][]string{{"analyze", "--json"}, {"report", "-f", "text"}, {"report", "-f", "md"}, {"report", "-f", "html"}, {"report", "-f", "dot"}} {
		code, body, errOut := decompose(t, append(args, out)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		outputs[strings.Join(args, " ")] = body
	}
	for _, cmd := range []string{"manifests", "images"} {
		d := filepath.Join(dir, cmd)
		args := []string{cmd, "-o", d, out}
		if cmd == "manifests" {
			args = []string{cmd, "-f", "k8s", "-o", d, out}
		}
		if code, _, errOut := decompose(t, args...); code != 0 {
			t.Fatalf("%s: exit %d: %s", cmd, code, errOut)
		}
		filepath.Walk(d, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.Mode().IsRegular() && info.Size() < 1<<20 {
				b, _ := os.ReadFile(p)
				outputs[p] = string(b)
			}
			return nil
		})
	}
	if !strings.Contains(outputs["analyze --json"], "redacted") {
		t.Fatal("the plan shows no redacted value: the secrets did not reach the recording at all")
	}
	for name, body := range outputs {
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("%s holds the secret %q", name, s)
			}
		}
	}
}
