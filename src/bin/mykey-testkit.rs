//! `mykey-testkit`: the JPKI test kit on the command line (test CA, cards, CRLs, renewals,
//! linkage files). It only parses arguments and calls `mykey_connect::testkit`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use mykey_connect::card::jpki::{Purpose, RevocationReason};
use mykey_connect::testkit::{linkage, CardFile, CardOptions, EraDate, RenewOptions, TestCa, JST};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

#[derive(Parser)]
#[command(
    name = "mykey-testkit",
    version,
    about = "Test J-LIS CA, software My Number Cards, CRLs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a test CA (one root per purpose) in DIR.
    InitCa { dir: PathBuf },
    /// Issue a software card; prints the PIN and password on stderr.
    IssueCard(IssueCard),
    /// Revoke a certificate by serial (hex).
    Revoke {
        #[arg(long)]
        ca: PathBuf,
        #[arg(long)]
        serial: String,
        /// keyCompromise, affiliationChanged, superseded, … or the RFC 5280 code.
        #[arg(long, value_parser = parse_reason)]
        reason: RevocationReason,
        /// When it was revoked (RFC 3339 or YYYY-MM-DD, JST); default now.
        #[arg(long, value_parser = parse_time)]
        at: Option<OffsetDateTime>,
    },
    /// Write the DER CRL of one root.
    Crl {
        #[arg(long)]
        ca: PathBuf,
        #[arg(long, value_parser = parse_purpose)]
        purpose: Purpose,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 24)]
        next_update_hours: i64,
        /// Add N synthetic revoked serials (load tests).
        #[arg(long, default_value_t = 0)]
        pad: usize,
    },
    /// Renew a card: new keys and certificates, the old ones revoked as superseded.
    Renew {
        #[arg(long)]
        ca: PathBuf,
        #[arg(long)]
        card: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        pin: Option<String>,
        #[arg(long)]
        password: Option<String>,
    },
    /// Write the old→new linkage file of a renewal.
    Linkage {
        #[arg(long)]
        old: PathBuf,
        #[arg(long)]
        new: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Show a card's certificates and tries left (never its secrets).
    Show { card: PathBuf },
}

#[derive(clap::Args)]
struct IssueCard {
    #[arg(long)]
    ca: PathBuf,
    #[arg(long)]
    out: PathBuf,
    /// Full name, family and given name separated by U+3000.
    #[arg(long)]
    name: Option<String>,
    /// Address from the prefecture on.
    #[arg(long)]
    address: Option<String>,
    /// Date of birth: YYYY-MM-DD, or EYYYYMMDD as on the card.
    #[arg(long, value_parser = parse_birth)]
    birth: Option<EraDate>,
    /// 1 (male), 2 (female), 3 (unknown).
    #[arg(long)]
    sex: Option<u8>,
    #[arg(long)]
    pin: Option<String>,
    #[arg(long)]
    password: Option<String>,
    /// Subject L= values of the signature certificate, e.g. Tokyo-to, Chiyoda-ku.
    #[arg(long)]
    prefecture: Option<String>,
    #[arg(long)]
    city: Option<String>,
    /// RFC 3339, or YYYY-MM-DD (midnight JST).
    #[arg(long, value_parser = parse_time)]
    not_before: Option<OffsetDateTime>,
    #[arg(long, value_parser = parse_time)]
    not_after: Option<OffsetDateTime>,
}

