//! `buildtrace keygen`: an ECDSA P-256 key pair for seal, verify and attest.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use buildtrace::provenance::hex;
use buildtrace::signing;
use clap::Args;
use p256::ecdsa::SigningKey;
use p256::elliptic_curve::Generate;
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// Where to write the private key (PKCS#8 PEM, readable by the owner
    /// only); the public key goes to OUT.pub. Existing files are not
    /// overwritten.
    #[arg(long, value_name = "OUT")]
    out: PathBuf,
}

fn create_new(path: &Path, private: bool) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    options.open(path).with_context(|| {
        format!(
            "cannot create {} (an existing key is never overwritten; choose another path)",
            path.display()
        )
    })
}

pub(crate) fn run(args: &KeygenArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let key = SigningKey::try_generate()
        .map_err(|e| anyhow::anyhow!("the system's random number generator failed: {e}"))?;
    let private = key
        .to_pkcs8_pem(LineEnding::LF)
        .context("cannot encode the private key")?;
    let public = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .context("cannot encode the public key")?;
    let mut pub_path = args.out.clone().into_os_string();
    pub_path.push(".pub");
    let pub_path = PathBuf::from(pub_path);
    // Both names are claimed before either is written.
    let mut private_file = create_new(&args.out, true)?;
    let mut public_file = match create_new(&pub_path, false) {
        Ok(f) => f,
        Err(e) => {
            drop(private_file);
            let _ = std::fs::remove_file(&args.out);
            return Err(e);
        }
    };
    private_file
        .write_all(private.as_bytes())
        .and_then(|()| private_file.sync_all())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    public_file
        .write_all(public.as_bytes())
        .and_then(|()| public_file.sync_all())
        .with_context(|| format!("cannot write {}", pub_path.display()))?;
    writeln!(
        out,
        "private key {} (keep it secret), public key {}, key id {}",
        args.out.display(),
        pub_path.display(),
        hex(&signing::key_id(key.verifying_key()))
    )?;
    Ok(())
}
