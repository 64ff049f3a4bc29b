//! The query page and the result pages of the two lookups.
//!
//! Privacy of addresses and QR codes: both queries are POST forms, so that neither a number
//! (which may be the holder's ID number) nor a name nor an ID number sits in an address, a
//! browser history or a QR code. A result is shared by a share code that its holder mints from
//! their own result (`/s/{code}`, `crate::handlers::share`): the code's address is the only
//! thing a QR code carries. Result pages are sent with `Cache-Control: no-store` and
//! `Referrer-Policy: no-referrer`. Numbers that embed the holder's ID number (`mem`
//! special-operation certificates, `samr` items) are shown masked.

use maud::{Markup, html};

use hutong_core::Status;
use hutong_core::verify::Verdict;

use crate::pages::{Lang, layout};
use crate::state::{DemoHolder, DemoSample};
use crate::views::{CertificateResult, LookupAnswer, PublicEntry};

/// Which of the query page's two forms something is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// By certificate number and name.
    Number,
    /// All of a holder's certificates, by ID number and name.
    Holder,
}

/// What a person typed into a form, to fill it in again after bad input. An ID number is
/// never put back, nor a certificate number that embeds one: the page would carry it.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    pub number: String,
    pub name: String,
    pub holder_name: String,
    /// Something typed was left out because it is, or embeds, an ID number.
    pub withheld: bool,
}

impl Typed {
    /// What was typed into the number form; the number only when it embeds no ID number.
    pub fn number_form(number: Option<&str>, name: Option<&str>) -> Typed {
        let number = number.unwrap_or("").trim();
        let embeds_id = matches!(
            hutong_core::number::mask_id_numbers(&hutong_core::number::normalize(number)),
            std::borrow::Cow::Owned(_)
        ) || matches!(
            hutong_core::number::mask_id_numbers(number),
            std::borrow::Cow::Owned(_)
        );
        Typed {
            number: if embeds_id {
                String::new()
            } else {
                number.to_string()
            },
            name: name.unwrap_or("").trim().to_string(),
            holder_name: String::new(),
            withheld: embeds_id,
        }
    }

    /// What was typed into the holder form: the name; the ID number never.
    pub fn holder_form(name: Option<&str>, id_typed: bool) -> Typed {
        Typed {
            holder_name: name.unwrap_or("").trim().to_string(),
            withheld: id_typed,
            ..Typed::default()
        }
    }
}

/// A problem with what was typed into one of the forms, in the page's language.
#[derive(Debug, Clone)]
pub struct FormProblem {
    pub which: Which,
    pub text: String,
}

/// The query page: by number and name, or by ID number and name.
pub fn query_page(
    lang: Lang,
    demo: bool,
    samples: &[(DemoSample, Option<Status>)],
    holder: Option<&DemoHolder>,
    problem: Option<&FormProblem>,
    typed: &Typed,
) -> Markup {
    let body = html! {
        h1 { (lang.t("证书查询", "Verify a certificate")) }
        p.muted { (lang.t(
            "查询应急管理、住房城乡建设、市场监管和人力资源社会保障部门颁发的职业技能证书是否真实、今日是否有效、是否由登记的发证机构颁发。",
            "Check whether a vocational certificate of Emergency Management, Housing and Construction, Market Regulation or Human Resources and Social Security is genuine, valid today and from a registered issuer."
        )) }
        div.forms {
            (number_form(lang, problem.filter(|p| p.which == Which::Number), typed))
            (holder_form(lang, problem.filter(|p| p.which == Which::Holder), typed))
        }
        @if demo && !samples.is_empty() {
            h2 { (lang.t("演示证书，点击试查", "Demo certificates to try")) }
            div.scroll { table #samples {
                thead { tr {
                    th { (lang.t("状态", "Status")) }
                    th { (lang.t("证书编号", "Number")) }
                    th { (lang.t("姓名", "Name")) }
                } }
                tbody {
                    @for (s, status) in samples {
                        tr {
                            td { (status.map(|st| lang.t(st.name_zh(), st.name_en())).unwrap_or("—")) }
                            td { form.inline method="post" action=(lang.link("/verify/result")) {
                                input type="hidden" name="number" value=(s.number);
                                input type="hidden" name="name" value=(s.name);
                                input type="hidden" name="kind" value=(s.kind);
                                button.link type="submit" { code { (s.number) } }
                            } }
                            td { (s.name) }
                        }
                    }
                }
            } }
            @if let Some(h) = holder {
                h3 { (lang.t("按身份证号试查一位演示持证人的全部证书", "All certificates of a demo holder, by ID number")) }
                form.inline method="post" action=(lang.link("/holder/result")) {
                    input type="hidden" name="id" value=(h.id);
                    input type="hidden" name="name" value=(h.name);
                    button.link #demo-holder type="submit" {
                        code { (hutong_core::number::mask_id_numbers(&h.id)) } " " (h.name)
                    }
                }
            }
            p.muted { (lang.t("以上均为合成的演示数据。", "All of these are synthetic demo data.")) }
        }
    };
    layout(
        lang,
        "/verify",
        lang.t("证书查询", "Verify a certificate"),
        demo,
        body,
    )
}

