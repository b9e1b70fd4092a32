// Package bench measures what a signing tool costs per command against a
// registry: wall time, CPU time and peak memory of the child process, and
// the HTTP requests and bytes it exchanged with the registry, counted by a
// reverse proxy that every command talks to. It also keeps the results
// (medians of several runs), renders them as a text table, Markdown and
// JSON, and draws them as a PNG line plot of cost against repository size.
//
// The driver that fills repositories and runs signet, cosign and notation
// is tools/bench/cmd/bench; scripts/bench.sh (make bench) runs it.
package bench
