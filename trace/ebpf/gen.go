package ebpf

// Regenerate the BPF objects (needs clang and libbpf-dev; go build does not).
// decomposeUnrolled is the same program for kernels without bpf_loop (before
// 5.17), which New loads instead when the helper is missing:
//
//	go generate ./trace/ebpf/
//
//go:generate go tool bpf2go -cc clang -target bpfel decompose bpf/decompose.bpf.c -- -I./bpf -O2 -g -Wall -Wno-unused-variable
//go:generate go tool bpf2go -cc clang -target bpfel decomposeUnrolled bpf/decompose.bpf.c -- -I./bpf -O2 -g -Wall -Wno-unused-variable -DWALK_UNROLLED
