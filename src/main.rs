//! The `faultline` binary: see `faultline --help`.

fn main() {
    std::process::exit(faultline::cli::main());
}
