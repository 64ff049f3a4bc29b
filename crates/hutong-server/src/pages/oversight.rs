//! The regulators' page: the figures of `hutong_core::oversight` as tables and as plots drawn
//! on the server in SVG (no script): certificates issued per month by department, the status mix
//! today, and the reviews falling due week by week.

use maud::{Markup, html};

use hutong_core::oversight::{Figures, Overview, months, week_start};
use hutong_core::policy::Policy;

use super::{Lang, layout};

/// The colours of the departments and statuses in the plots, with a pattern of their own in
/// the legend so that the plot reads without colour too.
const DEPARTMENT_COLOURS: [(&str, &str); 4] = [
    ("mem", "#b3261e"),
    ("mohurd", "#1f5fa8"),
    ("samr", "#2e7d32"),
    ("mohrss", "#8a5a00"),
];

const STATUS_COLOURS: [(&str, &str); 6] = [
    ("valid", "#2e7d32"),
    ("review-due", "#c77700"),
    ("expired", "#757575"),
    ("suspended", "#8a5a00"),
    ("revoked", "#b3261e"),
    ("unknown", "#bdbdbd"),
];

fn colour(table: &[(&str, &'static str)], id: &str) -> &'static str {
    table
        .iter()
        .find(|(k, _)| *k == id)
        .map_or("#555555", |(_, c)| c)
}

/// The form: a regulator's token, typed in and posted (never in an address), and a province.
pub fn form(lang: Lang, demo: bool, error: Option<&str>) -> Markup {
    let title = lang.t("监管统计", "Oversight");
    let body = html! {
        h1 { (title) }
        p { (lang.t("供监管部门查看本辖区的发证、证书状态、复审到期、评价机构和一试多证情况。请输入监管部门令牌。",
                    "For regulators: issuing, certificate statuses, reviews falling due, institutions and exam sessions within their region. Enter a regulator's token.")) }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form method="post" action=(lang.link("/oversight")) {
            label for="token" { (lang.t("令牌", "Token")) }
            input #token type="password" name="token" autocomplete="off" required;
            label for="region" { (lang.t("省份代码（可选，默认本辖区）", "Province code (optional; your own region by default)")) }
            input #region type="text" name="region" inputmode="numeric" maxlength="2";
            button type="submit" { (lang.t("查看", "Show")) }
        }
    };
    layout(lang, "/oversight", title, demo, body)
}

/// The figures of one scope.
pub fn page(lang: Lang, demo: bool, policy: &Policy, o: &Overview, region: Option<&str>) -> Markup {
    let f = o.figures(region);
    let scope = match region.and_then(|r| policy.region(r)) {
        Some(r) => lang.t(&r.name_zh, &r.name_en).to_string(),
        None => lang.t("全国", "The whole country").to_string(),
    };
    let title = lang.t("监管统计", "Oversight");
    let department = |id: &str| {
        policy.department(id).map_or(id.to_string(), |d| {
            lang.t(&d.name_zh, &d.name_en).to_string()
        })
    };
    let kind = |id: &str| {
        policy.kind(id).map_or(id.to_string(), |k| {
            lang.t(&k.title_zh, &k.title_en).to_string()
        })
    };
    let mut issuers: Vec<_> = f.issuers.iter().collect();
    issuers.sort_by(|a, b| (b.1.issued, a.0).cmp(&(a.1.issued, b.0)));
    let sessions = o.sessions(region);
    let body = html! {
        h1 { (title) " · " (scope) }
        p.muted #computed-at data-computed-at=(o.computed_at) {
            (lang.t("统计时间（UTC）：", "Computed at (UTC): ")) (o.computed_at)
            (lang.t("；证书状态按北京时间 ", "; statuses as of ")) (o.as_of)
            (lang.t(" 计算，每 10 分钟更新。", " (China time), computed again every 10 minutes."))
        }
        dl.kv {
            dt { (lang.t("证书总数", "Certificates")) } dd #total { (f.certificates) }
        }
        h2 { (lang.t("近 12 个月发证数（按部门）", "Issued per month, the last 12 months, by department")) }
        (issued_plot(lang, &f, o.as_of, &department))
        h2 { (lang.t("今日证书状态", "Status today")) }
        (status_plot(lang, &f))
        h2 { (lang.t("未来 90 天复审或到期（按周）", "Reviews and renewals falling due in the next 90 days, by week")) }
        (due_plot(lang, &f, o.as_of))
        h2 { (lang.t("按证书类别", "By kind")) }
        table.figures #by-kind {
            thead { tr { th { (lang.t("类别", "Kind")) } th.n { (lang.t("证书数", "Certificates")) } } }
            tbody { @for (k, n) in &f.by_kind { tr data-kind=(k) { td { (kind(k)) } td.n { (n) } } } }
        }
        @if region.is_none() {
            h2 { (lang.t("按省份", "By province")) }
            table.figures #by-province {
                thead { tr { th { (lang.t("省份", "Province")) } th.n { (lang.t("证书数", "Certificates")) } } }
                tbody { @for (p, n) in &f.by_province {
                    tr data-region=(p) {
                        td { (policy.region(p).map_or(lang.t("全国性发证机构", "national issuers").to_string(), |r| lang.t(&r.name_zh, &r.name_en).to_string())) }
                        td.n { (n) }
                    }
                } }
            }
        }
        h2 { (lang.t("发证机构与评价机构（按发证量）", "Issuers and institutions by volume")) }
        p.muted { (lang.t("“超范围被拒”为因超出备案范围或权限而被拒绝的发证请求。", "“Refused” counts requests to issue refused as outside the issuer's rights.")) }
        table.figures #issuers {
            thead { tr { th { (lang.t("机构", "Issuer")) } th.n { (lang.t("证书数", "Issued")) } th.n { (lang.t("超范围被拒", "Refused")) } } }
            tbody { @for (id, n) in issuers.iter().take(50) {
                tr data-issuer=(id) { td { (id) } td.n { (n.issued) } td.n { (n.refused) } }
            } }
        }
        h2 { (lang.t("一试多证考试", "Exam sessions")) }
        @if sessions.is_empty() {
            p.muted { (lang.t("尚无导入成绩的考试。", "No session's results have been imported.")) }
        } @else {
            table.figures #sessions {
                thead { tr {
                    th { (lang.t("考试", "Session")) } th { (lang.t("日期", "Date")) }
                    th.n { (lang.t("考生", "Candidates")) } th.n { (lang.t("通过", "Passed")) }
                    th.n { (lang.t("通过率", "Pass rate")) } th.n { (lang.t("发证", "Issued")) }
                } }
                tbody { @for s in &sessions {
                    tr data-session=(s.id) {
                        td { (s.id) } td { (s.date) } td.n { (s.candidates) } td.n { (s.passed) }
                        td.n { (if s.candidates == 0 { "—".to_string() } else { format!("{:.0}%", 100.0 * s.passed as f64 / s.candidates as f64) }) }
                        td.n { (s.issued) }
                    }
                } }
            }
        }
        h2 { (lang.t("各部门的互认核查", "Recognition checks by departments")) }
        p.muted { (lang.t("以部门令牌调用互认核查（POST /api/v1/recognition/check）的次数；不带令牌的核查不计入。",
                          "Recognition checks made with a department's token (POST /api/v1/recognition/check); checks without a token are not counted.")) }
        table.figures #recognition-checks {
            thead { tr { th { (lang.t("部门", "Department")) } th.n { (lang.t("核查次数", "Checks")) } } }
            tbody { @for (d, n) in &f.recognition_checks { tr data-checker=(d) { td { (department(d)) } td.n { (n) } } } }
        }
    };
    layout(lang, "/oversight", title, demo, body)
}

