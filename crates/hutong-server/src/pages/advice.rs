//! 我的证书能做什么 / What can my certificates do for me: a worker either looks up their
//! registered certificates (ID number and name, posted, never in an address; or from their own
//! one-stop result, by the page's holder ticket) or ticks the certificates they hold; the answer
//! is the recognition advice in short sentences, grouped by what the worker can do next, with the
//! details folded away. The answer prints as a one-page summary for the receiving department.
//!
//! The form is read by [`Entered`]: every problem names the field as the page labels it, in the
//! page's language, and the form comes back filled in (all but the ID number, which a page never
//! carries).

use std::collections::BTreeMap;

use maud::{Markup, html};

use hutong_core::Policy;
use hutong_core::date::{Day, parse_day};
use hutong_core::ids::{Level, Status};
use hutong_core::policy::Diploma;
use hutong_core::recognition::{Advice, AdviceInput, Basis, Holding, Text, Why};
use hutong_core::verify::HolderQuery;

use super::{Lang, layout};

/// How many skill level certificates the tick form takes.
pub const SKILL_ROWS: usize = 3;

/// The most years of work the form takes, per occupation.
const MAX_YEARS: u32 = 60;

/// One skill level certificate row of the tick form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkillRow {
    pub occupation: String,
    pub level: String,
    pub status: String,
    pub issued: String,
}

impl SkillRow {
    fn is_blank(&self) -> bool {
        self.occupation.is_empty() && self.level.is_empty() && self.issued.is_empty()
    }
}

/// What the worker entered in either form, as typed, to fill the form back in and to build the
/// advice input.
#[derive(Debug, Clone, Default)]
pub struct Entered {
    /// The registered mode (ID number and name, or a holder ticket); else the tick mode.
    pub registered: bool,
    /// Never shown again: a page does not carry an ID number.
    id: String,
    pub name: String,
    /// The holder ticket of the one-stop result page or of an earlier answer.
    pub ticket: Option<String>,
    /// The kinds ticked, in the order given.
    pub held: Vec<String>,
    /// Per kind: the status and the issue date chosen (ticked or not, to fill back in).
    pub status: BTreeMap<String, String>,
    pub issued: BTreeMap<String, String>,
    pub skills: [SkillRow; SKILL_ROWS],
    /// Per occupation code: the years as typed.
    pub experience: BTreeMap<String, String>,
    pub diplomas: Vec<String>,
    pub apprenticeship: bool,
    pub region: String,
}

impl Entered {
    /// Reads the fields of either form: `mode` (`registered` or `ticked`); `id`, `name`,
    /// `ticket`; `hold` (repeated kind ids), `status:<kind>`, `issued:<kind>`;
    /// `skill_occupation_<n>`, `skill_level_<n>`, `skill_status_<n>`, `skill_issued_<n>` for
    /// `n` in 1..=[`SKILL_ROWS`]; `exp:<occupation>`; `diploma` (repeated); `apprenticeship`;
    /// `region`.
    pub fn from_fields(fields: &[(String, String)]) -> Entered {
        let mut e = Entered::default();
        for (name, value) in fields {
            let v = value.trim().to_string();
            match name.as_str() {
                "mode" => e.registered = v == "registered",
                "id" => e.id = v,
                "name" => e.name = v,
                "ticket" if !v.is_empty() => e.ticket = Some(v),
                "hold" if !v.is_empty() && !e.held.contains(&v) => e.held.push(v),
                "diploma" if !v.is_empty() && !e.diplomas.contains(&v) => e.diplomas.push(v),
                "apprenticeship" => e.apprenticeship = !v.is_empty(),
                "region" => e.region = v,
                _ => {
                    if let Some(k) = name.strip_prefix("status:") {
                        e.status.insert(k.to_string(), v);
                    } else if let Some(k) = name.strip_prefix("issued:") {
                        e.issued.insert(k.to_string(), v);
                    } else if let Some(o) = name.strip_prefix("exp:") {
                        e.experience.insert(o.to_string(), v);
                    } else if let Some((field, n)) = name.rsplit_once('_')
                        && let Ok(n) = n.parse::<usize>()
                        && (1..=SKILL_ROWS).contains(&n)
                    {
                        let row = &mut e.skills[n - 1];
                        match field {
                            "skill_occupation" => row.occupation = v,
                            "skill_level" => row.level = v,
                            "skill_status" => row.status = v,
                            "skill_issued" => row.issued = v,
                            _ => {}
                        }
                    }
                }
            }
        }
        e
    }

