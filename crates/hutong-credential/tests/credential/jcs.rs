//! RFC 8785: every input of cyberphone/json-canonicalization's testdata canonicalises to its
//! output, byte for byte, and to its outhex.

use hutong_credential::jcs::canonicalize_str;

#[test]
fn every_rfc8785_case() {
    let dir = crate::vectors_dir().join("jcs-rfc8785/testdata/input");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 6, "RFC 8785 case count");
    for name in &names {
        let input = crate::read(&format!("jcs-rfc8785/testdata/input/{name}"));
        let output = crate::read(&format!("jcs-rfc8785/testdata/output/{name}"));
        let stem = name.trim_end_matches(".json");
        let outhex = crate::read(&format!("jcs-rfc8785/testdata/outhex/{stem}.txt"));
        let want_hex: Vec<u8> = outhex
            .split_whitespace()
            .map(|h| u8::from_str_radix(h, 16).unwrap())
            .collect();
        let got = canonicalize_str(&input).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            String::from_utf8_lossy(&got),
            output.trim_end_matches('\n'),
            "{name}: output"
        );
        assert_eq!(got, want_hex, "{name}: outhex");
    }
}
