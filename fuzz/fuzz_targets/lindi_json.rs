//! A `.lindi.json` reference document: open, walk, read a small selection of
//! each dataset. References (whatever URL they name) read the input itself,
//! so chunk data comes from the fuzzer too; nothing is opened for real.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let bytes = data.to_vec();
    let opener = move |_url: &str| Ok(neurosift_fuzz::source(&bytes, "ref"));
    if let Ok(file) =
        ns_lindi::LindiFile::open(data, "fuzz.lindi.json", opener, neurosift_fuzz::options())
    {
        neurosift_fuzz::exercise(&file);
    }
});