    /// The holder of the registered mode, when no ticket stands for them. Problems name the
    /// field and never repeat the ID number.
    pub fn holder(&self, lang: Lang) -> Result<HolderQuery, Vec<String>> {
        let mut problems = Vec::new();
        let id_label = lang.t("公民身份号码", "Resident ID number");
        let name_label = lang.t("姓名", "Name");
        if self.id.is_empty() {
            problems.push(field_problem(
                lang,
                id_label,
                lang.t("请填写。", "required."),
            ));
        } else if hutong_core::ResidentId::parse(&self.id).is_err() {
            problems.push(field_problem(
                lang,
                id_label,
                lang.t(
                    "不是有效的18位公民身份号码，请核对（最后一位可能是X）。",
                    "not a valid 18-character resident ID number; check it (the last character may be X).",
                ),
            ));
        }
        if self.name.is_empty() {
            problems.push(field_problem(
                lang,
                name_label,
                lang.t("请填写。", "required."),
            ));
        } else if self.name.chars().count() > 60 || self.name.chars().any(char::is_control) {
            problems.push(field_problem(
                lang,
                name_label,
                lang.t("最多60个字符。", "at most 60 characters."),
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        HolderQuery::parse(Some(&self.id), Some(&self.name)).map_err(|errs| {
            errs.iter()
                .map(|e| {
                    let label = if e.field == "id" {
                        id_label
                    } else {
                        name_label
                    };
                    field_problem(lang, label, lang.t("请核对。", "please check it."))
                })
                .collect()
        })
    }

    /// The advice input the form states (for the registered mode, without holdings: the
    /// registry gives them), or every problem, naming the field, in `lang`.
    pub fn input(
        &self,
        lang: Lang,
        policy: &Policy,
        today: Day,
    ) -> Result<AdviceInput, Vec<String>> {
        let mut problems = Vec::new();
        let mut input = AdviceInput::default();
        if !self.region.is_empty() {
            if policy.region(&self.region).is_some() {
                input.region = Some(self.region.clone());
            } else {
                problems.push(field_problem(
                    lang,
                    lang.t("申请地区", "Where you will apply"),
                    lang.t("请从列表中选择。", "choose one from the list."),
                ));
            }
        }
        for (occ, years) in &self.experience {
            if years.is_empty() {
                continue;
            }
            let Some(o) = policy.occupation(occ) else {
                problems.push(field_problem(
                    lang,
                    lang.t("从业年限", "Years of work"),
                    lang.t("未知的职业。", "unknown occupation."),
                ));
                continue;
            };
            let label = format!(
                "{}{}{}",
                lang.t("从业年限（", "Years of work ("),
                lang.t(&o.name_zh, &o.name_en),
                lang.t("）", ")")
            );
            match years.parse::<u32>() {
                Ok(y) if y <= MAX_YEARS => {
                    input.experience_years.insert(occ.clone(), y);
                }
                _ => problems.push(field_problem(
                    lang,
                    &label,
                    &format!(
                        "{}{MAX_YEARS}{}",
                        lang.t("请填写 0 到 ", "enter whole years from 0 to "),
                        lang.t(" 之间的整数年数。", ".")
                    ),
                )),
            }
        }
        for d in &self.diplomas {
            match d.parse::<Diploma>() {
                Ok(d) => input.diplomas.push(d),
                Err(_) => problems.push(field_problem(
                    lang,
                    lang.t("学历", "Schooling"),
                    lang.t("请从列表中选择。", "choose from the list."),
                )),
            }
        }
        input.apprenticeship = self.apprenticeship;
        if !self.registered {
            for kind in &self.held {
                let Some(k) = policy.kind(kind).filter(|k| !k.skill_level) else {
                    problems.push(field_problem(
                        lang,
                        lang.t("证书", "Certificate"),
                        &format!(
                            "{}{}{}",
                            lang.t("未知的证书种类“", "unknown kind of certificate \""),
                            shown(kind),
                            lang.t("”。", "\".")
                        ),
                    ));
                    continue;
                };
                let name = lang.t(&k.name_zh, &k.name_en);
                let status = self.status.get(kind).map(String::as_str).unwrap_or("");
                let issued = self.issued.get(kind).map(String::as_str).unwrap_or("");
                if let Some(h) = holding(lang, kind, name, status, issued, today, &mut problems) {
                    input.holdings.push(h);
                }
            }
            for (i, row) in self.skills.iter().enumerate() {
                if row.is_blank() {
                    continue;
                }
                let name = format!(
                    "{}{}",
                    lang.t("职业技能等级证书 ", "Skill level certificate "),
                    i + 1
                );
                let occupation = if row.occupation.is_empty() {
                    problems.push(field_problem(
                        lang,
                        &format!("{name}{}", lang.t("：职业", ": occupation")),
                        lang.t("请选择。", "choose one."),
                    ));
                    None
                } else if let Some(o) = policy.occupation(&row.occupation) {
                    Some(o)
                } else {
                    problems.push(field_problem(
                        lang,
                        &format!("{name}{}", lang.t("：职业", ": occupation")),
                        lang.t("请从列表中选择。", "choose one from the list."),
                    ));
                    None
                };
                let level_label = format!("{name}{}", lang.t("：等级", ": level"));
                let level = match (row.level.parse::<Level>(), occupation) {
                    _ if row.level.is_empty() => {
                        problems.push(field_problem(
                            lang,
                            &level_label,
                            lang.t("请选择。", "choose one."),
                        ));
                        None
                    }
                    (Ok(l), Some(o)) if !o.levels.contains(&l) => {
                        problems.push(field_problem(
                            lang,
                            &level_label,
                            &format!(
                                "{}{}{}",
                                lang.t("", "the occupation "),
                                lang.t(&o.name_zh, &o.name_en),
                                lang.t(
                                    "没有这一等级，请重新选择。",
                                    " has no such level; choose another."
                                ),
                            ),
                        ));
                        None
                    }
                    (Ok(l), _) => Some(l),
                    (Err(_), _) => {
                        problems.push(field_problem(
                            lang,
                            &level_label,
                            lang.t("请从列表中选择。", "choose one from the list."),
                        ));
                        None
                    }
                };
                let h = holding(
                    lang,
                    "mohrss.skill-level",
                    &name,
                    &row.status,
                    &row.issued,
                    today,
                    &mut problems,
                );
                if let (Some(mut h), Some(o), Some(l)) = (h, occupation, level) {
                    h.occupation = Some(o.code.clone());
                    h.level = Some(l);
                    input.holdings.push(h);
                }
            }
            if problems.is_empty() && input.holdings.is_empty() {
                problems.push(
                    lang.t("请至少勾选一本证书。", "Tick at least one certificate.")
                        .to_string(),
                );
            }
        }
        if problems.is_empty() {
            Ok(input)
        } else {
            Err(problems)
        }
    }
}

/// A value the worker typed, as a page may show it again: an ID number in it is masked.
fn shown(typed: &str) -> std::borrow::Cow<'_, str> {
    hutong_core::number::mask_id_numbers(typed)
}

/// A problem with the field the page labels `label`.
fn field_problem(lang: Lang, label: &str, what: &str) -> String {
    format!("{label}{}{what}", lang.t("：", ": "))
}

/// One ticked certificate as a holding: its status and issue date checked.
fn holding(
    lang: Lang,
    kind: &str,
    name: &str,
    status: &str,
    issued: &str,
    today: Day,
    problems: &mut Vec<String>,
) -> Option<Holding> {
    let before = problems.len();
    let status = if status.is_empty() {
        Some(Status::Valid)
    } else {
        match status.parse::<Status>() {
            Ok(s) => Some(s),
            Err(_) => {
                problems.push(field_problem(
                    lang,
                    &format!("{name}{}", lang.t("：状态", ": status")),
                    lang.t("请从列表中选择。", "choose one from the list."),
                ));
                None
            }
        }
    };
    let issued_label = format!("{name}{}", lang.t("：发证日期", ": issued on"));
    let issued_on = if issued.is_empty() {
        None
    } else {
        match parse_day(issued) {
            Ok(d) if d > today => {
                problems.push(field_problem(
                    lang,
                    &issued_label,
                    &format!(
                        "{}{today}{}",
                        lang.t("不能晚于今天（", "cannot be after today ("),
                        lang.t("）。", ").")
                    ),
                ));
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                problems.push(field_problem(
                    lang,
                    &issued_label,
                    &format!(
                        "{}{}{}",
                        lang.t("“", "\""),
                        shown(issued),
                        lang.t(
                            "”不是有效日期，请按“年-月-日”填写，例如 2024-05-10。",
                            "\" is not a real date; write it as year-month-day, e.g. 2024-05-10."
                        )
                    ),
                ));
                None
            }
        }
    };
    if problems.len() > before {
        return None;
    }
    let mut h = Holding::new(kind, status?);
    h.issued_on = issued_on;
    Some(h)
}

fn diploma_name(d: Diploma, lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => d.name_zh(),
        Lang::En => match d {
            Diploma::TechnicalSchool => {
                "Diploma of a technical school (or a vocational school training for intermediate skills) in this or a related trade"
            }
            Diploma::SeniorTechnicalSchool => {
                "Diploma of a senior technical school or technician college (or a higher vocational school training for advanced skills)"
            }
            Diploma::College => "College diploma or higher in this or a related field",
            Diploma::PreparatoryTechnician => {
                "Preparatory technician certificate (technician college)"
            }
        },
    }
}

fn status_name(s: Status, lang: Lang) -> &'static str {
    lang.t(s.name_zh(), s.name_en())
}

