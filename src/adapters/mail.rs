//! Outgoing mail behind the [`Mailer`] trait: SMTP through lettre when `HUMIT_SMTP_URL` is
//! set ([`SmtpMailer`]), else an outbox folder of `.eml` files under
//! `HUMIT_DATA_DIR/outbox/` ([`OutboxMailer`]), the embedded default that needs no server.
//!
//! Both build the same RFC 5322 message with lettre, so what lands in the outbox is exactly
//! what an SMTP server would have received.

use std::path::PathBuf;

use anyhow::Context;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::Body;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// One plain-text mail.
#[derive(Clone)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
}

impl std::fmt::Debug for Mail {
    // The body may carry a secret (a reset link): never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Why a mail could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The sender or recipient address is not a valid mailbox, or the message cannot be built.
    #[error("invalid message: {0}")]
    Invalid(String),
    /// The SMTP server refused the message or could not be reached.
    #[error("smtp: {0}")]
    Smtp(String),
    /// The outbox folder could not be written.
    #[error("outbox: {0}")]
    Outbox(#[from] std::io::Error),
}

/// Sends mail.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `mail`.
    ///
    /// # Errors
    /// [`MailError`] when the message is invalid or cannot be delivered.
    async fn send(&self, mail: Mail) -> Result<(), MailError>;

    /// Removes every kept copy of mail sent to `address` (an erased person's): nothing for a
    /// mailer that keeps none. Answers how many were removed.
    ///
    /// # Errors
    /// [`MailError`] when kept mail cannot be read or removed.
    async fn forget(&self, address: &str) -> Result<usize, MailError> {
        let _ = address;
        Ok(0)
    }
}

fn build(from: &Mailbox, mail: &Mail) -> Result<Message, MailError> {
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|e: lettre::address::AddressError| MailError::Invalid(e.to_string()))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(body(&mail.body))
        .map_err(|e| MailError::Invalid(e.to_string()))
}

/// The longest line RFC 5322 allows, without its CRLF.
const MAX_LINE: usize = 998;

/// Encodes the text. Plain ASCII whose lines fit the RFC limit stays `7bit`, as written, so a
/// link longer than 76 characters stays on one line, readable and clickable in any client
/// (lettre alone would switch such a body to quoted-printable); anything else is left to
/// lettre's own choice of encoding.
fn body(text: &str) -> Body {
    let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
    let fits = text.is_ascii()
        && !text.contains('\0')
        && crlf
            .split("\r\n")
            .all(|line| line.len() <= MAX_LINE && !line.contains('\r'));
    if fits {
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::SevenBit)
    } else {
        Body::new(text.to_string())
    }
}

fn parse_from(from: &str) -> anyhow::Result<Mailbox> {
    from.parse()
        .with_context(|| format!("HUMIT_MAIL_FROM {from:?} is not a valid mailbox"))
}

/// Delivers through an SMTP server (`smtp://host:port`, `smtp://…?tls=required` for
/// STARTTLS, `smtps://` for implicit TLS; credentials as `user:password@`).
pub struct SmtpMailer {
    from: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpMailer {
    /// A mailer for the server at `url`, sending as `from`.
    ///
    /// # Errors
    /// When `url` or `from` cannot be parsed.
    pub fn new(url: &str, from: &str) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .context("HUMIT_SMTP_URL is not a valid SMTP URL")?
            .timeout(Some(std::time::Duration::from_secs(15)))
            .build();
        Ok(Self {
            from: parse_from(from)?,
            transport,
        })
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let message = build(&self.from, &mail)?;
        self.transport
            .send(message)
            .await
            .map_err(|e| MailError::Smtp(e.to_string()))?;
        tracing::info!(subject = %mail.subject, "mail sent over smtp");
        Ok(())
    }
}

/// Writes each mail as an `.eml` file into a folder (no server needed).
pub struct OutboxMailer {
    from: Mailbox,
    dir: PathBuf,
}

impl OutboxMailer {
    /// A mailer writing into `dir` (created on first use), sending as `from`.
    ///
    /// # Errors
    /// When `from` cannot be parsed.
    pub fn new(dir: PathBuf, from: &str) -> anyhow::Result<Self> {
        Ok(Self {
            from: parse_from(from)?,
            dir,
        })
    }
}

