package trace

import "testing"

func TestResourceName(t *testing.T) {
	cases := []struct {
		r    Resource
		want string
	}{
		{Resource{Kind: KindTCP, Src: "10.0.0.5:0", Dst: "10.0.0.2:5432"}, "tcp:10.0.0.5->10.0.0.2:5432"},
		{Resource{Kind: KindTCP, Src: "[::1]:0", Dst: "[::1]:80"}, "tcp:::1->[::1]:80"},
		{Resource{Kind: KindTCP, Src: "127.0.0.1:41000", Dst: "127.0.0.1:80"}, "tcp:127.0.0.1:41000->127.0.0.1:80"},
		{Resource{Kind: KindTCP, Dst: "0.0.0.0:80", Listen: true}, "tcp:0.0.0.0:80"},
		{Resource{Kind: KindUDP, Src: "127.0.0.1:5000", Dst: "127.0.0.1:8125"}, "udp:127.0.0.1:5000->127.0.0.1:8125"},
	}
	for _, c := range cases {
		if got := c.r.Name(); got != c.want {
			t.Errorf("%+v: Name() = %q, want %q", c.r, got, c.want)
		}
	}
}