fn level_name(level: Level, lang: Lang) -> String {
    match lang {
        Lang::Zh => match level.digit() {
            Some(d) => format!(
                "{}（{}级）",
                level.name_zh(),
                match d {
                    '1' => "一",
                    '2' => "二",
                    '3' => "三",
                    '4' => "四",
                    _ => "五",
                }
            ),
            None => level.name_zh().to_string(),
        },
        Lang::En => level.name_en().to_string(),
    }
}

/// A department's name as a sentence uses it: the short Chinese one, or the English one without
/// the country.
fn department_name(policy: &Policy, id: &str, lang: Lang) -> String {
    match policy.department(id) {
        Some(d) => match lang {
            Lang::Zh => d.short_zh.clone(),
            Lang::En => d
                .name_en
                .trim_end_matches(" of the People's Republic of China")
                .to_string(),
        },
        None => id.to_string(),
    }
}

/// A certificate kind's short name (建筑电工), as a sentence uses it.
fn kind_short(policy: &Policy, id: &str, lang: Lang) -> String {
    match policy.kind(id) {
        Some(k) => lang.t(&k.name_zh, &k.name_en).to_string(),
        None => id.to_string(),
    }
}

/// A certificate kind's full name (with its certificate family).
fn kind_full(policy: &Policy, id: &str, lang: Lang) -> String {
    match policy.kind(id) {
        Some(k) => match lang {
            Lang::Zh => k.full_name_zh(),
            Lang::En => k.full_name_en(),
        },
        None => id.to_string(),
    }
}

fn occupation_name<'p>(policy: &'p Policy, code: &'p str, lang: Lang) -> &'p str {
    match policy.occupation(code) {
        Some(o) => lang.t(&o.name_zh, &o.name_en),
        None => code,
    }
}

fn region_name(policy: &Policy, code: &str, lang: Lang) -> String {
    match policy.region(code) {
        Some(r) => lang.t(&r.name_zh, &r.name_en).to_string(),
        None => code.to_string(),
    }
}

fn provisional_tag(lang: Lang) -> Markup {
    html! { " " span.tag { (lang.t("暂定", "provisional")) } }
}

