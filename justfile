# faultline's everyday commands. `just --list` shows them all.
# Nothing here is required: the README's commands and .ci/run use cargo directly.

# Run one scenario (or a directory of them): just run scenarios/raft/leader_crash.ron
run +ARGS:
    cargo run --release -- run {{ARGS}}

# Run the whole scenario library and check every expectation
library:
    cargo run --release -- run scenarios/

# Validate scenario files without running them
check +FILES="scenarios/":
    cargo run --release -- check {{FILES}}

# The whole test suite (as CI runs it)
test:
    cargo test --workspace

# Format, lint, test: what CI checks
ci:
    bash .ci/run

# Engine benchmark: engine vs a bare binary-heap loop, events per second and their ratio
bench:
    cargo bench -p sim

# SWIM at scale: 10^4 members, 60 s of virtual time (wall time, memory, messages per member)
bench-swim:
    cargo run --release -- bench --events 100000 --repeats 1 --swim-members 10000

# Fuzzing benchmark: seeds per second, and time to first failure of every known bug
bench-fuzz:
    cargo run --release -- bench --fuzz --events 100000 --repeats 1

# Random against coverage-guided campaigns: runs to the first failure of the rare known bugs
bench-guided:
    cargo run --release -- bench --guided --campaigns 5 --events 100000 --repeats 1

# Linearizability benchmark: the check of a 60 s, 32-client, 10^5-operation Raft history, timed alone
bench-linearizability:
    cargo run --release -- bench --linearizability --events 100000 --repeats 1

# List protocols, invariants, fault kinds and latency distributions
list:
    cargo run --release -- list

# Fuzz a nemesis scenario over 1000 seeds; failures (saved and shrunk) go to failures/
fuzz FILE="scenarios/raft/nemesis.ron":
    cargo run --release -- fuzz {{FILE}} --seeds 0..1000 --out failures/

# Run every example sweep (charts, CSV and index.md into out/)
plots:
    for f in scenarios/sweeps/*.sweep; do cargo run --release -- sweep "$f" --out "out/$(basename "$f" .sweep)"; done

# Redraw the README's pictures with the project's own commands (the report screenshot needs chromium)
readme-images:
    mkdir -p target/readme
    cargo run --release -- run scenarios/raft/bug_vote_without_log_check.ron --trace target/readme/bug.jsonl
    cargo run --release -- trace target/readme/bug.jsonl --lamport docs/img/lamport.svg --last 45
    cargo run --release -- run scenarios/raft/bug_vote_without_log_check.ron --report target/readme/report
    chromium --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run --hide-scrollbars --user-data-dir=target/readme/chromium --window-size=1200,1500 --screenshot=docs/img/report.png "file://$PWD/target/readme/report/report.html"

# Convert a trace for Perfetto, ShiViz and a Lamport diagram: just trace out.jsonl
trace FILE:
    cargo run --release -- trace {{FILE}} --validate --perfetto {{FILE}}.perfetto.json --shiviz {{FILE}}.shiviz.log --lamport {{FILE}}.svg

# The bridge's tests on madsim's simulator (built with --cfg madsim in target/madsim)
test-madsim:
    RUSTFLAGS="--cfg madsim" RUSTDOCFLAGS="--cfg madsim" CARGO_TARGET_DIR=target/madsim cargo test --release -p faultline-bridge

# Run a scenario file on madsim's simulator: just madsim scenarios/madsim/raft_kv_faults.ron
madsim FILE *ARGS:
    RUSTFLAGS="--cfg madsim" CARGO_TARGET_DIR=target/madsim cargo run --release -p faultline-bridge --bin faultline-madsim -- run {{FILE}} {{ARGS}}

# faultline's engine against madsim on the same protocol code: Raft KV and gossip at 100 and 1000 nodes
bench-madsim:
    RUSTFLAGS="--cfg madsim" CARGO_TARGET_DIR=target/madsim cargo run --release -p faultline-bridge --bin faultline-madsim -- bench

# Election times after 200 leader crashes on both simulators, and the KS test between them
elections-madsim:
    RUSTFLAGS="--cfg madsim" CARGO_TARGET_DIR=target/madsim cargo run --release -p faultline-bridge --bin faultline-madsim -- elections

# One real Raft KV node on loopback: just node 0 (then 1 and 2 in other terminals)
node ID:
    cargo run --release -p faultline-bridge --bin faultline-node -- serve --id {{ID}} --peers 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 --data target/node-{{ID}}
