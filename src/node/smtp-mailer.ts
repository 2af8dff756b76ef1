/**
 * Outgoing mail over SMTP, for self-hosted (often air-gapped) installs on Node, where Resend's
 * API is out of reach but a relay on the local network is not. Node only: nodemailer needs
 * node:net / node:tls, so the Worker never imports this file (it keeps Resend).
 */
import { createTransport } from "nodemailer";
import type { Mail, Mailer } from "../accounts/mailer";

/** SMTP settings as the environment gives them (strings; empty = not set). */
export interface SmtpSettings {
	/** `smtp://user:pass@host:587` or `smtps://…:465`; wins over the separate fields. */
	SMTP_URL?: string | undefined;
	SMTP_HOST?: string | undefined;
	SMTP_PORT?: string | undefined;
	SMTP_USER?: string | undefined;
	SMTP_PASS?: string | undefined;
}

export type SmtpConfig =
	| { url: string }
	| { host: string; port: number; secure: boolean; user?: string; pass?: string };

/**
 * The transport settings, null when SMTP is not configured. Throws with the setting's name
 * (never its value: SMTP_URL may carry a password) when it is malformed.
 */
export function smtpConfigFrom(env: SmtpSettings): SmtpConfig | null {
	const url = env.SMTP_URL || undefined;
	if (url) {
		let parsed: URL;
		try {
			parsed = new URL(url);
		} catch {
			throw new Error("invalid settings: SMTP_URL (not a URL)");
		}
		if (parsed.protocol !== "smtp:" && parsed.protocol !== "smtps:") {
			throw new Error("invalid settings: SMTP_URL (use smtp:// or smtps://)");
		}
		return { url };
	}
	const host = env.SMTP_HOST || undefined;
	if (!host) {
		if (env.SMTP_PORT || env.SMTP_USER || env.SMTP_PASS) {
			throw new Error("invalid settings: SMTP_HOST (SMTP_PORT/USER/PASS are set without it)");
		}
		return null;
	}
	const port = env.SMTP_PORT ? Number(env.SMTP_PORT) : 587;
	if (!Number.isInteger(port) || port < 1 || port > 65535) {
		throw new Error("invalid settings: SMTP_PORT");
	}
	if (Boolean(env.SMTP_USER) !== Boolean(env.SMTP_PASS)) {
		throw new Error("invalid settings: SMTP_USER and SMTP_PASS go together");
	}
	return {
		host,
		port,
		// 465 is TLS from the first byte; other ports upgrade with STARTTLS when offered.
		secure: port === 465,
		...(env.SMTP_USER && env.SMTP_PASS ? { user: env.SMTP_USER, pass: env.SMTP_PASS } : {}),
	};
}

export function smtpMailer(config: SmtpConfig, from: string): Mailer {
	const transport =
		"url" in config
			? createTransport(config.url)
			: createTransport({
					host: config.host,
					port: config.port,
					secure: config.secure,
					...(config.user && config.pass ? { auth: { user: config.user, pass: config.pass } } : {}),
				});
	return {
		delivers: true,
		verifiable: true,
		async send(mail: Mail) {
			try {
				await transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text });
			} catch (err) {
				// The SMTP reply code only: a relay's error text may quote the message (a code).
				const code = (err as { responseCode?: unknown }).responseCode;
				throw new Error(
					`mail delivery failed: SMTP ${typeof code === "number" ? `answered ${code}` : "unreachable"}`,
				);
			}
		},
		close: () => transport.close(),
	};
}
