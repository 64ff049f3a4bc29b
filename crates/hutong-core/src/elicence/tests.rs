use proptest::prelude::*;

use super::*;

/// The e-licence identifier of the Jilin certificate 吉A042012000939 (a real certificate).
const JILIN: &str = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F";

fn code(s: &str) -> UnifiedCreditCode {
    UnifiedCreditCode::parse(s).unwrap()
}

fn type_code(s: &str) -> LicenceTypeCode {
    LicenceTypeCode::parse(s).unwrap()
}

fn mod37_36(s: &str) -> char {
    iso_7064::MOD37_36.compute(s).unwrap()[0]
}

fn err(s: &str) -> ELicenceError {
    ELicenceId::parse(s).unwrap_err()
}

#[test]
fn the_jilin_certificate_s_identifier_reads_with_its_check_character_f() {
    let id = ELicenceId::parse(JILIN).unwrap();
    assert_eq!(id.type_code().to_string(), "11100000000013338W032");
    assert_eq!(id.type_code().definer().as_str(), "11100000000013338W");
    assert_eq!(id.type_code().sequence(), 32);
    assert_eq!(id.authority().as_str(), "11220000013544541J");
    assert_eq!(id.authority().region_code(), "220000");
    assert_eq!(id.serial(), "2430599");
    assert_eq!(id.version(), 1);
    assert_eq!(id.check_char(), 'F');
    assert_eq!(id.to_string(), JILIN);
    assert_eq!(JILIN.parse::<ELicenceId>().unwrap(), id);
    // Made from its parts, it gets the same check character.
    let made = ELicenceId::new(
        type_code("11100000000013338W032"),
        code("11220000013544541J"),
        "2430599",
        FIRST_ISSUE,
    )
    .unwrap();
    assert_eq!(made.check_char(), 'F');
    assert_eq!(made, id);
}

/// Which string the check character is computed over: of the readings, only the four parts
/// after the root, without dots, give the Jilin certificate's `F`.
#[test]
fn the_check_character_is_over_the_four_parts_after_the_root_without_dots() {
    let [_, _, _, _, _, ty, auth, serial, version, _] = JILIN.split('.').collect::<Vec<_>>()[..]
    else {
        panic!("ten parts");
    };
    assert_eq!(mod37_36(&format!("{ty}{auth}{serial}{version}")), 'F');
    // The whole identifier without its dots (root included) does not give it.
    let whole: String = JILIN[..JILIN.len() - 2].split('.').collect();
    assert_eq!(
        whole,
        "121563005211100000000013338W03211220000013544541J2430599001"
    );
    assert_eq!(mod37_36(&whole), 'W');
    // Nor the root's last arc and the parts, the parts without the version, or without the
    // licence type code.
    assert_eq!(mod37_36(&format!("2{ty}{auth}{serial}{version}")), 'U');
    assert_eq!(mod37_36(&format!("{ty}{auth}{serial}")), 'G');
    assert_eq!(mod37_36(&format!("{auth}{serial}{version}")), '0');
    // The dots cannot be part of it: they are outside the system's alphabet.
    assert!(
        iso_7064::MOD37_36
            .compute(&JILIN[..JILIN.len() - 2])
            .is_err()
    );
}

/// Identifiers from other provinces' interface code and test data agree with the same reading.
#[test]
fn identifiers_from_other_provinces_agree() {
    for s in [
        // Hunan: the national interface's example and its renewal (version 002).
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S",
        // Zhejiang, an OFD file name.
        "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
        // Shandong (Jining), test data with a 20-digit serial.
        "1.2.156.3005.2.11100000000013338W087.11370800MB28559184.37080001202411010001.001.3",
    ] {
        let id = ELicenceId::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(id.to_string(), s);
    }
    // Anhui (Hefei): its check character agrees, but its authority code is a region code.
    let hefei = "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9";
    assert_eq!(mod37_36("11100000MB03271699022340100000000016001"), '9');
    assert_eq!(
        err(hefei),
        ELicenceError::Authority(CreditCodeError::Length(6))
    );
}