/// The plot's width and height in its own units; it scales to the page.
const W: f64 = 480.0;
const H: f64 = 200.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 28.0;
/// The labels' size in the plot's units: about 9 pixels on a phone, 13 on a desktop.
const FONT: &str = "13";

fn scale(max: u64) -> u64 {
    // A round top for the axis: 1, 2 or 5 times a power of ten.
    let mut step = 1u64;
    while step * 10 <= max.max(1) {
        step *= 10;
    }
    [1, 2, 5, 10]
        .into_iter()
        .map(|m| m * step)
        .find(|t| *t >= max.max(1))
        .unwrap_or(10 * step)
}

fn axis(top: u64) -> Markup {
    // Four steps, or one per unit when the top is smaller: every label a whole number.
    let steps = top.clamp(1, 4);
    html! {
        @for i in 0..=steps {
            @let y = H - BOTTOM - (H - BOTTOM - 10.0) * i as f64 / steps as f64;
            line x1=(LEFT) x2=(W) y1=(y) y2=(y) stroke="#e0e0e0" {}
            text x=(LEFT - 6.0) y=(y + 4.0) text-anchor="end" font-size=(FONT) { (top * i / steps) }
        }
    }
}

fn issued_plot(
    lang: Lang,
    f: &Figures,
    today: hutong_core::Day,
    department: &dyn Fn(&str) -> String,
) -> Markup {
    let months = months(today);
    let totals: Vec<u64> = months
        .iter()
        .map(|m| f.issued_by_month.get(m).map_or(0, |d| d.values().sum()))
        .collect();
    let top = scale(totals.iter().copied().max().unwrap_or(0));
    let slot = (W - LEFT) / months.len() as f64;
    let departments: Vec<&str> = DEPARTMENT_COLOURS.iter().map(|(d, _)| *d).collect();
    let plot_h = H - BOTTOM - 10.0;
    // Each month's bar, its departments stacked from the axis up: (x, y, height, month,
    // department, count).
    let mut bars = Vec::new();
    for (i, m) in months.iter().enumerate() {
        let x = LEFT + slot * i as f64 + slot * 0.15;
        let mut y = H - BOTTOM;
        for d in &departments {
            let n = f
                .issued_by_month
                .get(m)
                .and_then(|x| x.get(*d))
                .copied()
                .unwrap_or(0);
            if n > 0 {
                let h = plot_h * n as f64 / top as f64;
                y -= h;
                bars.push((x, y, h, m.as_str(), *d, n));
            }
        }
    }
    html! {
        figure.plot {
            svg #issued-plot viewBox=(format!("0 0 {W} {H}")) role="img" aria-label=(lang.t("近 12 个月发证数", "Certificates issued per month")) {
                (axis(top))
                @for (x, y, h, m, d, n) in &bars {
                    rect x=(format!("{x:.1}")) y=(format!("{y:.1}")) width=(format!("{:.1}", slot * 0.7)) height=(format!("{h:.1}")) fill=(colour(&DEPARTMENT_COLOURS, d)) data-month=(m) data-department=(d) data-count=(n) {
                        title { (m) " · " (department(d)) ": " (n) }
                    }
                }
                // Every other month, the year with the first and with January.
                @for (i, m) in months.iter().enumerate().filter(|(i, m)| i % 2 == 0 || m.ends_with("-01")) {
                    text x=(format!("{:.1}", LEFT + slot * i as f64 + slot * 0.5)) y=(H - 10.0) text-anchor="middle" font-size=(FONT) {
                        (if i == 0 || m.ends_with("-01") { &m[2..] } else { &m[5..] })
                    }
                }
            }
            figcaption.legend {
                @for (d, c) in DEPARTMENT_COLOURS {
                    span { i style=(format!("background:{c}")) {} (department(d)) }
                }
            }
        }
    }
}

