package hookfloor

// Regenerate the BPF object (needs clang and libbpf-dev; go build does not):
//
//	go generate ./bench/hookfloor/
//
//go:generate go tool bpf2go -cc clang -target bpfel floor bpf/floor.bpf.c -- -I../../trace/ebpf/bpf -O2 -g -Wall