/// A published example made by an implementation that values letters one too high: hutong
/// refuses it and names the standard's character.
#[test]
fn a_check_character_from_a_faulty_implementation_is_refused_with_the_right_one() {
    let s = "1.2.156.3005.2.11100000000013661B006.113700000045046442.209FA4E88F9E4C878F3E9BED2CE7EA49.001.M";
    assert_eq!(
        err(s),
        ELicenceError::Check {
            found: 'M',
            expected: 'D'
        }
    );
    let fixed = s.replace(".001.M", ".001.D");
    let id = ELicenceId::parse(&fixed).unwrap();
    assert_eq!(id.serial().len(), 32);
    let msg = err(s).to_string();
    assert!(msg.contains("is M") && msg.contains("give D"), "{msg}");
}

#[test]
fn unified_social_credit_codes_are_checked() {
    for s in [
        "11100000000013338W", // MOHURD
        "11220000013544541J", // Jilin's issuer
        "11430000006122244L",
        "11330105002500287C",
        "11370800MB28559184",
        "113700000045030270",
        "11100000MB03271699",
        "91350100M000100Y43",
        "91110108551385082Q",
    ] {
        let c = UnifiedCreditCode::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(c.as_str(), s);
        assert_eq!(UnifiedCreditCode::with_check_char(&s[..17]).unwrap(), c);
    }
    use CreditCodeError as E;
    // A code given as an example on a web page, whose check character is wrong.
    assert_eq!(
        UnifiedCreditCode::parse("91310115MA1H8R7C6D"),
        Err(E::Check {
            found: 'D',
            expected: '7'
        })
    );
    assert_eq!(
        UnifiedCreditCode::parse("11100000000013338"),
        Err(E::Length(17))
    );
    assert_eq!(UnifiedCreditCode::parse(""), Err(E::Length(0)));
    // Letters GB 32100 does not use, lower case, and a letter in the region code.
    for (s, position, found) in [
        ("11100000000013338I", 18, 'I'),
        ("1110000000001333OW", 17, 'O'),
        ("11100000000013338w", 18, 'w'),
        ("11A00000000013338W", 3, 'A'),
        ("111000000000 3338W", 13, ' '),
        ("1110000000001333中W", 17, '中'),
    ] {
        match UnifiedCreditCode::parse(s) {
            Err(E::Character {
                position: p,
                found: f,
                ..
            }) => assert_eq!((p, f), (position, found), "{s}"),
            other => panic!("{s}: {other:?}"),
        }
    }
    assert!(
        UnifiedCreditCode::parse("11A00000000013338W")
            .unwrap_err()
            .to_string()
            .contains("region code")
    );
    assert_eq!(
        UnifiedCreditCode::with_check_char("1110000000001333"),
        Err(E::BodyLength(16))
    );
}

#[test]
fn licence_type_codes_are_checked() {
    let t = type_code("11100000000013338W032");
    assert_eq!(t.sequence(), 32);
    assert_eq!(
        LicenceTypeCode::new(code("11100000000013338W"), 32).unwrap(),
        t
    );
    use LicenceTypeCodeError as E;
    assert_eq!(
        LicenceTypeCode::parse("11100000000013338W32"),
        Err(E::Length(20))
    );
    assert_eq!(
        LicenceTypeCode::parse("11100000000013338X032"),
        Err(E::Definer(CreditCodeError::Check {
            found: 'X',
            expected: 'W'
        }))
    );
    assert_eq!(
        LicenceTypeCode::parse("11100000000013338W03A"),
        Err(E::Sequence("03A".into()))
    );
    assert!(LicenceTypeCode::new(code("11100000000013338W"), 1000).is_err());
}

