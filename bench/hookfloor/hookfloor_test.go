package hookfloor

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/decompose-dev/decompose/bench"
)

func TestSummarize(t *testing.T) {
	raw := `round=1 arm=none case=pipe ns_per_syscall=300
round=1 arm=syscall case=pipe ns_per_syscall=420
round=2 arm=syscall case=pipe ns_per_syscall=450
round=2 arm=none case=pipe ns_per_syscall=310
round=3 arm=none case=pipe ns_per_syscall=290
round=3 arm=syscall case=pipe ns_per_syscall=400
arm=sock unavailable=1
# arm sock: hook unavailable: load sock_send_length: not found
round=1 arm=none case=getppid ns_per_syscall=170
round=1 arm=syscall case=getppid ns_per_syscall=210
`
	recs, err := bench.ReadRecords(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	rows := Summarize(recs)
	if len(rows) != 2 || rows[0].Case != "pipe" || rows[1].Case != "getppid" {
		t.Fatalf("rows %+v", rows)
	}
	pipe := rows[0]
	// added per round: 120, 140, 110; against the same round's baseline
	want := Added{Median: 120, Lo: 110, Hi: 140, Rounds: 3}
	if pipe.Base != 300 || pipe.Added["syscall"] != want {
		t.Errorf("pipe: base %v added %+v, want 300 and %+v", pipe.Base, pipe.Added["syscall"], want)
	}
	if _, ok := pipe.Added["sock"]; ok {
		t.Errorf("an unavailable arm has figures: %+v", pipe.Added)
	}
	var b bytes.Buffer
	Format(&b, rows)
	for _, s := range []string{"| pipe | 3 | 300.0 | 120.0 (110.0 to 140.0) | unavailable | - | - |", "| getppid | 1 | 170.0 | 40.0 (40.0 to 40.0) | unavailable |"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, b.String())
		}
	}
}

// TestMissingHookIsUnavailable: a tracepoint this kernel lacks makes its
// arm unavailable, not the run fail.
func TestMissingHookIsUnavailable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("loading BPF programs needs root; scripts/test.sh runs the tests as root")
	}
	spec, err := loadFloor()
	if err != nil {
		t.Fatal(err)
	}
	spec.Programs["sock_send_length"].AttachTo = "no_such_tracepoint_in_any_kernel"
	_, err = attach(spec, Arm{Name: "sock", tracing: []string{"sock_send_length"}})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("attach to a missing tracepoint: %v, want ErrUnavailable", err)
	}
}

// TestRunAttachesEveryArm runs one short round: every arm's programs load
// and attach on this kernel and every loop runs under them.
func TestRunAttachesEveryArm(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("attaching BPF programs needs root; scripts/test.sh runs the tests as root")
	}
	var b bytes.Buffer
	if err := Run(&b, 1, 200, []string{"getppid", "unixmsg"}, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	recs, err := bench.ReadRecords(&b)
	if err != nil {
		t.Fatal(err)
	}
	for _, arm := range Arms {
		n := 0
		for _, r := range recs {
			if r["arm"] == arm.Name && r.Num("ns_per_syscall") > 0 {
				n++
			}
		}
		if n != 2 {
			t.Errorf("arm %s: %d measured cases, want 2:\n%s", arm.Name, n, b.String())
		}
	}
}