/// The form. `problems` are shown above it when the last submission was wrong; `entered` fills
/// it back in.
pub fn form_page(
    lang: Lang,
    demo: bool,
    policy: &Policy,
    problems: &[String],
    entered: &Entered,
    today: Day,
) -> Markup {
    let kinds: Vec<_> = policy.kinds.values().filter(|k| !k.skill_level).collect();
    // The levels the occupations' standards define, lowest first.
    let mut levels: Vec<Level> = policy
        .occupations
        .values()
        .flat_map(|o| o.levels.iter().copied())
        .collect();
    levels.sort();
    levels.dedup();
    let reg = entered.registered;
    let body = html! {
        h1 { (lang.t("我的证书能做什么", "What can my certificates do for me")) }
        p { (lang.t(
            "依据《关于推进职业技能证书互通互认的通知》：持有有效的电工、焊工类证书，向其他部门申请相应证书时可以免予安全培训或理论考试，并视同取得相应的职业技能等级。下面可查询您已登记的证书，或勾选您持有的证书。",
            "Under the January 2026 notice on mutual recognition, a valid electrician or welder certificate may exempt you from safety training or the theory exam when you apply to another department, and counts as a skill level. Look up your registered certificates, or tick the ones you hold."
        )) }
        @if !problems.is_empty() {
            div.banner #problems role="alert" {
                strong { (lang.t("请检查以下内容：", "Please check:")) }
                ul { @for p in problems { li { (p) } } }
            }
        }
        div.forms.advice-forms {
            form.card method="post" action=(lang.link("/advice/result")) {
                h2 { (lang.t("按身份证号查询我已登记的证书", "From my registered certificates")) }
                input type="hidden" name="mode" value="registered";
                label for="aid" { (lang.t("公民身份号码", "Resident ID number")) }
                input #aid name="id" required autocomplete="off" maxlength="30";
                label for="aname" { (lang.t("姓名", "Name")) }
                input #aname name="name" required autocomplete="off" maxlength="60" value=(if reg { shown(&entered.name) } else { "".into() });
                p.muted { (lang.t(
                    "身份证号仅用于本次查询，不保存、不记录、不显示在网址中。",
                    "The ID number is used for this query only: it is not stored, logged or put in any address."
                )) }
                (experience_fields(lang, policy, "r", if reg { Some(entered) } else { None }))
                button #advice-registered type="submit" { (lang.t("查看", "Show")) }
            }
            form.card method="post" action=(lang.link("/advice/result")) {
                h2 { (lang.t("勾选我持有的证书", "Tick the certificates I hold")) }
                input type="hidden" name="mode" value="ticked";
                p.note { (lang.t(
                    "此方式按您勾选的证书和状态计算，不核对登记记录。",
                    "This way trusts the certificates and statuses you tick: nothing is checked against the register."
                )) }
                @for k in &kinds {
                    @let ticked = !reg && entered.held.contains(&k.id);
                    div.cert {
                        label.check for=(format!("hold-{}", k.id)) {
                            input type="checkbox" name="hold" value=(k.id) id=(format!("hold-{}", k.id)) checked[ticked];
                            span {
                                (lang.t(&k.name_zh, &k.name_en))
                                br;
                                span.muted { (department_name(policy, &k.department, lang)) }
                            }
                        }
                        div.pair {
                            div {
                                label for=(format!("status-{}", k.id)) { (lang.t("状态", "Status")) }
                                (status_select(lang, &format!("status-{}", k.id), &format!("status:{}", k.id),
                                    if reg { None } else { entered.status.get(&k.id).map(String::as_str) }))
                            }
                            div {
                                label for=(format!("issued-{}", k.id)) { (lang.t("发证日期", "Issued on")) }
                                input type="date" id=(format!("issued-{}", k.id)) name=(format!("issued:{}", k.id)) max=(today.to_string())
                                    value=(shown(if reg { "" } else { entered.issued.get(&k.id).map(String::as_str).unwrap_or("") }));
                            }
                        }
                    }
                }
                h3 { (lang.t("职业技能等级证书（可填写多本）", "Skill level certificates (you may enter several)")) }
                @for (i, row) in entered.skills.iter().enumerate() {
                    @let n = i + 1;
                    @let row = if reg { SkillRow::default() } else { row.clone() };
                    fieldset.cert {
                        legend { (lang.t("职业技能等级证书 ", "Skill level certificate ")) (n) }
                        div.pair {
                            div {
                                label for=(format!("skill-occupation-{n}")) { (lang.t("职业", "Occupation")) }
                                select id=(format!("skill-occupation-{n}")) name=(format!("skill_occupation_{n}")) {
                                    option value="" { (lang.t("（未持有）", "(none)")) }
                                    @for o in policy.occupations.values() {
                                        option value=(o.code) selected[row.occupation == o.code] { (lang.t(&o.name_zh, &o.name_en)) }
                                    }
                                }
                            }
                            div {
                                label for=(format!("skill-level-{n}")) { (lang.t("等级", "Level")) }
                                select id=(format!("skill-level-{n}")) name=(format!("skill_level_{n}")) {
                                    option value="" { (lang.t("（请选择）", "(choose)")) }
                                    @for l in &levels {
                                        @if row.level == l.id() {
                                            option value=(l.id()) selected { (lang.t(l.name_zh(), l.name_en())) }
                                        } @else {
                                            option value=(l.id()) { (lang.t(l.name_zh(), l.name_en())) }
                                        }
                                    }
                                }
                            }
                            div {
                                label for=(format!("skill-status-{n}")) { (lang.t("状态", "Status")) }
                                (status_select(lang, &format!("skill-status-{n}"), &format!("skill_status_{n}"), Some(row.status.as_str())))
                            }
                            div {
                                label for=(format!("skill-issued-{n}")) { (lang.t("发证日期", "Issued on")) }
                                input type="date" id=(format!("skill-issued-{n}")) name=(format!("skill_issued_{n}")) max=(today.to_string()) value=(shown(&row.issued));
                            }
                        }
                    }
                }
                (experience_fields(lang, policy, "t", if reg { None } else { Some(entered) }))
                button #advice-ticked type="submit" { (lang.t("查看", "Show")) }
            }
        }
    };
    layout(
        lang,
        "/advice",
        lang.t("我的证书能做什么", "What can my certificates do"),
        demo,
        body,
    )
}