/// Every part's error says which part is wrong and why.
#[test]
fn each_part_s_error_names_the_part() {
    let with = |i: usize, part: &str| {
        let mut parts: Vec<&str> = JILIN.split('.').collect();
        parts[i] = part;
        parts.join(".")
    };
    let cases: Vec<(String, &str)> = vec![
        (JILIN.replacen("3005", "3003", 1), "root 1.2.156.3005.2"),
        ("".into(), "root"),
        ("1.2.156.3005.2".into(), "root"),
        ("1.2.156.3005.2.".into(), "this one has 1"),
        (JILIN.replace(".001.F", ".F"), "this one has 4"),
        (format!("{JILIN}.X"), "this one has 6"),
        (with(5, "11100000000013338W32"), "licence type code"),
        (
            with(5, "11100000000013338X032"),
            "check character (GB 32100) is X",
        ),
        (with(6, "11220000013544541K"), "issuing authority code"),
        (with(6, "340100"), "has 6"),
        (
            with(7, ""),
            "serial (the third part after the root) is empty",
        ),
        (with(7, "24305a9"), "character 6 of the serial is 'a'"),
        (with(7, "2430-599"), "character 5 of the serial is '-'"),
        (
            with(7, &"9".repeat(65)),
            "has 65 characters; hutong reads at most 64",
        ),
        (with(8, "01"), "version"),
        (with(8, "0001"), "version"),
        (with(8, "1a1"), "version"),
        (with(9, "FF"), "check character (the last part)"),
        (with(9, "f"), "check character (the last part)"),
        (with(9, ""), "check character (the last part)"),
        (
            with(9, "G"),
            "the check character is G, but the identifier's parts give F",
        ),
    ];
    for (s, expected) in cases {
        let msg = err(&s).to_string();
        assert!(msg.contains(expected), "{s}: {msg}");
    }
    // A long wrong part is cut short in the message.
    let long = with(8, &"1".repeat(1000));
    assert!(err(&long).to_string().len() < 200);
}

#[test]
fn new_checks_the_serial_and_the_version() {
    let make = |serial: &str, version| {
        ELicenceId::new(
            type_code("11100000000013338W032"),
            code("11220000013544541J"),
            serial,
            version,
        )
    };
    assert_eq!(make("", 1), Err(ELicenceError::SerialEmpty));
    assert_eq!(
        make("1.2", 1),
        Err(ELicenceError::SerialCharacter {
            position: 2,
            found: '.'
        })
    );
    assert_eq!(
        make(&"A".repeat(65), 1),
        Err(ELicenceError::SerialTooLong(65))
    );
    assert_eq!(make("1", 1000), Err(ELicenceError::VersionRange(1000)));
    assert_eq!(
        make("1", u32::MAX),
        Err(ELicenceError::VersionRange(u32::MAX))
    );
    let id = make(&"Z".repeat(64), 999).unwrap();
    assert!(id.to_string().contains(".999."));
    assert_eq!(ELicenceId::parse(&id.to_string()).unwrap(), id);
}

/// Every single-character change of the Jilin identifier is refused: inside the checked parts
/// by the check character (MOD 37,36 catches every single substitution within 0-9A-Z), and
/// elsewhere by the form (the root, the dots, the characters a part may hold).
#[test]
fn every_single_character_change_of_the_jilin_identifier_is_refused() {
    let chars: Vec<char> = JILIN.chars().collect();
    let replacements: Vec<char> = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.a-_ 中"
        .chars()
        .collect();
    let mut tried = 0;
    for i in 0..chars.len() {
        for &r in &replacements {
            if r == chars[i] {
                continue;
            }
            let mut changed = chars.clone();
            changed[i] = r;
            let changed: String = changed.into_iter().collect();
            assert!(
                ELicenceId::parse(&changed).is_err(),
                "{changed} was accepted"
            );
            tried += 1;
        }
    }
    assert_eq!(tried, chars.len() * (replacements.len() - 1));
}

