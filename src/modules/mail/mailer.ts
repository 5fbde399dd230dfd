/** One message, always with a plain-text and an HTML part. */
export interface OutgoingMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/**
 * The port in front of mail delivery, bound by config: `SmtpMailer` when `SMTP_URL` is set,
 * `LogMailer` in development without it (production refuses to start without SMTP).
 */
export abstract class Mailer {
  /** `smtp` | `log`. */
  abstract readonly name: string;
  /** Whether mail leaves the server; `false` = it is only written to the server log. */
  abstract readonly delivers: boolean;

  /** Resolves once the mail server has accepted the message; rejects when it cannot be handed over. */
  abstract send(mail: OutgoingMail, from: string): Promise<void>;

  /** Releases connections (at shutdown). */
  async close(): Promise<void> {}
}
