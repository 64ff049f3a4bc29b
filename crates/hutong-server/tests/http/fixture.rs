//! Demo-like data: one certificate in each status, two kinds sharing one number, and the
//! issuers they need. Dates are relative to today, since verification judges today.

use std::sync::LazyLock;

use chrono::{Datelike, Days};

use hutong_core::date::{Day, Period, today_in_china};
use hutong_core::{AdminState, Certificate, Issuer, Level, ResidentId};
use hutong_server::AppState;
use hutong_store::InsertMode;

fn born(y: i32, m: u32, d: u32) -> Day {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The holders' (synthetic) resident ID numbers. No response may contain any of them.
pub static IDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    [
        ResidentId::synthesize(440305, born(1985, 6, 15), 101),
        ResidentId::synthesize(440106, born(1979, 2, 3), 202),
        ResidentId::synthesize(440303, born(1990, 11, 30), 303),
        ResidentId::synthesize(440104, born(1972, 8, 8), 404),
    ]
    .iter()
    .map(|i| i.as_str().to_string())
    .collect()
});

/// A certificate of the fixture, as a verifier knows it.
#[derive(Debug, Clone)]
pub struct Sample {
    pub number: String,
    pub kind: &'static str,
    pub name: &'static str,
    pub id: String,
}

pub struct Fixture {
    pub valid: Sample,
    /// Same holder and number as `valid`, another kind.
    pub valid_welding: Sample,
    pub review_due: Sample,
    /// Same holder as `review_due`.
    pub expired: Sample,
    pub suspended: Sample,
    pub revoked: Sample,
}

const ISSUERS: &str = r#"
[[issuer]]
id = "mem.44"
name_zh = "广东省应急管理厅"
name_en = "Guangdong Department of Emergency Management"
department = "mem"
role = "authority"
region = "44"
kinds = ["mem.electrical.low-voltage", "mem.welding.fusion-cutting"]
registered_on = 2010-01-01

[[issuer]]
id = "mohurd.44"
name_zh = "广东省住房和城乡建设厅"
department = "mohurd"
role = "authority"
region = "44"
kinds = ["mohurd.construction.electrician", "mohurd.construction.scaffolder"]
registered_on = 2008-01-01

[[issuer]]
id = "samr.44"
name_zh = "广东省市场监督管理局"
department = "samr"
role = "authority"
region = "44"
kinds = ["samr.welding.metal"]
registered_on = 2012-01-01

[[issuer]]
id = "inst.s0000-44-000123"
name_zh = "广东省职业技能服务指导中心"
department = "mohrss"
role = "institution"
region = "44"
kinds = ["mohrss.skill-level"]
institution_type = "S"
institution_code = "0000"
registered_on = 2019-01-01
scope = [{ occupation = "6-31-01-03", levels = ["5", "4", "3"] }]
contact = "020-87654321"
"#;

#[derive(serde::Deserialize)]
struct IssuersFile {
    issuer: Vec<Issuer>,
}

/// Registers the issuers and stores the certificates; returns what a verifier would type.
pub async fn fill(state: &AppState) -> Fixture {
    let issuers: IssuersFile = toml::from_str(ISSUERS).unwrap();
    hutong_store::write::register_issuers(&*state.store, &issuers.issuer, "test")
        .await
        .unwrap();
    state.refresh_issuers().await.unwrap();

    let today = today_in_china();
    let ago = |days: u64| today - Days::new(days);
    let secret = crate::secret();
    let ids: Vec<ResidentId> = IDS.iter().map(|s| ResidentId::parse(s).unwrap()).collect();
    let cert = |number: String, kind: &str, id: usize, name: &str, issuer: &str, issued: Day| {
        Certificate {
            number,
            kind: kind.to_string(),
            holder_key: secret.key_for(&ids[id]),
            holder_name: name.to_string(),
            occupation: None,
            level: None,
            issuer: issuer.to_string(),
            issued_on: issued,
            first_issued_on: issued,
            valid_until: None,
            last_review_on: None,
            state: AdminState::Active,
        }
    };

    let t_number = format!("T{}", ids[0].as_str());
    let mut valid = cert(
        t_number.clone(),
        "mem.electrical.low-voltage",
        0,
        "张小明",
        "mem.44",
        ago(400),
    );
    valid.valid_until = Some(Period::Years(6).after(valid.issued_on));
    let welding = cert(
        t_number.clone(),
        "mem.welding.fusion-cutting",
        0,
        "张小明",
        "mem.44",
        ago(200),
    );

    // Valid for two years from issue: 30 days left, inside the three-month renewal window.
    let rd_issued = Period::Years(2).before(today) + Days::new(30);
    let rd_number = format!("粤A01{}000001", rd_issued.year());
    let review_due = cert(
        rd_number.clone(),
        "mohurd.construction.electrician",
        1,
        "李四",
        "mohurd.44",
        rd_issued,
    );
    let ex_issued = ago(3 * 366);
    let ex_number = format!("粤B02{}000002", ex_issued.year());
    let expired = cert(
        ex_number.clone(),
        "mohurd.construction.scaffolder",
        1,
        "李四",
        "mohurd.44",
        ex_issued,
    );

    let su_issued = ago(300);
    let su_number = format!("S000044000123{:02}4000001", su_issued.year() % 100);
    let mut suspended = cert(
        su_number.clone(),
        "mohrss.skill-level",
        2,
        "欧阳娜娜",
        "inst.s0000-44-000123",
        su_issued,
    );
    suspended.occupation = Some("6-31-01-03".into());
    suspended.level = Some(Level::L4);
    suspended.state = AdminState::Suspended { since: ago(10) };

    let rv_number = ids[3].as_str().to_string();
    let mut revoked = cert(
        rv_number.clone(),
        "samr.welding.metal",
        3,
        "赵六",
        "samr.44",
        ago(500),
    );
    revoked.state = AdminState::Revoked {
        on: ago(5),
        reason: None,
    };

    hutong_store::write::issue(
        &*state.store,
        &[valid, welding, review_due, expired, suspended, revoked],
        "test",
        InsertMode::AllOrNothing,
    )
    .await
    .unwrap();

    let sample = |number: &str, kind: &'static str, name: &'static str, id: usize| Sample {
        number: number.to_string(),
        kind,
        name,
        id: IDS[id].clone(),
    };
    Fixture {
        valid: sample(&t_number, "mem.electrical.low-voltage", "张小明", 0),
        valid_welding: sample(&t_number, "mem.welding.fusion-cutting", "张小明", 0),
        review_due: sample(&rd_number, "mohurd.construction.electrician", "李四", 1),
        expired: sample(&ex_number, "mohurd.construction.scaffolder", "李四", 1),
        suspended: sample(&su_number, "mohrss.skill-level", "欧阳娜娜", 2),
        revoked: sample(&rv_number, "samr.welding.metal", "赵六", 3),
    }
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    hutong_server::pages::lookup::encode(s)
}

/// `/api/v1/verify?number=…&name=…&kind=…` for a sample.
pub fn verify_uri(s: &Sample) -> String {
    format!(
        "/api/v1/verify?number={}&name={}&kind={}",
        enc(&s.number),
        enc(s.name),
        s.kind
    )
}
