#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| client_assertion::fuzzing::parse_private_key(data));