/// The fields both modes share: years of work per occupation, schooling, apprenticeship and the
/// region. `p` keeps the ids of the two forms apart.
fn experience_fields(lang: Lang, policy: &Policy, p: &str, entered: Option<&Entered>) -> Markup {
    let has_diploma = |d: Diploma| entered.is_some_and(|e| e.diplomas.iter().any(|x| x == d.id()));
    let region = entered.map(|e| e.region.as_str()).unwrap_or("");
    html! {
        fieldset.more {
            legend { (lang.t("从业年限（整年，可不填）", "Years of work (whole years, optional)")) }
            div.pair {
                @for o in policy.occupations.values() {
                    div {
                        label for=(format!("{p}-exp-{}", o.code)) { (lang.t(&o.name_zh, &o.name_en)) }
                        input id=(format!("{p}-exp-{}", o.code)) type="number" min="0" max=(MAX_YEARS) inputmode="numeric"
                            name=(format!("exp:{}", o.code)) value=(shown(entered.and_then(|e| e.experience.get(&o.code)).map(String::as_str).unwrap_or("")));
                    }
                }
            }
        }
        fieldset.more {
            legend { (lang.t("学历与学徒（可不选）", "Schooling and apprenticeship (optional)")) }
            @for d in Diploma::ALL {
                label.check for=(format!("{p}-diploma-{}", d.id())) {
                    input type="checkbox" name="diploma" value=(d.id()) id=(format!("{p}-diploma-{}", d.id())) checked[has_diploma(d)];
                    span { (diploma_name(d, lang)) }
                }
            }
            label.check for=(format!("{p}-apprenticeship")) {
                input type="checkbox" name="apprenticeship" value="yes" id=(format!("{p}-apprenticeship")) checked[entered.is_some_and(|e| e.apprenticeship)];
                span { (lang.t("已完成本职业的学徒培训", "I completed an apprenticeship in the occupation")) }
            }
        }
        label for=(format!("{p}-region")) { (lang.t("申请地区（可选）", "Where you will apply (optional)")) }
        select id=(format!("{p}-region")) name="region" {
            option value="" { (lang.t("不限", "Any")) }
            @for r in policy.regions.values() {
                option value=(r.code) selected[region == r.code] { (lang.t(&r.name_zh, &r.name_en)) }
            }
        }
    }
}

fn status_select(lang: Lang, id: &str, name: &str, chosen: Option<&str>) -> Markup {
    let chosen = chosen.filter(|c| !c.is_empty()).unwrap_or("valid");
    html! {
        select id=(id) name=(name) {
            @for s in Status::ALL {
                option value=(s.id()) selected[chosen == s.id()] { (status_name(s, lang)) }
            }
        }
    }
}

/// Who the answer is for.
pub enum Who<'a> {
    /// The tick mode: the statuses are the worker's word.
    Ticked,
    /// Registered certificates: the masked name, how many were found, and the ticket that lets
    /// the page ask again with more details.
    Registered {
        name: &'a str,
        certificates: usize,
        ticket: &'a str,
    },
}

