//! The `paxos` command line: faultline's `run`, `check`, `list`, `fuzz`, `shrink` and `sweep`
//! for `protocol: Paxos((...))` scenario files (and the built-in families).

fn main() -> std::process::ExitCode {
    faultline::Cli::new()
        .family(paxos::PaxosFamily)
        .name("paxos")
        .run()
}