/// The form by certificate number and name, with its problem and what was typed.
fn number_form(lang: Lang, problem: Option<&FormProblem>, typed: &Typed) -> Markup {
    html! {
        form.card #by-number method="post" action=(lang.link("/verify/result")) {
            h2 { (lang.t("按证书编号查询", "By certificate number")) }
            @if let Some(p) = problem {
                p.banner #problem role="alert" { (lang.t("输入有误：", "Please check: ")) (p.text) }
                @if typed.withheld {
                    p.muted { (lang.t(
                        "所填编号含有公民身份号码，为保护个人信息未回填，请重新输入。",
                        "The number you typed contains a resident ID number, so it is not filled in again: please type it again."
                    )) }
                }
            }
            label for="number" { (lang.t("证书编号", "Certificate number")) }
            input #number name="number" required autocomplete="off" maxlength="60" value=(typed.number)
                placeholder=(lang.t("例如 晋A012008000001", "e.g. 晋A012008000001"));
            label for="name" { (lang.t("持证人姓名", "Holder's name")) }
            input #name name="name" required autocomplete="off" maxlength="60" value=(typed.name);
            button #verify type="submit" { (lang.t("查询", "Verify")) }
        }
    }
}

/// The one-stop query's form: ID number and name. The ID number is never filled in again.
fn holder_form(lang: Lang, problem: Option<&FormProblem>, typed: &Typed) -> Markup {
    html! {
        form.card #by-holder method="post" action=(lang.link("/holder/result")) {
            h2 { (lang.t("按身份证号查询本人全部证书", "All certificates of a person, by ID number")) }
            @if let Some(p) = problem {
                p.banner #problem role="alert" { (lang.t("输入有误：", "Please check: ")) (p.text) }
                @if typed.withheld {
                    p.muted { (lang.t(
                        "为保护个人信息，身份证号不回填，请重新输入。",
                        "To protect personal data the ID number is not filled in again: please type it again."
                    )) }
                }
            }
            label for="hid" { (lang.t("公民身份号码", "Resident ID number")) }
            input #hid name="id" required autocomplete="off" maxlength="30";
            label for="hname" { (lang.t("姓名", "Name")) }
            input #hname name="name" required autocomplete="off" maxlength="60" value=(typed.holder_name);
            button #holder type="submit" { (lang.t("查询", "Look up")) }
            p.muted { (lang.t(
                "身份证号仅用于本次查询，不保存、不记录、不显示在网址中。",
                "The ID number is used for this query only: it is not stored, logged or put in any address."
            )) }
        }
    }
}

/// What a query that found nothing asked for, masked as answers mask it (`粤A0120…`,
/// `张*`, `11************002X`), so that the page can repeat it.
#[derive(Debug, Clone)]
pub struct Searched {
    pub which: Which,
    /// The number (or, for the one-stop query, the ID number), with any ID number masked.
    pub number: String,
    /// The name, masked.
    pub name: Option<String>,
}

impl Searched {
    pub fn number(number: &str, name: Option<&str>) -> Searched {
        let n = hutong_core::number::normalize(number);
        Searched {
            which: Which::Number,
            number: hutong_core::number::mask_id_numbers(&n).into_owned(),
            name: name
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(hutong_core::mask_name),
        }
    }

    pub fn holder(id: &hutong_core::ResidentId, name: &str) -> Searched {
        Searched {
            which: Which::Holder,
            number: hutong_core::number::mask_id_numbers(id.as_str()).into_owned(),
            name: Some(hutong_core::mask_name(name)),
        }
    }
}