/// The answer: who and when, then what the worker can do next, grouped, in short sentences,
/// with the grounds folded away; then the certificates considered. It prints as a one-page
/// summary with the date and the policy version.
pub fn result_page(
    lang: Lang,
    demo: bool,
    policy: &Policy,
    advice: &Advice<'_>,
    input: &AdviceInput,
    who: &Who<'_>,
    entered: &Entered,
) -> Markup {
    let apply: Vec<_> = advice
        .applications
        .iter()
        .filter(|a| !a.already_held)
        .collect();
    let held_targets: Vec<_> = advice
        .applications
        .iter()
        .filter(|a| a.already_held)
        .collect();
    let body = html! {
        div.advice-answer {
        p.print-only.print-head {
            strong { "互通 hutong · " (lang.t("证书互通互认结果摘要（供受理部门参考）", "Mutual recognition summary, for the receiving department")) }
        }
        h1 { (lang.t("我的证书能做什么", "What can my certificates do for me")) }
        p.meta #meta data-policy=(advice.policy) {
            (lang.t("截至 ", "As of ")) (advice.as_of.to_string())
            @if let Some(r) = &advice.region { " · " (lang.t("申请地区：", "applying in ")) (region_name(policy, r, lang)) }
            @if let Who::Registered { name, certificates, .. } = who {
                " · " (name) " · " (certificates) (lang.t(" 本已登记证书", " registered certificates"))
            }
            br;
            (lang.t("政策版本 ", "Policy version ")) code { (advice.policy) }
        }
        @match who {
            Who::Ticked => p.trust #trust data-basis="ticked" { (lang.t(
                "本结果按您勾选的证书和状态计算，本站未核对登记记录。向受理部门申请时，请出示证书原件或登记查询结果。",
                "This answer trusts the certificates and statuses you ticked: none of it was checked against the register. When you apply, show the receiving department the certificates themselves or their registered result."
            )) },
            Who::Registered { .. } => p.trust #trust data-basis="registered" { (lang.t(
                "本结果依据登记在册的证书及其今日状态。",
                "This answer rests on the registered certificates and their status today."
            )) },
        }

        section.card.group #apply {
            h2 { (lang.t("申请其他部门的证书，可以免予部分培训或考试", "Apply to another department, with exemptions")) }
            @if apply.is_empty() {
                p.say { (lang.t(
                    "您的证书目前不能在其他部门获得免予培训或考试。",
                    "Your certificates do not currently exempt you from training or exams elsewhere."
                )) }
            }
            ul.items {
                @for a in &apply {
                    @let exemptions: Vec<&str> = a.exemptions.iter().map(|e| lang.t(e.name_zh(), e.name_en())).collect();
                    li data-target=(a.target) data-rules=(a.rules.join(" ")) {
                        p.say {
                            @match lang {
                                Lang::Zh => { "向" (department_name(policy, &a.department, lang)) "申请" (kind_short(policy, &a.target, lang)) "证书时，可以" (exemptions.join("、")) "。" }
                                Lang::En => { "When you apply to the " (department_name(policy, &a.department, lang)) " for " (kind_short(policy, &a.target, lang)) ", you may be " (exemptions.join(" and ")) "." }
                            }
                            @if a.provisional { (provisional_tag(lang)) }
                        }
                        details {
                            summary { (lang.t("依据与说明", "Why, and who decides")) }
                            ul {
                                @for g in a.grounds.iter() {
                                    li data-rule=(g.rule) {
                                        (lang.t("依据您持有的", "Because you hold ")) (kind_full(policy, &g.held, lang))
                                        @if let Some(n) = &g.number { (lang.t("（编号 ", " (number ")) code { (n.to_string()) } (lang.t("）", ")")) }
                                        (lang.t("。", "."))
                                    }
                                }
                                li { (lang.t("“可以免予”是受理部门可以准予的事项，是否准予由受理部门决定。", "\"May be exempted\" is for the department to grant; it decides.")) }
                                @if a.provisional { li { (provisional_note(lang)) } }
                                @for n in &a.regional_exceptions {
                                    li data-exception=(n.exception) { (lang.t("注意：在", "Note: in ")) (region_name(policy, &n.region, lang)) (lang.t("申请时，当地另有特别规定，结果可能不同。", " a local exception changes this; the answer may differ there.")) }
                                }
                            }
                        }
                    }
                }
                @for a in &held_targets {
                    li data-target=(a.target) data-rules=(a.rules.join(" ")) data-already-held="true" {
                        p.say.muted {
                            (lang.t("您已持有", "You already hold ")) (kind_short(policy, &a.target, lang))
                            (lang.t("证书，无需再申请。", "; no need to apply for it."))
                        }
                    }
                }
            }
        }

        @if !advice.next_levels.is_empty() {
            section.card.group #next-levels {
                h2 { (lang.t("申报更高的职业技能等级", "Apply for a higher skill level")) }
                ul.items {
                    @for n in &advice.next_levels {
                        @let occ = lang.t(&n.occupation_zh, &n.occupation_en);
                        li data-occupation=(n.occupation) data-level=(n.level.id()) data-rules=(n.rules.join(" ")) data-conditions=(n.conditions.join(" ")) {
                            p.say {
                                @match (lang, n.eligible, n.eligible_from) {
                                    (Lang::Zh, true, _) => { (occ) "：现在可以申报" (level_name(n.level, lang)) "。" }
                                    (Lang::Zh, false, Some(d)) => { (occ) "：自 " (d.to_string()) " 起可以申报" (level_name(n.level, lang)) "。" }
                                    (Lang::Zh, false, None) => { (occ) "：目前还不能申报" (level_name(n.level, lang)) "。" }
                                    (Lang::En, true, _) => { (occ) ": you may apply for " (level_name(n.level, lang)) " now." }
                                    (Lang::En, false, Some(d)) => { (occ) ": you may apply for " (level_name(n.level, lang)) " from " (d.to_string()) "." }
                                    (Lang::En, false, None) => { (occ) ": you cannot yet apply for " (level_name(n.level, lang)) "." }
                                }
                                @if n.provisional { (provisional_tag(lang)) }
                            }
                            details {
                                summary { (lang.t("条件与说明", "Conditions and assumptions")) }
                                ul {
                                    li { (lang.t("您目前的等级：", "Your level now: ")) (level_name(n.current_level, lang))
                                        (match n.basis { Basis::Held => lang.t("（所持证书）", " (the certificate you hold)"), Basis::Deemed => lang.t("（视同取得）", " (deemed)") }) }
                                    li { (lang.t("满足下列任一条件即可申报：", "Any one of these conditions is enough:")) }
                                    @for c in &n.details {
                                        li.condition data-condition=(c.condition) data-met=(c.met.to_string()) {
                                            (condition_text(policy, &n.occupation, &c.condition, &c.text_zh, lang)) " — "
                                            @match (c.met, c.met_from) {
                                                (true, _) => strong { (lang.t("已满足", "met")) },
                                                (false, Some(d)) => { (lang.t("预计 ", "expected from ")) (d.to_string()) (lang.t(" 起满足", "")) },
                                                (false, None) => { (lang.t("未满足", "not met")) },
                                            }
                                        }
                                    }
                                    @if n.eligible_from.is_none() && !n.eligible {
                                        li { (lang.t("按您所填的经历无法推算满足条件的日期；补充从业年限、学历后可重新查看。", "No date can be foreseen from what you entered; add your years of work or schooling and ask again.")) }
                                    }
                                    @for a in assumption_lines(policy, n, lang) { li { (a) } }
                                    @if n.provisional { li { (provisional_note(lang)) } }
                                }
                            }
                        }
                    }
                }
            }
        }

        @if !advice.deemed_levels.is_empty() {
            section.card.group #deemed {
                h2 { (lang.t("视同取得的职业技能等级", "Skill levels you are deemed to have")) }
                ul.items {
                    @for d in &advice.deemed_levels {
                        @let occ = lang.t(&d.occupation_zh, &d.occupation_en);
                        li data-occupation=(d.occupation) data-level=(d.level.id()) data-rules=(d.rules.join(" ")) data-counts=(d.counts.to_string()) {
                            p.say {
                                @match (lang, d.counts) {
                                    (Lang::Zh, true) => { "您视同取得" (occ) "职业" (level_name(d.level, lang)) "。" }
                                    (Lang::Zh, false) => { "您已持有" (occ) "职业" (d.held_level.map(|l| level_name(l, lang)).unwrap_or_default()) "证书，以所持等级为准。" }
                                    (Lang::En, true) => { "You are deemed to have reached " (level_name(d.level, lang)) " as " (occ) "." }
                                    (Lang::En, false) => { "You hold a " (occ) " certificate at " (d.held_level.map(|l| level_name(l, lang)).unwrap_or_default()) ", which counts." }
                                }
                                @if d.provisional && d.counts { (provisional_tag(lang)) }
                            }
                            details {
                                summary { (lang.t("依据", "Why")) }
                                ul {
                                    @for g in d.grounds.iter() {
                                        li data-rule=(g.rule) {
                                            (lang.t("依据您持有的", "Because you hold ")) (kind_full(policy, &g.held, lang))
                                            @if let Some(n) = &g.number { (lang.t("（编号 ", " (number ")) code { (n.to_string()) } (lang.t("）", ")")) }
                                            (lang.t("，视同", ", deemed ")) (level_name(g.level, lang)) (lang.t("。", "."))
                                        }
                                    }
                                    @if !d.counts {
                                        li { (lang.t("所持职业技能等级证书的等级相同或更高，不会因视同而降低。", "A skill level certificate you hold is at the same level or higher; a deemed level never lowers it.")) }
                                    }
                                    @if d.provisional { li { (provisional_note(lang)) } }
                                }
                            }
                        }
                    }
                }
            }
        }

        @let unused = not_used(policy, advice, lang);
        @if !unused.is_empty() {
            details.card.group #not-applied {
                summary { (lang.t("没有用上的证书及原因", "Certificates that did not count, and why")) " (" (unused.len()) ")" }
                ul.items {
                    @for (rules, line) in &unused {
                        li data-rules=(rules) { (line) }
                    }
                }
            }
        }

        @if !advice.open_questions.is_empty() {
            details.card.group #open-questions {
                summary { (lang.t("政策尚未明确的事项", "What the policy does not yet say")) " (" (advice.open_questions.len()) ")" }
                ul.items {
                    @for q in &advice.open_questions {
                        li data-question=(q.id) { (lang.t(&q.text_zh, &q.text_en)) }
                    }
                }
            }
        }

        section.card.group #considered {
            h2 { (lang.t("所依据的证书", "The certificates considered")) }
            div.scroll { table.considered {
                thead { tr {
                    th { (lang.t("证书", "Certificate")) }
                    th.st { (lang.t("状态", "Status")) }
                    th.nowrap { (lang.t("发证日期", "Issued on")) }
                } }
                tbody {
                    @for h in &input.holdings {
                        tr data-kind=(h.kind) {
                            td {
                                @if let (Some(o), Some(l)) = (&h.occupation, h.level) {
                                    (lang.t("职业技能等级证书 · ", "Skill level certificate · ")) (occupation_name(policy, o, lang)) (lang.t(" ", ", ")) (level_name(l, lang))
                                } @else {
                                    (kind_full(policy, &h.kind, lang))
                                }
                                @if let Some(n) = &h.number { br; code.muted { (n) } }
                            }
                            td.st { (status_name(h.status, lang)) }
                            td.nowrap { (h.issued_on.map(|d| d.to_string()).unwrap_or_else(|| "—".into())) }
                        }
                    }
                }
            } }
            @if matches!(who, Who::Ticked) {
                p.muted { (lang.t("状态为您勾选的状态。", "Statuses as you ticked them.")) }
            }
        }

        p.muted.fine { (lang.t(
            "“可以免予”表示受理部门可以准予，具体以受理部门决定为准；标注“暂定”的依据尚未经官方文本确认，请向受理部门核实。本摘要不是证书，也不代替受理部门的审核。",
            "\"May be exempted\" means the department may grant it and decides; what is marked provisional is not yet confirmed by an official text, so confirm it with the department. This summary is not a certificate and does not replace the department's review."
        )) }

        @if let Who::Registered { ticket, .. } = who {
            form.card.noprint #refine method="post" action=(lang.link("/advice/result")) {
                h2 { (lang.t("补充经历，结果更准确", "Add your experience for a better answer")) }
                input type="hidden" name="mode" value="registered";
                input type="hidden" name="ticket" value=(ticket);
                (experience_fields(lang, policy, "u", Some(entered)))
                button #advice-refine type="submit" { (lang.t("更新结果", "Update")) }
            }
        }
        p.noprint {
            (lang.t("打印：用浏览器的“打印”可得到一页摘要，交受理部门参考。", "To print: your browser's Print gives a one-page summary for the receiving department."))
        }
        p.noprint { a href=(lang.link("/advice")) { (lang.t("重新查询", "Ask again")) } }
        }
    };
    layout(
        lang,
        "/advice",
        lang.t("我的证书能做什么", "What can my certificates do"),
        demo,
        body,
    )
}