#[async_trait::async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let message = build(&self.from, &mail)?;
        tokio::fs::create_dir_all(&self.dir).await?;
        let name = format!(
            "{}-{}.eml",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
            uuid::Uuid::new_v4().simple()
        );
        // Written under a temporary name, then renamed: a reader never sees half a mail.
        let tmp = self.dir.join(format!(".{name}.tmp"));
        tokio::fs::write(&tmp, message.formatted()).await?;
        tokio::fs::rename(&tmp, self.dir.join(&name)).await?;
        tracing::info!(subject = %mail.subject, file = %name, "mail written to the outbox");
        Ok(())
    }

    /// Deletes the outbox files whose `To:` header names `address` (case-insensitive).
    async fn forget(&self, address: &str) -> Result<usize, MailError> {
        let address = address.to_lowercase();
        let mut entries = match tokio::fs::read_dir(&self.dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        let mut removed = 0;
        while let Some(entry) = entries.next_entry().await? {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "eml") {
                continue;
            }
            let Ok(text) = tokio::fs::read_to_string(&path).await else {
                continue;
            };
            let addressed = text
                .lines()
                .take_while(|line| !line.is_empty())
                .filter(|line| line.len() > 3 && line[..3].eq_ignore_ascii_case("to:"))
                .any(|line| line.to_lowercase().contains(&address));
            if addressed {
                tokio::fs::remove_file(&path).await?;
                removed += 1;
            }
        }
        tracing::info!(removed, "outbox mail of an erased person deleted");
        Ok(removed)
    }
}

/// The mailer a configuration asks for: SMTP when `smtp_url` is set, else the outbox folder
/// `data_dir/outbox/`.
///
/// # Errors
/// When the SMTP URL or the sender address is invalid.
pub fn from_config(config: &crate::config::Config) -> anyhow::Result<std::sync::Arc<dyn Mailer>> {
    Ok(match config.smtp_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => std::sync::Arc::new(SmtpMailer::new(url, &config.mail_from)?),
        None => std::sync::Arc::new(OutboxMailer::new(
            config.data_dir.join("outbox"),
            &config.mail_from,
        )?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mail_prints_its_subject_only() {
        let mail = Mail {
            to: "alice@example.com".into(),
            subject: "Reset your password".into(),
            body: "https://humit.example/reset?resetToken=s3cr3t-token".into(),
        };
        let printed = format!("{mail:?}");
        assert!(printed.contains("Reset your password"), "{printed}");
        assert!(!printed.contains("s3cr3t-token"), "{printed}");
        assert!(!printed.contains("alice@example.com"), "{printed}");
    }

    #[tokio::test]
    async fn the_outbox_holds_one_complete_eml_per_mail() {
        let dir = std::env::temp_dir().join(format!("humit-outbox-{}", uuid::Uuid::new_v4()));
        let mailer = OutboxMailer::new(dir.clone(), "humit <no-reply@humit.local>").unwrap();
        mailer
            .send(Mail {
                to: "alice@example.com".into(),
                subject: "Hello".into(),
                body: format!(
                    "line one\nline two\nhttps://example.com/{}",
                    "x".repeat(120)
                ),
            })
            .await
            .unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(files[0].path()).unwrap();
        assert!(text.contains("To: alice@example.com"), "{text}");
        assert!(text.contains("Subject: Hello"), "{text}");
        assert!(text.contains("line one\r\nline two"), "{text}");
        assert!(text.contains("Content-Transfer-Encoding: 7bit"), "{text}");
        // The long link stays whole, on one line.
        assert!(text.contains(&format!("https://example.com/{}", "x".repeat(120))));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn an_invalid_recipient_is_refused() {
        let dir = std::env::temp_dir().join(format!("humit-outbox-{}", uuid::Uuid::new_v4()));
        let mailer = OutboxMailer::new(dir, "no-reply@humit.local").unwrap();
        let result = mailer
            .send(Mail {
                to: "not an address".into(),
                subject: "x".into(),
                body: "x".into(),
            })
            .await;
        assert!(matches!(result, Err(MailError::Invalid(_))));
    }
}