/// What a result page shows besides the certificates: above them (a share code's purpose and
/// QR code), below them (the holder's share forms), and, when nothing was found, what was
/// searched for.
#[derive(Default)]
pub struct Extras {
    pub top: Option<Markup>,
    pub bottom: Option<Markup>,
    pub searched: Option<Searched>,
}

/// A result page: the status first, then the certificate, its checks and its history.
pub fn result_page(
    lang: Lang,
    demo: bool,
    path: &str,
    answer: &LookupAnswer<'_>,
    extras: &Extras,
    histories: &[Vec<PublicEntry>],
) -> Markup {
    let title = lang.t("查询结果", "Result");
    let body = html! {
        h1 { (title) }
        @if let Some(top) = &extras.top { (top) }
        @if !answer.found {
            div.status.notfound #status data-status="not-found" {
                div.big { (lang.t("未查到", "Not found")) }
                @if let Some(s) = &extras.searched {
                    p #searched {
                        (lang.t("查询的是：", "You searched for: "))
                        @match s.which {
                            Which::Number => { (lang.t("证书编号 ", "certificate number ")) }
                            Which::Holder => { (lang.t("公民身份号码 ", "resident ID number ")) }
                        }
                        strong { (s.number) }
                        @if let Some(n) = &s.name { (lang.t("，姓名 ", ", name ")) strong { (n) } }
                        (lang.t("（已隐去部分字符）", " (partly masked)"))
                    }
                }
                p { (lang.t(
                    "没有与该编号和姓名（或身份证号）相符的证书。请核对输入；如确信证书存在，请联系发证机构。",
                    "No certificate matches this number and name (or ID number). Check what you typed; if you are sure the certificate exists, contact its issuer."
                )) }
            }
            @if let Some(s) = &extras.searched {
                h2 { (lang.t("重新查询", "Search again")) }
                div.forms {
                    @match s.which {
                        Which::Number => { (number_form(lang, None, &Typed::default())) }
                        Which::Holder => { (holder_form(lang, None, &Typed::default())) }
                    }
                }
            }
        } @else {
            @if answer.certificates.len() > 1 {
                p.muted { (answer.certificates.len()) (lang.t(" 张证书", " certificates")) }
            }
            @for (i, r) in answer.certificates.iter().enumerate() {
                (certificate(lang, r, histories.get(i).map(Vec::as_slice).unwrap_or_default()))
            }
        }
        p.muted { (lang.t("状态按北京时间 ", "Statuses as of ")) (answer.as_of) (lang.t(" 计算。", " (China time).")) }
        @if let Some(bottom) = &extras.bottom { (bottom) }
        p { a href=(lang.link("/verify")) { (lang.t("再查一张", "Verify another")) } }
    };
    layout(lang, path, title, demo, body)
}

/// An answer's `data_as_of` (RFC 3339, UTC) as a time in China, to the minute.
fn china_time(rfc3339: &str) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).ok()?;
    Some(
        (t.with_timezone(&chrono::Utc) + chrono::Duration::hours(8))
            .format("%Y-%m-%d %H:%M")
            .to_string(),
    )
}

/// Where to ask: the issuer by its name, with its contact when the register has one.
fn ask_issuer(lang: Lang, r: &CertificateResult<'_>) -> Markup {
    let i = &r.certificate.issuer;
    let name = match lang {
        Lang::Zh => i.name_zh,
        Lang::En => i.name_en,
    };
    html! {
        span.ask {
            @match name {
                Some(n) => {
                    (lang.t("请向发证机构", "Ask the issuer, "))
                    strong { (n) }
                    @match i.contact {
                        Some(c) => { (lang.t("（联系方式：", " (contact: ")) span.contact { (c) } (lang.t("）核实。", "), to confirm.")) }
                        None => { (lang.t("核实。", ", to confirm.")) }
                    }
                }
                None => { (lang.t("请向发证部门核实。", "Confirm with the issuing department.")) }
            }
        }
    }
}

/// The 待确认 legend, beside the item it marks: what the mark means and whom to ask.
fn legend(lang: Lang, r: &CertificateResult<'_>) -> Markup {
    html! {
        span.legend {
            (lang.t("待确认：所依据的政策事实尚未见于官方文本。", "Provisional: the policy fact this rests on is not yet confirmed by an official text. "))
            (ask_issuer(lang, r))
        }
    }
}

