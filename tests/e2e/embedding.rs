//! The embedding example (`examples/embed.rs`), run as a bank engineer
//! runs it: the signed pack is activated through the `Activator` and
//! decides the sample, and a copy changed after signing is refused first,
//! naming the file that changed, without ever deciding a payment.

use std::process::Command;

use qorgan_e2e::fixtures::{example_bin, reference_pack_built};

#[test]
fn the_embedding_example_activates_the_signed_pack_and_refuses_a_tampered_copy() {
    let pack = reference_pack_built();
    let out = match Command::new(example_bin("embed")).arg(pack.path()).output() {
        Ok(out) => out,
        Err(e) => panic!("cannot run the embedding example: {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");

    let refused = stdout
        .lines()
        .position(|l| l.starts_with("refused a tampered pack:"))
        .unwrap_or_else(|| panic!("no refusal in:\n{stdout}"));
    let refusal = stdout.lines().nth(refused).unwrap_or_default();
    assert!(
        refusal.contains("lists/blocked-vasps.txt"),
        "the refusal names the changed file: {refusal}"
    );
    let activated = stdout
        .lines()
        .position(|l| l.starts_with("active pack: kz-afm"))
        .unwrap_or_else(|| panic!("the signed pack was not activated:\n{stdout}"));
    assert!(refused < activated, "the tampered copy is offered first");
    assert!(
        stdout.contains("(afm-example)"),
        "the signer is named: {stdout}"
    );
    // The mule cash-out of the sample is held by the genuine pack.
    assert!(
        stdout.lines().any(|l| l.starts_with("tx-0024: hold")),
        "{stdout}"
    );
}