fn provisional_note(lang: Lang) -> &'static str {
    lang.t(
        "暂定：这条依据来自尚未经官方文本确认的资料，请向受理部门核实。",
        "Provisional: this rests on a source not yet confirmed by an official text; confirm with the department.",
    )
}

/// A condition of a standard in the page's language: the policy's English text when it has
/// one, else worded from what the condition requires.
fn condition_text(policy: &Policy, occupation: &str, id: &str, zh: &str, lang: Lang) -> String {
    if lang == Lang::Zh {
        return zh.trim_end_matches('。').to_string();
    }
    let found = policy.occupation(occupation).and_then(|o| {
        o.standards
            .iter()
            .flat_map(|s| s.conditions.iter())
            .find(|c| c.id == id)
    });
    let Some(c) = found else {
        return id.to_string();
    };
    if let Some(en) = &c.text_en {
        return en.trim_end_matches('.').to_string();
    }
    let mut parts = Vec::new();
    match (c.held_level, c.years_since_held_level) {
        (Some(l), Some(y)) => {
            parts.push(format!("{y} years after obtaining {}", level_name(l, lang)))
        }
        (Some(l), None) => parts.push(format!("holding {}", level_name(l, lang))),
        _ => {}
    }
    if let Some(y) = c.years_in_occupation {
        parts.push(format!("{y} years of work in the occupation"));
    }
    if let Some(d) = c.diploma {
        parts.push(diploma_name(d, lang).to_string());
    }
    if c.apprenticeship {
        parts.push("an apprenticeship completed".to_string());
    }
    if parts.is_empty() {
        return id.to_string();
    }
    parts.join(", plus ")
}

