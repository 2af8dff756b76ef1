/**
 * Outgoing mail: Resend over fetch when RESEND_API_KEY is set (SMTP is a second provider on
 * Node: src/node/smtp-mailer.ts). Without a provider, a server on a loopback address
 * (PUBLIC_URL on localhost / 127.x / ::1: `npm start`, `npm run dev`) writes the message to
 * its log, so development needs no mail setup (the verification code is read from the log).
 * A server anywhere else withholds the message and logs only that a mail was dropped: a
 * deployment missing its mail key must not put sign-up codes in logs that operators, log
 * drains and Logpush share. Such a server cannot verify anyone, so signup refuses with 503
 * MAIL_NOT_CONFIGURED (the Node entry refuses to start instead).
 */
import type { Settings } from "../env";

export interface Mail {
	to: string;
	subject: string;
	text: string;
}

export interface Mailer {
	/** True when mail leaves the server (not just the log). */
	readonly delivers: boolean;
	/** True when a signup code reaches the person: delivered, or in a loopback dev server's log. */
	readonly verifiable: boolean;
	send(mail: Mail): Promise<void>;
	/** Releases connections (SMTP pools) when the server stops. */
	close?(): void;
}

export function mailerFor(
	settings: Settings,
	log: (line: string) => void = (l) => console.log(l),
): Mailer {
	const key = settings.RESEND_API_KEY;
	if (key) {
		return resendMailer({ apiKey: key, base: settings.RESEND_API_BASE, from: settings.MAIL_FROM });
	}
	return isLoopback(settings.PUBLIC_URL) ? logMailer(log) : withheldMailer(log);
}

function isLoopback(publicUrl: string): boolean {
	const host = new URL(publicUrl).hostname.replace(/^\[|\]$/g, "");
	return (
		host === "localhost" ||
		host.endsWith(".localhost") ||
		host === "::1" ||
		/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
	);
}

/** Says a mail was dropped, never what it said (it may hold a code) nor the full address. */
export function withheldMailer(log: (line: string) => void): Mailer {
	return {
		delivers: false,
		verifiable: false,
		async send(mail) {
			const [user = "", domain = ""] = mail.to.split("@");
			log(
				`[mail] not sent to ${user.slice(0, 1)}***@${domain}: no mail provider is configured (set RESEND_API_KEY, or SMTP_URL on Node, or run on a loopback PUBLIC_URL to see mails in this log)`,
			);
		},
	};
}

export function logMailer(log: (line: string) => void = (l) => console.log(l)): Mailer {
	return {
		delivers: false,
		verifiable: true,
		async send(mail) {
			log(
				`[mail] to: ${mail.to}\n[mail] subject: ${mail.subject}\n${mail.text.replace(/^/gm, "[mail] ")}`,
			);
		},
	};
}

export function resendMailer(opts: { apiKey: string; base: string; from: string }): Mailer {
	const url = `${opts.base.replace(/\/+$/, "")}/emails`;
	return {
		delivers: true,
		verifiable: true,
		async send(mail) {
			const res = await fetch(url, {
				method: "POST",
				headers: { authorization: `Bearer ${opts.apiKey}`, "content-type": "application/json" },
				body: JSON.stringify({
					from: opts.from,
					to: [mail.to],
					subject: mail.subject,
					text: mail.text,
				}),
			});
			if (!res.ok) {
				// Status only: Resend's error body may quote the message, which can hold a code.
				throw new Error(`mail delivery failed: Resend answered ${res.status}`);
			}
			await res.body?.cancel();
		},
	};
}

export const mails = {
	verificationCode(code: string): Omit<Mail, "to"> {
		return {
			subject: `Your CODITECT verification code: ${code}`,
			text: `Your CODITECT verification code is ${code}.\n\nIt expires in 15 minutes. If you did not sign up, ignore this mail.`,
		};
	},
	alreadyRegistered(): Omit<Mail, "to"> {
		return {
			subject: "You already have a CODITECT account",
			text: "Someone (probably you) tried to sign up with this address, but it already has a CODITECT account.\n\nLog in instead (`coditect login`). If this was not you, no action is needed: nothing was changed.",
		};
	},
	orgInvitation(orgName: string, role: string, code: string, days: number): Omit<Mail, "to"> {
		return {
			subject: `You are invited to ${orgName} on CODITECT`,
			text: `You have been invited to join ${orgName} on CODITECT as ${role === "admin" ? "an admin" : "a member"}, which gives you a seat on its license.\n\nAccept with:\n\n  coditect org join ${code}\n\n(or POST /api/v1/invitations/accept with this code while logged in with this address). The code works once and expires in ${days} days. If you did not expect this, ignore this mail.`,
		};
	},
	lockout(minutes: number): Omit<Mail, "to"> {
		return {
			subject: "CODITECT: logins to your account are paused",
			text: `There were 5 failed login attempts on your CODITECT account, so logins are refused for ${minutes} minutes.\n\nIf this was not you, someone may be guessing your password: choose a strong, unique one.`,
		};
	},
};
