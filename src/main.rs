//! `mykey-connect`: the provider command line.

fn main() -> anyhow::Result<()> {
    anyhow::bail!("the provider is not built yet")
}