/// What the advice assumed for a next level, worded for the page: the counting date of a deemed
/// level names the certificate, not the rule.
fn assumption_lines(
    policy: &Policy,
    n: &hutong_core::recognition::NextLevel<'_>,
    lang: Lang,
) -> Vec<String> {
    let texts = match lang {
        Lang::Zh => n.assumptions_zh.to_vec(),
        Lang::En => n.assumptions.to_vec(),
    };
    texts
        .iter()
        .map(|t| match t {
            Text::DeemedFrom {
                kind,
                day,
                effective,
                ..
            } => match lang {
                Lang::Zh => format!(
                    "该等级为视同取得，政策未明确年限从何日起算。此处自{}证书初次颁发之日 {day} 起算；也可能自规则施行之日 {effective} 起算。请向评价机构确认。",
                    kind_short(policy, kind, lang)
                ),
                Lang::En => format!(
                    "The level is deemed, and the policy does not say from which date the years after it count. They are counted here from {day}, when your {} certificate was first issued; they may instead count from {effective}, when the rule took effect. Confirm with the evaluation institution.",
                    kind_short(policy, kind, lang)
                ),
            },
            other => other
                .to_string()
                .replace(" (POLICY.md §1.1 [U])", ""),
        })
        .collect()
}

/// The certificates that grounded nothing they might have, one line each with the reasons, and
/// the rules behind them for the line's attribute.
fn not_used(policy: &Policy, advice: &Advice<'_>, lang: Lang) -> Vec<(String, String)> {
    let mut out: Vec<(String, String, String, Vec<String>)> = Vec::new();
    for n in &advice.not_applied {
        let number = n.number.as_ref().map(|s| s.to_string()).unwrap_or_default();
        let reasons: Vec<String> = n.why.iter().map(|w| why_text(policy, w, lang)).collect();
        match out
            .iter_mut()
            .find(|(held, num, _, _)| *held == n.held && *num == number)
        {
            Some((_, _, rules, rs)) => {
                rules.push(' ');
                rules.push_str(&n.rule);
                for r in reasons {
                    if !rs.contains(&r) {
                        rs.push(r);
                    }
                }
            }
            None => out.push((n.held.to_string(), number, n.rule.to_string(), reasons)),
        }
    }
    out.into_iter()
        .map(|(held, number, rules, reasons)| {
            let name = kind_full(policy, &held, lang);
            let num = if number.is_empty() {
                String::new()
            } else {
                format!("{}{number}{}", lang.t("（", " ("), lang.t("）", ")"))
            };
            let line = format!(
                "{name}{num}{}{}{}",
                lang.t("：", ": "),
                reasons.join(lang.t("；", "; ")),
                lang.t("。", ".")
            );
            (rules, line)
        })
        .collect()
}

/// Why a certificate did not count, in words a worker reads: places by name, no rule or
/// exception ids.
fn why_text(policy: &Policy, w: &Why<'_>, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    match w {
        Why::OtherRegion { region, .. } => {
            let r = region_name(policy, region, lang);
            if zh {
                format!("该项互认仅在{r}适用")
            } else {
                format!("this recognition applies in {r} only")
            }
        }
        Why::SwitchedOff { region, .. } | Why::NarrowedAway { region, .. } => match region {
            Some(r) => {
                let r = region_name(policy, r, lang);
                if zh {
                    format!("{r}另有特别规定，该项互认在当地不适用")
                } else {
                    format!("a local exception in {r} sets this recognition aside there")
                }
            }
            None => lang
                .t(
                    "另有特别规定，该项互认不适用",
                    "an exception sets this recognition aside",
                )
                .to_string(),
        },
        Why::StatusNotCounted { status } => {
            if zh {
                format!("证书状态“{}”不能作为互认依据", status.name_zh())
            } else {
                format!(
                    "a certificate that is \"{}\" does not count for this",
                    status.name_en().to_lowercase()
                )
            }
        }
        Why::NotYetEffective { from } => {
            if zh {
                format!("该项互认自{from}起施行")
            } else {
                format!("this recognition takes effect on {from}")
            }
        }
        Why::NoLongerEffective { until } => {
            if zh {
                format!("该项互认已于{until}停止施行")
            } else {
                format!("this recognition ended on {until}")
            }
        }
        other => match lang {
            Lang::Zh => other.text_zh(),
            Lang::En => other.text_en(),
        },
    }
}

/// The way to this page's registered mode from the holder's own one-stop result: a form that
/// posts the page's holder ticket (never the ID number) for the certificates shown there.
pub fn from_holder_result(lang: Lang, ticket: &str) -> Markup {
    html! {
        form.card #advice-link method="post" action=(lang.link("/advice/result")) {
            h2 { (lang.t("这些证书能做什么", "What these certificates can do for me")) }
            p.muted { (lang.t(
                "看看凭这些证书向其他部门申请时可以免予哪些培训或考试，以及可以申报哪个技能等级。",
                "See what these certificates may exempt you from when you apply to another department, and which skill level you may apply for."
            )) }
            input type="hidden" name="mode" value="registered";
            input type="hidden" name="ticket" value=(ticket);
            button #advice-from-holder type="submit" { (lang.t("这些证书能做什么", "What these certificates can do")) }
        }
    }
}

/// The page shown when a registered holder is not found (the same whatever the reason).
pub fn not_found_page(
    lang: Lang,
    demo: bool,
    policy: &Policy,
    entered: &Entered,
    today: Day,
) -> Markup {
    form_page(
        lang,
        demo,
        policy,
        &[lang
            .t(
                "未找到与该身份证号和姓名相符的已登记证书。",
                "No registered certificate matches this ID number and name.",
            )
            .to_string()],
        entered,
        today,
    )
}
