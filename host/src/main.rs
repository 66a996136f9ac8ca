//! The `qorgan` command: build, inspect and run rule packs.

#![forbid(unsafe_code)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