fn status_plot(lang: Lang, f: &Figures) -> Markup {
    let total: u64 = f.status.values().sum();
    let name = |id: &str| {
        id.parse::<hutong_core::Status>()
            .map_or(lang.t("无法判断", "cannot be judged"), |s| {
                lang.t(s.name_zh(), s.name_en())
            })
    };
    // Each status's share of one bar, left to right: (x, width, status, count).
    let mut parts = Vec::new();
    let mut x = 0.0;
    for (id, _) in STATUS_COLOURS {
        let n = f.status.get(id).copied().unwrap_or(0);
        if n > 0 && total > 0 {
            let w = W * n as f64 / total as f64;
            parts.push((x, w, id, n));
            x += w;
        }
    }
    html! {
        figure.plot {
            svg #status-plot viewBox="0 0 480 32" role="img" aria-label=(lang.t("今日证书状态", "Status today")) {
                @for (x, w, id, n) in &parts {
                    rect x=(format!("{x:.1}")) y="0" width=(format!("{w:.1}")) height="32" fill=(colour(&STATUS_COLOURS, id)) data-status=(id) data-count=(n) {
                        title { (name(id)) ": " (n) }
                    }
                }
            }
            figcaption.legend {
                @for (id, c) in STATUS_COLOURS {
                    @if let Some(n) = f.status.get(id) {
                        span data-status=(id) { i style=(format!("background:{c}")) {} (name(id)) " " (n) }
                    }
                }
            }
        }
    }
}

fn due_plot(lang: Lang, f: &Figures, today: hutong_core::Day) -> Markup {
    let top = scale(f.due_by_week.iter().copied().max().unwrap_or(0));
    let slot = (W - LEFT) / f.due_by_week.len().max(1) as f64;
    let plot_h = H - BOTTOM - 10.0;
    html! {
        figure.plot {
            svg #due-plot viewBox=(format!("0 0 {W} {H}")) role="img" aria-label=(lang.t("未来 90 天到期", "Falling due in 90 days")) {
                (axis(top))
                @for (w, n) in f.due_by_week.iter().enumerate() {
                    @let h = plot_h * *n as f64 / top as f64;
                    @let x = LEFT + slot * w as f64 + slot * 0.15;
                    rect x=(format!("{x:.1}")) y=(format!("{:.1}", H - BOTTOM - h)) width=(format!("{:.1}", slot * 0.7)) height=(format!("{h:.1}")) fill="#c77700" data-week=(w) data-count=(n) {
                        title { (week_start(today, w)) ": " (n) }
                    }
                    @if w % 2 == 0 && w + 1 < f.due_by_week.len() {
                        text x=(format!("{:.1}", x + slot * 0.35)) y=(H - 10.0) text-anchor="middle" font-size=(FONT) { (week_start(today, w).format("%m-%d").to_string()) }
                    }
                }
            }
            figcaption { (lang.t("每周开始日期；含复审到期与有效期届满。", "Weeks by their first day; reviews due and validity ending.")) }
        }
    }
}
