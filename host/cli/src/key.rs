//! `qorgan key`: the regulator's signing keys.

use std::path::PathBuf;
use std::process::ExitCode;

use qorgan::pack::{PublicKey, SecretKey};

#[derive(clap::Subcommand)]
pub(super) enum KeyCommand {
    /// Generate an ed25519 key pair for signing packs: `<NAME>.key` (the
    /// private key, mode 0600) and `<NAME>.pub` (for the banks).
    Generate {
        /// The directory to write the two files into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The key's name, also the files' name (default: the key id).
        #[arg(long)]
        name: Option<String>,
    },
    /// Show a key file's id and name.
    Show {
        /// A `.pub` or `.key` file.
        file: PathBuf,
    },
}

pub(super) fn run(command: KeyCommand) -> anyhow::Result<ExitCode> {
    match command {
        KeyCommand::Generate { out, name } => {
            let key = SecretKey::generate(name.as_deref())?;
            let (private, public) = key.write_pair(&out)?;
            println!("key {}", key.public().label());
            println!(
                "private: {} (keep it secret: it signs packs)",
                private.display()
            );
            println!(
                "public:  {} (give it to the banks: `--trust {}`)",
                public.display(),
                public.display()
            );
        }
        KeyCommand::Show { file } => match PublicKey::read(&file) {
            Ok(public) => println!("public key {}", public.label()),
            Err(public_error) => match SecretKey::read(&file) {
                Ok(secret) => println!("private key {}", secret.public().label()),
                Err(_) => return Err(public_error.into()),
            },
        },
    }
    Ok(ExitCode::SUCCESS)
}