fn main() -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    match Cli::parse().command {
        Command::InitCa { dir } => {
            let ca = TestCa::init(&dir, now)?;
            println!("test CA created in {}", dir.display());
            for purpose in [Purpose::Auth, Purpose::Sign] {
                println!("{purpose} root key id: {}", ca.root_key_id(purpose));
            }
        }
        Command::IssueCard(args) => issue_card(args, now)?,
        Command::Revoke {
            ca,
            serial,
            reason,
            at,
        } => {
            let purpose = TestCa::open(&ca)?.revoke(&serial, reason, at.unwrap_or(now))?;
            println!(
                "revoked {purpose} certificate {serial} ({})",
                reason.as_str()
            );
        }
        Command::Crl {
            ca,
            purpose,
            out,
            next_update_hours,
            pad,
        } => {
            let mut ca = TestCa::open(&ca)?;
            let next_update = now + Duration::hours(next_update_hours);
            let crl = ca.crl_padded(purpose, now, next_update, pad)?;
            std::fs::write(&out, &crl).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "{purpose} CRL number {} written to {} ({} bytes)",
                ca.last_crl_number(purpose),
                out.display(),
                crl.len()
            );
        }
        Command::Renew {
            ca,
            card,
            out,
            pin,
            password,
        } => {
            let old = CardFile::load(&card)?;
            let opts = RenewOptions {
                pin,
                password,
                ..RenewOptions::default()
            };
            let new = TestCa::open(&ca)?.renew_with(&old, &opts, now)?;
            save_card(&new, &out)?;
        }
        Command::Linkage { old, new, out } => {
            let file = linkage(&CardFile::load(&old)?, &CardFile::load(&new)?, now)?;
            file.save(&out)?;
            println!("linkage written to {}", out.display());
        }
        Command::Show { card } => show(&CardFile::load(&card)?)?,
    }
    Ok(())
}

fn issue_card(args: IssueCard, now: OffsetDateTime) -> anyhow::Result<()> {
    let mut opts = CardOptions::example();
    let holder = &mut opts.holder;
    holder.name = args.name.unwrap_or(holder.name.clone());
    holder.address = args.address.unwrap_or(holder.address.clone());
    if let Some(birth) = args.birth {
        holder.date_of_birth = birth.to_string();
    }
    holder.sex = args.sex.unwrap_or(holder.sex);
    holder.prefecture = args.prefecture.unwrap_or(holder.prefecture.clone());
    holder.city = args.city.unwrap_or(holder.city.clone());
    opts.pin = args.pin.unwrap_or(opts.pin);
    opts.password = args.password.unwrap_or(opts.password);
    opts.not_before = args.not_before;
    opts.not_after = args.not_after;
    let card = TestCa::open(&args.ca)?.issue_card(&opts, now)?;
    save_card(&card, &args.out)
}

fn save_card(card: &CardFile, out: &Path) -> anyhow::Result<()> {
    card.save(out)?;
    println!("card written to {}", out.display());
    show(card)?;
    // The secrets go to the terminal only: stderr, never stdout or a log.
    eprintln!("PIN (user authentication): {}", card.auth.secret);
    eprintln!("password (signature): {}", card.sign.secret);
    Ok(())
}

fn show(card: &CardFile) -> anyhow::Result<()> {
    println!("token: {}", card.token_label);
    for purpose in [Purpose::Auth, Purpose::Sign] {
        let slot = card.slot(purpose);
        let summary = slot.summary()?;
        println!("{purpose}:");
        println!("  subject:    {}", summary.subject);
        println!("  issuer:     {}", summary.issuer);
        println!("  serial:     {}", summary.serial);
        println!("  not before: {}", summary.not_before.format(&Rfc3339)?);
        println!("  not after:  {}", summary.not_after.format(&Rfc3339)?);
        println!("  tries left: {}", slot.tries_left);
    }
    Ok(())
}

fn parse_purpose(text: &str) -> anyhow::Result<Purpose> {
    Purpose::parse(text).ok_or_else(|| anyhow::anyhow!("{text:?} is not auth or sign"))
}

fn parse_reason(text: &str) -> anyhow::Result<RevocationReason> {
    RevocationReason::parse(text)
        .ok_or_else(|| anyhow::anyhow!("{text:?} is not an RFC 5280 reason"))
}

fn parse_time(text: &str) -> anyhow::Result<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t);
    }
    let date = time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| anyhow::anyhow!("{text:?} is neither RFC 3339 nor YYYY-MM-DD"))?;
    Ok(date.midnight().assume_offset(JST))
}

fn parse_birth(text: &str) -> anyhow::Result<EraDate> {
    if let Ok(era_date) = EraDate::parse(text) {
        return Ok(era_date);
    }
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map(EraDate::from_date)
    .map_err(|_| anyhow::anyhow!("{text:?} is neither YYYY-MM-DD nor EYYYYMMDD"))
}
