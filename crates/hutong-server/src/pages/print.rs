//! The printable certificate: one A4 page, in Chinese with English beside it, carrying a QR
//! code that verifies offline, and the form a holder reaches it from.
//!
//! The QR code holds the signed credential itself ([`hutong_credential::barcode`]: `HTVC1:`,
//! base45 of zlib of its RFC 8785 JSON), so that anyone can verify the printout with no
//! network (`hutong verify`). The credential carries the holder's name, a masked number and a
//! salted commitment to the ID number, never the ID number itself.
//!
//! [`certificate_page`] takes what it shows (the certificate as a lookup presents it and its
//! signed credential), so that any route that has verified a requester can print: the holder's
//! form (`POST /certificates/print`), and share codes.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::Value;

use hutong_core::date::Day;
use hutong_core::{Policy, Status};
use hutong_credential::CredentialError;
use hutong_credential::barcode;

use crate::pages::lookup::qr_svg;
use crate::pages::{Lang, layout};
use crate::views::CertificateResult;

/// Why a printable page could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("the credential cannot be put in a barcode: {0}")]
    Barcode(#[from] CredentialError),
    #[error("the credential's barcode ({0} characters) does not fit a QR code")]
    TooLarge(usize),
}

/// The style of the printable page: a sheet of A4 on screen, the page itself on paper.
const PRINT_STYLE: &str = r#"
@page{size:A4;margin:12mm 14mm}
:root{--fg:#1d2330;--muted:#5b6475;--line:#dde2ea;--bg:#f6f7f9;--accent:#a4262c;--ok:#1b7f3b;--warn:#a15c00;--bad:#b3261e}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;color:var(--fg);background:var(--bg)}
.bar{max-width:210mm;margin:0 auto;padding:.75rem 1rem;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;align-items:baseline;font-size:14px}
.bar a{color:var(--fg)}
.sheet{background:#fff;max-width:210mm;margin:0 auto 2rem;padding:12mm 14mm;border:1px solid var(--line);box-shadow:0 1px 4px rgba(0,0,0,.08)}
.head{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:baseline;gap:0 1rem;border-bottom:3px solid var(--accent);padding-bottom:2mm;margin-bottom:4mm}
.head .brand{font-weight:700;font-size:18px;color:var(--accent)}.head .what{color:var(--muted);font-size:13px}
.en{color:var(--muted)}
h1{font-size:22px;line-height:1.3;margin:0 0 3mm}h1 .en{display:block;font-size:14px;font-weight:400}
.demo{border:1px solid #f0d58a;background:#fff7e0;padding:1.5mm 3mm;border-radius:1.5mm;font-size:13px;margin:0 0 3mm}
.status{border:2px solid var(--bad);color:var(--bad);border-radius:2mm;padding:2mm 4mm;margin:0 0 4mm}
.status.verified{border-color:var(--ok);color:var(--ok)}.status.attention{border-color:var(--warn);color:var(--warn)}
.status .big{font-size:20px;font-weight:700;line-height:1.3}.status .big .en{color:inherit;font-weight:600;font-size:15px;margin-left:.5em}
.status p{margin:1mm 0 0;color:var(--fg);font-size:13px}.status p .en{display:block}
.body{display:grid;grid-template-columns:1fr 72mm;gap:4mm 6mm;align-items:start}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:1.6mm 4mm;margin:0}
dl.fields dt{font-size:13px;color:var(--muted);line-height:1.35}dl.fields dt .en{display:block;font-size:11px}
dl.fields dd{margin:0;line-height:1.35;overflow-wrap:anywhere}dl.fields dd .en{display:block;font-size:12.5px}
code{font:14px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
figure.qr{margin:0;text-align:center}figure.qr svg{display:block;width:70mm;height:70mm;margin:0 auto}
figure.qr figcaption{font-size:12.5px;line-height:1.35;margin-top:1mm}figure.qr figcaption strong{display:block;font-size:14px}
.foot{margin-top:5mm;border-top:1px solid var(--line);padding-top:2mm;font-size:11.5px;line-height:1.45;color:var(--muted)}
.foot p{margin:0 0 1.2mm}.foot code{font-size:11.5px}
@media (max-width:40rem){.sheet{padding:1rem}.body{grid-template-columns:1fr}dl.fields{grid-template-columns:1fr;gap:0}dl.fields dd{margin-bottom:2mm}figure.qr svg{width:100%;height:auto;max-width:20rem}}
@media print{body{background:#fff;font-size:13.5px}.noprint{display:none}.sheet{border:0;box-shadow:none;padding:0;margin:0;max-width:none}
.status,.demo{-webkit-print-color-adjust:exact;print-color-adjust:exact}.sheet,.body,figure.qr{break-inside:avoid}}
"#;

/// Chinese, then English beside it (once, when a name has no English form of its own).
fn bi(zh: &str, en: &str) -> Markup {
    html! {
        span lang="zh-CN" { (zh) }
        @if en != zh { " " span.en lang="en" { (en) } }
    }
}

/// The text alternative of the printout's QR code.
pub const QR_LABEL: &str = "证书的签名凭证二维码，可离线核验 / QR code of the certificate's signed credential, verifiable offline";

/// The printable page of one certificate: `result` as a lookup presents it (status today,
/// masked number and name), `credential` its signed credential, which the QR code carries;
/// `as_of` is today in China, the day of the status and of printing.
pub fn certificate_page(
    demo: bool,
    as_of: Day,
    result: &CertificateResult<'_>,
    credential: &Value,
) -> Result<Markup, PrintError> {
    let text = barcode::encode(credential)?;
    let svg = qr_svg(&text, QR_LABEL).ok_or(PrintError::TooLarge(text.len()))?;
    let c = &result.certificate;
    let subject = credential.pointer("/credentialSubject/certificate");
    let e_licence = subject
        .and_then(|s| s.get("eLicenceId"))
        .and_then(Value::as_str);
    let institution = subject.and_then(|s| s.get("evaluationInstitution"));
    let status_class = result.status.map(|s| s.id()).unwrap_or("unknown");
    let status_check = result.checks.iter().find(|ch| ch.id == "status");
    let issuer_zh = c.issuer.name_zh.unwrap_or(c.issuer.id);
    let issuer_en = c.issuer.name_en.unwrap_or(c.issuer.id);
    let body = html! {
        div.head {
            span.brand { "互通 hutong" }
            span.what { (bi("职业技能证书 · 可离线核验", "Vocational certificate · verifiable offline")) }
        }
        @if demo {
            p.demo { (bi("演示数据：本证书与持证人均为合成数据，不代表真实人员。",
                         "Demo data: this certificate and its holder are synthetic.")) }
        }
        h1 { span lang="zh-CN" { (c.kind_name_zh) } span.en lang="en" { (c.kind_name_en) } }
        // The verdict first, in its colour, then the status: as on the result page, never a
        // green box over a failed check.
        div.status.(result.verdict.id()) #status data-verdict=(result.verdict.id()) data-status=(status_class) {
            div.big { (bi(result.verdict.name_zh(), result.verdict.name_en())) }
            p.state { @match (result.status_zh, result.status_en) {
                (Some(zh), Some(en)) => (bi(&format!("今日状态：{zh}"), &format!("Status today: {en}"))),
                _ => (bi("今日状态：无法判断", "Status today: cannot be judged")),
            } }
            p { (bi(&format!("{as_of}（北京时间）的状态"), &format!("Status on {as_of} (China time)"))) }
            @if let Some(ch) = status_check { p { (bi(ch.reason_zh, ch.reason_en)) } }
            @if let Some(why) = result.status_reason {
                p.reason data-reason=(why.id) { (bi(&why.name_zh, &why.name_en)) }
            }
        }
        div.body {
            dl.fields {
                dt { (bi("发证部门", "Department")) }
                dd { (bi(c.department.name_zh, c.department.name_en)) }
                @if let Some(o) = &c.occupation {
                    dt { (bi("职业", "Occupation")) }
                    dd { (bi(o.name_zh, o.name_en)) " " code { (o.id) } }
                }
                @if let Some(l) = &c.level {
                    dt { (bi("等级", "Level")) }
                    dd { (bi(l.name_zh, l.name_en)) }
                }
                dt { (bi("证书编号", "Number")) }
                dd { code #number { (c.number) } }
                dt { (bi("持证人", "Holder")) }
                dd #holder { (c.holder_name) }
                @if institution.is_some() {
                    dt { (bi("评价机构", "Evaluation institution")) }
                } @else {
                    dt { (bi("发证机构", "Issuer")) }
                }
                dd {
                    (bi(issuer_zh, issuer_en))
                    span.en {
                        code { (c.issuer.id) }
                        @if let Some(region) = &c.issuer.region { " · " (region.name_zh) " " (region.name_en) }
                        " · " (registration(c.issuer.registration))
                    }
                }
                dt { (bi("颁发日期", "Issued on")) }
                dd { (c.issued_on) }
                dt { (bi("有效期至", "Valid until")) }
                dd { @match (result.valid_until, result.status) {
                    (Some(d), _) => (d),
                    (None, Some(Status::Revoked)) => (bi("不适用（证书已撤销）", "not applicable (revoked)")),
                    (None, _) => (bi("长期有效", "no expiry")),
                } }
                @if let Some(d) = result.review_due_on {
                    dt { (bi("复审日期", "Review due")) }
                    dd { (d) }
                }
                @if let Some(id) = e_licence {
                    dt { (bi("电子证照标识", "National e-licence ID")) }
                    dd { code #elicence { (id) } }
                }
                dt { (bi("打印日期", "Printed on")) }
                dd #printed { (as_of) }
            }
            figure.qr data-barcode=(text) {
                (PreEscaped(svg))
                figcaption {
                    strong { "扫码可离线核验" }
                    span.en lang="en" { "scan to verify offline with " code { "hutong verify" } }
                }
            }
        }
        div.foot {
            p { (bi(
                "二维码内是发证机构签名的电子凭证（W3C 可验证凭证，eddsa-jcs-2022），载有持证人姓名、遮蔽的证书编号和身份证号的加盐承诺，不含身份证号。",
                "The code holds the issuer's signed credential (a W3C Verifiable Credential, eddsa-jcs-2022): the holder's name, the masked number and a salted commitment to the ID number, never the ID number."
            )) }
            p { (bi(
                "核验：将扫得的文本存为文件，运行 hutong verify 文件 --keys keys.json（公钥文件取自登记机构）；签名、密钥、有效期和发证机构逐项核对，无需联网。",
                "To verify: save the scanned text to a file and run hutong verify FILE --keys keys.json (the registry's public keys file); signature, key, validity and issuer are each checked, with no network."
            )) }
            p { (bi(
                "本页状态为打印当日的状态；此后证书可能被暂扣或撤销，请以核验时的状态列表或在线查询为准。",
                "The status is that of the day printed; the certificate may have been suspended or revoked since: check the status lists, or the registry online, when you verify."
            )) }
        }
    };
    let title = format!("{} · {}", c.kind_name_zh, c.kind_name_en);
    Ok(html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · 互通 hutong" }
                style { (PreEscaped(PRINT_STYLE)) }
            }
            body {
                nav.bar.noprint {
                    a href="/certificates/print" { (bi("← 再打印一张", "← Print another")) }
                    span { (bi("用浏览器的打印功能（Ctrl+P）打印本页，纸张选 A4。",
                               "Print this page with your browser (Ctrl+P) on A4 paper.")) }
                }
                main.sheet { (body) }
            }
        }
    })
}

fn registration(id: &str) -> &'static str {
    match id {
        "registered" => "已登记 registered",
        "suspended" => "已暂停 suspended",
        "removed" => "已移除 removed from the register",
        _ => "未登记 not registered",
    }
}

/// The form that leads to a printable certificate: the holder gives the number, the kind, the
/// ID number and the name, as for the credential itself. `problem` is shown above it.
pub fn form_page(lang: Lang, demo: bool, policy: &Policy, problem: Option<&str>) -> Markup {
    let title = lang.t(
        "打印可离线核验的证书",
        "Print a certificate that verifies offline",
    );
    let body = html! {
        h1 { (title) }
        p.muted { (lang.t(
            "本人凭证书编号、身份证号和姓名，生成一页 A4 打印件：中英文对照，带发证机构签名的二维码，任何人可离线核验。",
            "The holder, with the number, the ID number and the name, gets a one-page A4 printout in Chinese and English, with a QR code signed by the issuer that anyone can verify offline."
        )) }
        @if let Some(p) = problem {
            p.banner role="alert" #problem { (p) }
        }
        form.card method="post" action=(lang.link("/certificates/print")) {
            label for="number" { (lang.t("证书编号", "Certificate number")) }
            input #number name="number" required autocomplete="off" maxlength="40";
            label for="kind" { (lang.t("证书种类", "Certificate kind")) }
            select #kind name="kind" required {
                option value="" { (lang.t("请选择", "Choose")) }
                @for d in policy.departments.values() {
                    @let kinds: Vec<_> = policy.kinds.values().filter(|k| k.department == d.id).collect();
                    @if !kinds.is_empty() {
                        optgroup label=(lang.t(&d.name_zh, &d.name_en)) {
                            @for k in kinds {
                                option value=(k.id) { (lang.t(&k.title_zh, &k.title_en)) }
                            }
                        }
                    }
                }
            }
            label for="id_number" { (lang.t("公民身份号码", "Resident ID number")) }
            input #id_number type="password" name="id_number" required autocomplete="off" maxlength="18";
            label for="name" { (lang.t("持证人姓名", "Holder's name")) }
            input #name name="name" required autocomplete="off" maxlength="60";
            button #print type="submit" { (lang.t("生成打印件", "Make the printout")) }
            p.muted { (lang.t(
                "身份证号仅用于核对本人身份，不保存、不记录，也不印在打印件或二维码上。",
                "The ID number only proves who you are: it is not stored or logged, and it is on neither the printout nor its QR code."
            )) }
        }
    };
    layout(lang, "/certificates/print", title, demo, body)
}