fn check_mark(lang: Lang, outcome: &str) -> Markup {
    let (mark, zh, en) = match outcome {
        "pass" => ("✓", "通过", "passed"),
        "fail" => ("✗", "未通过", "failed"),
        _ => ("–", "无法判断", "cannot be judged"),
    };
    html! { span.mark role="img" aria-label=(lang.t(zh, en)) title=(lang.t(zh, en)) { (mark) } }
}

fn certificate(lang: Lang, r: &CertificateResult<'_>, history: &[PublicEntry]) -> Markup {
    let c = &r.certificate;
    let status_class = r.status.map(|s| s.id()).unwrap_or("unknown");
    let status_check = r.checks.iter().find(|ch| ch.id == "status");
    let verdict = r.verdict;
    html! {
        section.card data-kind=(c.kind) {
            // The verdict first, in its colour, then the status: the banner is never green
            // above a check that did not pass (hutong_core::verify::verdict).
            div.status.(verdict.id()) #status data-verdict=(verdict.id()) data-status=(status_class) {
                div.big { (lang.t(verdict.name_zh(), verdict.name_en())) }
                p.state {
                    (lang.t("今日状态：", "Status today: "))
                    strong { (match (r.status_zh, r.status_en) {
                        (Some(zh), Some(en)) => lang.t(zh, en),
                        _ => lang.t("无法判断", "cannot be judged"),
                    }) }
                }
                (verdict_grounds(lang, r))
                @if let Some(ch) = status_check { p { (lang.t(ch.reason_zh, ch.reason_en)) } }
                @if let Some(why) = r.status_reason {
                    p.reason data-reason=(why.id) {
                        strong { (lang.t(&why.name_zh, &why.name_en)) } (lang.t("：", ": ")) (lang.t(&why.basis_zh, &why.basis_en))
                        @if why.provisional { " " span.tag { (lang.t("待确认", "provisional")) } " " (legend(lang, r)) }
                        @else if matches!(r.status, Some(Status::Suspended | Status::Revoked)) { " " (ask_issuer(lang, r)) }
                    }
                } @else if r.status == Some(Status::Revoked) {
                    // Revoked without a recorded reason: said, not left out.
                    p.reason data-reason="unrecorded" {
                        strong { (lang.t("撤销原因", "Why it was revoked")) } (lang.t("：", ": "))
                        (lang.t("发证机构未登记撤销的原因和依据。", "the issuer has not recorded the reason or its legal basis. "))
                        (ask_issuer(lang, r))
                    }
                }
            }
            h2 { (lang.t(&c.kind_name_zh, &c.kind_name_en)) }
            dl.kv {
                dt { (lang.t("证书编号", "Number")) } dd { code { (c.number) } }
                dt { (lang.t("持证人", "Holder")) } dd { (c.holder_name) }
                dt { (lang.t("发证部门", "Department")) } dd { (lang.t(c.department.name_zh, c.department.name_en)) }
                @if let Some(o) = &c.occupation {
                    dt { (lang.t("职业", "Occupation")) } dd { (lang.t(o.name_zh, o.name_en)) " " span.muted { (o.id) } }
                }
                @if let Some(l) = &c.level {
                    dt { (lang.t("等级", "Level")) } dd { (lang.t(l.name_zh, l.name_en)) }
                }
                dt { (lang.t("发证机构", "Issuer")) }
                dd {
                    (lang.t(c.issuer.name_zh.unwrap_or("未登记的发证机构"), c.issuer.name_en.unwrap_or("an issuer not in the register")))
                    @if let Some(region) = &c.issuer.region { " · " (lang.t(region.name_zh, region.name_en)) }
                    " · " (registration(lang, c.issuer.registration))
                    @if let Some(since) = c.issuer.registration_since { (lang.t("，自 ", " since ")) (since) }
                }
                @if let Some(contact) = c.issuer.contact {
                    dt { (lang.t("发证机构联系方式", "Issuer's contact")) } dd.contact { (contact) }
                }
                @if let Some(id) = c.e_licence_id {
                    dt { (lang.t("电子证照标识", "National e-licence ID")) } dd { code.elicence #elicence { (id) } }
                }
                dt { (lang.t("颁发日期", "Issued on")) } dd { (c.issued_on) }
                dt { (lang.t("有效期至", "Valid until")) }
                dd #valid-until { (valid_until(lang, r)) }
                @if let Some(d) = r.review_due_on { dt { (lang.t("复审日期", "Review due")) } dd { (d) } }
                @if let Some(at) = r.data_as_of.and_then(china_time) {
                    dt { (lang.t("数据更新", "Data as of")) }
                    dd #data-as-of data-as-of=[r.data_as_of] {
                        (at) (lang.t("（北京时间），登记处最近一次收到该发证机构的证书变更", " (China time), when the registry last received a change to this issuer's certificates"))
                    }
                }
            }
            @if !r.notes.is_empty() {
                div.notes data-notes=(r.notes.len()) {
                    h2 { (lang.t("用人单位须知", "What employers must know")) }
                    @for n in &r.notes {
                        div.note data-note=(n.id) {
                            p { (lang.t(n.text_zh, n.text_en)) @if n.provisional { " " span.tag { (lang.t("待确认", "provisional")) } } }
                            p.muted {
                                (lang.t("依据：", "Source: ")) (n.source)
                                @if n.provisional { br; (legend(lang, r)) }
                            }
                        }
                    }
                }
            }
            h2 { (lang.t("核验项目", "Checks")) }
            ul.checks {
                @for ch in &r.checks {
                    li.(ch.outcome) data-check=(ch.id) {
                        (check_mark(lang, ch.outcome))
                        strong { (lang.t(ch.name_zh, ch.name_en)) }
                        @if ch.provisional { span.tag { (lang.t("待确认", "provisional")) } }
                        br;
                        span.muted { (lang.t(ch.reason_zh, ch.reason_en)) }
                        @if ch.provisional { br; span.muted { (legend(lang, r)) } }
                    }
                }
            }
            @if !history.is_empty() {
                h2 { (lang.t("登记与变更记录", "Record in the registry")) }
                ol.history data-history=(history.len()) {
                    @for e in history {
                        @let (zh, en) = e.name();
                        li data-change=(e.change) {
                            span.muted { (e.date) } " " (lang.t(zh, en))
                            @if let Some(n) = &e.linked {
                                @if e.change == "issued" {
                                    (lang.t("（换发自 ", " (replacing ")) (n) (lang.t("）", ")"))
                                } @else {
                                    (lang.t("：新证 ", ": new card ")) (n)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The last day of validity, with what makes it no longer count: a revoked certificate never
/// reads "no expiry", and an expired one never shows a later date without saying why.
fn valid_until(lang: Lang, r: &CertificateResult<'_>) -> Markup {
    use hutong_core::lifecycle::Lapse;
    html! {
        @match (r.valid_until, r.status) {
            (Some(d), Some(Status::Revoked)) => {
                (d) (lang.t("（证书已撤销，不再有效）", " (revoked: no longer valid)"))
            }
            (None, Some(Status::Revoked)) => {
                (lang.t("不适用（证书已撤销）", "not applicable (revoked)"))
            }
            (Some(d), Some(Status::Expired)) => {
                (d)
                @match (r.lapse, r.review_due_on, r.expired_on) {
                    (Some(Lapse::ReviewMissed), Some(due), Some(on)) => {
                        (lang.t("（未按期复审：复审应于 ", " (a review was missed: due by "))
                        (due)
                        (lang.t("，证书自 ", "; lapsed on "))
                        (on)
                        (lang.t(" 起失效）", ")"))
                    }
                    _ => { (lang.t("（已届满）", " (ended)")) }
                }
            }
            (Some(d), Some(Status::Suspended)) => {
                (d) (lang.t("（暂扣期间不得从事相应作业）", " (held: the holder may not do the work meanwhile)"))
            }
            (Some(d), _) => (d),
            (None, _) => (lang.t("长期有效", "no expiry")),
        }
    }
}

/// What the verdict rests on, beside the status: the checks that did not pass (the status
/// check speaks in the status line), or those that passed only provisionally.
fn verdict_grounds(lang: Lang, r: &CertificateResult<'_>) -> Markup {
    let names = |with_status: bool, pick: &dyn Fn(&crate::views::CheckView<'_>) -> bool| {
        r.checks
            .iter()
            .filter(|ch| (with_status || ch.id != "status") && pick(ch))
            .map(|ch| lang.t(ch.name_zh, ch.name_en))
            .collect::<Vec<_>>()
            .join(lang.t("、", ", "))
    };
    let failed = names(false, &|ch| ch.outcome == "fail");
    let not_judged = names(false, &|ch| ch.outcome == "not-applicable");
    let provisional = names(true, &|ch| ch.outcome == "pass" && ch.provisional);
    html! {
        @match r.verdict {
            Verdict::NotVerified => {
                @if !failed.is_empty() {
                    p.grounds data-grounds="fail" { (lang.t("未通过：", "Failed: ")) strong { (failed) } }
                }
                @if !not_judged.is_empty() {
                    p.grounds data-grounds="not-applicable" { (lang.t("无法判断：", "Cannot be judged: ")) strong { (not_judged) } }
                }
            }
            Verdict::Attention if !provisional.is_empty() => {
                p.grounds data-grounds="provisional" {
                    (lang.t("待确认：", "Provisional: ")) strong { (provisional) }
                    (lang.t(
                        "——所依据的政策事实尚未见于官方文本。",
                        " — resting on policy facts not yet confirmed by an official text. "
                    ))
                    (ask_issuer(lang, r))
                }
            }
            _ => {}
        }
    }
}

fn registration(lang: Lang, id: &str) -> &'static str {
    match id {
        "registered" => lang.t("已登记", "registered"),
        "suspended" => lang.t("已暂停", "suspended"),
        "removed" => lang.t("已移除", "removed from the register"),
        _ => lang.t("未登记", "not registered"),
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A QR code of `data` as an SVG element, with `label` as its text alternative (an image
/// role, an accessible name and a title).
pub fn qr_svg(data: &str, label: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(176, 176)
        .quiet_zone(true)
        .build();
    // Inline in HTML: without the XML declaration.
    let start = svg.find("<svg")?;
    let label = maud::html! { (label) }.into_string();
    let svg = &svg[start + "<svg".len()..];
    let open_end = svg.find('>')?;
    Some(format!(
        "<svg role=\"img\" aria-label=\"{label}\"{}><title>{label}</title>{}",
        &svg[..open_end],
        &svg[open_end + 1..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A certificate of `kind` verified under the shipped policy, as the result page shows it.
    fn result_html(kind: &str, number: &str, lang: Lang) -> String {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
        let policy = hutong_core::Policy::load_dir(&dir).unwrap();
        let id = hutong_core::ResidentId::parse("11010519491231002X").unwrap();
        let issued: hutong_core::Day = "2024-03-01".parse().unwrap();
        let cert = hutong_core::Certificate {
            number: number.into(),
            kind: kind.into(),
            holder_key: hutong_core::HolderSecret::from_bytes([9; 32]).key_for(&id),
            holder_name: "张小明".into(),
            occupation: None,
            level: None,
            issuer: "unregistered.issuer".into(),
            issued_on: issued,
            first_issued_on: issued,
            valid_until: Some("2030-03-01".parse().unwrap()),
            last_review_on: None,
            state: hutong_core::AdminState::Active,
        };
        let day = "2025-01-01".parse().unwrap();
        let verification = hutong_core::verify::verify(&policy, &cert, None, day);
        let found = [crate::views::Verified {
            cert,
            issuer: None,
            verification,
            e_licence_id: None,
            data_as_of: None,
        }];
        let answer = LookupAnswer::new(&policy, day, &found);
        result_page(
            lang,
            false,
            "/verify/result",
            &answer,
            &Extras::default(),
            &[],
        )
        .into_string()
    }

    #[test]
    fn r8_23_mem_results_show_the_six_month_practical_exam_note_in_both_languages() {
        // Each language's page in its own language (issue 12: English pages are English
        // throughout).
        for lang in [Lang::Zh, Lang::En] {
            let html = result_html("mem.electrical.low-voltage", "T11010519491231002X", lang);
            assert!(html.contains("data-note=\"mem.away-six-months\""), "{html}");
            assert_eq!(
                html.contains("离开特种作业岗位6个月以上的"),
                lang == Lang::Zh,
                "{html}"
            );
            assert_eq!(
                html.contains("away from special operations for six months or more"),
                lang == Lang::En
            );
            assert!(html.contains("第三十二条"));
        }
        let html = result_html(
            "mohurd.construction.electrician",
            "晋A012024000001",
            Lang::Zh,
        );
        assert!(!html.contains("data-note="), "{html}");
    }

    #[test]
    fn qr_codes_are_svg() {
        let svg = qr_svg(
            "https://h.example/verify/result?number=X&name=Y",
            "二维码 \"x\"",
        )
        .unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
        // The text alternative, escaped.
        assert!(
            svg.starts_with("<svg role=\"img\" aria-label=\"二维码 &quot;x&quot;\"")
                && svg.contains("<title>二维码 &quot;x&quot;</title>"),
            "{svg}"
        );
    }
}
