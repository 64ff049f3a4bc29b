//! The sizes of credentials' barcodes (docs/credentials.md): for each credential file given,
//! its JCS bytes, its zlib bytes, the barcode's characters, and the QR code's version and
//! modules a side at each error-correction level.
//!
//! `cargo run -p hutong-credential --example barcode_sizes -- c1.json c2.json …`

use qrcode::{EcLevel, QrCode, Version};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        return Err("usage: barcode_sizes CREDENTIAL.json...".into());
    }
    println!("| credential | JSON bytes (JCS) | zlib bytes | QR characters | L | M | Q |");
    println!("|---|---:|---:|---:|---|---|---|");
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{f}: {e}"))?;
        let doc: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{f}: {e}"))?;
        let e = hutong_credential::barcode::encode_measured(&doc)?;
        assert_eq!(hutong_credential::barcode::decode(&e.text)?, doc);
        let qr = |level| match QrCode::with_error_correction_level(&e.text, level) {
            Ok(c) => match c.version() {
                Version::Normal(v) => format!("v{v}, {}×{}", c.width(), c.width()),
                Version::Micro(v) => format!("micro {v}"),
            },
            Err(err) => format!("does not fit ({err:?})"),
        };
        println!(
            "| {f} | {} | {} | {} | {} | {} | {} |",
            e.json_bytes,
            e.deflated_bytes,
            e.text.len(),
            qr(EcLevel::L),
            qr(EcLevel::M),
            qr(EcLevel::Q),
        );
    }
    Ok(())
}
