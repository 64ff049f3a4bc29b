//! Server-rendered pages: Chinese first, English on `?lang=en`, readable on a phone, no script.

pub mod advice;
pub mod directory;
pub mod exam;
pub mod issuers;
pub mod lookup;
pub mod oversight;
pub mod print;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// The page language, from `?lang=`; Chinese unless English is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// Picks the text for this language.
    pub fn t<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// `path` with this language's query parameter (none for Chinese, the default).
    pub fn link(self, path: &str) -> String {
        match self {
            Lang::Zh => path.to_string(),
            Lang::En if path.contains('?') => format!("{path}&lang=en"),
            Lang::En => format!("{path}?lang=en"),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let en = q.split('&').any(|kv| kv == "lang=en");
        Ok(if en { Lang::En } else { Lang::Zh })
    }
}

const STYLE: &str = r#"
:root{--fg:#1d2330;--muted:#5b6475;--line:#dde2ea;--bg:#f6f7f9;--accent:#a4262c;--ok:#1b7f3b;--warn:#a15c00;--bad:#b3261e}
*{box-sizing:border-box}body{margin:0;font:16px/1.6 system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;color:var(--fg);background:var(--bg)}
header{background:#fff;border-bottom:3px solid var(--accent)}header .in,main,footer{max-width:60rem;margin:0 auto;padding:.75rem 1rem}
header .in{display:flex;flex-wrap:wrap;align-items:baseline;gap:.5rem 1.25rem}header a.brand{font-weight:700;font-size:1.25rem;color:var(--accent);text-decoration:none}
nav{display:flex;flex-wrap:wrap;gap:.2rem 1rem}nav a{color:var(--fg);white-space:nowrap;word-break:keep-all}nav a.lang{color:var(--muted)}
h1{font-size:1.5rem;margin:.5rem 0 1rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
.card{background:#fff;border:1px solid var(--line);border-radius:.5rem;padding:1rem;margin:1rem 0}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:.9rem}.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:var(--muted);font-size:.9rem}.banner{background:#fff7e0;border:1px solid #f0d58a;padding:.5rem 1rem;border-radius:.5rem}
.scroll{overflow-x:auto}footer{color:var(--muted);font-size:.85rem}.grant.ended{color:var(--muted)}
form label{display:block;margin:.5rem 0 .2rem;font-weight:600}
input,select{width:100%;font:inherit;padding:.55rem .6rem;border:1px solid #b8c0cc;border-radius:.35rem;background:#fff}
button{margin-top:.8rem;font:inherit;font-weight:600;padding:.6rem 1.4rem;border:0;border-radius:.35rem;background:var(--accent);color:#fff;cursor:pointer}
.forms{display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(17rem,1fr))}.forms .card{margin:0}
.status{border-radius:.5rem;padding:1rem;margin:1rem 0;color:#fff}.status .big{font-size:1.8rem;font-weight:700;line-height:1.2}
.status.verified{background:var(--ok)}.status.attention{background:var(--warn)}.status.not-verified{background:var(--bad)}.status p{margin:.35rem 0}.status .state{font-size:1.1rem}
.status.notfound{background:#5b6475}
ul.checks{list-style:none;padding:0;margin:0}ul.checks li{padding:.45rem 0;border-bottom:1px solid var(--line)}
.mark{display:inline-block;min-width:1.6rem;font-weight:700}.pass .mark{color:var(--ok)}.fail .mark{color:var(--bad)}.not-applicable .mark{color:var(--muted)}
.tag{display:inline-block;font-size:.75rem;padding:0 .4rem;border-radius:.3rem;background:#fff0c2;color:#6b4e00;margin-left:.3rem;vertical-align:middle}
.qr{display:flex;flex-wrap:wrap;gap:1rem;align-items:center}.qr svg{width:11rem;height:11rem;flex:none}
form.inline{display:inline;margin:0}form.inline button{margin:0 0 0 .5rem;padding:.2rem .7rem;font-size:.9rem}
button.link{background:none;color:var(--accent);padding:0;margin:0;font-weight:400;text-decoration:underline}
#samples td:last-child,#samples th:last-child{white-space:nowrap}#samples code{word-break:break-all}
p.code{font:700 1.4rem/1.3 ui-monospace,monospace;letter-spacing:.05em;word-break:break-all}ul.shares{padding-left:1.2rem}ul.shares li{margin:.4rem 0}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;overflow-wrap:anywhere}
@media (max-width:30rem){dl.kv{grid-template-columns:1fr}dl.kv dd{margin-bottom:.4rem}}
.legend{color:var(--muted);font-size:.85rem}.status .legend,.status .ask{color:#fff}
form.filter{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.5rem 0 1rem}form.filter label{margin:0}form.filter input{flex:1 1 12rem;width:auto}form.filter button{margin:0}
td .note,td .source{display:block;font-size:.8rem;color:var(--muted);margin-top:.2rem;overflow-wrap:anywhere}
@media (max-width:40rem){table.stack thead{display:none}table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:100%}table.stack tr{border-bottom:2px solid var(--line);padding:.4rem 0}table.stack td{border:0;padding:.15rem .5rem}table.stack td[data-label]::before{content:attr(data-label) "：";color:var(--muted);font-size:.85rem;font-weight:600}html:lang(en) table.stack td[data-label]::before{content:attr(data-label) ": "}}
fieldset{border:0;padding:0;margin:.75rem 0 0;min-width:0}legend{font-weight:700;padding:0}h3{font-size:1.05rem;margin:1.25rem 0 .25rem}
.cert{border:0;border-top:1px solid var(--line);padding:.6rem 0 .2rem;margin:0}.pair{display:grid;gap:0 .5rem;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr))}div.cert:has(>label.check input:not(:checked))>.pair{display:none}.pair input[type=date]{padding-left:.4rem;padding-right:.3rem}
.advice-answer .card>h2:first-child,.advice-forms .card>h2:first-child{margin-top:0}
form label.check{display:flex;gap:.6rem;align-items:flex-start;font-weight:600;margin:.35rem 0}form label.check input{width:1.2rem;height:1.2rem;flex:none;margin:.2rem 0 0}
fieldset.more label.check{font-weight:400}p.note,p.trust{border-left:4px solid var(--warn);background:#fff7e0;padding:.4rem .75rem;margin:.75rem 0}p.trust[data-basis=registered]{border-color:var(--ok);background:#eef7f0}
#problems ul{margin:.25rem 0 0;padding-left:1.2rem}ul.items{list-style:none;padding:0;margin:0}ul.items>li{border-bottom:1px solid var(--line);padding:.5rem 0}ul.items>li:last-child{border-bottom:0}
.say{margin:.1rem 0;font-weight:600}.say.muted{font-weight:400}details summary{cursor:pointer;color:var(--accent)}details ul{margin:.3rem 0;padding-left:1.2rem}details.group>summary{font-weight:600;font-size:1.05rem}
figure.plot{margin:.5rem 0 1rem}figure.plot svg{width:100%;height:auto;display:block;background:#fff}figure.plot .legend{display:flex;flex-wrap:wrap;gap:.3rem 1rem;font-size:.85rem;margin-top:.3rem}figure.plot .legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:-.05rem}table.figures td.n,table.figures th.n{text-align:right;font-variant-numeric:tabular-nums}table.figures th.n{white-space:nowrap}table.figures td:first-child{overflow-wrap:anywhere}p.error{color:#b3261e;font-weight:600}
p.meta code{font-size:.8rem;overflow-wrap:anywhere}.nowrap{white-space:nowrap}table.considered td:first-child{min-width:7rem}table.considered .st{min-width:4em}table.considered code{overflow-wrap:anywhere;word-break:break-all}.print-only{display:none}
@media print{@page{size:A4;margin:12mm 14mm}body:has(.advice-answer){background:#fff;font-size:11.5pt;line-height:1.4}
body:has(.advice-answer) :is(header,footer),.advice-answer .noprint{display:none}body:has(.advice-answer) main{max-width:none;padding:0}.advice-answer .print-only{display:block}
.advice-answer .card{border:0;border-radius:0;padding:0;margin:.5rem 0}.advice-answer h1{font-size:15pt;margin:.2rem 0 .4rem}.advice-answer h2{font-size:12pt;margin:.6rem 0 .2rem}
.advice-answer ul.items>li{padding:.2rem 0}.advice-answer details>summary{color:var(--fg)}.advice-answer li details{display:none}.advice-answer .group{break-inside:avoid}
.advice-answer :is(p.trust,.tag),body:has(.advice-answer) .banner{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"#;

/// The frame of every page.
pub fn layout(lang: Lang, path: &str, title: &str, demo: bool, body: Markup) -> Markup {
    let other = match lang {
        Lang::Zh => (Lang::En.link(path), "English"),
        Lang::En => (Lang::Zh.link(path), "中文"),
    };
    html! {
        (DOCTYPE)
        html lang=(lang.t("zh-CN", "en")) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (lang.t("互通 职业技能证书查询与互认", "hutong · vocational certificates")) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header { div.in {
                    a.brand href=(lang.link("/")) { "互通 hutong" }
                    nav {
                        a href=(lang.link("/")) { (lang.t("首页", "Home")) }
                        a href=(lang.link("/verify")) { (lang.t("证书查询", "Verify")) }
                        a href=(lang.link("/directory")) { (lang.t("职业资格目录", "Directory")) }
                        a href=(lang.link("/issuers")) { (lang.t("发证机构", "Issuers")) }
                        a href=(lang.link("/advice")) { (lang.t("我的证书能做什么", "What my certificates do")) }
                        a.lang href=(other.0) hreflang=(if lang == Lang::Zh { "en" } else { "zh" }) { (other.1) }
                    }
                } }
                main {
                    @if demo {
                        p.banner { (lang.t("演示数据：本站的证书与人员均为合成数据，不代表真实人员。",
                                           "Demo data: every certificate and person here is synthetic.")) }
                    }
                    (body)
                }
                footer { (lang.t("职业技能证书互通互认 · 一网通查", "Mutual recognition of vocational skill certificates · one-stop query")) }
            }
        }
    }
}