#[test]
fn for_certificate_gives_an_identifier_only_with_both_codes() {
    let t = type_code("11100000000013338W032");
    let a = code("11220000013544541J");
    let id = for_certificate(Some(&t), Some(&a), 2430599, FIRST_ISSUE).unwrap();
    assert_eq!(id.to_string(), JILIN);
    let id = for_certificate(Some(&t), Some(&a), 7, FIRST_ISSUE).unwrap();
    assert_eq!(id.serial(), "7");
    assert_eq!(id.version(), 1);
    assert_eq!(ELicenceId::parse(&id.to_string()).unwrap(), id);
    let big = for_certificate(Some(&t), Some(&a), i64::MAX, 2).unwrap();
    assert_eq!(big.serial(), i64::MAX.to_string());
    assert!(big.to_string().contains(".002."));
    // No code for the kind, or none for the issuer: no identifier.
    assert_eq!(for_certificate(None, Some(&a), 7, 1), None);
    assert_eq!(for_certificate(Some(&t), None, 7, 1), None);
    // Nothing a stored certificate has: a negative id, version 0 or past 999.
    assert_eq!(for_certificate(Some(&t), Some(&a), -1, 1), None);
    assert_eq!(for_certificate(Some(&t), Some(&a), 7, 0), None);
    assert_eq!(for_certificate(Some(&t), Some(&a), 7, 1000), None);
}

#[test]
fn the_types_serialize_as_their_text() {
    let id = ELicenceId::parse(JILIN).unwrap();
    let json = serde_json::to_string(&id).unwrap();
    assert_eq!(json, format!("\"{JILIN}\""));
    assert_eq!(serde_json::from_str::<ELicenceId>(&json).unwrap(), id);
    assert_eq!(
        serde_json::to_string(id.authority()).unwrap(),
        "\"11220000013544541J\""
    );
    let e = serde_json::from_str::<UnifiedCreditCode>("\"11220000013544541K\"")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("\"11220000013544541K\"") && e.contains("check character"),
        "{e}"
    );
    let e = serde_json::from_str::<LicenceTypeCode>("\"11100000000013338W\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("licence type code has 21 characters"), "{e}");
    let e = serde_json::from_str::<ELicenceId>("\"1.2.3\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("root"), "{e}");
}

fn credit_code() -> impl Strategy<Value = UnifiedCreditCode> {
    (
        "[0-9A-HJ-NPQRTUWXY]{2}",
        "[0-9]{6}",
        "[0-9A-HJ-NPQRTUWXY]{9}",
    )
        .prop_map(|(a, b, c)| UnifiedCreditCode::with_check_char(&format!("{a}{b}{c}")).unwrap())
}

fn elicence_id() -> impl Strategy<Value = ELicenceId> {
    (
        credit_code(),
        0u16..=999,
        credit_code(),
        "[0-9A-Z]{1,64}",
        0u32..=999,
    )
        .prop_map(|(definer, seq, authority, serial, version)| {
            ELicenceId::new(
                LicenceTypeCode::new(definer, seq).unwrap(),
                authority,
                &serial,
                version,
            )
            .unwrap()
        })
}

proptest! {
    #[test]
    fn an_identifier_reads_back_as_itself(id in elicence_id()) {
        let text = id.to_string();
        let read = ELicenceId::parse(&text).unwrap();
        prop_assert_eq!(&read, &id);
        prop_assert_eq!(read.to_string(), text);
    }

    /// Any single-character substitution is refused: MOD 37,36 detects every single
    /// substitution among 0-9A-Z, and any other character breaks the form.
    #[test]
    fn a_single_character_change_is_refused(
        id in elicence_id(),
        at in any::<prop::sample::Index>(),
        with in prop::sample::select("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.a-".chars().collect::<Vec<_>>()),
    ) {
        let text = id.to_string();
        let i = at.index(text.len());
        prop_assume!(text.as_bytes()[i] != with as u8);
        let mut changed = text.clone().into_bytes();
        changed[i] = with as u8;
        let changed = String::from_utf8(changed).unwrap();
        prop_assert!(ELicenceId::parse(&changed).is_err(), "{} was accepted", changed);
    }

    /// GB 32100's weights are non-zero modulo the prime 31, so its check character catches any
    /// single substitution among its 31 characters.
    #[test]
    fn a_credit_code_with_one_character_changed_is_refused(
        c in credit_code(),
        at in 0usize..18,
        with in prop::sample::select(GB32100_CHARS.to_vec()),
    ) {
        let mut changed = c.as_str().as_bytes().to_vec();
        prop_assume!(changed[at] != with);
        changed[at] = with;
        let changed = String::from_utf8(changed).unwrap();
        prop_assert!(UnifiedCreditCode::parse(&changed).is_err(), "{} was accepted", changed);
    }
}
