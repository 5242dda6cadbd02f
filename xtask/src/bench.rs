//! The benchmark (filled in by the bench work).

use anyhow::{Result, bail};

pub fn run(_args: &[String]) -> Result<()> {
    bail!("bench: not written yet")
}
