//! A `.lindi.tar`: its index, the document inside it, references into it;
//! then walk and read as for the JSON. External references read the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let bytes = data.to_vec();
    let opener = move |_url: &str| Ok(neurosift_fuzz::source(&bytes, "ref"));
    let source = neurosift_fuzz::source(data, "fuzz.lindi.tar");
    if let Ok(file) = ns_lindi::LindiFile::open_tar(source, opener, neurosift_fuzz::options()) {
        neurosift_fuzz::exercise(&file);
    }
});
