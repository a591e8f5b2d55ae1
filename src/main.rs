//! The `faultline` binary: the command line with the built-in families. See `faultline --help`.

fn main() -> std::process::ExitCode {
    faultline::Cli::new().run()
}
