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
